/**
 * The golden model's weights read from a model image (host/src/golden/weights-image.ts) against
 * those built from the source checkpoint (golden/weights.ts, a separate path: encodes the
 * checkpoint itself), structure and bits, arena bytes included: the kv260 build (dense beats,
 * binary32 norms, a hidden size whose head rows need stride padding), the kv260-paper build
 * (paper beats carrying norms, binary16 norm copies checked against the binary32 ones) and a ternary-shortlist
 * build. Then the loader's own checks: the context, its progress, a scale whose value and bits
 * disagree, a non-positive or non-finite ternary w_r, norm copies that disagree, an image opened
 * without checksums.
 */
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../host/src/checkpoint/types.js';
import { GoldenModel } from '../../host/src/golden/model.js';
import { goldenWeightsFromCheckpoint } from '../../host/src/golden/weights.js';
import { goldenModelFromImage, goldenWeightsFromImage, loadGoldenFromImage, openImageModel } from '../../host/src/golden/weights-image.js';
import { hwConfigFromObject, loadHwConfig, type LoadedHwConfig } from '../../host/src/hwconfig/index.js';
import { convertCheckpoint, openImage, type ImageManifest } from '../../host/src/image/index.js';
import { f32ToF16Sat } from '../../host/src/numerics/f16.js';
import type { KernelPool } from '../../host/src/kernels/pool.js';
import { convert, copyImage, readManifest, testModel, tmpDir, withSection } from '../image/helpers.js';
import { isTellmeError } from '../../host/src/errors.js';
import { expectRefusal } from './refusal.js';
import { expectSameWeights, u32 } from './same-weights.js';

interface Built {
  ckpt: Checkpoint;
  file: string;
  hw: LoadedHwConfig;
}
const built: Record<'dense' | 'paper' | 'shortlist', Built> = {} as never;
const CONTEXT = 8;

beforeAll(async () => {
  const a = testModel({ preset: 'hf1bitllm-tiny', hidden: 72 });
  built.dense = { ckpt: a, file: (await convert(a, 'kv260', { context: CONTEXT })).path, hw: loadHwConfig('kv260') };
  // Hidden 420: the paper beats carry the norms in their spare slots (8 carried norms).
  const p = testModel({ preset: 'bitnet-tiny-packed', hidden: 420, heads: 5, kvHeads: 5, intermediate: 840, layers: 2, vocab: 300 });
  built.paper = { ckpt: p, file: (await convert(p, 'kv260-paper', { context: CONTEXT })).path, hw: loadHwConfig('kv260-paper') };
  const b = testModel({ preset: 'bitnet-tiny-packed' });
  const base = loadHwConfig('kv260');
  const hw = hwConfigFromObject({ ...base.config, numerics: { ...base.config.numerics, lm_head: 'ternary-shortlist', shortlist_k: 16 } }, 'kv260, ternary-shortlist variant');
  const file = `${tmpDir('out')}/shortlist.tlm`;
  await convertCheckpoint(b, file, { hw, force: true, context: CONTEXT });
  built.shortlist = { ckpt: b, file, hw };
});

const pools: KernelPool[] = [];
const models: GoldenModel[] = [];
afterAll(async () => {
  for (const m of models.splice(0)) await m.close();
  for (const p of pools.splice(0)) await p.close();
});
async function pool(): Promise<KernelPool> {
  const p = await GoldenModel.createPool(1);
  pools.push(p);
  return p;
}


const IMAGE_FIX = 'The image is damaged or was written by a faulty converter; re-run `tellme convert`.';

describe('goldenWeightsFromImage equals goldenWeightsFromCheckpoint, arena bytes included', () => {
  for (const which of ['dense', 'paper', 'shortlist'] as const) {
    it(`${which} build`, async () => {
      const { ckpt, file, hw } = built[which];
      const image = openImage(file, { hw });
      const pi = await pool();
      const pc = await pool();
      const wi = goldenWeightsFromImage(image, pi);
      const wc = await goldenWeightsFromCheckpoint(ckpt, pc, { contextLength: CONTEXT, ternaryHead: hw.config.numerics.lm_head === 'ternary-shortlist' });
      expectSameWeights(wc, pc, wi, pi);
      if (which === 'dense') expect(wi.head.stride).toBe(80); // hidden 72: each head row padded to 80 bytes
      if (which === 'shortlist') expect(wi.ternaryHead).not.toBeNull();
      // And the model built on them runs the build's numerics.
      const g = GoldenModel.fromWeights(wi, pi, hw.config.numerics);
      expect(g.numerics).toEqual(hw.config.numerics);
      expect(g.contextLength).toBe(CONTEXT);
    });
  }
});

describe('the image loader\'s own checks', () => {
  it('the context: the image\'s by default, any of 1..context, nothing outside', async () => {
    const image = openImage(built.dense.file);
    const w = goldenWeightsFromImage(image, await pool(), { contextLength: 3 });
    expect(w.ropePositions).toBe(3);
    expect(w.rope.length).toBe(3 * 18);
    expect(goldenWeightsFromImage(image, await pool(), { contextLength: 1 }).ropePositions).toBe(1);
    const fix = `Pass a context up to ${CONTEXT}, or re-convert with a larger --context.`;
    for (const n of [0, CONTEXT + 1, 2.5]) {
      await expectRefusal(async () => goldenWeightsFromImage(image, await pool(), { contextLength: n }), 'E_USAGE', `context ${n} is outside the image's 1..${CONTEXT} positions`, fix);
    }
  });

  it('reports its progress: 7 linears per layer, the embedding and the head', async () => {
    const seen: [number, number, string][] = [];
    goldenWeightsFromImage(openImage(built.dense.file), await pool(), { progress: (d, t, w) => seen.push([d, t, w]) });
    const total = 2 * 7 + 2;
    expect(seen.map((s) => s[0])).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(seen.every((s) => s[1] === total)).toBe(true);
    expect([seen[0]![2], seen[13]![2], seen[14]![2], seen[15]![2]]).toEqual(['layer 0 q_proj', 'layer 1 down_proj', 'embedding', 'lm head']);
  });

  it('a weight scale whose value disagrees with its bits, or none for a linear', async () => {
    // The reader refuses such a manifest when it opens the file (image/manifest.ts); the loader
    // checks again what it uses, so the opened image's manifest is edited here, after opening.
    const image = openImage(built.dense.file);
    const rec = image.manifest.matrices.find((x) => x.layer === 1 && x.linear === 'up_proj')!;
    const scale = rec.scale;
    rec.scale = scale * 2;
    await expectRefusal(async () => goldenWeightsFromImage(image, await pool()), 'E_IMAGE', `${built.dense.file}: layer 1 up_proj: scale ${scale * 2} does not match its bits ${rec.scale_bits}`, IMAGE_FIX);
    rec.scale = scale;
    expect(goldenWeightsFromImage(image, await pool()).layers[1]!.gateUp.parts[1]!.scale).toBe(scale);
    image.manifest.matrices.splice(image.manifest.matrices.indexOf(rec), 1);
    await expectRefusal(async () => goldenWeightsFromImage(image, await pool()), 'E_IMAGE', `${built.dense.file}: no scale for layer 1 up_proj`, IMAGE_FIX);
  });

  it('a ternary w_r that is zero, negative, infinite or NaN; the largest finite one is accepted', async () => {
    const cases: [number, string | null][] = [
      [0, '0'],
      [-1, '-1'],
      [Infinity, 'Infinity'],
      [Number.NaN, 'NaN'],
      [3.4028234663852886e38, null],
    ];
    for (const [v, shown] of cases) {
      const f = withSection(built.shortlist.file, 'lm_head.ternary_scale', (b) => b.writeFloatLE(v, 4 * 5));
      const load = async () => goldenWeightsFromImage(openImage(f, { hw: built.shortlist.hw, verifyChecksums: false }), await pool());
      if (shown === null) expect((await load()).ternaryHead!.scale[5]).toBe(v);
      else await expectRefusal(load, 'E_IMAGE', `${f}: lm_head.ternary_scale[5] is ${shown}, not a positive finite w_r`, IMAGE_FIX);
    }
  });

  it('paper build: a binary16 norm region or a beat\'s norm slot that is not the binary16 rounding of the norm', async () => {
    const { file, hw } = built.paper;
    // One tile per linear, 420 beats of 3 lanes × 32 bytes; o_proj's beats carry the post-attention norm (one weight each).
    expect((readManifest(file) as unknown as ImageManifest).ddr.carried_norms.filter((c) => c.layer === 0).map((c) => c.linear)).toEqual(['v_proj', 'o_proj', 'gate_proj', 'down_proj']);
    const norms = (await goldenWeightsFromCheckpoint(built.paper.ckpt, await pool(), { contextLength: 1 })).layers[0]!.norms;
    const load = async (f: string) => goldenWeightsFromImage(openImage(f, { hw, verifyChecksums: false }), await pool());
    const a = withSection(file, 'norms.L0.input', (b) => (b[6] = b[6]! ^ 0x01));
    const v = norms.input![3]!;
    await expectRefusal(() => load(a), 'E_IMAGE', `${a}: norms.L0.input[3] is 0x${(f32ToF16Sat(v) ^ 1).toString(16)}, not the binary16 rounding of host.norms.L0.input[3] = ${v}`, IMAGE_FIX);
    // The norm slot is bits 700..715 of a 768-bit beat: byte 88 (bits 704..711) lies in lane 2 at 88 − 64 = 24.
    const slot = (beat: number) => beat * 32 + 24;
    const c = withSection(file, 'weights.L0.o_proj.t0.p2', (b) => (b[slot(5)] = b[slot(5)]! ^ 0x01));
    const want = f32ToF16Sat(norms.post_attention![5]!);
    await expectRefusal(
      () => load(c),
      'E_IMAGE',
      `${c}: weights.L0.o_proj tile 0 beat 5: norm slot holds 0x${(want ^ 0x10).toString(16)}, expected 0x${want.toString(16)} (post_attention norm of layer 0, weight 5)`,
      IMAGE_FIX,
    );
    const d = withSection(file, 'weights.L0.q_proj.t0.p2', (b) => (b[slot(419)] = b[slot(419)]! ^ 0x01));
    await expectRefusal(() => load(d), 'E_IMAGE', `${d}: weights.L0.q_proj tile 0 beat 419: norm slot holds 0x10, expected 0x0 (this stream carries no norm)`, IMAGE_FIX);
  });

  it('an image opened without its checksum pass is verified before it is used', async () => {
    const f = copyImage(built.dense.file);
    const m = readManifest(f) as unknown as ImageManifest;
    const s = m.sections.find((x) => x.name === 'embedding')!;
    const fd = fs.openSync(f, 'r+');
    fs.writeSync(fd, Buffer.from([0xff, 0x7f]), 0, 2, s.offset);
    fs.closeSync(fd);
    const image = openImage(f, { verifyChecksums: false });
    expect(image.checksumsVerified).toBe(false);
    let err: unknown;
    try {
      goldenWeightsFromImage(image, await pool());
    } catch (e) {
      err = e;
    }
    expect(isTellmeError(err) && err.code).toBe('E_IMAGE');
    expect(String((err as Error).message)).toContain('embedding');
  });
});

describe('loading a golden model from an image file', () => {
  it('openImageModel: the image, its golden model with the build\'s numerics and context, and its tokenizer', async () => {
    const seen: string[] = [];
    const r = await openImageModel(built.paper.file, { threads: 1, contextLength: 5, hw: 'kv260-paper', progress: (_d, _t, w) => seen.push(w) });
    models.push(r.model);
    expect(r.image.path).toBe(built.paper.file);
    expect(r.model.numerics).toEqual(loadHwConfig('kv260-paper').config.numerics);
    expect(r.model.contextLength).toBe(5);
    expect(seen.at(-1)).toBe('lm head');
    expect(r.tokenizer).not.toBeNull();
    expect(r.tokenizer!.decode(r.tokenizer!.encode('to be'), { skipSpecialTokens: true })).toBe('to be');
    // The model from the image computes what the model from the checkpoint computes.
    const c = await GoldenModel.fromCheckpoint(built.paper.ckpt, { threads: 1, contextLength: 5, numerics: r.model.numerics });
    models.push(c);
    expect(u32(r.model.prefill([4, 8, 15])[0]!)).toEqual(u32(c.prefill([4, 8, 15])[0]!));
    // The hardware description given is the one the image is opened against: another build is refused.
    let err: unknown;
    try {
      models.push((await openImageModel(built.paper.file, { threads: 1, hw: 'kv260' })).model);
    } catch (e) {
      err = e;
    }
    expect(isTellmeError(err) && err.code).toBe('E_IMAGE');
    expect(String((err as Error).message)).toContain('kv260-paper');
  });

  it('loadGoldenFromImage and goldenModelFromImage: the same model; a bad context is refused', async () => {
    const a = await loadGoldenFromImage(built.dense.file, { threads: 1, contextLength: 4 });
    models.push(a);
    const b = await goldenModelFromImage(openImage(built.dense.file), { threads: 1 });
    models.push(b);
    expect([a.contextLength, b.contextLength]).toEqual([4, CONTEXT]);
    expect(u32(a.prefill([1, 2])[0]!)).toEqual(u32(b.prefill([1, 2])[0]!));
    await expectRefusal(() => goldenModelFromImage(openImage(built.dense.file), { threads: 1, contextLength: 99 }), 'E_USAGE', `context 99 is outside the image's 1..${CONTEXT} positions`);
  });
});
