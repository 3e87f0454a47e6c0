/**
 * Where the overflow check says a model's worst case is (image/bounds.ts layerWorst): every field
 * of a layer's bound record, when it alone is the largest, is named with its description (written
 * out here), and a non-finite tensor is refused with a fix line. bounds.test.ts has the bound
 * arithmetic; this pins the names a refused conversion prints.
 */
import { describe, expect, it } from 'vitest';
import { isTellmeError } from '../../host/src/errors.js';
import { finiteAbsmax, layerWorst } from '../../host/src/image/bounds.js';
import type { LayerBoundRecord } from '../../host/src/image/manifest.js';

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
