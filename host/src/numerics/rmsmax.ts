/**
 * RMS-MAX: RMSNorm fused with the absmax that the next quantiser needs
 * (docs/numerics.md §5). Overflow-free by construction: the input is first scaled by an exact
 * power of two 2^-E so that its largest magnitude is below 1, which bounds the sum of squares by
 * n whatever the input's range. E is never negative, so eps * 2^-2E cannot overflow either.
 *
 *   E   = max(0, frexpExponent(max|x|))      (so E = 0 unless max|x| >= 1)
 *   z_i = ldexp(x_i, -E)                     (exact, or flushed when it underflows)
 *   ss  = sumSquares16(z)
 *   ms  = f32(ss * invN)                     (invN = f32(1/n), a per-shape constant)
 *   r   = rsqrt32(f32(ms + ldexp(eps, -2E))) (eps = f32(rms_norm_eps))
 *   y_i = f32(f32(z_i * r) * w_i)
 *   amax(y) = max |y_i|
 * Mathematically y = x / sqrt(mean(x^2) + eps) * w, as in HF's RMSNorm.
 */

import { f32, frexpExponent, ldexp32 } from './f32.js';
import { rsqrt32 } from './functions.js';
import { absMax, sumSquares16 } from './reduce.js';

/** f32(1/n): the mean's reciprocal, a constant per vector length. */
export function invLength(n: number): number {
  return f32(1 / n);
}

const scratch: { z: Float64Array } = { z: new Float64Array(0) };

/**
 * y[yOff..yOff+n) = RMSNorm(x[xOff..xOff+n)) * w; returns the absmax of y.
 * x and y may alias. weight may be null for a norm without weights (never used by BitNet).
 */
export function rmsMax(
  x: ArrayLike<number>,
  xOff: number,
  n: number,
  weight: ArrayLike<number>,
  eps: number,
  y: Float32Array | Float64Array,
  yOff: number,
): number {
  if (scratch.z.length < n) scratch.z = new Float64Array(n);
  const z = scratch.z;
  const e = Math.max(0, frexpExponent(absMax(x, xOff, n)));
  const scale = 2 ** -e; // exact power of two: x * scale rounds only when it underflows
  for (let i = 0; i < n; i++) z[i] = f32(x[xOff + i]! * scale);
  const ss = sumSquares16(z, 0, n);
  const ms = f32(ss * invLength(n));
  const r = rsqrt32(f32(ms + ldexp32(Math.fround(eps), -2 * e)));
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const v = f32(f32(z[i]! * r) * weight[i]!);
    y[yOff + i] = v;
    const a = Math.abs(v);
    if (a > amax) amax = a;
  }
  return amax;
}
