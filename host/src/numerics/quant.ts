/**
 * Per-token absmax int8 quantisation and the BitLinear dequantisation scale
 * (docs/numerics.md §4).
 */

import { f32, roundHalfEven } from './f32.js';

/** The absmax floor, binary32 of 1e-5 (HF: clamp(min=1e-5) on a float32 tensor). */
export const ABSMAX_FLOOR = Math.fround(1e-5);
/** Symmetric int8 range: the quantiser never produces -128. */
export const INT8_MAX = 127;

/** amax_c = max(amax, 1e-5). */
export function clampAbsmax(amax: number): number {
  return amax > ABSMAX_FLOOR ? amax : ABSMAX_FLOOR;
}

/** s = f32(127 / amax_c): the quantisation multiplier of one token. */
export function quantMultiplier(amax: number): number {
  return f32(INT8_MAX / clampAbsmax(amax));
}

/** σ = f32(amax_c / 127): the binary32 step of one int8 unit (the head quantiser of §8.3). */
export function int8Step(amax: number): number {
  return f32(clampAbsmax(amax) / INT8_MAX);
}

/** q = clamp(roundHalfEven(f32(x * s)), -127, 127). */
export function quantizeValue(x: number, s: number): number {
  const q = roundHalfEven(f32(x * s));
  return q > INT8_MAX ? INT8_MAX : q < -INT8_MAX ? -INT8_MAX : q;
}

/**
 * Quantise n values of one token given its absmax (computed by RMS-MAX or by the caller).
 * Writes int8 values to out[outOff..]. Returns the multiplier used.
 */
export function quantizeToken(
  x: ArrayLike<number>,
  off: number,
  n: number,
  amax: number,
  out: Int8Array,
  outOff: number,
): number {
  const s = quantMultiplier(amax);
  for (let i = 0; i < n; i++) out[outOff + i] = quantizeValue(x[off + i]!, s);
  return s;
}

/**
 * Combined dequantisation factor of one BitLinear output for one token:
 *   c = f32(f32(amax_c * w_s) / 127);  y_j = f32(acc_j * c)
 * where w_s is the matrix's multiplicative weight scale.
 */
export function dequantFactor(amax: number, weightScale: number): number {
  return f32(f32(clampAbsmax(amax) * weightScale) / INT8_MAX);
}

/**
 * LM-head dequantisation factor of row r for one token (int8 weights, per-row absmax):
 *   c_r = f32(f32(amax_c(x) * amax_c(row r)) / 16129);  logit_r = f32(acc_r * c_r)
 */
export function headDequantFactor(amaxX: number, rowAmax: number): number {
  return f32(f32(clampAbsmax(amaxX) * clampAbsmax(rowAmax)) / (INT8_MAX * INT8_MAX));
}
