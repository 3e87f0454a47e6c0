/**
 * The int8 LM head (docs/numerics.md §9): each row quantised with the activation quantiser, its
 * absmax kept as the row's binary32 scale. One definition for the golden model (which quantises a
 * checkpoint's head itself) and the image writer, so both produce the same bytes.
 */

import { quantMultiplier, quantizeValue } from '../numerics/quant.js';
import { absMax } from '../numerics/reduce.js';

/** Quantise the head row data[off, off+cols) into out[outOff..]; returns its absmax. */
export function quantizeHeadRow(data: Float32Array, off: number, cols: number, out: Int8Array, outOff: number): number {
  const amax = absMax(data, off, cols);
  const s = quantMultiplier(amax);
  for (let c = 0; c < cols; c++) out[outOff + c] = quantizeValue(data[off + c]!, s);
  return amax;
}
