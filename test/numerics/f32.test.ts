import { describe, expect, it } from 'vitest';
import { add, div, f32, F32_MIN_NORMAL, frexpExponent, ldexp32, mul, roundHalfEven, sqrt } from '../../host/src/numerics/f32.js';

describe('binary32 arithmetic with flush to zero', () => {
  it('rounds to nearest even like IEEE binary32', () => {
    expect(add(1, 2 ** -24)).toBe(1); // tie goes to even (1)
    expect(add(1 + 2 ** -23, 2 ** -24)).toBe(1 + 2 * 2 ** -23); // tie goes to even (up)
    expect(mul(3, 1 / 3)).toBe(Math.fround(3 * Math.fround(1 / 3)));
    expect(div(1, 3)).toBe(Math.fround(1 / 3));
    expect(sqrt(2)).toBe(Math.fround(Math.SQRT2));
  });

  it('flushes subnormal results to a signed zero', () => {
    expect(mul(F32_MIN_NORMAL, 0.5)).toBe(0);
    expect(Object.is(mul(-F32_MIN_NORMAL, 0.5), -0)).toBe(true);
    expect(mul(F32_MIN_NORMAL, 1)).toBe(F32_MIN_NORMAL);
    // rounding up to the smallest normal keeps it
    expect(f32(F32_MIN_NORMAL * (1 - 2 ** -30))).toBe(F32_MIN_NORMAL);
  });

  it('overflows to infinity', () => {
    expect(mul(3e38, 10)).toBe(Infinity);
  });

  it('rounds half to even', () => {
    expect(roundHalfEven(0.5)).toBe(0);
    expect(roundHalfEven(1.5)).toBe(2);
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(-0.5)).toBe(-0);
    expect(roundHalfEven(-1.5)).toBe(-2);
    expect(roundHalfEven(-2.5)).toBe(-2);
    expect(roundHalfEven(2.4999999)).toBe(2);
    expect(roundHalfEven(126.5)).toBe(126);
    expect(roundHalfEven(127.5)).toBe(128);
  });

  it('frexpExponent puts |x| * 2^-E in [0.5, 1)', () => {
    for (const x of [1, 0.5, 0.75, 3, 1000, 1e-20, 3e38, -7]) {
      const e = frexpExponent(x);
      const m = Math.abs(x) * 2 ** -e;
      expect(m).toBeGreaterThanOrEqual(0.5);
      expect(m).toBeLessThan(1);
    }
    expect(frexpExponent(0)).toBe(0);
    expect(ldexp32(3, -2)).toBe(0.75);
    expect(ldexp32(1, -127)).toBe(0); // would be subnormal
  });
});

describe('roundHalfEven against a slow reference', () => {
  it('agrees on ties, near-ties, large values and signed zeros', () => {
    const slow = (x: number) => {
      const f = Math.floor(x);
      const d = x - f;
      if (d < 0.5) return f;
      if (d > 0.5) return f + 1;
      return f % 2 === 0 ? f : f + 1;
    };
    const xs: number[] = [0.49999999999999994, 0.5000000000000001, 2 ** 51 + 0.5, 2 ** 51 + 1.5, 2 ** 52 + 1, -(2 ** 51) - 0.5, 1e300];
    for (let i = -1000; i <= 1000; i++) xs.push(i / 4, i / 4 + 1e-9, i / 4 - 1e-9, i * 1e6 + 0.5);
    const bad = xs.filter((x) => !Object.is(roundHalfEven(x), slow(x) === 0 && x < 0 ? -0 : slow(x)));
    expect(bad).toEqual([]);
    expect(Object.is(roundHalfEven(-0), -0)).toBe(true);
    expect(Object.is(roundHalfEven(0.3), 0)).toBe(true);
    expect(Object.is(roundHalfEven(-0.3), -0)).toBe(true);
  });
});
