/**
 * The float reference on generated checkpoints: its streaming and resident paths agree, its
 * logits API, its errors, and — the cross-check of two independent implementations — the golden
 * model equals the float reference once the accelerator's three storage formats (bf16
 * embedding, binary16 or int8 q/k/v, int8 head) are emulated in the reference, for each KV format. Any semantic mismatch
 * (RoPE pairing, GQA mapping, sub-norm placement, scale convention, eps) would show up here as a
 * large gap already at layer 0.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint, type Checkpoint } from '../../host/src/checkpoint/index.js';
import { cosine, defaultPrompts } from '../../host/src/eval/index.js';
import { GoldenModel } from '../../host/src/golden/model.js';
import { FloatReference, floatLogits, type ReferenceStage } from '../../host/src/reference/index.js';
import { TEST_MODEL_PRESET_NAMES, writeTestModel, type TestModelPresetName } from '../../host/src/testmodels/index.js';
import { TellmeError } from '../../host/src/errors.js';

const TINY = TEST_MODEL_PRESET_NAMES.filter((p) => p.includes('tiny'));
const dirs: string[] = [];

function model(preset: TestModelPresetName): Checkpoint {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-ref-'));
  dirs.push(dir);
  writeTestModel(dir, { preset, tokenizer: false });
  return openCheckpoint(dir);
}

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

type Traces = Map<string, Float32Array>;
const traceInto = (m: Traces) => (layer: number, stage: ReferenceStage, values: Float32Array) => m.set(`${stage}:${layer}`, values);

describe('float reference', () => {
  let ckpt: Checkpoint;
  let ids: number[];
  beforeAll(() => {
    ckpt = model('bitnet-tiny-packed');
    ids = defaultPrompts(ckpt.spec, null)[0]!.ids;
  });

  it('gives the same values whether weights are resident or streamed layer by layer', async () => {
    const resident = await FloatReference.fromCheckpoint(ckpt);
    const streamed = await FloatReference.fromCheckpoint(ckpt, { residentBytes: 0, headChunkRows: 37 });
    expect(resident.resident).toBe(true);
    expect(streamed.resident).toBe(false);
    const ta: Traces = new Map();
    const tb: Traces = new Map();
    const a = await resident.forward(ids, { trace: traceInto(ta) });
    const b = await streamed.forward(ids, { trace: traceInto(tb) });
    expect([...tb.keys()]).toEqual([...ta.keys()]);
    expect(ta.size).toBe(ckpt.spec.numLayers + 2);
    for (const [k, v] of ta) {
      expect(v.length, k).toBe(ids.length * ckpt.spec.hiddenSize);
      expect(cosine(v, tb.get(k)!), k).toBeGreaterThan(1 - 1e-9);
    }
    expect(a.length).toBe(ids.length);
    for (let t = 0; t < a.length; t++) {
      expect(a[t]!.length).toBe(ckpt.spec.vocabSize);
      for (let i = 0; i < a[t]!.length; i++) expect(Math.abs(a[t]![i]! - b[t]![i]!)).toBeLessThan(1e-4 * (1 + Math.abs(a[t]![i]!)));
    }
    resident.dispose();
    streamed.dispose();
  });

  it("logits: 'last' is the last row of 'all'; floatLogits matches forward", async () => {
    const ref = await FloatReference.fromCheckpoint(ckpt);
    const all = await ref.forward(ids);
    const last = await ref.forward(ids, { logits: 'last' });
    expect(last).toHaveLength(1);
    expect(Array.from(last[0]!)).toEqual(Array.from(all[all.length - 1]!));
    const viaApi = await floatLogits(ckpt, ids);
    expect(viaApi.map((l) => Array.from(l))).toEqual(all.map((l) => Array.from(l)));
    // A prefix's logits do not depend on what follows (causal mask).
    const prefix = await ref.forward(ids.slice(0, 5));
    for (let t = 0; t < 5; t++) expect(cosine(prefix[t]!, all[t]!)).toBeGreaterThan(1 - 1e-9);
    ref.dispose();
  });

  it('refuses bad input with TellmeErrors', async () => {
    const ref = await FloatReference.fromCheckpoint(ckpt);
    await expect(ref.forward([])).rejects.toThrow(TellmeError);
    await expect(ref.forward([ckpt.spec.vocabSize])).rejects.toThrow(/outside the vocabulary/);
    await expect(ref.forward(new Array(ckpt.spec.maxPositions + 1).fill(5))).rejects.toThrow(/max_position_embeddings/);
    ref.dispose();
    await expect(ref.forward([1])).rejects.toThrow(/disposed/);
  });
});

/** The KV formats: the golden profile and the reference ablation that emulates its storage. */
// layer0: how close layer 0's output must be. binary16 q/k/v: binary32 rounding. int8 q/k/v: the
// two sides compute q/k/v in different orders, so a value within an ulp of an int8 rounding tie
// can land on neighbouring int8 values (one step is 1/127 of the head's absmax); one such flip
// moves the layer-0 cosine by ~1e-8 (bitnet-tiny-packed: 1 - 1.5e-8).
const KV_PROFILES = [
  { kv: 'fp16', numerics: { kv_format: 'fp16', lm_head: 'int8', shortlist_k: 256 }, ablation: { f16Qkv: true }, layer0: 1e-9 },
  { kv: 'int8', numerics: { kv_format: 'int8', lm_head: 'int8', shortlist_k: 256 }, ablation: { int8Qkv: true }, layer0: 1e-7 },
] as const;

// The final norm and the logits agree to 1 - 1e-6 — unless, with int8 q/k/v, some layer saw such
// a flip (a layer gap above binary32 rounding, which stays below 1e-12): the flipped element then
// changes the following int8 activations and the gap grows. Measured (1 - cosine per layer_out):
// bitnet-tiny-packed 1.5e-8, 6.7e-6, final norm 6.2e-6, logits 6.0e-5; 1bitllm-tiny-tied 1.6e-14,
// 1.3e-11 (a flip in layer 1), final norm 1.0e-11, logits 1.3e-6; the presets without a flip agree
// to ~1e-14, like binary16. 1e-4 bounds the flipped case; the semantic check is layer 0's.
const FINAL = 1e-6;
const FINAL_AFTER_INT8_FLIP = 1e-4;

describe('golden model = float reference + the accelerator storage formats', () => {
  for (const profile of KV_PROFILES) {
    for (const preset of TINY) {
      it(`${profile.kv} KV: ${preset}`, async () => {
        const ckpt = model(preset);
        const spec = ckpt.spec;
        const h = spec.hiddenSize;
        const ids = defaultPrompts(spec, null)[0]!.ids;
        const golden = await GoldenModel.fromCheckpoint(ckpt, { threads: 2, contextLength: ids.length, numerics: profile.numerics });
        const g: Traces = new Map();
        const gl = golden.prefill(ids, {
          allLogits: true,
          trace: (layer, stage, t, v) => {
            const k = `${stage}:${layer}`;
            if (!g.has(k)) g.set(k, new Float32Array(ids.length * h));
            g.get(k)!.set(v.subarray(0, h), t * h);
          },
        });
        await golden.close();
        const ref = await FloatReference.fromCheckpoint(ckpt);
        const f: Traces = new Map();
        const fl = await ref.forward(ids, { trace: traceInto(f), ablations: { bf16Embedding: true, int8Head: true, ...profile.ablation } });
        ref.dispose();
        // Embedding: the same bf16 values.
        expect(Array.from(f.get('embed:-1')!)).toEqual(Array.from(g.get('embed:-1')!));
        // Layer 0 and the final norm agree to binary32 rounding (different summation orders, exp).
        const layerGaps = Array.from({ length: spec.numLayers }, (_, l) => 1 - cosine(g.get(`layer_out:${l}`)!, f.get(`layer_out:${l}`)!));
        expect(layerGaps[0]).toBeLessThan(profile.layer0);
        const final = profile.kv === 'int8' && layerGaps.some((gap) => gap > 1e-12) ? FINAL_AFTER_INT8_FLIP : FINAL;
        expect(cosine(g.get(`final_norm:${spec.numLayers}`)!, f.get(`final_norm:${spec.numLayers}`)!)).toBeGreaterThan(1 - final);
        for (let t = 0; t < ids.length; t++) expect(cosine(gl[t]!, fl[t]!)).toBeGreaterThan(1 - final);
      });
    }
  }
});
