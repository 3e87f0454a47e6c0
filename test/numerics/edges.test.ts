/**
 * Known answers at the edges of the binary16/binary32 helpers that the other numerics tests reach
 * only through a round trip or a cache (roundToF16 builds its table once per process, so a change
 * to f16ToF32 after that is invisible to it): the Stryker survivors of host/src/numerics
 * (docs/measurements.md §8.3). Each value is written out, never computed by the code under test.
 */
import { describe, expect, it } from 'vitest';
import { f16ToF32, f32ToF16Sat } from '../../host/src/numerics/f16.js';
import { add, F32_MIN_NORMAL, ftz32, sub } from '../../host/src/numerics/f32.js';
import { absMax } from '../../host/src/numerics/reduce.js';

/** Object.is for every element, so that +0 and −0 differ. */
function expectSame(got: number[], want: number[]): void {
  expect(got.map((v) => (Object.is(v, -0) ? '-0' : String(v)))).toEqual(want.map((v) => (Object.is(v, -0) ? '-0' : String(v))));
}

describe('binary16 → binary32 (f16ToF32) on every kind of pattern', () => {
  it('signs, zeros, subnormals read as zero, infinities and NaN', () => {
    expectSame(
      [0x3c00, 0xbc00, 0xc000, 0xfbff, 0x0000, 0x8000, 0x0001, 0x83ff, 0x7c00, 0xfc00, 0x0400, 0x8400].map(f16ToF32),
      [1, -1, -2, -65504, 0, -0, 0, -0, Infinity, -Infinity, 2 ** -14, -(2 ** -14)],
    );
    expect(f16ToF32(0x7e00)).toBeNaN();
    expect(f16ToF32(0xfc01)).toBeNaN();
  });
});

describe('binary32 → binary16 (f32ToF16Sat) at its edges', () => {
  it('NaN stays a quiet NaN with its sign; infinities saturate', () => {
    expect(f32ToF16Sat(NaN)).toBe(0x7e00);
    expect(f32ToF16Sat(-NaN) & 0x7fff).toBe(0x7e00);
    expect(f32ToF16Sat(-Infinity)).toBe(0xfbff);
  });

  it('just below 2^-14: rounds on the 2^-24 grid, only 1023.5·2^-24 and above reach 2^-14 (ties to even)', () => {
    // [2^-15, 2^-14) is 1024 steps of 2^-24 below 2^-14; 1023 is odd, so its tie goes up.
    expect(f32ToF16Sat(1023.25 * 2 ** -24)).toBe(0x0000);
    expect(f32ToF16Sat(-1023.25 * 2 ** -24)).toBe(0x8000);
    expect(f32ToF16Sat(1023.5 * 2 ** -24)).toBe(0x0400);
    expect(f32ToF16Sat(-1023.5 * 2 ** -24)).toBe(0x8400);
    expect(f32ToF16Sat(1023.75 * 2 ** -24)).toBe(0x0400);
    // 1022.5: a tie between 1022 (even) and 1023, both subnormal: flushed.
    expect(f32ToF16Sat(1022.5 * 2 ** -24)).toBe(0x0000);
    expect(f32ToF16Sat(2 ** -15 + 2 ** -24)).toBe(0x0000);
  });
});

describe('binary32 helpers without a test of their own', () => {
  it('ftz32 flushes a subnormal input to a signed zero and keeps everything else', () => {
    expectSame(
      [1e-45, -1e-45, 2 ** -127, -(2 ** -127), F32_MIN_NORMAL, -F32_MIN_NORMAL, 0, -0, 1.5, -3].map(ftz32),
      [0, -0, 0, -0, 2 ** -126, -(2 ** -126), 0, -0, 1.5, -3],
    );
  });

  it('add and sub round once to binary32 (ties to even) and flush subnormal results', () => {
    expectSame(
      [add(1, 2 ** -24), add(1, 3 * 2 ** -24), add(2 ** -126, -(2 ** -127)), add(-1, 1), sub(1, 3), sub(1, 2 ** -24), sub(1 + 2 ** -23, 2 ** -24), sub(2 ** -126, 2 ** -127)],
      [1, 1 + 2 ** -22, 0, 0, -2, 1 - 2 ** -24, 1, 0],
    );
  });
});

describe('absMax', () => {
  it('is the largest magnitude wherever it is, not the last one', () => {
    expect(absMax([1, -5, 2], 0, 3)).toBe(5);
    expect(absMax([9, 0.5, -7, 3, 1], 1, 3)).toBe(7);
    expect(absMax([-0, 0], 0, 2)).toBe(0);
  });
});
