import { describe, expect, it } from 'vitest';
import { loadHwConfig, hwConfigHash, maximaProblems, type HwConfig } from '../../host/src/hwconfig/index.js';
import { planUram } from '../../host/src/layout/index.js';
import {
  ablationConfigs,
  achievedFor,
  applySettings,
  cumulativeAblation,
  kv260Chain,
  pendingContractSteps,
  armLmHeadSeconds,
  decodeAttention,
  decodePass,
  estimateResources,
  makePlan,
  prefillAttention,
  prefillPass,
  rpaPairs,
  schedule,
  tlmmCycles,
  type ModelStep,
} from '../../host/src/plan/index.js';
import { builtinShape } from '../../host/src/plan/shapes.js';

const paper = loadHwConfig('kv260-paper');
const ours = loadHwConfig('kv260');
const large = builtinShape('bitnet-large');

describe('cycle formulas', () => {
  it('paper TLMM: per chunk 84 serial activation reads + 4 precompute + 27 table writes + R/16 lookups at II 2 + 12 pipeline', () => {
    // q_proj of 0.73B, one token: 19 * (84 + 4 + 27 + 96*2 + 12) + 300 = 6,361 cycles. The 16
    // element-wise lanes take the 96 output beats during the last chunk's 192 lookup cycles: no drain.
    expect(tlmmCycles(1536, 19, 1, paper)).toBe(19 * (84 + 4 + 27 + 192 + 12) + 300);
    expect(tlmmCycles(1536, 19, 1, paper)).toBe(6361);
    expect(tlmmCycles(1536, 19, 64, paper)).toBe(64 * 19 * 319 + 300);
  });

  it('ping-pong TLMM hides the 28-cycle table build behind >= 28 lookup cycles', () => {
    // kv260 (hw/rtl's table builder, 1 + 0 + 27 cycles, a 10-deep lookup pipeline): the outputs
    // leave during the last chunk's 96 lookups and the 8 element-wise lanes need 192 cycles for
    // them, so 96 drain after; the call: 3 command cycles + the region's fill 23 and drain 68.
    expect(tlmmCycles(1536, 19, 1, ours)).toBe(19 * 96 + 28 + 10 + 96 + 94);
    // hw/rtl measured 1,962 from the command to the last accumulator taken by an 8-lane sink
    // (docs/measurements.md §11.2): the same without the region's 91 cycles of fill and drain.
    expect(tlmmCycles(1536, 19, 1, ours) - 91).toBe(1961);
    // A 256-row tile (16 lookups) is build-bound: 28 cycles per chunk.
    expect(tlmmCycles(256, 19, 1, ours)).toBe(19 * 28 + 28 + 10 + 16 + 94);
    // 16 tokens: every token but the last waits 192 - 96 cycles on the lanes in its last chunk.
    expect(tlmmCycles(1536, 19, 16, ours)).toBe(16 * 19 * 96 + 28 + 10 + 16 * 96 + 94);
  });

  it('attention', () => {
    expect(rpaPairs(64, 8)).toBe(288);
    expect(rpaPairs(128, 8)).toBe(1088);
    expect(rpaPairs(5, 8)).toBe(8);
    expect(rpaPairs(8, 8)).toBe(8);
    expect(rpaPairs(9, 8)).toBe(16 + 8);
    // Paper decode attention: 96 sixteen-lane blocks per cached token and pass.
    expect(decodeAttention(large, 128, paper)).toEqual({ cycles: 300 + 2 * 128 * 96, bytes: 2 * 128 * 1536 * 2 });
    // RPA: per pair 2 * 96 blocks * II 4 + 32.
    expect(prefillAttention(large, 64, paper).cycles).toBe(300 + 288 * (2 * 96 * 4 + 32));
    // GQA (2B-4T): 160 blocks of query work per key, but only 640 K/V elements read.
    const b2 = builtinShape('bitnet-2b4t');
    expect(decodeAttention(b2, 100, ours).bytes).toBe(2 * 100 * 640 * 2);
    expect(decodeAttention(b2, 100, ours).cycles).toBe(2 * 100 * 160); // kv260: no call overhead beyond the fills
  });

  it('ARM LM head streams 49 MB at 6 GB/s: ~8.2 ms for 0.73B (bandwidth-bound; one stream for several positions)', () => {
    expect(armLmHeadSeconds(large, paper)).toBeCloseTo((32002 * (1536 + 4)) / 6e9, 9);
    expect(armLmHeadSeconds(large, paper, 5)).toBeCloseTo(Math.max((32002 * 1540) / 6e9, (5 * 32002 * 1536) / 16e9), 9);
  });
});

describe('scheduler', () => {
  const step = (load: number, compute: number): ModelStep => ({ name: 't', kind: 'tlmm', layer: 0, loadBytes: load, computeCycles: compute, streamBytes: 0 });
  it('single buffering: load then compute, strictly sequential', () => {
    const bpc = achievedFor(paper).bytesPerCycle; // 12 GB/s at 250 MHz: 48 bytes/cycle
    const steps = [step(48 * 1000, 500), step(48 * 2000, 300)];
    const { makespan } = schedule(steps, paper);
    expect(makespan).toBeCloseTo(100 + 1000 + 500 + 100 + 2000 + 300, 6);
    expect(bpc).toBe(48);
  });
  it('double buffering overlaps: never slower than single, never faster than max(loads, compute)', () => {
    const steps = [step(61440 * 10, 900), step(61440 * 5, 4000), step(61440 * 8, 100), step(61440 * 2, 3000)];
    const a = achievedFor(ours);
    const single = schedule(steps, { ...ours, config: { ...ours.config, architecture: { ...ours.config.architecture, double_buffering: false } }, derived: { ...ours.derived, buffers: 1 } }, a).makespan;
    const dbl = schedule(steps, ours, a).makespan;
    const bpc = a.bytesPerCycle;
    const loads = steps.reduce((a, s) => a + 100 + s.loadBytes / bpc, 0);
    const compute = steps.reduce((a, s) => a + s.computeCycles, 0);
    expect(dbl).toBeLessThan(single);
    expect(dbl).toBeGreaterThanOrEqual(Math.max(loads, compute) - 1e-6);
    expect(single).toBeCloseTo(loads + compute, 6);
  });
  it('decode time grows with context; prefill with prompt length', () => {
    const uram = planUram(large, ours);
    let prev = 0;
    for (const c of [1, 64, 256, 1024, 2048]) {
      const t = decodePass(large, ours, uram, c).totalSeconds;
      expect(t).toBeGreaterThan(prev);
      prev = t;
    }
    expect(prefillPass(large, ours, uram, 128).totalSeconds).toBeGreaterThan(prefillPass(large, ours, uram, 64).totalSeconds);
  });
});

describe('calibration against the paper (kv260-paper, bitnet_b1_58-large)', () => {
  const plan = makePlan(large, paper, { context: 128 });

  it('decode lands near the published 25 tokens/s', () => {
    const tps = 1 / plan.decode.totalSeconds;
    expect(tps).toBeGreaterThan(23);
    expect(tps).toBeLessThan(27);
    // The weight stream alone: 175.3 MB at 12 GB/s = 14.6 ms.
    expect(plan.decode.totals.weightLoadSeconds).toBeCloseTo(175_279_104 / 12e9 + (7 * 24 * 100) / 250e6, 4);
  });

  it('TTFT lands near the published 0.45 s (64 tokens) and 0.96 s (128 tokens)', () => {
    const t = Object.fromEntries(plan.prefill.map((p) => [p.tokens, p.pass!.totalSeconds]));
    expect(t[64]).toBeGreaterThan(0.45 * 0.9);
    expect(t[64]).toBeLessThan(0.45 * 1.1);
    expect(t[128]).toBeGreaterThan(0.96 * 0.9);
    expect(t[128]).toBeLessThan(0.96 * 1.1);
  });

  it('resources land on the paper totals (98K LUT, 610 DSP, 98.5 BRAM, 60 URAM) and the TLMM core on eqs. 1-3', () => {
    const r = estimateResources(paper);
    expect(Math.abs(r.lut - 98303) / 98303).toBeLessThan(0.01);
    expect(r.dsp).toBe(610);
    expect(r.bram36).toBe(98.5);
    expect(r.uram).toBe(60);
    expect(Math.abs(r.tlmmCore.total - 23082)).toBeLessThanOrEqual(2);
    expect(r.modules.find((m) => m.module.startsWith('weight buffer'))!.uram).toBe(48);
  });
});

describe('our default (kv260)', () => {
  it('is faster than the paper build for every shape it runs, and fits', () => {
    const p = makePlan(large, ours);
    expect(p.fits).toBe(true);
    const pp = makePlan(large, paper);
    expect(1 / p.decode.totalSeconds).toBeGreaterThan(2 * (1 / pp.decode.totalSeconds));
    for (const i of [0, 1, 2]) expect(p.prefill[i]!.pass!.totalSeconds).toBeLessThan(pp.prefill[i]!.pass!.totalSeconds / 1.5);
    // Decode is DDR-bound: within 15 % of (weights + LM head + KV) / the achieved bandwidth.
    const bytes = p.packing.bytesPerToken + 32002 * (1536 + 4) + 2 * 128 * 1536 * 2 * 24;
    expect(p.decode.totalSeconds).toBeLessThan((bytes / p.achieved.bandwidthBps) * 1.15);
    for (const s of ['bitnet-2b4t', 'bitnet-3b']) expect(makePlan(builtinShape(s), ours).fits).toBe(true);
  });

  it('the ablation from kv260-paper reaches exactly kv260 (same build hash apart from names), then adds the pending contract steps', () => {
    const chain = kv260Chain(paper.config, ours.config);
    const configs = ablationConfigs(paper.config, chain.steps);
    const strip = (c: HwConfig) => ({ ...c, name: 'x', board: { ...c.board, name: 'x' } });
    expect(hwConfigHash(strip(configs[chain.kv260Index]!.hw.config))).toBe(hwConfigHash(strip(ours.config)));
    expect(chain.steps.length - 1 - chain.kv260Index).toBe(pendingContractSteps(ours.config).length);
    const rows = cumulativeAblation(large, paper, ours);
    expect(rows[chain.kv260Index]!.label).toMatch(/\(= kv260\)$/);
    expect(rows[chain.kv260Index]!.decode128).toBeCloseTo(1 / makePlan(large, ours).decode.totalSeconds, 6);
    expect(rows[0]!.decode128).toBeCloseTo(1 / makePlan(large, paper).decode.totalSeconds, 6);
  });

  it('a kv260.json that has adopted contract choices (or changed anything else) is still reached exactly', () => {
    const adopted = applySettings(ours, ['numerics.kv_format=int8', 'numerics.shortlist_k=128', 'architecture.norms_on_chip=all']);
    const chain = kv260Chain(paper.config, adopted.config);
    const configs = ablationConfigs(paper.config, chain.steps);
    const strip = (c: HwConfig) => ({ ...c, name: 'x', board: { ...c.board, name: 'x' } });
    expect(hwConfigHash(strip(configs[chain.kv260Index]!.hw.config))).toBe(hwConfigHash(strip(adopted.config)));
    expect(chain.steps.map((s) => s.label).join('\n')).toMatch(/int8 KV cache[^\n]*\n[^\n]*norms on chip in prefill[^\n]*\n[^\n]*256-MAC int8 head[^\n]*\n\+ the rest of kv260.json \(numerics\)\n\+ ternary shortlist head/);
    expect(chain.steps.length - 1 - chain.kv260Index).toBe(1);
  });
});

describe('fit checks', () => {
  it('names the dimension over the maxima and by how much', () => {
    const probs = maximaProblems(builtinShape('bitnet-2b4t'), paper);
    expect(probs).toContain('hidden_size 2560 exceeds the synthesised maximum 1536 of kv260-paper by 1024 (1.67x)');
    expect(probs.join('\n')).toMatch(/vocab_size 128256 exceeds .* by 96240/);
    expect(probs.join('\n')).toMatch(/activation relu2/);
    const plan = makePlan(builtinShape('bitnet-2b4t'), paper);
    expect(plan.fits).toBe(false);
    expect(plan.reasons.join('\n')).toMatch(/gate_proj/);
  });
  it('a context beyond the build or the model is a reason', () => {
    const plan = makePlan(large, ours, { context: 3000 });
    expect(plan.fits).toBe(false);
    expect(plan.reasons[0]).toMatch(/context 3000 exceeds the 2048 positions available .* by 952/);
  });
});
