/**
 * REQUIRED: the golden model built from a model image equals the golden model built from the
 * checkpoint BIT FOR BIT — every logit of several prompts, prefill and decode steps — on every
 * tiny test-model preset, for the kv260 build (tiled layout, dense 512-bit beats over 4 lanes,
 * binary32 norms) and the kv260-paper build (paper regions, 768-bit paper beats over 3 lanes with
 * binary16 norms in the beats). The image side decodes the DDR beat streams with the reference
 * decoder (unpackWeights), so this also checks the converter's fast packer end to end.
 */
import * as fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { loadTokenizer } from '../../host/src/checkpoint/tokenizer.js';
import { projectRoot } from '../../host/src/paths.js';
import { GoldenModel } from '../../host/src/golden/model.js';
import { goldenWeightsFromImage, loadGoldenFromImage } from '../../host/src/golden/weights-image.js';
import { convertCheckpoint, openImage } from '../../host/src/image/index.js';
import { hwConfigFromObject, loadHwConfig } from '../../host/src/hwconfig/index.js';
import { TEST_MODEL_PRESETS, type TestModelPresetName } from '../../host/src/testmodels/index.js';
import { convert, testModel, tmpDir } from './helpers.js';

const TINY = (Object.keys(TEST_MODEL_PRESETS) as TestModelPresetName[]).filter((p) => p.endsWith('-tiny') || p.includes('-tiny-'));
const BOARDS = ['kv260', 'kv260-paper'] as const;
const CONTEXT = 40;
const PROMPTS = [[1, 2, 3, 4, 5, 6, 7], [17], [30, 9, 30, 9, 30, 2, 11, 8, 5, 1, 12]];
const DECODE_STEPS = 6;

const models: GoldenModel[] = [];
afterAll(async () => {
  for (const m of models.splice(0)) await m.close();
});

function sameBits(a: Float32Array, b: Float32Array): string | null {
  if (a.length !== b.length) return `lengths ${a.length} vs ${b.length}`;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) return `logit ${i}: ${a[i]} vs ${b[i]}`;
  return null;
}

describe('golden model from an image == golden model from the checkpoint, bit for bit', () => {
  it('covers every tiny preset', () => {
    expect([...TINY].sort()).toEqual(['1bitllm-tiny', '1bitllm-tiny-tied', 'bitnet-tiny-master', 'bitnet-tiny-packed', 'hf1bitllm-tiny']);
  });

  for (const preset of TINY) {
    it(`${preset}: kv260 and kv260-paper images, prefill + decode logits`, async () => {
      const ckpt = testModel({ preset });
      for (const board of BOARDS) {
        const { path } = await convert(ckpt, board);
        const image = openImage(path, { hw: board });
        const numerics = image.hw.config.numerics;
        const fromCkpt = await GoldenModel.fromCheckpoint(ckpt, { threads: 2, contextLength: CONTEXT, numerics });
        models.push(fromCkpt);
        const pool = await GoldenModel.createPool(1);
        const fromImage = GoldenModel.fromWeights(goldenWeightsFromImage(image, pool, { contextLength: CONTEXT }), pool, numerics);
        models.push(fromImage);
        expect(fromImage.weights.ropePositions).toBe(CONTEXT);
        for (const prompt of PROMPTS) {
          const ids = prompt.map((i) => i % ckpt.spec.vocabSize);
          fromCkpt.reset();
          fromImage.reset();
          const a = fromCkpt.prefill(ids, { allLogits: true });
          const b = fromImage.prefill(ids, { allLogits: true });
          expect(b.length).toBe(ids.length);
          for (let t = 0; t < a.length; t++) expect(sameBits(a[t]!, b[t]!), `${board} prefill position ${t}`).toBeNull();
          let next = ids[ids.length - 1]!;
          for (let s = 0; s < DECODE_STEPS; s++) {
            const la = fromCkpt.decode(next);
            const lb = fromImage.decode(next);
            expect(sameBits(la, lb), `${board} decode step ${s}`).toBeNull();
            next = (next * 31 + 7 + s) % ckpt.spec.vocabSize;
          }
        }
        // The weights themselves: embedding, norms, scales, RoPE, head.
        const wa = fromCkpt.weights;
        const wb = fromImage.weights;
        expect(Buffer.from(wb.embedding.buffer, wb.embedding.byteOffset, wb.embedding.byteLength).equals(Buffer.from(wa.embedding.buffer, wa.embedding.byteOffset, wa.embedding.byteLength))).toBe(true);
        expect(sameBits(wb.finalNorm, wa.finalNorm)).toBeNull();
        expect(sameBits(wb.rope, wa.rope)).toBeNull();
        expect(sameBits(wb.head.rowAmax, wa.head.rowAmax)).toBeNull();
        for (let l = 0; l < ckpt.spec.numLayers; l++) {
          for (const k of ['qkv', 'o', 'gateUp', 'down'] as const) {
            expect(wb.layers[l]![k].parts.map((p) => [p.name, p.rows, p.row0, p.scale])).toEqual(wa.layers[l]![k].parts.map((p) => [p.name, p.rows, p.row0, p.scale]));
          }
          for (const role of ['input', 'post_attention', 'attn_sub', 'ffn_sub'] as const) {
            const na = wa.layers[l]!.norms[role];
            const nb = wb.layers[l]!.norms[role];
            expect(nb === null).toBe(na === null);
            if (na && nb) expect(sameBits(nb, na)).toBeNull();
          }
        }
      }
    });
  }

  it('kv260-paper with norms carried in the beats (hidden 420): both families', async () => {
    for (const preset of ['1bitllm-tiny', 'bitnet-tiny-packed'] as const) {
      const ckpt = testModel({ preset, hidden: 420, heads: 5, kvHeads: 5, intermediate: 840, layers: 2, vocab: 300 });
      const { path, manifest } = await convert(ckpt, 'kv260-paper');
      expect(manifest.ddr.carried_norms.length).toBe(8);
      const a = await GoldenModel.fromCheckpoint(ckpt, { threads: 2, contextLength: 12, numerics: loadHwConfig('kv260-paper').config.numerics });
      models.push(a);
      const b = await loadGoldenFromImage(path, { threads: 1, hw: 'kv260-paper', contextLength: 12 });
      models.push(b);
      const ids = [5, 99, 23, 7, 250];
      const la = a.prefill(ids, { allLogits: true });
      const lb = b.prefill(ids, { allLogits: true });
      for (let t = 0; t < ids.length; t++) expect(sameBits(la[t]!, lb[t]!), `${preset} prefill ${t}`).toBeNull();
      for (const id of [8, 9, 10]) expect(sameBits(a.decode(id), b.decode(id)), `${preset} decode ${id}`).toBeNull();
    }
  });

  it('a ternary-shortlist build (kv260 with lm_head ternary-shortlist, K = 16): tied and untied heads', async () => {
    const base = loadHwConfig('kv260');
    const hw = hwConfigFromObject({ ...base.config, numerics: { ...base.config.numerics, lm_head: 'ternary-shortlist', shortlist_k: 16 } }, 'kv260, ternary-shortlist variant');
    for (const preset of ['bitnet-tiny-packed', '1bitllm-tiny'] as const) {
      const ckpt = testModel({ preset });
      expect(ckpt.spec.tiedEmbeddings).toBe(preset === 'bitnet-tiny-packed');
      const file = `${tmpDir('out')}/shortlist.tlm`;
      const { manifest } = await convertCheckpoint(ckpt, file, { hw, force: true });
      const head = manifest.uram.head!;
      expect(head.rows).toBe(ckpt.spec.vocabSize);
      expect(manifest.sections.filter((x) => x.kind === 'lm_head_ternary')).toHaveLength(head.tiles.length * hw.config.memory.weight_ports);
      expect(manifest.sections.find((x) => x.name === 'lm_head.ternary_scale')?.size).toBe(4 * ckpt.spec.vocabSize);
      const a = await GoldenModel.fromCheckpoint(ckpt, { threads: 2, contextLength: CONTEXT, numerics: hw.config.numerics });
      models.push(a);
      const b = await loadGoldenFromImage(file, { threads: 1, hw, contextLength: CONTEXT });
      models.push(b);
      expect(sameBits(b.weights.ternaryHead!.scale, a.weights.ternaryHead!.scale)).toBeNull();
      for (const prompt of PROMPTS) {
        const ids = prompt.map((i) => i % ckpt.spec.vocabSize);
        a.reset();
        b.reset();
        const la = a.prefill(ids, { allLogits: true });
        const lb = b.prefill(ids, { allLogits: true });
        for (let t = 0; t < ids.length; t++) expect(sameBits(la[t]!, lb[t]!), `${preset} prefill position ${t}`).toBeNull();
        // 16 candidates per position: the rest of the vocabulary is −∞ (numerics.md §9.2, §10).
        expect(la[ids.length - 1]!.filter((x) => x !== -Infinity)).toHaveLength(16);
        for (const id of [3, 4, 5]) expect(sameBits(a.decode(id), b.decode(id)), `${preset} decode ${id}`).toBeNull();
      }
    }
  });

  const DEMO = `${projectRoot()}/models/tellme-shakespeare-6l`;
  it('the bundled trained demo model (real weight statistics), kv260 and kv260-paper', async () => {
    const ckpt = openCheckpoint(DEMO);
    const tok = loadTokenizer(DEMO)!;
    const ids = tok.encode('ROMEO: But soft, what light');
    for (const board of BOARDS) {
      const a = await GoldenModel.fromCheckpoint(ckpt, { threads: 2, contextLength: 24, numerics: loadHwConfig(board).config.numerics });
      models.push(a);
      const { path } = await convert(ckpt, board);
      const b = await loadGoldenFromImage(path, { threads: 1, hw: board, contextLength: 24 });
      models.push(b);
      a.reset();
      const la = a.prefill(ids, { allLogits: true });
      const lb = b.prefill(ids, { allLogits: true });
      for (let t = 0; t < ids.length; t++) expect(sameBits(la[t]!, lb[t]!), `${board} prefill ${t}`).toBeNull();
      for (const id of ids.slice(0, 4)) expect(sameBits(a.decode(id), b.decode(id)), `${board} decode`).toBeNull();
    }
  });

  it('loadGoldenFromImage opens, checks the board and builds the same model', async () => {
    const ckpt = testModel({ preset: 'bitnet-tiny-packed' });
    const { path } = await convert(ckpt, 'kv260');
    const a = await loadGoldenFromImage(path, { threads: 1, hw: 'kv260', contextLength: 16 });
    models.push(a);
    const b = await GoldenModel.fromCheckpoint(ckpt, { threads: 1, contextLength: 16, numerics: loadHwConfig('kv260').config.numerics });
    models.push(b);
    expect(a.contextLength).toBe(16);
    expect(sameBits(a.prefill([3, 1, 4, 1, 5])[0]!, b.prefill([3, 1, 4, 1, 5])[0]!)).toBeNull();
  });
});
