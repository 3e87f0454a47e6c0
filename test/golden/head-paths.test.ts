/**
 * The two LM heads of the golden model through its public interface (docs/numerics.md §9, §9.2):
 * the int8 head's observed tensors are the logits it returns; the ternary-shortlist head returns
 * exactly K finite logits, at the K ids first in (ternary score descending, id ascending), each
 * equal bit for bit to the int8 head's logit of that id (the rescoring is §9 on the same int8 rows
 * and the same quantised input), and −∞ everywhere else; the shortlist of one prompt is a known
 * answer (its ids and the bits of their ternary scores).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { TraceTensor } from '../../host/src/golden/observer.js';
import { GoldenModel } from '../../host/src/golden/model.js';
import { testModel } from '../image/helpers.js';

const K = 8;
const ids = [5, 17, 3, 99, 42];
const models: GoldenModel[] = [];
afterAll(async () => {
  for (const m of models) await m.close();
});

async function run(lmHead: 'int8' | 'ternary-shortlist', observe = true): Promise<{ logits: Float32Array; seen: Map<string, TraceTensor> }> {
  const ckpt = testModel({ preset: 'hf1bitllm-tiny' });
  const g = await GoldenModel.fromCheckpoint(ckpt, { threads: 1, contextLength: 8, numerics: { kv_format: 'fp16', lm_head: lmHead, shortlist_k: K } });
  models.push(g);
  const seen = new Map<string, TraceTensor>();
  if (observe) {
    g.observer = (t) => {
      if (t.layer === null) seen.set(t.name, { ...t, data: t.data.slice() });
    };
  }
  const logits = g.prefill(ids)[0]!;
  return { logits, seen };
}

/** Known answer (hf1bitllm-tiny, seed of the preset, the prompt above): the shortlist and the bits of its ternary scores. */
const SHORTLIST = [27, 214, 100, 164, 149, 215, 13, 258];
const SHORTLIST_SCORE_BITS = [0x44863bcc, 0x43ec3605, 0x43d6a38a, 0x43bd6bf9, 0x43ba25b0, 0x43b4cba3, 0x43b3c279, 0x43b369b7];

describe('LM heads', () => {
  it('int8: head.in, head.acc and head.logits are observed, and head.logits is what prefill returns', async () => {
    const { logits, seen } = await run('int8');
    const V = logits.length;
    expect(seen.get('head.in')!.data.length).toBe(seen.get('final_norm.out')!.data.length);
    expect(seen.get('head.acc')!.data.length).toBe(V);
    expect(Array.from(seen.get('head.logits')!.data)).toEqual(Array.from(logits));
    expect(logits.every(Number.isFinite)).toBe(true);
  });

  it('ternary-shortlist: K finite logits at the top-K ternary scores, each equal to the int8 head\'s', async () => {
    const full = (await run('int8')).logits;
    const { logits, seen } = await run('ternary-shortlist');
    const scores = seen.get('head.scores')!.data as Float32Array;
    const topK = Array.from(scores.keys())
      .sort((a, b) => (scores[a]! > scores[b]! ? -1 : scores[a]! < scores[b]! ? 1 : a - b))
      .slice(0, K);
    expect(Array.from(seen.get('head.shortlist')!.data)).toEqual(topK);
    expect(topK).toEqual(SHORTLIST);
    expect(Array.from(new Uint32Array(Float32Array.from(SHORTLIST, (i) => scores[i]!).buffer))).toEqual(SHORTLIST_SCORE_BITS);
    expect(seen.get('head.in')!.data.length).toBe(seen.get('final_norm.out')!.data.length);
    const finite = Array.from(logits.keys()).filter((i) => logits[i] !== -Infinity);
    expect(finite).toEqual([...topK].sort((a, b) => a - b));
    for (const i of finite) expect(logits[i], `id ${i}`).toBe(full[i]);
    expect(Array.from(seen.get('head.rescored')!.data)).toEqual(topK.map((i) => full[i]));
    // The ternary scores are not a constant (they rank rows), and the accumulators are integers.
    expect(new Set(scores).size).toBeGreaterThan(K);
    expect(Array.from(seen.get('head.ternary_acc')!.data).every(Number.isInteger)).toBe(true);
    // Without an observer: the same logits.
    expect(Array.from((await run('ternary-shortlist', false)).logits)).toEqual(Array.from(logits));
  });
});
