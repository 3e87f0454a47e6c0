/**
 * The golden model's interface around the pass (host/src/golden/model.ts, session.ts): what it
 * refuses, at the exact boundary, with the message and the fix line, and that a refusal loses
 * nothing (the KV cache and position stay as they were); the context it allocates; the progress
 * it reports while loading; the InferenceSession wrapper.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../host/src/checkpoint/types.js';
import { contextBytes, DEFAULT_CONTEXT_CAP, GoldenModel, MAX_CONTEXT_BYTES, resolveContext } from '../../host/src/golden/model.js';
import { goldenSession } from '../../host/src/golden/session.js';
import { goldenWeightsFromCheckpoint } from '../../host/src/golden/weights.js';
import type { ContractNumerics } from '../../host/src/hwconfig/types.js';
import type { ModelSpec } from '../../host/src/model/spec.js';
import { testModel } from '../image/helpers.js';
import { expectRefusal } from './refusal.js';

const FP16: ContractNumerics = { kv_format: 'fp16', lm_head: 'int8', shortlist_k: 8 };
const models: GoldenModel[] = [];
afterAll(async () => {
  for (const m of models.splice(0)) await m.close();
});

let cached: Checkpoint | null = null;
/** hf1bitllm-tiny: vocab 320, 2 layers, 2 KV heads of 16, max_position_embeddings 256. */
function ckpt(): Checkpoint {
  return (cached ??= testModel({ preset: 'hf1bitllm-tiny' }));
}

async function golden(contextLength: number, numerics: ContractNumerics = FP16): Promise<GoldenModel> {
  const g = await GoldenModel.fromCheckpoint(ckpt(), { threads: 1, contextLength, numerics });
  models.push(g);
  return g;
}


const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));

describe('GoldenModel: what a pass refuses, and that a refusal loses nothing', () => {
  it('no tokens; the context limit exactly at its boundary; ids outside the vocabulary', async () => {
    const g = await golden(4);
    await expectRefusal(() => g.prefill([]), 'E_USAGE', 'no tokens to run', 'Pass at least one token id.');
    expect(g.position).toBe(0);
    g.prefill([1, 2, 3]);
    await expectRefusal(
      () => g.prefill([4, 5]),
      'E_USAGE',
      'context limit reached: 3 cached + 2 new tokens > 4',
      'shorten the prompt or the generation, or pass a larger --context (up to max_position_embeddings)',
    );
    expect(g.position).toBe(3);
    for (const id of [-1, 320, 2.5, Number.NaN]) {
      await expectRefusal(() => g.decode(id), 'E_USAGE', `token id ${id} is outside the vocabulary (0..319)`, 'Pass token ids in 0..319.');
    }
    // A bad id anywhere in the list is refused before anything runs.
    await expectRefusal(() => g.verify([7, 320], 2), 'E_USAGE', 'token id 320 is outside the vocabulary (0..319)');
    expect(g.position).toBe(2); // the rollback of verify happened; nothing was run
    g.prefill([0]); // the smallest id
    expect(g.position).toBe(3);
    // 3 + 1 = 4 = the context: accepted, with the largest id.
    expect(g.decode(319).length).toBe(320);
    expect(g.position).toBe(4);
    await expectRefusal(() => g.decode(0), 'E_USAGE', 'context limit reached: 4 cached + 1 new tokens > 4');
  });

  it('a refused decode leaves the cache as it was: the next step gives the same bits as on an untouched model', async () => {
    const a = await golden(6);
    const b = await golden(6);
    a.prefill([10, 11, 12]);
    b.prefill([10, 11, 12]);
    await expectRefusal(() => a.decode(1000), 'E_USAGE', 'token id 1000 is outside the vocabulary (0..319)');
    expect(bits(a.decode(13))).toEqual(bits(b.decode(13)));
  });

  it('setKvLength rolls back over cached tokens only', async () => {
    const g = await golden(8);
    g.prefill([1, 2, 3]);
    const fix = 'a KV length can only roll back over cached tokens';
    for (const n of [4, -1, 1.5]) await expectRefusal(() => g.setKvLength(n), 'E_USAGE', `KV length ${n} is outside 0..3 (the tokens cached)`, fix);
    expect(g.position).toBe(3);
    g.setKvLength(3);
    expect(g.position).toBe(3);
    g.setKvLength(0);
    expect(g.position).toBe(0);
    await expectRefusal(() => g.verify([1], 1), 'E_USAGE', 'KV length 1 is outside 0..0 (the tokens cached)', fix);
  });

  it('verify returns every position\'s logits, bit for bit those of one decode step per token', async () => {
    const g = await golden(8);
    const ref = await golden(8);
    g.prefill([4, 5, 6, 7]);
    ref.prefill([4, 5, 6]);
    const v = g.verify([30, 31, 32], 3);
    expect(v).toHaveLength(3);
    expect(g.position).toBe(6);
    for (const [i, id] of [30, 31, 32].entries()) expect(bits(v[i]!), `position ${3 + i}`).toEqual(bits(ref.decode(id)));
  });

  it('reset forgets the conversation: the same prompt gives the same bits again', async () => {
    const g = await golden(8);
    const first = g.prefill([9, 8, 7])[0]!;
    g.decode(1);
    g.reset();
    expect(g.position).toBe(0);
    expect(bits(g.prefill([9, 8, 7])[0]!)).toEqual(bits(first));
  });
});

describe('the model\'s scratch in the kernel arena', () => {
  it('stays inside what the model reserved: a region allocated right after it is untouched by prefill, decode and both heads', async () => {
    // hf1bitllm-tiny: the down projection's 192 int8 inputs are the largest activation vector,
    // three times the head's 64-byte stride: an activation buffer sized by the head alone would
    // overflow into whatever the arena holds next.
    for (const numerics of [FP16, { kv_format: 'int8', lm_head: 'ternary-shortlist', shortlist_k: 4 } as const]) {
      const pool = await GoldenModel.createPool(1);
      try {
        const weights = await goldenWeightsFromCheckpoint(ckpt(), pool, { contextLength: 4, ternaryHead: numerics.lm_head === 'ternary-shortlist' });
        const g = GoldenModel.fromWeights(weights, pool, numerics);
        const next = pool.arena.alloc(4096, 64);
        pool.arena.u8(next, 4096).fill(0xa5);
        g.prefill([1, 2, 3]);
        g.decode(4);
        const changed = Array.from(pool.arena.u8(next, 4096)).findIndex((b) => b !== 0xa5);
        expect(changed, `${numerics.lm_head}: byte ${changed} of the next allocation was written`).toBe(-1);
      } finally {
        await pool.close();
      }
    }
  });
});

describe('contract choices the golden model does not know are refused up front', () => {
  const bad: [Partial<ContractNumerics>, string, string][] = [
    [{ kv_format: 'bf16' as ContractNumerics['kv_format'] }, 'unknown kv_format bf16', 'use fp16 or int8'],
    [{ lm_head: 'fp32' as ContractNumerics['lm_head'] }, 'unknown lm_head fp32', 'use int8 or ternary-shortlist'],
    [{ shortlist_k: 0 }, 'shortlist_k must be a positive integer, got 0', 'set numerics.shortlist_k of the hardware description to a positive integer'],
    [{ shortlist_k: 2.5 }, 'shortlist_k must be a positive integer, got 2.5', 'set numerics.shortlist_k of the hardware description to a positive integer'],
  ];
  for (const [change, message, fix] of bad) {
    it(`${message}: from a checkpoint and from weights`, async () => {
      await expectRefusal(() => GoldenModel.fromCheckpoint(ckpt(), { threads: 1, contextLength: 4, numerics: { ...FP16, ...change } }), 'E_USAGE', message, fix);
      const g = await golden(4);
      const pool = await GoldenModel.createPool(1);
      try {
        await expectRefusal(() => GoldenModel.fromWeights(g.weights, pool, { ...FP16, ...change }), 'E_USAGE', message, fix);
      } finally {
        await pool.close();
      }
    });
  }

  it('shortlist_k = 1 is accepted; the shortlist head without a ternary head in the weights is an internal error', async () => {
    const g = await golden(4, { kv_format: 'int8', lm_head: 'ternary-shortlist', shortlist_k: 1 });
    const logits = g.prefill([1, 2])[0]!;
    expect(logits.filter((v) => v !== -Infinity)).toHaveLength(1);
    const plain = await golden(4);
    expect(plain.weights.ternaryHead).toBeNull();
    const pool = await GoldenModel.createPool(1);
    try {
      await expectRefusal(
        () => GoldenModel.fromWeights(plain.weights, pool, { kv_format: 'fp16', lm_head: 'ternary-shortlist', shortlist_k: 4 }),
        'E_INTERNAL',
        'the build runs the ternary shortlist head but the weights hold no ternary head',
      );
    } finally {
      await pool.close();
    }
  });
});

describe('the context the golden model allocates', () => {
  it('contextBytes: binary32 K and V of every layer plus the RoPE row, per position', () => {
    const spec = ckpt().spec;
    expect([spec.numLayers, spec.numKvHeads, spec.headDim]).toEqual([2, 2, 16]);
    // 2 layers · 2 heads · 16 · (K and V) · 4 bytes + 16 · 4 bytes of RoPE = 576 bytes per position.
    expect(contextBytes(spec, 1)).toBe(576);
    expect(contextBytes(spec, 10)).toBe(5760);
    expect(DEFAULT_CONTEXT_CAP).toBe(8192);
    expect(MAX_CONTEXT_BYTES).toBe(8 * 2 ** 30);
  });

  it('resolveContext: the default, the cap, and each refusal at its boundary', async () => {
    const spec = ckpt().spec;
    expect(spec.maxPositions).toBe(256);
    expect(resolveContext(spec)).toBe(256);
    expect(resolveContext(spec, 1)).toBe(1);
    expect(resolveContext(spec, 256)).toBe(256);
    const range = (n: number) => [`--context must be an integer in 1..256 (max_position_embeddings), got ${n}`, 'Pass --context between 1 and 256.'] as const;
    for (const n of [0, 257, 7.5]) await expectRefusal(() => resolveContext(spec, n), 'E_USAGE', ...range(n));
    const huge: ModelSpec = { ...spec, maxPositions: 2 ** 30 };
    expect(resolveContext(huge)).toBe(DEFAULT_CONTEXT_CAP);
    expect(resolveContext({ ...spec, maxPositions: DEFAULT_CONTEXT_CAP + 1 })).toBe(DEFAULT_CONTEXT_CAP);
    expect(resolveContext({ ...spec, maxPositions: DEFAULT_CONTEXT_CAP - 1 })).toBe(DEFAULT_CONTEXT_CAP - 1);
    // 8 GiB / 576 bytes = 14913080.8…: 14913080 positions fit, one more does not.
    const most = Math.floor(MAX_CONTEXT_BYTES / 576);
    expect(most).toBe(14913080);
    expect(resolveContext(huge, most)).toBe(most);
    await expectRefusal(
      () => resolveContext(huge, most + 1),
      'E_USAGE',
      `--context ${most + 1} needs 8.0 GiB for the KV cache and RoPE table, more than the 8 GiB the golden model allocates`,
      `Pass --context ${most} or less.`,
    );
    await expectRefusal(() => resolveContext(huge, 2 ** 25), 'E_USAGE', '--context 33554432 needs 18.0 GiB for the KV cache and RoPE table, more than the 8 GiB the golden model allocates');
  });

  it('fromCheckpoint: the context given, or max_position_embeddings; a bad one is refused before anything loads', async () => {
    const g = await golden(5);
    expect(g.contextLength).toBe(5);
    expect(g.weights.ropePositions).toBe(5);
    const d = await GoldenModel.fromCheckpoint(ckpt(), { threads: 1, numerics: FP16 });
    models.push(d);
    expect(d.contextLength).toBe(256);
    await expectRefusal(() => GoldenModel.fromCheckpoint(ckpt(), { threads: 1, contextLength: 300, numerics: FP16 }), 'E_USAGE', '--context must be an integer in 1..256 (max_position_embeddings), got 300');
  });

  it('reports its loading progress: one step per linear, the embedding and the head', async () => {
    const seen: [number, number, string][] = [];
    const g = await GoldenModel.fromCheckpoint(ckpt(), { threads: 1, contextLength: 2, numerics: FP16, progress: (done, total, what) => seen.push([done, total, what]) });
    models.push(g);
    const total = 2 * 7 + 2;
    expect(seen).toHaveLength(total);
    expect(seen.map((s) => s[0])).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(seen.every((s) => s[1] === total)).toBe(true);
    expect(seen.slice(0, 7).map((s) => s[2])).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'].map((p) => `layer 0 ${p}`));
    expect(seen[7]![2]).toBe('layer 1 q_proj');
    expect(seen.slice(-2).map((s) => s[2])).toEqual(['embedding', 'lm head']);
  });
});

describe('goldenSession: the golden model as the generation loop drives it', () => {
  it('each call is the model\'s, bit for bit', async () => {
    const g = await golden(8);
    const ref = await golden(8);
    const s = goldenSession(g);
    expect(s.contextLength).toBe(8);
    expect(bits(await s.prefill([1, 2, 3]))).toEqual(bits(ref.prefill([1, 2, 3])[0]!));
    expect(s.position).toBe(3);
    expect(bits(await s.decode(4))).toEqual(bits(ref.decode(4)));
    expect((await s.verify([5, 6], 3)).map(bits)).toEqual(ref.verify([5, 6], 3).map(bits));
    await s.setKvLength(2);
    expect(s.position).toBe(2);
    expect(g.position).toBe(2);
    await s.reset();
    expect(s.position).toBe(0);
    expect(g.position).toBe(0);
  });
});
