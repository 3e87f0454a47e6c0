/**
 * int8 attention (docs/numerics.md §8.3): known answers worked out by hand from the formulas (cases
 * where every rounding is exact, so the expected values are plain arithmetic), the head quantiser's
 * edge cases, the bounds the document states, and a planted one-bit change that the comparison
 * must catch.
 */
import { describe, expect, it } from 'vitest';
import { attentionScale } from '../../host/src/golden/attention.js';
import { int8Attention, int8KvLayerCache, quantizeAttentionHead, valueRho, valueWeight } from '../../host/src/golden/attention-int8.js';
import { f32 } from '../../host/src/numerics/f32.js';

const shape = (numHeads: number, numKvHeads: number, headDim: number) => ({ numHeads, numKvHeads, headDim, scale: attentionScale(headDim) });

/** One KV head of d = 2; keys/values given as binary32 vectors, quantised by the head quantiser. */
function cacheOf(keys: number[][], values: number[][], kvHeads = 1) {
  const d = keys[0]!.length / kvHeads;
  const c = int8KvLayerCache(keys.length, kvHeads, d);
  keys.forEach((k, j) => {
    for (let g = 0; g < kvHeads; g++) {
      c.sk[j * kvHeads + g] = quantizeAttentionHead(k, g * d, d, c.k8, (j * kvHeads + g) * d);
      c.sv[j * kvHeads + g] = quantizeAttentionHead(values[j]!, g * d, d, c.v8, (j * kvHeads + g) * d);
    }
  });
  return c;
}

function query(q: number[], heads: number) {
  const d = q.length / heads;
  const q8 = new Int8Array(q.length);
  const sq = new Float32Array(heads);
  for (let h = 0; h < heads; h++) sq[h] = quantizeAttentionHead(q, h * d, d, q8, h * d);
  return { q8, sq };
}

describe('the head quantiser', () => {
  it('scales by the vector\'s own absmax; σ = f32(amax_c / 127); ties to even; the floor', () => {
    const out = new Int8Array(4);
    expect(quantizeAttentionHead([63.5, -127, 0.5, 1.5], 0, 4, out, 0)).toBe(1);
    expect(Array.from(out)).toEqual([64, -127, 0, 2]); // 63.5 -> 64, 0.5 -> 0, 1.5 -> 2 (ties to even)
    expect(quantizeAttentionHead([0, 0, 0, 0], 0, 4, out, 0)).toBe(f32(Math.fround(1e-5) / 127));
    expect(Array.from(out)).toEqual([0, 0, 0, 0]);
    expect(quantizeAttentionHead([1, -2, 4, -8], 0, 4, out, 0)).toBe(f32(8 / 127));
    expect(Array.from(out)).toEqual([16, -32, 64, -127]); // 127/8 = 15.875: 15.875, 31.75, 63.5 -> 64, -127
  });
});

describe('int8 attention known answers (every rounding exact)', () => {
  // Two identical keys give equal scores, so e_0 = e_1 = exp(0) = 1 and l = 2.
  const keys = [
    [1, 0],
    [1, 0],
  ];

  it('equal scores, equal value scales: the mean of the dequantised values', () => {
    // v0 = [127, 0] (σ = 1); v1 = [63.5, -127] -> int8 [64, -127] (σ = 1). V = 1, ρ = 2^24, u = 2^24.
    const c = cacheOf(keys, [
      [127, 0],
      [63.5, -127],
    ]);
    const { q8, sq } = query([1, 0], 1);
    const out = new Float32Array(2);
    int8Attention(shape(1, 1, 2), q8, 0, sq, 0, c, 1, out, 0);
    expect(Array.from(out)).toEqual([95.5, -63.5]); // (127 + 64) / 2, (0 - 127) / 2
  });

  it('a smaller value scale: u_1 = 2^23, A = 2^23·[318, -127], out = A·2^-25', () => {
    const c = cacheOf(keys, [
      [127, 0],
      [31.75, -63.5], // σ = 0.5, int8 [64, -127]
    ]);
    expect(c.sv[1]).toBe(0.5);
    const { q8, sq } = query([1, 0], 1);
    const out = new Float32Array(2);
    int8Attention(shape(1, 1, 2), q8, 0, sq, 0, c, 1, out, 0);
    expect(Array.from(out)).toEqual([79.5, -31.75]);
  });

  it('causal: the query at position 0 sees only key 0; V is the prefix maximum', () => {
    const c = cacheOf(keys, [
      [31.75, -63.5], // σ = 0.5
      [127, 0], // σ = 1: a later, larger scale must not change position 0
    ]);
    const { q8, sq } = query([1, 0], 1);
    const out = new Float32Array(2);
    int8Attention(shape(1, 1, 2), q8, 0, sq, 0, c, 0, out, 0);
    // V = 0.5, ρ = 2^25, u_0 = 2^24, l = 1: out = 2^24·[64, -127]·2^-25 = [32, -63.5].
    expect(Array.from(out)).toEqual([32, -63.5]);
  });

  it('GQA: both query heads of a group read KV head 0; head 1 reads KV head 1', () => {
    // 4 query heads, 2 KV heads, d = 2. KV head 0 holds the values above, KV head 1 their negation.
    const k = [
      [1, 0, 1, 0],
      [1, 0, 1, 0],
    ];
    const v = [
      [127, 0, -127, 0],
      [63.5, -127, -63.5, 127],
    ];
    const c = cacheOf(k, v, 2);
    const { q8, sq } = query([1, 0, 2, 0, 1, 0, 4, 0], 4);
    const out = new Float32Array(8);
    int8Attention(shape(4, 2, 2), q8, 0, sq, 0, c, 1, out, 0);
    expect(Array.from(out)).toEqual([95.5, -63.5, 95.5, -63.5, -95.5, 63.5, -95.5, 63.5]);
  });

  it('a planted one-bit change in the cache makes the comparison fail', () => {
    const c = cacheOf(keys, [
      [127, 0],
      [63.5, -127],
    ]);
    c.v8[2] ^= 1; // 64 -> 65
    const { q8, sq } = query([1, 0], 1);
    const out = new Float32Array(2);
    int8Attention(shape(1, 1, 2), q8, 0, sq, 0, c, 1, out, 0);
    expect(Array.from(out)).not.toEqual([95.5, -63.5]);
    expect(out[0]).toBe(96);
  });
});

describe('int8 attention bounds (§8.3)', () => {
  it('0 <= u_j <= 2^24 for e_j <= 1 and σv_j <= V, and 2^24 - 1 or 2^24 at e = 1, σv = V', () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const floorStep = f32(Math.fround(1e-5) / 127);
    for (let trial = 0; trial < 100000; trial++) {
      // V anywhere from the floor step up; σv just below or at V; e in [0, 1] with 1 often.
      const V = f32(Math.max(floorStep, 2 ** (rnd() * 200 - 100) * (1 + rnd())));
      const rho = valueRho(V);
      const sv = rnd() < 0.5 ? V : f32(V * (1 - rnd() * 2 ** -(rnd() * 24)));
      const e = rnd() < 0.3 ? 1 : f32(rnd());
      const u = valueWeight(e, sv, rho);
      expect(u >= 0 && u <= 2 ** 24 && Number.isInteger(u)).toBe(true);
      if (e === 1 && sv === V) expect(u).toBeGreaterThanOrEqual(2 ** 24 - 1); // ρ may round down
    }
  });
});
