/**
 * binary16 and bfloat16 conversions (docs/numerics.md §2.3).
 *
 * The accelerator stores q, k and v in binary16 (the KV cache and the prefill scratch). The
 * conversion from binary32 is round-to-nearest-even, saturating: a value whose rounded magnitude
 * exceeds 65504 becomes ±65504 (never infinity), and a result below the smallest normal binary16
 * number (2^-14) becomes a signed zero. Conversions back to binary32 are exact.
 */

import { f32ToBits, bitsToF32 } from './f32.js';

export const F16_MAX = 65504;

/** binary32 value -> binary16 bits, RNE, saturating, subnormals flushed. */
export function f32ToF16Sat(x: number): number {
  const bits = f32ToBits(x);
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const man = bits & 0x7fffff;
  if (exp === 0xff) {
    if (man !== 0) return sign | 0x7e00; // NaN stays NaN (quiet)
    return sign | 0x7bff; // infinity saturates to the largest finite value
  }
  // Unbiased exponent of the binary32 value.
  const e = exp - 127;
  if (e < -15) return sign; // < 2^-15: rounds to something below 2^-14 at most -> flushed
  if (e > 15) return sign | 0x7bff;
  if (e < -14) {
    // Value in [2^-15, 2^-14): rounds either to 2^-14 (normal) or to a subnormal (flushed).
    // Rounded to the binary16 subnormal grid (spacing 2^-24), the only normal outcome is 2^-14.
    const full = man | 0x800000; // value = full * 2^(e-23)
    const shift = -14 - e + 13; // bits dropped to reach the 2^-24 grid: (e-23) -> -24
    const q = roundShift(full, shift);
    return q >= 0x400 ? sign | 0x0400 : sign; // 0x400 * 2^-24 = 2^-14
  }
  // Normal range: keep 10 mantissa bits, round the 13 dropped bits to nearest even.
  let h = ((e + 15) << 10) | (man >>> 13);
  const rest = man & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h += 1; // carry may bump the exponent
  if ((h & 0x7fff) > 0x7bff) return sign | 0x7bff;
  return sign | h;
}

function roundShift(v: number, shift: number): number {
  const q = Math.floor(v / 2 ** shift);
  const rem = v - q * 2 ** shift;
  const half = 2 ** (shift - 1);
  if (rem > half || (rem === half && (q & 1) === 1)) return q + 1;
  return q;
}

/** binary16 bits -> binary32 value (exact). Subnormal inputs are read as zero. */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0) return sign * 0;
  if (exp === 0x1f) return man ? NaN : sign * Infinity;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}

let f16Values: Float32Array | null = null;

/** Round a binary32 value to binary16 and back: the value the KV cache holds. */
export function roundToF16(x: number): number {
  if (!f16Values) {
    f16Values = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Values[h] = f16ToF32(h);
  }
  return f16Values[f32ToF16Sat(x)]!;
}

/** bfloat16 bits -> binary32 value (exact: the bits are the top half of a binary32). */
export function bf16ToF32(b: number): number {
  return bitsToF32((b & 0xffff) << 16);
}

/** binary32 value -> bfloat16 bits, round to nearest even (IEEE overflow to infinity). */
export function f32ToBf16(x: number): number {
  const bits = f32ToBits(x);
  if (((bits >>> 23) & 0xff) === 0xff && (bits & 0x7fffff) !== 0) return ((bits >>> 16) | 0x40) & 0xffff;
  const lsb = (bits >>> 16) & 1;
  return ((bits + 0x7fff + lsb) >>> 16) & 0xffff;
}

/** A bf16 subnormal (exponent bits 0) becomes a signed zero, like every other datapath value. */
export function bf16Flushed(b: number): number {
  return (b & 0x7f80) === 0 ? b & 0x8000 : b;
}

/**
 * out[i] = bf16Flushed(f32ToBf16(src[i])) for a whole array (the embedding), without a call per
 * element. Returns max over i of (out[i] & 0x7fff), the largest magnitude's bits (>= 0x7f80: an
 * infinity or NaN).
 */
export function f32ToBf16FlushedBulk(src: Float32Array, out: Uint16Array): number {
  const n = src.length;
  const u = new Uint32Array(src.buffer, src.byteOffset, n);
  let max = 0;
  for (let i = 0; i < n; i++) {
    const b = u[i]!;
    let h: number;
    if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) h = ((b >>> 16) | 0x40) & 0xffff;
    else h = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
    if ((h & 0x7f80) === 0) h &= 0x8000;
    out[i] = h;
    const m = h & 0x7fff;
    if (m > max) max = m;
  }
  return max;
}
