/**
 * The float reference's building blocks against values computed by hand (not by the golden
 * model's numerics, which this reference is meant to check).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '@tensorflow/tfjs';
import {
  actQuant,
  applyRotary,
  bitLinear,
  causalAttention,
  gateActivation,
  loadTf,
  rmsNorm,
  ropeCosSin,
  rotateHalf,
  type Tf,
} from '../../host/src/reference/index.js';

let tf: Tf;
beforeAll(async () => {
  tf = (await loadTf()).tf;
});

const vals = (t: Tensor): number[] => {
  const out = Array.from(t.dataSync());
  t.dispose();
  return out;
};
const f = Math.fround;

function expectClose(actual: number[], expected: number[], rel = 2e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tol = rel * Math.max(1, Math.abs(expected[i]!));
    expect(Math.abs(actual[i]! - expected[i]!), `element ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tol);
  }
}

describe('tf.round', () => {
  it('rounds half to even, like torch.round', () => {
    expect(vals(tf.round(tf.tensor1d([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 126.5, -127.5, 2.4999998])))).toEqual([
      0, 2, 2, 4, -0, -2, -2, 126, -128, 2,
    ]);
  });
});

describe('actQuant (AutoBitLinear ActQuant, fake quantisation)', () => {
  it('uses the per-token absmax, rounds .5 ties to even and divides by the scale', () => {
    // Row 0: amax 127 -> s = 1, so x*s is exactly x: 2.5 -> 2, -3.5 -> -4, 0.5 -> 0, -1.5 -> -2.
    // Row 1: amax 254 -> s = 0.5: 5*0.5 = 2.5 -> 2, 3*0.5 = 1.5 -> 2, -7*0.5 = -3.5 -> -4; / 0.5.
    const x = tf.tensor2d(
      [
        [127, 2.5, -3.5, 0.5, -1.5, 1.4],
        [254, 5, 3, -7, 0, -254],
      ],
      [2, 6],
    );
    expect(vals(actQuant(tf, x))).toEqual([127, 2, -4, 0, -2, 1, 254, 4, 4, -8, 0, -254]);
    x.dispose();
  });

  it('floors the absmax at 1e-5 (an all-zero row stays zero)', () => {
    const x = tf.tensor2d([[1e-6, -2e-6, 0], [0, 0, 0]], [2, 3]);
    const s = f(127 / f(1e-5)); // 1.27e7
    const q = (v: number) => Math.round(f(f(v) * s)); // 12.7 -> 13, -25.4 -> -25 (no ties here)
    expectClose(vals(actQuant(tf, x)), [f(q(1e-6) / s), f(q(-2e-6) / s), 0, 0, 0, 0]);
    expect(q(1e-6)).toBe(13);
    expect(q(-2e-6)).toBe(-25);
    x.dispose();
  });

  it('quantises to at most 255 levels of the row scale', () => {
    const row = Array.from({ length: 64 }, (_, i) => Math.sin(i * 1.7) * 3);
    const amax = Math.max(...row.map(Math.abs));
    const x = tf.tensor2d([row], [1, 64]);
    const s = f(127 / f(amax));
    for (const v of vals(actQuant(tf, x))) {
      const level = v * s;
      expect(Math.abs(level - Math.round(level))).toBeLessThan(1e-4);
      expect(Math.abs(level)).toBeLessThanOrEqual(127.0001);
    }
    x.dispose();
  });
});

describe('bitLinear', () => {
  it('is ActQuant(x) times the dequantised ternary weights', () => {
    // amax 127 -> s = 1: the quantised input is round(x) = [127, 2, -4].
    const x = tf.tensor2d([[127, 2.5, -3.5]], [1, 3]);
    const w = tf.tensor2d([[1, 0, -1], [-1, 1, 1]].flat().map((t) => t * 0.75), [2, 3]);
    expect(vals(bitLinear(tf, x, w))).toEqual([(127 + 4) * 0.75, (-127 + 2 - 4) * 0.75]);
    x.dispose();
    w.dispose();
  });
});

describe('rmsNorm (LlamaRMSNorm)', () => {
  it('is w * x / sqrt(mean(x^2) + eps)', () => {
    const x = tf.tensor2d([[1, 2, 3, 4], [0, 0, 0, 0]], [2, 4]);
    const w = tf.tensor1d([1, 1, 2, 0.5]);
    const r = 1 / Math.sqrt(30 / 4 + 1e-5);
    expectClose(vals(rmsNorm(tf, x, w, 1e-5)), [1 * r, 2 * r, 6 * r, 2 * r, 0, 0, 0, 0]);
    x.dispose();
    w.dispose();
  });
});

describe('rotary embedding (rotate_half, unpermuted rows)', () => {
  it('builds cat(freqs, freqs) with inv_freq = theta^(-2i/d)', () => {
    const { cos, sin } = ropeCosSin(tf, 4, 10000, 3);
    // inv_freq = [1, 1/100]; positions 0, 1, 2.
    const ang = [0, 1, 2].flatMap((p) => [p, p / 100, p, p / 100]);
    expectClose(vals(cos), ang.map(Math.cos));
    expectClose(vals(sin), ang.map(Math.sin));
  });

  it('rotate_half(x) = cat(-x2, x1)', () => {
    const x = tf.tensor3d([[[1, 2, 3, 4]]], [1, 1, 4]);
    expect(vals(rotateHalf(tf, x))).toEqual([-3, -4, 1, 2]);
    x.dispose();
  });

  it('rotates the pairs (i, i + d/2) of every head by position * inv_freq_i', () => {
    const { cos, sin } = ropeCosSin(tf, 4, 10000, 3);
    // Three positions, two heads; only position 2 is checked by hand, the others must be
    // consistent too: position 0 is the identity.
    const rows = [
      [1, 2, 3, 4, 5, 6, 7, 8],
      [0.5, -1, 2, 0.25, 1, 1, 1, 1],
      [1, 2, 3, 4, -1, 0.5, 2, -3],
    ];
    const x = tf.tensor3d(rows.flat(), [3, 2, 4]);
    const out = vals(applyRotary(tf, x, cos, sin));
    expectClose(out.slice(0, 8), rows[0]!);
    const rot = (p: number, [a, b, c, e]: number[]) => [
      a! * Math.cos(p) - c! * Math.sin(p),
      b! * Math.cos(p / 100) - e! * Math.sin(p / 100),
      c! * Math.cos(p) + a! * Math.sin(p),
      e! * Math.cos(p / 100) + b! * Math.sin(p / 100),
    ];
    expectClose(out.slice(16, 20), rot(2, [1, 2, 3, 4]), 1e-6);
    expectClose(out.slice(20, 24), rot(2, [-1, 0.5, 2, -3]), 1e-6);
    expectClose(out.slice(8, 12), rot(1, [0.5, -1, 2, 0.25]), 1e-6);
    x.dispose();
    cos.dispose();
    sin.dispose();
  });
});

describe('causalAttention', () => {
  it('masks the future and shares a KV head between query heads (H = 2, Hkv = 1)', () => {
    // d = 2, scale 1/sqrt(2). k1 = [sqrt(2) ln 3, 0] gives head 0 (q = [1, 0]) scores 0 and ln 3
    // at position 1, i.e. weights 1/4, 3/4; head 1 (q = [0, 1]) scores 0, 0 -> 1/2, 1/2.
    const ln3 = Math.log(3) * Math.SQRT2;
    const q = tf.tensor3d([[[1, 0], [0, 1]], [[1, 0], [0, 1]]], [2, 2, 2]);
    const k = tf.tensor3d([[[0, 0]], [[ln3, 0]]], [2, 1, 2]);
    const v = tf.tensor3d([[[4, 0]], [[0, 8]]], [2, 1, 2]);
    const out = vals(causalAttention(tf, q, k, v));
    // [n, H*d]: position 0 sees only v0 in both heads.
    expectClose(out, [4, 0, 4, 0, 1, 6, 2, 4], 1e-5);
    q.dispose();
    k.dispose();
    v.dispose();
  });

  it('maps query head h to KV head floor(h / (H / Hkv)) (H = 4, Hkv = 2)', () => {
    const n = 2;
    const d = 2;
    const q = tf.zeros([n, 4, d]) as ReturnType<typeof tf.tensor3d>;
    const k = tf.zeros([n, 2, d]) as ReturnType<typeof tf.tensor3d>;
    // Equal scores everywhere: position 0 returns v0 of the head's KV head, position 1 the mean.
    const v = tf.tensor3d([[[1, 2], [10, 20]], [[3, 4], [30, 40]]], [n, 2, d]);
    const out = vals(causalAttention(tf, q, k, v));
    expectClose(out, [1, 2, 1, 2, 10, 20, 10, 20, 2, 3, 2, 3, 20, 30, 20, 30], 1e-6);
    q.dispose();
    k.dispose();
    v.dispose();
  });
});

describe('gateActivation', () => {
  it('relu2: relu(g)^2 * u; silu: g * sigmoid(g) * u', () => {
    const g = tf.tensor2d([[-2, 0, 3, 0.5]], [1, 4]);
    const u = tf.tensor2d([[5, 7, 2, -4]], [1, 4]);
    expect(vals(gateActivation(tf, 'relu2', g, u))).toEqual([0, 0, 18, -1]);
    const silu = (x: number) => x / (1 + Math.exp(-x));
    expectClose(vals(gateActivation(tf, 'silu', g, u)), [silu(-2) * 5, 0, silu(3) * 2, silu(0.5) * -4], 1e-6);
    g.dispose();
    u.dispose();
  });
});
