import { describe, expect, it } from 'vitest';
import { exp32, relu2Gate, rsqrt32, sigmoid32, silu32, siluGate } from '../../host/src/numerics/functions.js';
import { f32ToBits } from '../../host/src/numerics/f32.js';

/** Distance in units in the last place between two positive binary32 numbers. */
function ulps(a: number, b: number): number {
  return Math.abs(f32ToBits(Math.fround(a)) - f32ToBits(Math.fround(b)));
}

describe('exp32 (own algorithm: Cody-Waite reduction + degree-7 Horner)', () => {
  it('is exact where it must be', () => {
    expect(exp32(0)).toBe(1);
    expect(exp32(-0)).toBe(1);
    expect(exp32(-Infinity)).toBe(0);
  });

  it('is within 1 ulp of the true exponential over the softmax range and beyond', () => {
    let worst = 0;
    for (let i = 0; i <= 200000; i++) {
      const x = Math.fround(-87 + (175 * i) / 200000);
      const r = exp32(x);
      if (r === 0 || !Number.isFinite(r)) continue;
      worst = Math.max(worst, ulps(r, Math.exp(x)));
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('underflows to zero (flushed) and overflows to infinity above 88', () => {
    expect(exp32(-88)).toBe(0); // e^-88 is subnormal in binary32
    expect(exp32(-1000)).toBe(0);
    expect(exp32(-87)).toBeGreaterThan(0);
    expect(exp32(88)).toBeGreaterThan(1e38);
    expect(exp32(88.0001)).toBe(Infinity);
  });

  it('is monotone on a fine grid', () => {
    // Violations collected and asserted once (one expect per point made this test slow).
    let prev = 0;
    const drops: number[] = [];
    for (let i = 0; i <= 100000; i++) {
      const x = Math.fround(-20 + (40 * i) / 100000);
      const r = exp32(x);
      if (!(r >= prev)) drops.push(x);
      prev = r;
    }
    expect(drops).toEqual([]);
  });

  it('matches pinned bit patterns (a change here breaks the C++ and RTL contracts)', () => {
    const cases: [number, number][] = [
      [1, 0x402df854],
      [-1, 0x3ebc5ab2],
      [0.5, 0x3fd3094c],
      [-10, 0x383e6bce],
      [Math.fround(-0.34657359), 0x3f3504f3],
    ];
    for (const [x, bits] of cases) expect(f32ToBits(exp32(x)).toString(16)).toBe(bits.toString(16));
  });
});

describe('rsqrt, sigmoid, SiLU, ReLU²', () => {
  it('rsqrt is two correctly rounded operations', () => {
    expect(rsqrt32(4)).toBe(0.5);
    expect(rsqrt32(2)).toBe(Math.fround(1 / Math.fround(Math.SQRT2)));
    expect(rsqrt32(96)).toBe(Math.fround(1 / Math.fround(Math.sqrt(96))));
  });

  it('sigmoid and SiLU have the right limits', () => {
    expect(sigmoid32(0)).toBe(0.5);
    expect(silu32(0)).toBe(0);
    expect(sigmoid32(100)).toBe(1);
    expect(sigmoid32(-100)).toBe(0); // 1/(1+e^88-clamp...) flushed below 2^-126
    expect(Object.is(silu32(-200), -0)).toBe(true); // exp(200) = inf -> 1/inf = 0
    expect(Math.abs(silu32(1) - 1 / (1 + Math.exp(-1)))).toBeLessThan(1e-6);
    expect(Math.abs(siluGate(2, 3) - 3 * (2 / (1 + Math.exp(-2))))).toBeLessThan(1e-5);
  });

  it('ReLU² gate cannot overflow binary32 for bounded inputs and zeroes negatives', () => {
    expect(relu2Gate(-5, 100)).toBe(0);
    expect(relu2Gate(3, 2)).toBe(18);
    // |gate| <= 127*K*amax*w_s stays far below sqrt(F32_MAX): see docs/numerics.md §4.4
    expect(Number.isFinite(relu2Gate(1e12, 1e12))).toBe(true);
  });
});
