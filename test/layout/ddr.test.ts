import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hwConfigFromObject, loadHwConfig, type KvFormat, type LoadedHwConfig } from '../../host/src/hwconfig/index.js';
import { beatCount, checkDdrPlan, planDdr, planUram, tilePackLayout, type DdrPlan, type UramPlan } from '../../host/src/layout/index.js';
import { builtinShape } from '../../host/src/plan/shapes.js';
import { arbShape, arbVariant, variant } from './helpers.js';

function expectSizes(plan: DdrPlan, spec: ReturnType<typeof builtinShape>, ctx: number, kvFormat: KvFormat): void {
  const get = (n: string) => plan.regions.find((r) => r.name === n);
  const kvDim = spec.numKvHeads * spec.headDim;
  // binary16 values, or int8 values plus a binary32 scale per position and KV head (query head for q).
  const kvBytes = kvFormat === 'int8' ? 1 : 2;
  expect(get('kv.k')!.size).toBe(kvBytes * spec.numLayers * ctx * kvDim);
  expect(get('kv.v')!.size).toBe(kvBytes * spec.numLayers * ctx * kvDim);
  expect(get('kv.k_scale')?.size).toBe(kvFormat === 'int8' ? 4 * spec.numLayers * ctx * spec.numKvHeads : undefined);
  expect(get('kv.v_scale')?.size).toBe(kvFormat === 'int8' ? 4 * spec.numLayers * ctx * spec.numKvHeads : undefined);
  // [position][i][cos, sin] binary32.
  expect(get('rope')!.size).toBe(4 * ctx * (spec.headDim / 2) * 2);
  expect(get('scratch.q')!.size).toBe(kvBytes * ctx * spec.numHeads * spec.headDim);
  expect(get('scratch.q_scale')?.size).toBe(kvFormat === 'int8' ? 4 * ctx * spec.numHeads : undefined);
  expect(get('scratch.amax')!.size).toBe(4 * ctx);
  expect(get('embedding')!.size).toBe(2 * spec.vocabSize * spec.hiddenSize);
  expect(get('lm_head.weight')!.size).toBe(spec.vocabSize * spec.hiddenSize);
  expect(get('lm_head.scale')!.size).toBe(4 * spec.vocabSize);
}

/**
 * The ternary head of shortlist builds (numerics.md §9.2): one more tiled linear over the vocabulary,
 * one region per tile and port plus w_r per row; and the head records of the fabric's head
 * (docs/accelerator.md): 16 positions of a 16-byte header and 8-byte (id, logit) candidates or
 * 4-byte logits.
 */
function expectHead(plan: DdrPlan, uram: UramPlan, spec: ReturnType<typeof builtinShape>, hw: LoadedHwConfig): void {
  const shortlist = hw.config.numerics.lm_head === 'ternary-shortlist';
  const regions = plan.regions.filter((r) => r.kind === 'lm_head_ternary');
  const scale = plan.regions.find((r) => r.name === 'lm_head.ternary_scale');
  if (!shortlist) {
    expect(uram.head).toBeNull();
    expect(regions).toEqual([]);
    expect(scale).toBeUndefined();
  } else {
    const head = uram.head!;
    expect([head.rows, head.cols]).toEqual([spec.vocabSize, spec.hiddenSize]);
    expect(head.tiles.reduce((a, t) => a + t.rows, 0)).toBe(spec.vocabSize);
    expect(regions.map((r) => r.name)).toEqual(head.tiles.flatMap((t) => Array.from({ length: hw.config.memory.weight_ports }, (_, p) => `weights.head.t${t.tile}.p${p}`)));
    for (const r of regions) expect(r.size).toBe(beatCount(tilePackLayout(head.tiles[r.tile!]!, hw)) * hw.derived.laneBytes);
    expect(scale!.size).toBe(4 * spec.vocabSize);
  }
  const logits = plan.regions.find((r) => r.name === 'logits');
  if (hw.config.lm_head.placement !== 'fabric') expect(logits).toBeUndefined();
  else expect(logits!.size).toBe(16 * (16 + (shortlist ? 8 * Math.min(hw.config.numerics.shortlist_k, spec.vocabSize) : 4 * spec.vocabSize)));
}

describe('DDR map', () => {
  it('bitnet-2b4t on kv260: aligned, disjoint, sized by formula', () => {
    const spec = builtinShape('bitnet-2b4t');
    const hw = loadHwConfig('kv260');
    const uram = planUram(spec, hw);
    const plan = planDdr(spec, hw, uram);
    checkDdrPlan(plan);
    expect(plan.context).toBe(4096);
    expectSizes(plan, spec, 4096, hw.config.numerics.kv_format);
    // KV cache: 30 layers x 4096 x 640 = 78,643,200 elements each for K and V: binary16, or int8
    // plus 30 x 4096 x 5 binary32 scales each.
    expect(plan.byKind.kv_cache).toBe(hw.config.numerics.kv_format === 'int8' ? 2 * (78_643_200 + 4 * 614_400) : 2 * 2 * 78_643_200);
    // Every tile has one lane region per port, each a quarter of its beats.
    const w = plan.regions.filter((r) => r.kind === 'weights');
    const tiles = uram.linears.reduce((a, l) => a + l.tiles.length, 0);
    expect(w.length).toBe(30 * tiles * 4);
    const gate0 = uram.linears.find((l) => l.linear === 'gate_proj')!.tiles[0]!;
    const beats = beatCount(tilePackLayout(gate0, hw));
    expect(w.filter((r) => r.layer === 3 && r.linear === 'gate_proj' && r.tile === 0).map((r) => r.size)).toEqual([beats * 16, beats * 16, beats * 16, beats * 16]);
    // Dense packing keeps norms in their own regions: 4 per layer + final, binary32.
    const norms = plan.regions.filter((r) => r.kind === 'norms');
    expect(norms.length).toBe(30 * 4 + 1);
    expect(norms.find((r) => r.name === 'norms.L2.ffn_sub')).toMatchObject({ size: 4 * 6912, dtype: 'fp32' });
    // binary32 residual stream and activations in the prefill scratch.
    expect(plan.regions.find((r) => r.name === 'scratch.residual')!.size).toBe(4 * 4096 * 2560);
    expect(plan.regions.find((r) => r.name === 'scratch.act0')!.size).toBe(4 * 4096 * 6912);
    expect(plan.regions.some((r) => r.name === 'logits')).toBe(true);
    expectHead(plan, uram, spec, hw);
    expect(plan.fits).toBe(true);
  });

  it('bitnet-2b4t on kv260 with the ternary-shortlist head: the head as a tiled linear, K-candidate head records', () => {
    const spec = builtinShape('bitnet-2b4t');
    const base = loadHwConfig('kv260');
    const hw = hwConfigFromObject({ ...base.config, numerics: { ...base.config.numerics, lm_head: 'ternary-shortlist', shortlist_k: 256 } });
    const uram = planUram(spec, hw);
    const plan = planDdr(spec, hw, uram);
    checkDdrPlan(plan);
    expectHead(plan, uram, spec, hw);
    // 128,256 rows of 2,560 ternaries: 31 chunks of 84, 128,256 x 31 vectors of 140 bits, about 66 MB.
    expect(uram.head!.chunks).toBe(31);
    expect(plan.byKind.lm_head_ternary).toBe(plan.regions.filter((r) => r.kind === 'lm_head_ternary').reduce((a, r) => a + r.size, 0));
    expect(plan.byKind.lm_head_ternary).toBeGreaterThanOrEqual((128_256 * 31 * 140) / 8);
    expect(plan.byKind.lm_head_ternary).toBeLessThan(1.01 * ((128_256 * 31 * 140) / 8));
    expect(plan.regions.find((r) => r.name === 'logits')!.size).toBe(16 * (16 + 8 * 256));
  });

  it('paper packing carries norm weights in the streams; only layer 0 input norm has a region', () => {
    const spec = builtinShape('bitnet-large');
    const hw = loadHwConfig('kv260-paper');
    const plan = planDdr(spec, hw, planUram(spec, hw));
    checkDdrPlan(plan);
    expect(plan.regions.filter((r) => r.kind === 'norms').map((r) => r.name)).toEqual(['norms.L0.input']);
    expect(plan.carriedNorms.length).toBe(24 * 4);
    expect(plan.carriedNorms.at(-1)).toMatchObject({ layer: 23, linear: 'down_proj', role: 'final' });
    expect(plan.carriedNorms.find((c) => c.layer === 0 && c.linear === 'gate_proj')).toMatchObject({ role: 'ffn_sub', length: 4096 });
    // 3 lanes (HP0, HP1, HP3) of 32 bytes per 96-byte beat.
    const q = plan.regions.filter((r) => r.layer === 0 && r.linear === 'q_proj');
    expect(q.map((r) => r.size)).toEqual([5852 * 32, 5852 * 32, 5852 * 32]);
    expect(plan.regions.some((r) => r.name === 'logits')).toBe(false);
    expect(plan.byKind.weights).toBe(175_279_104);
  });

  it('reports a DDR image larger than the usable memory', () => {
    const spec = builtinShape('bitnet-2b4t');
    const hw = loadHwConfig('zcu104');
    const plan = planDdr(spec, hw, planUram(spec, hw));
    expect(plan.fits).toBe(false);
    expect(plan.problems[0]).toMatch(/MiB but zcu104 leaves 1536 MiB/);
    expect(planDdr(spec, hw, planUram(spec, hw), { context: 512 }).fits).toBe(true);
  });

  it('checkDdrPlan catches overlap and misalignment', () => {
    const spec = builtinShape('bitnet-large');
    const hw = loadHwConfig('kv260');
    const plan = planDdr(spec, hw, planUram(spec, hw));
    const regions = plan.regions.map((r) => ({ ...r }));
    regions[5]!.offset = regions[4]!.offset + regions[4]!.size - 4096;
    expect(() => checkDdrPlan({ ...plan, regions })).toThrow(/overlaps|aligned/);
    const regions2 = plan.regions.map((r) => ({ ...r }));
    regions2[7]!.offset += 64;
    expect(() => checkDdrPlan({ ...plan, regions: regions2 })).toThrow(/aligned/);
  });

  it('property: random builds and shapes give aligned, disjoint regions of the right sizes', () => {
    fc.assert(
      fc.property(arbVariant, arbShape, fc.integer({ min: 1, max: 300 }), fc.constantFrom<KvFormat>('fp16', 'int8'), fc.boolean(), (v, spec, ctx, kvFormat, shortlist) => {
        const base = variant(v);
        // The shortlist head runs through the TLMM as a tiled linear: tiled builds only (derive.ts).
        const lmHead = shortlist && v.layout === 'tiled' ? 'ternary-shortlist' : 'int8';
        const hw = hwConfigFromObject({ ...base.config, numerics: { ...base.config.numerics, kv_format: kvFormat, lm_head: lmHead } });
        const uram = planUram(spec, hw);
        const plan = planDdr(spec, hw, uram, { context: ctx });
        checkDdrPlan(plan);
        expectSizes(plan, spec, ctx, kvFormat);
        expectHead(plan, uram, spec, hw);
        for (const r of plan.regions) {
          expect(r.offset % 4096).toBe(0);
          // No AXI burst of an aligned region crosses 4 KiB: burst bytes divide 4096.
          expect(4096 % (hw.config.memory.burst_beats * hw.derived.laneBytes)).toBe(0);
        }
        const streamBytes = uram.linears.reduce((a, l) => a + l.tiles.reduce((b, t) => b + beatCount(tilePackLayout(t, hw)) * hw.derived.beatBytes, 0), 0);
        expect(plan.byKind.weights).toBe(spec.numLayers * streamBytes);
        expect(plan.totalBytes).toBeGreaterThanOrEqual(plan.regions.reduce((a, r) => a + r.size, 0));
      }),
      { numRuns: 120 },
    );
  });
});
