/**
 * The ggml tensor types a GGUF export uses and their block layouts, as ggml defines them
 * (ggml/include/ggml.h `enum ggml_type`, ggml/src/ggml-common.h `block_*`, and the element order
 * of ggml-quants.c's dequantize_row_*). Every quantised type cuts a row (ne[0] elements, the
 * reduction dimension) into blocks; a block is the quantised values followed by its scale(s).
 * Written from those definitions for this project; no ggml code is reused.
 */

import { TellmeError } from '../errors.js';
import { f16IeeeToF32, f32ToF16Ieee } from './half.js';

export type GgmlTypeName = 'F32' | 'F16' | 'Q8_0' | 'Q6_K' | 'TQ1_0' | 'TQ2_0';

export interface GgmlType {
  name: GgmlTypeName;
  /** The `enum ggml_type` value stored in a GGUF tensor info. */
  id: number;
  /** Elements per block (1 for the plain float types). */
  blockElements: number;
  /** Bytes per block. */
  blockBytes: number;
}

/** QK_K, the super-block size of the K-quants and the ternary types. */
export const QK_K = 256;

export const GGML_TYPES: Readonly<Record<GgmlTypeName, GgmlType>> = {
  F32: { name: 'F32', id: 0, blockElements: 1, blockBytes: 4 },
  F16: { name: 'F16', id: 1, blockElements: 1, blockBytes: 2 },
  // d (f16), then 32 int8 quants.
  Q8_0: { name: 'Q8_0', id: 8, blockElements: 32, blockBytes: 2 + 32 },
  // ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16] (int8), d (f16).
  Q6_K: { name: 'Q6_K', id: 14, blockElements: QK_K, blockBytes: 128 + 64 + 16 + 2 },
  // qs[48] (5 trits per byte), qh[4] (4 trits per byte), d (f16): 1.6875 bits per weight.
  TQ1_0: { name: 'TQ1_0', id: 34, blockElements: QK_K, blockBytes: 48 + 4 + 2 },
  // qs[64] (4 two-bit codes per byte), d (f16): 2.0625 bits per weight.
  TQ2_0: { name: 'TQ2_0', id: 35, blockElements: QK_K, blockBytes: 64 + 2 },
};

/** Bytes of one row of n elements; n must be a whole number of blocks. */
export function rowBytes(type: GgmlType, n: number, what: string): number {
  if (n % type.blockElements !== 0) {
    throw new TellmeError('E_USAGE', `${what}: rows of ${n} elements cannot be stored as ${type.name}, whose blocks hold ${type.blockElements}`,
      'export a model whose hidden and FFN sizes are multiples of the block size, or choose another --type');
  }
  return (n / type.blockElements) * type.blockBytes;
}

function putF16(out: Uint8Array, at: number, x: number): void {
  const h = f32ToF16Ieee(x);
  out[at] = h & 0xff;
  out[at + 1] = h >>> 8;
}

// ---------------------------------------------------------------- ternary types

/**
 * TQ2_0. Element e of a block (0..255): half c = e >> 7, lane l = (e >> 5) & 3, m = e & 31; its
 * code t + 1 (0, 1, 2 for -1, 0, +1) sits in qs[32c + m] at bits 2l+1..2l. Value = (code - 1) * d.
 */
function packTq2Block(t: Int8Array, src: number, out: Uint8Array, dst: number): void {
  for (let c = 0; c < 2; c++) {
    for (let m = 0; m < 32; m++) {
      const e = src + 128 * c + m;
      out[dst + 32 * c + m] = (t[e]! + 1) | ((t[e + 32]! + 1) << 2) | ((t[e + 64]! + 1) << 4) | ((t[e + 96]! + 1) << 6);
    }
  }
}

/** ceil(v * 256 / 243): a base-3 number of 5 trits (0..242) as a byte whose top trit is read by (b * 3) >> 8. */
function tritByte(v: number): number {
  return Math.floor((v * 256 + 242) / 243);
}

/**
 * TQ1_0. Codes t + 1 as base-3 digits, the first element the most significant trit:
 *   elements 0..159:   e = 32n + m   -> trit n (of 5) of qs[m]
 *   elements 160..239: e = 160 + 16n + m -> trit n of qs[32 + m]
 *   elements 240..255: e = 240 + 4n + j  -> trit n (of 4, a fifth zero trit below) of qh[j]
 * Each byte holds the 5-trit number v as ceil(v * 256 / 243); trit n is ((byte * 3^n mod 256) * 3) >> 8.
 */
function packTq1Block(t: Int8Array, src: number, out: Uint8Array, dst: number): void {
  for (let m = 0; m < 32; m++) {
    let v = 0;
    for (let n = 0; n < 5; n++) v = v * 3 + t[src + 32 * n + m]! + 1;
    out[dst + m] = tritByte(v);
  }
  for (let m = 0; m < 16; m++) {
    let v = 0;
    for (let n = 0; n < 5; n++) v = v * 3 + t[src + 160 + 16 * n + m]! + 1;
    out[dst + 32 + m] = tritByte(v);
  }
  for (let j = 0; j < 4; j++) {
    let v = 0;
    for (let n = 0; n < 4; n++) v = v * 3 + t[src + 240 + 4 * n + j]! + 1;
    out[dst + 48 + j] = tritByte(v * 3);
  }
}

export type TernaryTypeName = 'TQ1_0' | 'TQ2_0';

/**
 * Ternary rows [rows][cols] (values in {-1, 0, +1}) as TQ1_0 / TQ2_0 blocks, every block's d the
 * matrix's multiplicative scale rounded to binary16 (llama.cpp has no per-tensor scale in these
 * types: W = (code - 1) * d per block).
 */
export function packTernaryRows(typeName: TernaryTypeName, values: Int8Array, rows: number, cols: number, scale: number, what: string): Uint8Array {
  const type = GGML_TYPES[typeName];
  const perRow = rowBytes(type, cols, what);
  if (values.length !== rows * cols) throw new TellmeError('E_INTERNAL', `${what}: ${values.length} values for ${rows} x ${cols}`);
  const out = new Uint8Array(rows * perRow);
  const pack = typeName === 'TQ2_0' ? packTq2Block : packTq1Block;
  const dAt = type.blockBytes - 2;
  const blocks = (rows * cols) / QK_K;
  for (let b = 0; b < blocks; b++) {
    const dst = b * type.blockBytes;
    pack(values, b * QK_K, out, dst);
    putF16(out, dst + dAt, scale);
  }
  return out;
}

// ---------------------------------------------------------------- float types (embedding)

export type FloatTypeName = 'F32' | 'F16' | 'Q8_0' | 'Q6_K';

/** Round half away from zero (C's roundf), which ggml's own quantisers use. */
function roundAway(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/** Q8_0: d = amax / 127 (stored as f16), q = round(x / d) in [-127, 127] against the stored d. */
function packQ8Block(x: Float32Array, src: number, out: Uint8Array, dst: number): void {
  let amax = 0;
  for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[src + i]!));
  const h = f32ToF16Ieee(amax / 127);
  out[dst] = h & 0xff;
  out[dst + 1] = h >>> 8;
  const d = f16IeeeToF32(h);
  for (let i = 0; i < 32; i++) {
    const q = d === 0 ? 0 : Math.max(-127, Math.min(127, roundAway(x[src + i]! / d)));
    out[dst + 2 + i] = q & 0xff;
  }
}

/**
 * Q6_K: 16 sub-blocks of 16 elements, value = d * scales[e >> 4] * (q - 32) with q in 0..63.
 * Element e of half n = e >> 7 (r = e & 127, k = r >> 5, l = r & 31): its low 4 bits are the low
 * (k < 2) or high (k >= 2) nibble of ql[64n + l + 32 (k & 1)], its high 2 bits are bits 2k+1..2k of
 * qh[32n + l]. Our quantiser: a sub-block's step is the smallest multiple of d that reaches its
 * amax in 31 steps (rounding the int8 scale up, so no element clamps), d maps the largest step to
 * 127, and q = round(x / step) in [-31, 31].
 */
function packQ6KBlock(x: Float32Array, src: number, out: Uint8Array, dst: number): void {
  const amax = new Float64Array(16);
  let maxAmax = 0;
  for (let s = 0; s < 16; s++) {
    let m = 0;
    for (let i = 0; i < 16; i++) m = Math.max(m, Math.abs(x[src + 16 * s + i]!));
    amax[s] = m;
    maxAmax = Math.max(maxAmax, m);
  }
  const dBits = f32ToF16Ieee(maxAmax / 31 / 127);
  const d = f16IeeeToF32(dBits);
  const qlAt = dst;
  const qhAt = dst + 128;
  const scAt = dst + 192;
  for (let s = 0; s < 16; s++) {
    const sc = d === 0 ? 0 : Math.min(127, Math.ceil(amax[s]! / 31 / d));
    out[scAt + s] = sc;
    const step = d * sc;
    for (let i = 0; i < 16; i++) {
      const e = 16 * s + i;
      const q = (step === 0 ? 0 : Math.max(-32, Math.min(31, roundAway(x[src + e]! / step)))) + 32;
      const n = e >> 7;
      const r = e & 127;
      const k = r >> 5;
      const l = r & 31;
      out[qlAt + 64 * n + l + 32 * (k & 1)]! |= k < 2 ? q & 0xf : (q & 0xf) << 4;
      out[qhAt + 32 * n + l]! |= (q >> 4) << (2 * k);
    }
  }
  out[dst + 208] = dBits & 0xff;
  out[dst + 209] = dBits >>> 8;
}

/**
 * Float rows [rows][cols] in a plain or quantised float type. F16 refuses values it cannot hold
 * (|x| > 65504), so an export never turns a weight into infinity.
 */
export function packFloatRows(typeName: FloatTypeName, data: Float32Array, rows: number, cols: number, what: string): Uint8Array {
  const type = GGML_TYPES[typeName];
  const perRow = rowBytes(type, cols, what);
  const n = rows * cols;
  if (data.length < n) throw new TellmeError('E_INTERNAL', `${what}: ${data.length} values for ${rows} x ${cols}`);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new TellmeError('E_CHECKPOINT', `${what}: element ${i} (row ${Math.floor(i / cols)}) is ${data[i]}`, 'The checkpoint holds a non-finite weight; re-download or re-export it.');
    }
  }
  if (typeName === 'F32') return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + 4 * n));
  const out = new Uint8Array(rows * perRow);
  if (typeName === 'F16') {
    for (let i = 0; i < n; i++) {
      const x = data[i]!;
      if (Math.abs(x) > 65504) {
        throw new TellmeError('E_USAGE', `${what}: element ${i} (row ${Math.floor(i / cols)}) is ${x}, beyond binary16's range (65504)`, 'Export the embedding as f32, q8_0 or q6_k instead (--embedding-type).');
      }
      putF16(out, 2 * i, x);
    }
    return out;
  }
  const pack = typeName === 'Q8_0' ? packQ8Block : packQ6KBlock;
  for (let b = 0; b < n / type.blockElements; b++) pack(data, b * type.blockElements, out, b * type.blockBytes);
  return out;
}
