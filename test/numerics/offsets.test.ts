/**
 * Offsets and buffer reuse of the numerics primitives: every kernel called at a non-zero offset
 * (into larger arrays with other values around) gives exactly what it gives on a copy at offset
 * 0 and writes nothing outside its range; RMS-MAX works in place (x and y aliasing) and after a
 * longer vector has grown its scratch buffer. The vectors and sweeps all use offset 0.
 */
import { describe, expect, it } from 'vitest';
import { quantizeToken } from '../../host/src/numerics/quant.js';
import { absMax, dot16, sum16, sumSquares16 } from '../../host/src/numerics/reduce.js';
import { rmsMax } from '../../host/src/numerics/rmsmax.js';

function lcg(seed: number, n: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => Math.fround(scale * (((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1)));
}

const N = 37;
const PAD = 5;
/** x[PAD, PAD + N) is `core`; around it large values that would change any result they leaked into. */
function embedded(core: Float32Array): Float32Array {
  const x = new Float32Array(core.length + 2 * PAD).fill(1e6);
  x.set(core, PAD);
  return x;
}

describe('offsets', () => {
  const a = lcg(1, N, 3);
  const b = lcg(2, N, 0.5);

  it('dot16, sum16, sumSquares16 and absMax read [off, off + n) only', () => {
    const A = embedded(a);
    const B = embedded(b);
    const B2 = new Float32Array(N + 9).fill(-1e6);
    B2.set(b, 9);
    expect(dot16(A, PAD, B, PAD, N)).toBe(dot16(a, 0, b, 0, N));
    expect(dot16(A, PAD, B2, 9, N)).toBe(dot16(a, 0, b, 0, N));
    expect(sum16(A, PAD, N)).toBe(sum16(a, 0, N));
    expect(sumSquares16(A, PAD, N)).toBe(sumSquares16(a, 0, N));
    expect(absMax(A, PAD, N)).toBe(absMax(a, 0, N));
    expect(absMax(A, PAD, 0)).toBe(0);
  });

  it('quantizeToken writes out[outOff, outOff + n) from x[off, ...) and nothing else', () => {
    const want = new Int8Array(N);
    const s0 = quantizeToken(a, 0, N, absMax(a, 0, N), want, 0);
    const out = new Int8Array(N + 2 * PAD).fill(99);
    const s1 = quantizeToken(embedded(a), PAD, N, absMax(a, 0, N), out, PAD);
    expect(s1).toBe(s0);
    expect(Array.from(out.subarray(PAD, PAD + N))).toEqual(Array.from(want));
    expect([...out.subarray(0, PAD), ...out.subarray(PAD + N)].every((v) => v === 99)).toBe(true);
  });

  it('rmsMax at offsets, in place, and after a longer vector grew its scratch', () => {
    const x = lcg(3, N, 40); // max |x| >= 1: the 2^-E scaling is active
    const w = lcg(4, N, 2);
    const want = new Float32Array(N);
    const amax = rmsMax(x, 0, N, w, 1e-5, want, 0);
    const y = new Float32Array(N + 2 * PAD).fill(7);
    expect(rmsMax(embedded(x), PAD, N, w, 1e-5, y, PAD)).toBe(amax);
    expect(Array.from(y.subarray(PAD, PAD + N))).toEqual(Array.from(want));
    expect([...y.subarray(0, PAD), ...y.subarray(PAD + N)].every((v) => v === 7)).toBe(true);
    // In place: x and y the same array.
    const inPlace = embedded(x);
    expect(rmsMax(inPlace, PAD, N, w, 1e-5, inPlace, PAD)).toBe(amax);
    expect(Array.from(inPlace.subarray(PAD, PAD + N))).toEqual(Array.from(want));
    // A longer call first (the scratch grows), then the short one again.
    const long = lcg(5, 4 * N, 40);
    rmsMax(long, 0, long.length, lcg(6, 4 * N, 2), 1e-5, new Float32Array(4 * N), 0);
    const again = new Float32Array(N);
    expect(rmsMax(x, 0, N, w, 1e-5, again, 0)).toBe(amax);
    expect(again).toEqual(want);
  });
});
