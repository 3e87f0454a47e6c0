/**
 * The converter's overflow bounds (docs/numerics.md §4.4, host/src/image/bounds.ts) as known
 * answers: every field of a layer's record on a small shape whose numbers are exact in binary64,
 * with and without sub-norms, the 1e-5 floor, the worst field and its name, the 2^127 limit at
 * its boundary, and the finite-absmax and logit bounds. A bound that forgets a term (e.g. o_proj's
 * output in the residual) or uses another linear's reduction length gives a different number.
 */
import { describe, expect, it } from 'vitest';
import { LIMIT, checkBound, finiteAbsmax, layerBounds, layerWorst, logitBound } from '../../host/src/image/bounds.js';
import type { ModelSpec } from '../../host/src/model/spec.js';
import { ABSMAX_FLOOR } from '../../host/src/numerics/quant.js';
import { expectTellme } from '../checkpoint/helpers.js';

// h = 4 (√4 = 2), q_dim = 4 * 4 = 16 (√16 = 4), kv_dim = 8, intermediate 64 (√64 = 8): every
// reduction length differs, so swapping one for another changes the numbers.
function spec(activation: 'relu2' | 'silu', subNorms: boolean): ModelSpec {
  return {
    family: 'bitnet', architecture: 'BitNetForCausalLM', modelType: 'bitnet',
    hiddenSize: 4, intermediateSize: 64, numLayers: 4, numHeads: 4, numKvHeads: 2, headDim: 4,
    vocabSize: 32, maxPositions: 64, rmsNormEps: 1e-5, ropeTheta: 10000, activation, subNorms,
    tiedEmbeddings: true, weightStorage: 'packed', scaleConvention: 'multiply', dtype: null,
    bosTokenId: null, eosTokenIds: [], padTokenId: null,
  } as ModelSpec;
}
const scales = { q_proj: 0.25, k_proj: 0.5, v_proj: 1, o_proj: 2, gate_proj: 0.125, up_proj: 4, down_proj: 8 };

describe('per-layer bounds (numerics §4.4)', () => {
  it('with sub-norms and ReLU²: each field, and the residual adds o_proj and down_proj outputs', () => {
    const b = layerBounds(spec('relu2', true), 3, { input: 2, post_attention: 0.5, attn_sub: 3, ffn_sub: 4 }, scales, 100, 'fp16');
    expect(b).toEqual({
      layer: 3,
      norm_absmax: { input: 2, post_attention: 0.5, attn_sub: 3, ffn_sub: 4 },
      qkv_in: 4, // √4 · 2
      q_out: 4, // K = 4 · 4 · 0.25
      k_out: 8,
      v_out: 16,
      attn_score: 64, // √head_dim · q_out · k_out = 2 · 4 · 8
      o_in: 12, // √16 · 3
      o_out: 384, // K = 16 · 12 · 2
      ffn_in: 1, // √4 · 0.5
      gate_out: 0.5, // 4 · 1 · 0.125
      up_out: 16, // 4 · 1 · 4
      gate_activation: 4, // 0.5² · 16
      down_in: 32, // √64 · 4
      down_out: 16384, // K = 64 · 32 · 8
      residual: 100 + 384 + 16384,
    });
  });

  it('without sub-norms and with SiLU: o_proj sees 65504, down_proj the gate activation g·u', () => {
    const b = layerBounds(spec('silu', false), 0, { input: 2, post_attention: 0.5, attn_sub: null, ffn_sub: null }, scales, 7, 'fp16');
    expect(b.o_in).toBe(65504);
    expect(b.o_out).toBe(16 * 65504 * 2);
    expect(b.gate_activation).toBe(0.5 * 16);
    expect(b.down_in).toBe(8);
    expect(b.down_out).toBe(64 * 8 * 8);
    expect(b.residual).toBe(7 + 16 * 65504 * 2 + 64 * 8 * 8);
  });

  it('int8 KV (numerics §8.3): o_proj without a sub-norm sees twice the v_proj output bound', () => {
    const b = layerBounds(spec('silu', false), 0, { input: 2, post_attention: 0.5, attn_sub: null, ffn_sub: null }, scales, 7, 'int8');
    expect(b.v_out).toBe(16);
    expect(b.o_in).toBe(32);
    expect(b.o_out).toBe(16 * 32 * 2);
    expect(b.attn_score).toBe(2 * 4 * 8); // int8 q/k: no binary16 saturation, same bound here
  });

  it('a BitLinear input below the 1e-5 floor counts as f32(1e-5)', () => {
    const b = layerBounds(spec('relu2', true), 0, { input: 0, post_attention: 0, attn_sub: 0, ffn_sub: 0 }, scales, 0, 'fp16');
    expect(b.qkv_in).toBe(0);
    expect(b.q_out).toBe(4 * ABSMAX_FLOOR * 0.25);
    expect(b.o_out).toBe(16 * ABSMAX_FLOOR * 2);
    expect(b.gate_out).toBe(4 * ABSMAX_FLOOR * 0.125);
    expect(b.down_out).toBe(64 * ABSMAX_FLOOR * 8);
  });
});

describe('the worst bound and the 2^127 limit', () => {
  const base = layerBounds(spec('relu2', true), 3, { input: 2, post_attention: 0.5, attn_sub: 3, ffn_sub: 4 }, scales, 100, 'fp16');

  it('names the largest field, the first one on a tie, and a NaN residual', () => {
    expect(layerWorst(base)).toEqual({ bound: 16868, log2: Math.log2(16868), where: 'layer 3 residual stream' });
    expect(layerWorst({ ...base, o_out: 2 ** 100 }).where).toBe('layer 3 o_proj output');
    expect(layerWorst({ ...base, q_out: 16868 }).where).toBe('layer 3 q_proj output');
    // (A NaN in an earlier field would be replaced by the next larger one; no field can be NaN,
    // since the norm absmaxes and scales are checked finite and positive first.)
    const nan = layerWorst({ ...base, residual: NaN });
    expect(nan.where).toBe('layer 3 residual stream');
    expect(nan.bound).toBeNaN();
  });

  it('refuses 2^127 and above, NaN and infinity; accepts the largest binary64 below 2^127', () => {
    expect(LIMIT).toBe(2 ** 127);
    const below = 2 ** 127 * (1 - 2 ** -53);
    expect(() => checkBound({ bound: below, log2: Math.log2(below), where: 'x' }, '')).not.toThrow();
    expectTellme(() => checkBound({ bound: 2 ** 127, log2: 127, where: 'layer 1 o_proj output' }, 'detail.'), 'E_NUMERICS', 'layer 1 o_proj output is 1.701e+38 (2^127.0), which reaches 2^127', '§4.4', 'detail.');
    expectTellme(() => checkBound({ bound: NaN, log2: NaN, where: 'w' }, ''), 'E_NUMERICS', 'of the w is NaN');
    const e = expectTellme(() => checkBound({ bound: Infinity, log2: Infinity, where: 'w' }, ''), 'E_NUMERICS', 'of the w is Infinity');
    expect(e.fix).toContain('linear_class');
  });
});

describe('finite absmax and the logit bound', () => {
  it('max |x|, the largest binary32 included; NaN and infinities are refused by index', () => {
    expect(finiteAbsmax(Float32Array.of(1, -3, 2), 'v')).toBe(3);
    expect(finiteAbsmax(new Float32Array(0), 'v')).toBe(0);
    expect(finiteAbsmax(Float32Array.of(-3.4028234663852886e38), 'v')).toBe(3.4028234663852886e38);
    expectTellme(() => finiteAbsmax(Float32Array.of(1, -Infinity), 'norm w'), 'E_NUMERICS', 'norm w: element 1 is -Infinity', 'finite');
    expectTellme(() => finiteAbsmax(Float32Array.of(NaN), 'v'), 'E_NUMERICS', 'element 0 is NaN');
  });

  it('h · max(√h · final norm, 1e-5) · max(rowAmax, 1e-5)', () => {
    expect(logitBound(spec('relu2', true), 2, 0.5)).toBe(4 * 4 * 0.5);
    expect(logitBound(spec('relu2', true), 0, 0)).toBe(4 * ABSMAX_FLOOR * ABSMAX_FLOOR);
  });
});
