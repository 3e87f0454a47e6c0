import { describe, expect, it } from 'vitest';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16Sat, roundToF16 } from '../../host/src/numerics/f16.js';

describe('binary16 conversion (RNE, saturating, subnormals flushed)', () => {
  it('converts exact values', () => {
    expect(f32ToF16Sat(1)).toBe(0x3c00);
    expect(f32ToF16Sat(-2)).toBe(0xc000);
    expect(f32ToF16Sat(0.5)).toBe(0x3800);
    expect(f32ToF16Sat(65504)).toBe(0x7bff);
    expect(f32ToF16Sat(0)).toBe(0x0000);
    expect(f32ToF16Sat(-0)).toBe(0x8000);
  });

  it('rounds ties to even', () => {
    // 1 + 2^-11 lies exactly between 1 (even) and 1 + 2^-10 (odd): goes down.
    expect(f32ToF16Sat(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3*2^-11 lies between 1 + 2^-10 (odd) and 1 + 2^-9 (even): goes up.
    expect(f32ToF16Sat(1 + 3 * 2 ** -11)).toBe(0x3c02);
    // just above the tie rounds up
    expect(f32ToF16Sat(Math.fround(1 + 2 ** -11 + 2 ** -20))).toBe(0x3c01);
    // a carry out of the mantissa bumps the exponent: 2 - 2^-12 -> 2
    expect(f32ToF16Sat(2 - 2 ** -12)).toBe(0x4000);
  });

  it('saturates instead of overflowing to infinity', () => {
    expect(f32ToF16Sat(65519)).toBe(0x7bff); // rounds down to 65504 anyway
    expect(f32ToF16Sat(65520)).toBe(0x7bff); // would round to infinity in IEEE
    expect(f32ToF16Sat(1e9)).toBe(0x7bff);
    expect(f32ToF16Sat(-1e9)).toBe(0xfbff);
    expect(f32ToF16Sat(Infinity)).toBe(0x7bff);
  });

  it('flushes results below 2^-14 to a signed zero', () => {
    expect(f32ToF16Sat(2 ** -14)).toBe(0x0400);
    expect(f32ToF16Sat(2 ** -15)).toBe(0x0000);
    expect(f32ToF16Sat(-(2 ** -15))).toBe(0x8000);
    expect(f32ToF16Sat(2 ** -20)).toBe(0x0000);
    // just below 2^-14 rounds up to the smallest normal on the 2^-24 grid
    expect(f32ToF16Sat(2 ** -14 - 2 ** -26)).toBe(0x0400);
    // far enough below rounds to a subnormal, which is flushed
    expect(f32ToF16Sat(2 ** -14 - 2 ** -23)).toBe(0x0000);
  });

  it('round trips every binary16 normal number exactly', () => {
    const bad: number[] = [];
    for (let h = 0x0400; h < 0x7c00; h++) {
      if (f32ToF16Sat(f16ToF32(h)) !== h) bad.push(h);
      if (f32ToF16Sat(-f16ToF32(h)) !== (h | 0x8000)) bad.push(h | 0x8000);
    }
    expect(bad).toEqual([]);
  });

  it('agrees with nearest-value search on random binary32 inputs', () => {
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const farther: number[] = [];
    for (let i = 0; i < 20000; i++) {
      const x = Math.fround((rnd() - 0.5) * 2 ** Math.floor(rnd() * 40 - 20));
      const r = roundToF16(x);
      const ax = Math.abs(x);
      if (ax < 2 ** -14 || ax > 65504) continue;
      // r is a neighbour of x and no binary16 value is strictly closer
      const h = f32ToF16Sat(x) & 0x7fff;
      const up = f16ToF32(h + 1);
      const down = h > 0x400 ? f16ToF32(h - 1) : 0;
      if (!(Math.abs(Math.abs(r) - ax) <= Math.abs(up - ax)) || !(Math.abs(Math.abs(r) - ax) <= Math.abs(down - ax))) farther.push(x);
    }
    expect(farther).toEqual([]);
  });
});

describe('bfloat16', () => {
  it('bf16 -> f32 is exact (bits << 16)', () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0xc040)).toBe(-3);
    expect(bf16ToF32(0x0000)).toBe(0);
  });
  it('f32 -> bf16 rounds to nearest even', () => {
    expect(f32ToBf16(1)).toBe(0x3f80);
    // 1 + 2^-8 is the tie between 0x3f80 and 0x3f81: even wins
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80);
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(f32ToBf16(Math.fround(1 + 2 ** -8 + 2 ** -20))).toBe(0x3f81);
  });
});
