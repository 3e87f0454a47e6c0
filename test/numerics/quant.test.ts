import { describe, expect, it } from 'vitest';
import {
  ABSMAX_FLOOR,
  dequantFactor,
  headDequantFactor,
  int8Step,
  quantMultiplier,
  quantizeToken,
  quantizeValue,
} from '../../host/src/numerics/quant.js';
import { rmsMax } from '../../host/src/numerics/rmsmax.js';
import { dot16, sum16, sumSquares16 } from '../../host/src/numerics/reduce.js';

describe('per-token absmax int8 quantisation', () => {
  it('maps the absmax to ±127 and rounds half to even', () => {
    const x = new Float32Array([2, -2, 1, 0.0078740157, -0.5]);
    const q = new Int8Array(5);
    quantizeToken(x, 0, 5, 2, q, 0);
    // s = f32(127/2) = 63.5: 1 -> 63.5 -> 64 (tie to even), 0.5 -> 31.75 -> 32
    expect(Array.from(q)).toEqual([127, -127, 64, 0, -32]);
    expect(quantizeValue(2.5, 1)).toBe(2);
    expect(quantizeValue(3.5, 1)).toBe(4);
    expect(quantizeValue(-2.5, 1)).toBe(-2);
  });

  it('saturates symmetrically at ±127, never -128', () => {
    expect(quantizeValue(1000, 1)).toBe(127);
    expect(quantizeValue(-1000, 1)).toBe(-127);
    // |x*s| can exceed 127 by an ulp; it still rounds to 127
    const amax = Math.fround(0.1);
    expect(quantizeValue(-amax, quantMultiplier(amax))).toBe(-127);
  });

  it('applies the 1e-5 floor to the absmax', () => {
    expect(ABSMAX_FLOOR).toBe(Math.fround(1e-5));
    expect(quantMultiplier(0)).toBe(Math.fround(127 / Math.fround(1e-5)));
    const q = new Int8Array(3);
    quantizeToken(new Float32Array([0, 0, 0]), 0, 3, 0, q, 0);
    expect(Array.from(q)).toEqual([0, 0, 0]);
    expect(quantMultiplier(1e-7)).toBe(quantMultiplier(0));
  });

  it('int8Step: σ = f32(amax_c / 127), the floor applied', () => {
    expect(int8Step(127)).toBe(1);
    expect(int8Step(1)).toBe(Math.fround(1 / 127));
    expect(int8Step(Math.fround(0.3))).toBe(Math.fround(Math.fround(0.3) / 127));
    expect(int8Step(0)).toBe(Math.fround(ABSMAX_FLOOR / 127));
    expect(int8Step(1e-7)).toBe(int8Step(0));
  });

  it('dequantisation factors follow the documented operation order', () => {
    expect(dequantFactor(2, 0.5)).toBe(Math.fround(Math.fround(2 * 0.5) / 127));
    expect(headDequantFactor(3, 5)).toBe(Math.fround(15 / 16129));
    expect(dequantFactor(0, 1)).toBe(Math.fround(Math.fround(1e-5) / 127));
  });
});

describe('fixed-order reductions', () => {
  it('uses 16 interleaved lanes and a pairwise tree, which differs from a sequential sum', () => {
    // 1e8 in lane 0, then 1.0 sixteen times in lane 1 .. lane 15 and lane 0 again:
    const x = new Float32Array(32);
    x[0] = 1e8;
    for (let i = 1; i < 32; i++) x[i] = 1;
    let seq = 0;
    for (const v of x) seq = Math.fround(seq + v);
    // Sequentially every +1 is lost (1e8 has an ulp of 8). In lanes: L0 = 1e8 (its second +1 is
    // lost), L1..L15 = 2. Tree: [1e8+2 -> 1e8, 4 x7] -> [1e8+4 -> 1e8 (tie, even), 8 x3]
    // -> [1e8+8, 16] -> 1e8+24.
    expect(seq).toBe(1e8);
    expect(sum16(x, 0, 32)).toBe(100000024);
  });

  it('dot16 handles lengths that are not multiples of 16', () => {
    const a = Float32Array.from({ length: 100 }, (_, i) => (i % 7) - 3);
    const b = Float32Array.from({ length: 100 }, (_, i) => (i % 5) - 2);
    let exact = 0;
    for (let i = 0; i < 100; i++) exact += a[i]! * b[i]!;
    expect(dot16(a, 0, b, 0, 100)).toBe(exact); // small integers: exact in any order
    expect(sumSquares16(a, 0, 100)).toBe(a.reduce((s, v) => s + v * v, 0));
  });
});

describe('RMS-MAX', () => {
  const eps = 1e-5;

  it('matches the binary64 RMSNorm closely and returns the output absmax', () => {
    const n = 256;
    const x = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 1.7) * 3));
    const w = Float32Array.from({ length: n }, (_, i) => Math.fround(0.5 + (i % 9) / 10));
    const y = new Float32Array(n);
    const amax = rmsMax(x, 0, n, w, eps, y, 0);
    const ms = x.reduce((s, v) => s + v * v, 0) / n;
    const r = 1 / Math.sqrt(ms + eps);
    let m = 0;
    for (let i = 0; i < n; i++) {
      expect(Math.abs(y[i]! - x[i]! * r * w[i]!)).toBeLessThan(1e-5);
      m = Math.max(m, Math.abs(y[i]!));
    }
    expect(amax).toBe(m);
  });

  it('cannot overflow: huge inputs normalise like small ones', () => {
    const n = 64;
    const w = new Float32Array(n).fill(1);
    const small = Float32Array.from({ length: n }, (_, i) => (i % 3) - 1);
    const huge = small.map((v) => v * 2 ** 100);
    const y1 = new Float32Array(n);
    const y2 = new Float32Array(n);
    rmsMax(small, 0, n, w, eps, y1, 0);
    rmsMax(huge, 0, n, w, eps, y2, 0);
    // sum of squares of 2^100-sized values would be 2^200 (inf in binary32) without the scaling
    for (let i = 0; i < n; i++) expect(Number.isFinite(y2[i]!)).toBe(true);
    for (let i = 0; i < n; i++) expect(Math.abs(y2[i]! - y1[i]!)).toBeLessThan(1e-4);
  });

  it('maps all zeros to all zeros', () => {
    const y = new Float32Array(32).fill(7);
    expect(rmsMax(new Float32Array(32), 0, 32, new Float32Array(32).fill(1), eps, y, 0)).toBe(0);
    expect(Array.from(y).every((v) => v === 0)).toBe(true);
  });
});
