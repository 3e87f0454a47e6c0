import { describe, expect, it } from 'vitest';
import { loadHwConfig } from '../../host/src/hwconfig/index.js';
import { planUram } from '../../host/src/layout/index.js';
import {
  achievedFor,
  applySettings,
  buildSteps,
  defaultAcceptedPerPass,
  hostSeconds,
  int8Attention,
  makePlan,
  pendingContractSteps,
  shortlistRescore,
  ternaryHeadTiles,
  tlmmCycles,
  verifyPass,
  withContractChoices,
  KV260_CONTRACT_STEPS,
} from '../../host/src/plan/index.js';
import { builtinShape } from '../../host/src/plan/shapes.js';
import type { ModelSpec } from '../../host/src/model/spec.js';

const ours = loadHwConfig('kv260');
const large = builtinShape('bitnet-large');
const int8 = applySettings(ours, ['numerics.kv_format=int8']);
// 4 query heads on 2 KV heads of 8: one batch of 2 query heads per KV head.
const tiny: ModelSpec = { ...large, numHeads: 4, numKvHeads: 2, headDim: 8, hiddenSize: 32 };

describe('int8 attention unit (kv260: 128 q.k MACs, 128 value lanes, 2 softmax lanes, rows through 4 x 128-bit lanes; hls/src/attention.cpp)', () => {
  it('decode: per KV head the query load, a K pass and a V pass at the per-key II of the code, the output', () => {
    // Per KV head (2 query heads, d 8, 10 keys): load 4 + 2 x 1 port word; pass 1: 16 + 10 keys x
    // 2 (the two scale reads bind: 16 MACs, 2 scores, a 2-word row take 1); pass 2: 48 + 10 x 1
    // (V row and its scale); output 12 + 2 x 2 port words. Bytes: (8 + 8) + (8 + 4) a key.
    expect(int8Attention(tiny, 1, 9, int8, 64)).toEqual({ cycles: 2 * (4 + 2 + 16 + 20 + 48 + 10 + 12 + 4), bytes: 2 * 10 * (16 + 12) });
    // At a slow DDR the bytes bind: 160 and 120 bytes at 2 B/cycle = 80 and 60 cycles.
    expect(int8Attention(tiny, 1, 9, int8, 2).cycles).toBe(2 * (4 + 2 + 16 + 80 + 48 + 60 + 12 + 4));
  });

  it('prefill/verify: blocks of 8 queries, two passes over the keys each block can see (max, then values)', () => {
    // Block 0: 8 queries x 2 heads = 16 scores a key (8 softmax cycles) over 8 keys; load 4 + 16,
    // passes 16 + 64 and 48 + 64, output 12 + 16 x 2. Block 1: 2 queries, 4 scores a key (2 cycles)
    // over 10 keys; load 4 + 4, passes 16 + 20 and 48 + 20, output 12 + 4 x 2.
    const block0 = 20 + 80 + 112 + 44;
    const block1 = 8 + 36 + 68 + 20;
    // Bytes a key: pass 1 K and both scales (16), pass 2 K, V and both scales (24).
    expect(int8Attention(tiny, 10, 0, int8, 64)).toEqual({ cycles: 2 * (block0 + block1), bytes: 2 * (8 + 10) * 40 });
    // A verify pass at KV offset 100: 3 queries see 101..103 keys, one block.
    const v = int8Attention(tiny, 3, 100, int8, 64);
    expect(v.bytes).toBe(2 * 103 * 40);
  });

  it('GQA: a KV head is read once per batch of int8_group_heads query heads', () => {
    const g4: ModelSpec = { ...tiny, numHeads: 8 }; // 4 query heads per KV head
    const two = applySettings(int8, ['attention.int8_group_heads=2']); // -> 2 batches
    expect(int8Attention(g4, 1, 9, two, 64).bytes).toBe(2 * int8Attention(tiny, 1, 9, int8, 64).bytes);
    // kv260 batches 4: the whole group from one read.
    expect(int8Attention(g4, 1, 9, int8, 64).bytes).toBe(int8Attention(tiny, 1, 9, int8, 64).bytes);
  });
});

describe('ternary shortlist head', () => {
  const sl = applySettings(ours, ['numerics.lm_head=ternary-shortlist']);
  it('is one more tiled TLMM linear: vocab rows, ceil(hidden / 84) chunks, dense-packed', () => {
    const h = ternaryHeadTiles(large, sl);
    expect(h.chunks).toBe(19);
    expect(h.tiles.reduce((a, t) => a + t.rows, 0)).toBe(32002);
    for (const t of h.tiles) expect(t.bytes).toBe(Math.ceil((t.rows * 19 * 140) / 512) * 64);
    const total = h.tiles.reduce((a, t) => a + t.bytes, 0);
    expect(total / 1e6).toBeCloseTo((32002 * 19 * 140) / 8 / 1e6, 1); // ~10.6 MB instead of 49 MB of int8
  });

  it('rescoring: drain the K-heap, read K int8 rows through one port, rescore on the int8 engine', () => {
    // K 256: drain 256 x 8; 256 x 1540 bytes at 16 B/cycle (4 GB/s at 250 MHz) + 100; MACs 256 x 1536 / 64 = 6,144.
    // Bytes: the rows, and the binary32 scale of every head row (read once).
    expect(shortlistRescore(large, sl, 1, 250e6)).toEqual({ cycles: 256 * 8 + 100 + (256 * 1540) / 16, bytes: 256 * 1540 + 32002 * 4 });
  });

  it('decode runs the head tiles on the engine, then the rescoring; the host samples K candidates', () => {
    const uram = planUram(large, sl);
    const steps = buildSteps(large, sl, uram, { kind: 'decode', tokens: 1, context: 128 }, achievedFor(sl));
    const head = steps.filter((s) => s.linear === 'head');
    expect(head.length).toBe(ternaryHeadTiles(large, sl).tiles.length);
    expect(steps.at(-1)!.name).toBe('lm_head.rescore');
    const pass = { kind: 'decode' as const, tokens: 1, context: 128 };
    expect(hostSeconds(large, ours, pass) - hostSeconds(large, sl, pass)).toBeCloseTo((32002 - 256) * 1e-9, 12);
  });
});

describe('multi-token verification', () => {
  it('a verify pass runs N+1 tokens through every tile (one weight stream) and the head for every position', () => {
    const hw = withContractChoices(ours);
    const uram = planUram(large, hw);
    const v = verifyPass(large, hw, uram, 127, 4);
    expect(v.tokens).toBe(5);
    expect(v.positions).toBe(5);
    const q = v.timed.find((t) => t.name === 'q_proj#0')!;
    expect(q.computeCycles).toBe(tlmmCycles(1536, 19, 5, hw));
    expect(v.totals.weightBytes).toBe(verifyPass(large, hw, uram, 127, 1).totals.weightBytes);
  });

  it('tokens/s = accepted tokens per pass / pass time; the rate is an input (by default the demo model\'s measured rate for N drafts)', () => {
    // docs/measurements.md, multi-token verification: greedy, repetitive prompts.
    expect(makePlan(large, ours, { curveContexts: [] }).multiToken.acceptedPerPass).toBe(2.63);
    expect(defaultAcceptedPerPass(3)).toBe(2.46);
    expect(defaultAcceptedPerPass(5)).toBe(2.63); // unmeasured: the rate of the largest measured N below
    expect(defaultAcceptedPerPass(20)).toBe(3.28);
    const p1 = makePlan(large, ours, { acceptedPerPass: 1, curveContexts: [] });
    const p2 = makePlan(large, ours, { acceptedPerPass: 2, curveContexts: [] });
    expect(p2.multiToken.tokensPerS).toBeCloseTo(2 * p1.multiToken.tokensPerS, 9);
    expect(p1.multiToken.tokensPerS).toBeCloseTo(1 / p1.multiToken.pass.totalSeconds, 9);
    expect(() => makePlan(large, ours, { acceptedPerPass: 6, draftTokens: 4 })).toThrow(/outside \[1, 5\]/);
  });
});

describe('contract choices projected on kv260', () => {
  it('only the steps kv260.json has not adopted; applying them adopts all', () => {
    const pending = pendingContractSteps(ours.config);
    expect(pending.length).toBeLessThanOrEqual(KV260_CONTRACT_STEPS.length);
    const projected = withContractChoices(ours);
    expect(projected.config.numerics.kv_format).toBe('int8');
    expect(projected.config.numerics.lm_head).toBe('ternary-shortlist');
    expect(projected.config.architecture.norms_on_chip).toBe('all');
    expect(pendingContractSteps(projected.config)).toEqual([]);
  });
});
