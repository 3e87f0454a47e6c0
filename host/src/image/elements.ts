/**
 * Bulk element conversions of the converter: binary16 norm weights (f32ToF16Sat). The bf16
 * embedding conversion is numerics/f16.ts f32ToBf16FlushedBulk.
 */

import { f16ToF32, f32ToF16Sat } from '../numerics/f16.js';

/** binary16 bits of binary32 norm weights (RNE, saturating, subnormals flushed) and how exact they are. */
export function normsToF16(v: Float32Array): { bits: Uint16Array; inexact: number; maxRelError: number } {
  const bits = new Uint16Array(v.length);
  let inexact = 0;
  let maxRel = 0;
  for (let i = 0; i < v.length; i++) {
    const h = f32ToF16Sat(v[i]!);
    bits[i] = h;
    const back = f16ToF32(h);
    if (back !== v[i]) {
      inexact++;
      const rel = v[i] === 0 ? Math.abs(back) : Math.abs(back - v[i]!) / Math.abs(v[i]!);
      if (rel > maxRel) maxRel = rel;
    }
  }
  return { bits, inexact, maxRelError: maxRel };
}
