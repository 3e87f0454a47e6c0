/**
 * safetensors dtypes: their sizes, and the bulk conversion of stored floats to binary32.
 *
 * The converters work on whole chunks (not one value per call) because a checkpoint tensor can
 * hold hundreds of millions of values; they are checked value-for-value against the scalar
 * helpers in numerics/ by the tests.
 */

import { endianness } from 'node:os';
import { TellmeError } from '../errors.js';
import { f16ToF32 } from '../numerics/f16.js';
import type { SafetensorsDtype } from './types.js';

/** Bits per element of every dtype the format defines (F4 and F6 are sub-byte). */
export const DTYPE_BITS: Readonly<Record<SafetensorsDtype, number>> = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8,
  I16: 16, U16: 16, F16: 16, BF16: 16,
  I32: 32, U32: 32, F32: 32,
  I64: 64, U64: 64, F64: 64, C64: 64,
  F4: 4, F6_E2M3: 6, F6_E3M2: 6,
};

export function isSafetensorsDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BITS, s);
}

/** The float dtypes readF32 converts (exactly, except F64 which is rounded to nearest). */
export const F32_CONVERTIBLE: ReadonlySet<SafetensorsDtype> = new Set(['F32', 'F16', 'BF16', 'F64']);

/** Bytes per element of a byte-granular dtype (the ones readF32 and the writer handle). */
export function itemSize(dtype: SafetensorsDtype): number {
  return DTYPE_BITS[dtype] / 8;
}

// Typed-array views read the host's byte order; safetensors is little-endian. Every platform
// Node supports today is little-endian, so refuse loudly rather than decode garbage.
if (endianness() !== 'LE') {
  throw new TellmeError('E_INTERNAL', 'tellme reads safetensors through little-endian typed arrays; this host is big-endian');
}

let f16Table: Float32Array | null = null;

/**
 * All 65536 binary16 values as binary32, built once. Normal values, zeros, infinities and NaN
 * come from numerics' f16ToF32. Subnormals are decoded exactly here because f16ToF32 reads
 * them as zero on purpose (the accelerator's KV cache never holds them), whereas a checkpoint
 * value must arrive unchanged: every binary16 subnormal is a normal binary32 number.
 */
function f16ToF32Table(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const exp = (h >>> 10) & 0x1f;
    const man = h & 0x3ff;
    if (exp === 0 && man !== 0) t[h] = (h & 0x8000 ? -1 : 1) * man * 2 ** -24;
    else t[h] = f16ToF32(h);
  }
  f16Table = t;
  return t;
}

/** Exact binary16 bits -> binary32 value, subnormals included. */
export function f16BitsToF32Exact(h: number): number {
  return f16ToF32Table()[h & 0xffff]!;
}

/**
 * Convert `count` elements stored as `dtype` in `src` (little-endian bytes whose byteOffset is
 * a multiple of 8, so typed views are legal) into out[outOff..outOff+count).
 * BF16 -> F32 is the bit shift the format defines (exact), F16 exact, F64 rounded to nearest.
 */
export function convertToF32(
  dtype: SafetensorsDtype,
  src: Uint8Array,
  count: number,
  out: Float32Array,
  outOff: number,
): void {
  switch (dtype) {
    case 'F32': {
      const v = new Float32Array(src.buffer, src.byteOffset, count);
      out.set(v, outOff);
      return;
    }
    case 'BF16': {
      const v = new Uint16Array(src.buffer, src.byteOffset, count);
      // Write the bits directly: the bf16 bits are the top half of the binary32 bits. An Int32
      // view takes the shifted value as is (a Uint32 view would convert it, ~10x slower in V8).
      const bits = new Int32Array(out.buffer, out.byteOffset + outOff * 4, count);
      for (let i = 0; i < count; i++) bits[i] = v[i]! << 16;
      return;
    }
    case 'F16': {
      const v = new Uint16Array(src.buffer, src.byteOffset, count);
      const t = f16ToF32Table();
      for (let i = 0; i < count; i++) out[outOff + i] = t[v[i]!]!;
      return;
    }
    case 'F64': {
      const v = new Float64Array(src.buffer, src.byteOffset, count);
      for (let i = 0; i < count; i++) out[outOff + i] = Math.fround(v[i]!);
      return;
    }
    default:
      throw new TellmeError('E_INTERNAL', `convertToF32 called for ${dtype}`);
  }
}
