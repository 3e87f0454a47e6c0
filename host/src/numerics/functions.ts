/**
 * The accelerator's nonlinear functions, built only from correctly rounded binary32 operations
 * (docs/numerics.md §3). No library exp/sin/cos is used at run time: those differ in the last
 * bit between libm, JavaScript engines and Vitis. The constants below are part of the contract
 * and are repeated verbatim in hls/ and firmware/.
 */

import { f32, roundHalfEven } from './f32.js';

// Constants, each exactly representable in binary32 (the decimal strings round to these bits).
export const EXP_LOG2E = Math.fround(1.4426950408889634); // 0x3FB8AA3B
export const EXP_LN2_HI = Math.fround(0.693145751953125); // 0x3F317200, 15 significant bits
export const EXP_LN2_LO = Math.fround(1.428606765330187e-6); // 0x35BFBE8E = fround(ln2 - LN2_HI)
/** Above this input exp overflows: exp(x) = +Infinity for x > 88. */
export const EXP_MAX_INPUT = 88;
/** Taylor coefficients 1/k!, k = 0..7, rounded to binary32. Evaluated by Horner from the top. */
export const EXP_COEFFS: readonly number[] = [1, 1, 0.5, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040].map((c) =>
  Math.fround(c),
);

/**
 * e^x in binary32.
 *  n = roundHalfEven(f32(x * LOG2E)); r = f32(f32(x - f32(n*LN2_HI)) - f32(n*LN2_LO));
 *  p = Horner(r) with the degree-7 Taylor coefficients; result = f32(p * 2^n), flushed.
 * exp(0) = 1 exactly; exp(x) = 0 for n < -126; exp(x) = +Infinity for x > 88.
 */
export function exp32(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x > EXP_MAX_INPUT) return Infinity;
  const n = roundHalfEven(f32(x * EXP_LOG2E));
  if (n < -126) return 0;
  let r = f32(x - f32(n * EXP_LN2_HI));
  r = f32(r - f32(n * EXP_LN2_LO));
  const c = EXP_COEFFS;
  let p = c[7]!;
  for (let k = 6; k >= 0; k--) p = f32(f32(p * r) + c[k]!);
  return f32(p * 2 ** n);
}

/** 1/sqrt(x) = f32(1 / f32(sqrt(x))): two correctly rounded operations. */
export function rsqrt32(x: number): number {
  return f32(1 / f32(Math.sqrt(x)));
}

/** sigmoid(x) = f32(1 / f32(1 + exp32(-x))). */
export function sigmoid32(x: number): number {
  return f32(1 / f32(1 + exp32(-x)));
}

/** SiLU(x) = f32(x * sigmoid(x)). */
export function silu32(x: number): number {
  return f32(x * sigmoid32(x));
}

/** Gated FFN activation with ReLU^2: f32(f32(r*r) * up), r = max(gate, 0). */
export function relu2Gate(gate: number, up: number): number {
  const r = gate > 0 ? gate : 0;
  return f32(f32(r * r) * up);
}

/** Gated FFN activation with SiLU (SwiGLU): f32(silu(gate) * up). */
export function siluGate(gate: number, up: number): number {
  return f32(silu32(gate) * up);
}
