/**
 * binary32 arithmetic as the accelerator performs it (docs/numerics.md §2).
 *
 * Every operation is IEEE 754 binary32 with round-to-nearest-even, and its result is then
 * flushed to zero when its magnitude is below the smallest normal number (2^-126), keeping
 * the sign. JavaScript computes in binary64; for +, -, *, / and sqrt of binary32 operands the
 * binary64 result rounded once more to binary32 (Math.fround) is the correctly rounded binary32
 * result (double rounding is innocuous because 53 >= 2*24 + 2), so these helpers are exact
 * emulations, not approximations.
 */

/** Smallest positive normal binary32 number, 2^-126. */
export const F32_MIN_NORMAL = 1.1754943508222875e-38;
/** Largest finite binary32 number. */
export const F32_MAX = 3.4028234663852886e38;

/** Round a binary64 value to binary32 (RNE) and flush a subnormal result to a signed zero. */
export function f32(x: number): number {
  const r = Math.fround(x);
  if (r !== 0 && Math.abs(r) < F32_MIN_NORMAL) return r < 0 ? -0 : 0;
  return r;
}

/** Flush a binary32 subnormal input to a signed zero (inputs read from checkpoints). */
export function ftz32(x: number): number {
  if (x !== 0 && Math.abs(x) < F32_MIN_NORMAL) return x < 0 ? -0 : 0;
  return x;
}

export const add = (a: number, b: number): number => f32(a + b);
export const sub = (a: number, b: number): number => f32(a - b);
export const mul = (a: number, b: number): number => f32(a * b);
export const div = (a: number, b: number): number => f32(a / b);
export const sqrt = (a: number): number => f32(Math.sqrt(a));

/** Exact scaling by 2^e (e an integer), then subnormal flush. Used for power-of-two rescaling. */
export function ldexp32(x: number, e: number): number {
  // 2^e is exact in binary64 for |e| <= 1023; x * 2^e is exact in binary64, so one rounding.
  return f32(x * Math.pow(2, e));
}

/**
 * The binary exponent E such that |x| * 2^-E lies in [0.5, 1): E = floor(log2|x|) + 1.
 * Defined as 0 for x = 0. Read from the bits, never from Math.log2 (which may be off by one).
 */
export function frexpExponent(x: number): number {
  if (x === 0) return 0;
  const bits = f32ToBits(x);
  const biased = (bits >>> 23) & 0xff;
  if (biased === 0) return 0; // subnormal: cannot occur after ftz, treat as zero
  return biased - 127 + 1;
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

export function f32ToBits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0]!;
}

export function bitsToF32(bits: number): number {
  scratchU32[0] = bits >>> 0;
  return scratchF32[0]!;
}

/** 1.5 * 2^52: adding it to |x| < 2^51 leaves no fraction bits, so binary64 addition rounds x to an integer, ties to even. */
const RNE_MAGIC = 6755399441055744;

/** Round a finite binary64 value to the nearest integer, ties to even (C nearbyint; keeps -0). */
export function roundHalfEven(x: number): number {
  if (!(Math.abs(x) < 2 ** 51)) {
    // |x| >= 2^51 (or NaN): binary64 values there are multiples of 0.5 or already integers.
    const r = Math.round(x); // ties toward +inf
    return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
  }
  const r = x + RNE_MAGIC - RNE_MAGIC;
  return r === 0 ? x * 0 : r; // the sign of a zero result follows x, as in nearbyint
}
