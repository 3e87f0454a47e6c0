/**
 * The LM head's converter side (docs/numerics.md §9, §9.2): the int8 head (each row quantised with
 * the activation quantiser, its absmax kept as the row's binary32 scale) and the ternary head of
 * the shortlist (each row absmean-ternarised on its own, w_r kept). One definition for the golden
 * model (which converts a checkpoint's head itself) and the image writer, so both produce the
 * same bytes.
 */

import { quantMultiplier, quantizeValue } from '../numerics/quant.js';
import { absMax } from '../numerics/reduce.js';
import { absmeanTernarize } from './ternary.js';

/** Quantise the head row data[off, off+cols) into out[outOff..]; returns its absmax. */
export function quantizeHeadRow(data: Float32Array, off: number, cols: number, out: Int8Array, outOff: number): number {
  const amax = absMax(data, off, cols);
  const s = quantMultiplier(amax);
  for (let c = 0; c < cols; c++) out[outOff + c] = quantizeValue(data[off + c]!, s);
  return amax;
}

/**
 * Ternarise the head row data[off, off+cols) with its own absmean (§9.2: γ = max(mean|E|, FLOOR)
 * in binary64 rounded once, s = f32(1/γ), t = clamp(⌊f32(E·s)⌉, −1, 1)) into out[outOff..];
 * returns w_r = f32(1/s).
 */
export function ternarizeHeadRow(data: Float32Array, off: number, cols: number, out: Int8Array, outOff: number): number {
  const r = absmeanTernarize(data.subarray(off, off + cols), 1, cols);
  out.set(r.values, outOff);
  return r.scale;
}
