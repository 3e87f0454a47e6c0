import { describe, expect, it } from 'vitest';
import { quantizeHeadRow, ternarizeHeadRow } from '../../host/src/quant/head.js';
import { quantMultiplier, quantizeValue } from '../../host/src/numerics/quant.js';

describe('int8 LM head rows (numerics §9)', () => {
  it('quantises data[off, off + cols) into out[outOff..] with the row absmax, touching nothing else', () => {
    // amax 2 -> s = f32(127 / 2) = 63.5: 1 -> 63.5 -> 64 (even), -2 -> -127, 0.5 -> 31.75 -> 32, 1.5 -> 95.25 -> 95.
    const data = Float32Array.of(99, 99, 1, -2, 0.5, 1.5, 99);
    const out = new Int8Array(8).fill(7);
    const amax = quantizeHeadRow(data, 2, 4, out, 3);
    expect(amax).toBe(2);
    expect(Array.from(out)).toEqual([7, 7, 7, 64, -127, 32, 95, 7]);
  });

  it('agrees with the activation quantiser element for element on a longer row', () => {
    const cols = 37;
    const data = Float32Array.from({ length: cols + 5 }, (_, i) => Math.fround(Math.sin(i * 1.7) * (i + 1)));
    const out = new Int8Array(cols);
    const amax = quantizeHeadRow(data, 5, cols, out, 0);
    let want = 0;
    for (let c = 0; c < cols; c++) want = Math.max(want, Math.abs(data[5 + c]!));
    expect(amax).toBe(want);
    const s = quantMultiplier(want);
    expect(Array.from(out)).toEqual(Array.from({ length: cols }, (_, c) => quantizeValue(data[5 + c]!, s)));
  });

  it('ternary head rows (§9.2): per-row absmean, t = clamp(⌊f32(E·s)⌉, −1, 1), w_r = f32(1 ÷ s), not γ', () => {
    // mean|E| = 0.4375 / 4 = 0.109375 = γ; s = f32(1/γ) = 9.142857551574707; f32(1/s) = 0.1093749925494194 ≠ γ.
    const data = Float32Array.of(9, 0.25, -0.125, 0.0625, 0, 9);
    const out = new Int8Array(6).fill(7);
    const w = ternarizeHeadRow(data, 1, 4, out, 1);
    expect(w).toBe(0.1093749925494194);
    expect(Array.from(out)).toEqual([7, 1, -1, 1, 0, 7]); // 2.29 -> 1 (clamped), -1.14 -> -1, 0.571 -> 1, 0
  });
});
