/**
 * Where the overflow check says a model's worst case is (image/bounds.ts layerWorst): every field
 * of a layer's bound record, when it alone is the largest, is named with its description (written
 * out here), and a non-finite tensor is refused with a fix line; the attention score's bound where
 * the two KV formats store q and k differently (binary16 saturates at 65504, int8 has the 1e-5
 * floor). bounds.test.ts has the rest of the bound arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { isTellmeError } from '../../host/src/errors.js';
import { finiteAbsmax, layerBounds, layerWorst } from '../../host/src/image/bounds.js';
import type { LayerBoundRecord } from '../../host/src/image/manifest.js';
import type { ModelSpec } from '../../host/src/model/spec.js';
import { ABSMAX_FLOOR } from '../../host/src/numerics/quant.js';

const FIELDS: [keyof LayerBoundRecord, string][] = [
  ['qkv_in', 'q/k/v_proj input (input_layernorm RMS-MAX)'],
  ['q_out', 'q_proj output'],
  ['k_out', 'k_proj output'],
  ['v_out', 'v_proj output'],
  ['attn_score', 'attention score'],
  ['o_in', 'o_proj input'],
  ['o_out', 'o_proj output'],
  ['ffn_in', 'gate/up_proj input (post_attention_layernorm RMS-MAX)'],
  ['gate_out', 'gate_proj output'],
  ['up_out', 'up_proj output'],
  ['gate_activation', 'gate activation'],
  ['down_in', 'down_proj input'],
  ['down_out', 'down_proj output'],
  ['residual', 'residual stream'],
];

function record(largest: keyof LayerBoundRecord): LayerBoundRecord {
  const r = { layer: 3, norm_absmax: { input: 1, post_attention: 1, attn_sub: null, ffn_sub: null } } as Record<string, unknown>;
  for (const [k] of FIELDS) r[k] = k === largest ? 2 ** 100 : 2 ** 10;
  return r as unknown as LayerBoundRecord;
}

describe('layerWorst names the largest field', () => {
  for (const [field, description] of FIELDS) {
    it(`${field}: "layer 3 ${description}"`, () => {
      expect(layerWorst(record(field))).toEqual({ bound: 2 ** 100, log2: 100, where: `layer 3 ${description}` });
    });
  }
});

describe('finiteAbsmax', () => {
  it('refuses a non-finite element by index, with a fix line', () => {
    let err: unknown;
    try {
      finiteAbsmax(Float32Array.of(1, -2, Infinity), 'norms.L0.input');
    } catch (e) {
      err = e;
    }
    expect(isTellmeError(err) && err.code).toBe('E_NUMERICS');
    expect((err as Error).message).toBe('norms.L0.input: element 2 is Infinity; the datapath needs finite values');
    expect(isTellmeError(err) && err.fix).toBe('The checkpoint is corrupt; re-download it.');
  });
});

describe('attn_score = √d · stored(q_out) · stored(k_out)', () => {
  // h = 4, d = 4 (√4 = 2), input norm 2: q/k/v_proj input √4 · 2 = 4, reduction 4.
  const spec = {
    family: 'bitnet', architecture: 'BitNetForCausalLM', modelType: 'bitnet',
    hiddenSize: 4, intermediateSize: 8, numLayers: 1, numHeads: 1, numKvHeads: 1, headDim: 4,
    vocabSize: 32, maxPositions: 64, rmsNormEps: 1e-5, ropeTheta: 10000, activation: 'silu', subNorms: false,
    tiedEmbeddings: true, weightStorage: 'packed', scaleConvention: 'multiply', dtype: null,
    bosTokenId: null, eosTokenIds: [], padTokenId: null,
  } as ModelSpec;
  const norms = { input: 2, post_attention: 1, attn_sub: null, ffn_sub: null };
  const at = (qk: number, kv: 'fp16' | 'int8') =>
    layerBounds(spec, 0, norms, { q_proj: qk, k_proj: qk, v_proj: 1, o_proj: 1, gate_proj: 1, up_proj: 1, down_proj: 1 }, 1, kv);

  it('above 65504: binary16 q and k saturate, int8 ones do not', () => {
    const big = at(2 ** 14, 'fp16');
    expect(big.q_out).toBe(2 ** 18);
    expect(big.attn_score).toBe(2 * 65504 * 65504);
    expect(at(2 ** 14, 'int8').attn_score).toBe(2 * 2 ** 36);
  });

  it('below 1e-5: int8 q and k count as the floor, binary16 ones as they are', () => {
    const small = at(2 ** -30, 'int8');
    expect(small.q_out).toBe(2 ** -26);
    expect(small.attn_score).toBe(2 * ABSMAX_FLOOR * ABSMAX_FLOOR);
    expect(at(2 ** -30, 'fp16').attn_score).toBe(2 * 2 ** -52);
  });
});
