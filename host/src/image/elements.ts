/**
 * Bulk element conversions of the converter, equal value for value to the scalar definitions they
 * replace (test/image/elements.test.ts): the bf16 embedding (numerics/f16.ts f32ToBf16, then
 * golden/weights.ts bf16Flushed) and binary16 norm weights (f32ToF16Sat).
 */

import { f16ToF32, f32ToF16Sat } from '../numerics/f16.js';

/**
 * out[i] = bf16Flushed(f32ToBf16(src[i])): round to nearest even (NaN stays a quiet NaN), then a
 * bf16 subnormal (exponent bits 0) becomes a signed zero. Returns max over i of (out[i] & 0x7fff),
 * the largest magnitude's bits (>= 0x7f80: an infinity or NaN).
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
