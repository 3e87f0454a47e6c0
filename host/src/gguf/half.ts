/**
 * IEEE 754 binary16 as ggml stores it (`ggml_half`): round to nearest even, subnormals kept,
 * overflow to infinity. This is not the accelerator's binary16 (numerics/f16.ts saturates and
 * flushes subnormals); GGUF block scales and F16 tensors follow the IEEE rules.
 */

import { f32ToBits } from '../numerics/f32.js';

/** binary32 value -> binary16 bits (RNE, gradual underflow, ±Infinity on overflow, NaN kept). */
export function f32ToF16Ieee(x: number): number {
  const bits = f32ToBits(x);
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const man = bits & 0x7fffff;
  if (exp === 0xff) return sign | (man !== 0 ? 0x7e00 : 0x7c00);
  const e = exp - 127;
  if (e > 15) return sign | 0x7c00;
  if (e >= -14) {
    // Normal: keep 10 mantissa bits, round the 13 dropped ones to nearest even. A carry out of the
    // mantissa bumps the exponent, and out of exponent 30 gives 0x7c00 (infinity), as IEEE says.
    let h = ((e + 15) << 10) | (man >>> 13);
    const rest = man & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h += 1;
    return sign | h;
  }
  if (e < -25) return sign; // below half the smallest subnormal (2^-25): rounds to zero
  // Subnormal: value = full * 2^(e-23) on the grid of 2^-24, i.e. full >> (-1 - e) (e in -25..-15).
  const full = man | 0x800000;
  const shift = -1 - e;
  const q = Math.floor(full / 2 ** shift);
  const rem = full - q * 2 ** shift;
  const half = 2 ** (shift - 1);
  // q may reach 0x400, which is exactly the smallest normal's encoding.
  return sign | (rem > half || (rem === half && (q & 1) === 1) ? q + 1 : q);
}

/** binary16 bits -> value (exact, subnormals included). */
export function f16IeeeToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const man = h & 0x3ff;
  if (exp === 0) return sign * man * 2 ** -24;
  if (exp === 0x1f) return man ? NaN : sign * Infinity;
  return sign * (1 + man / 1024) * 2 ** (exp - 15);
}
