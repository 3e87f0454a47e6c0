/**
 * Whole golden-model passes on tiny models against their known answers (test/kat/forward.ts):
 * every tensor of docs/numerics.md §11 the observer sees, the `trace` vectors and every logit
 * vector returned, bit for bit, through prefill (all positions and a second chunk), decode,
 * verify after a rollback and reset, on both attention formats, ReLU² and SiLU, with and without
 * sub-norms, GQA and MHA, the int8 and the ternary-shortlist head. Fast enough for the golden
 * model's mutation run; the 16-step whole-model answers are test/kat.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../host/src/checkpoint/types.js';
import { diffRecords } from '../kat/fixtures.js';
import { caseCheckpoint, FORWARD_CASES, FORWARD_FIXTURE, readForwardFixture, recordForward, type ForwardRecord } from '../kat/forward.js';

const HOW_TO =
  'A whole pass of the golden model no longer reproduces its known answer (the first differing tensor is the first ' +
  'listed). If the change is intended, it changes the arithmetic contract: describe it in docs/numerics.md, then run ' +
  '`npm run kat:update`.';

const checkpoints = new Map<string, { ckpt: Checkpoint; dispose(): void }>();
beforeAll(() => {
  for (const c of FORWARD_CASES) checkpoints.set(c.name, caseCheckpoint(c));
});
afterAll(() => {
  for (const c of checkpoints.values()) c.dispose();
});

function expected(name: string): ForwardRecord {
  const fixture = readForwardFixture();
  // A missing file is a failure, not a skip.
  expect(fixture, `${FORWARD_FIXTURE} is missing: run \`npm run kat:update\``).not.toBeNull();
  const rec = fixture!.cases.find((c) => c.name === name);
  expect(rec, `${FORWARD_FIXTURE} has no case ${name}: run \`npm run kat:update\``).toBeDefined();
  return rec!;
}

describe('whole passes of the golden model, tensor by tensor', () => {
  for (const c of FORWARD_CASES) {
    it(`${c.name}: same bits as the known answer`, async () => {
      const want = expected(c.name);
      const got = await recordForward(c, checkpoints.get(c.name)!.ckpt);
      expect(diffRecords(want, got), HOW_TO).toEqual([]);
    });
  }

  it('the known answers cover the tensors of each path', () => {
    const names = (i: number) => Object.keys(expected(FORWARD_CASES[i]!.name).tensors);
    // binary16 KV with sub-norms; int8 KV without; the shortlist head.
    expect(names(0)).toEqual(expect.arrayContaining(['attn.q', 'attn.k', 'attn.v', 'attn_sub_norm.out', 'ffn_sub_norm.out', 'head.logits']));
    expect(names(0)).not.toContain('attn.q8');
    expect(names(1)).toEqual(expect.arrayContaining(['attn.q8', 'attn.q_scale', 'attn.k8', 'attn.k_scale', 'attn.v8', 'attn.v_scale', 'head.logits']));
    expect(names(1)).not.toContain('attn_sub_norm.out');
    expect(names(3)).toEqual(expect.arrayContaining(['head.shortlist', 'head.rescored', 'ffn_sub_norm.out']));
    // Ten logit vectors in the first case: 4 (all positions) + 1 + 1 + 1 + 2 (verify) + 1.
    expect(expected(FORWARD_CASES[0]!.name).logits).toHaveLength(10);
  });

  it('a planted one-bit change of one norm weight is found, and the first differing tensor is the one it reaches', async () => {
    const c = FORWARD_CASES[0]!;
    const got = await recordForward(c, checkpoints.get(c.name)!.ckpt, (g) => {
      const w = g.weights.layers[1]!.norms.post_attention!;
      const bits = new Uint32Array(w.buffer, w.byteOffset, w.length);
      bits[3]! ^= 1;
    });
    const diffs = diffRecords(expected(c.name), got);
    // Layer 0 and layer 1's attention are untouched; layer 1's post-attention norm output is the first change.
    expect(diffs[0]).toMatch(/^tensors\.post_attention_norm\.out\.hash: /);
    expect(diffs.some((d) => d.startsWith('tensors.residual.attn'))).toBe(false);
    expect(diffs.some((d) => d.startsWith('tensors.embed'))).toBe(false);
  });
});
