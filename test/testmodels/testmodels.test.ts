import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/index.js';
import { readSafetensorsHeader } from '../../host/src/checkpoint/safetensors.js';
import { parameterCount } from '../../host/src/model/spec.js';
import { bf16ToF32 } from '../../host/src/numerics/f16.js';
import { Rng, TEST_MODEL_PRESETS, TEST_MODEL_PRESET_NAMES, resolveTestModelOptions, writeTestModel } from '../../host/src/testmodels/index.js';
import { expectTellme, tmpDir } from '../checkpoint/helpers.js';

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const TINY = TEST_MODEL_PRESET_NAMES.filter((n) => n.endsWith('-tiny') || n.startsWith('bitnet-tiny'));

describe('Rng', () => {
  it('is deterministic per (seed, stream) and roughly standard normal', () => {
    const a = new Rng(7, 3);
    const b = new Rng(7, 3);
    const c = new Rng(8, 3);
    const xs = Array.from({ length: 20000 }, () => a.gaussianish());
    expect(Array.from({ length: 20000 }, () => b.gaussianish())).toEqual(xs);
    expect(c.nextU32()).not.toBe(new Rng(7, 3).nextU32());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    expect(Math.max(...xs.map(Math.abs))).toBeLessThan(3.5);
  });
});

describe('writeTestModel', () => {
  it('is deterministic: same seed, same bytes; another seed, other weights', () => {
    const a = writeTestModel(tmpDir('det-a'), { preset: 'bitnet-tiny-packed' });
    const b = writeTestModel(tmpDir('det-b'), { preset: 'bitnet-tiny-packed' });
    const c = writeTestModel(tmpDir('det-c'), { preset: 'bitnet-tiny-packed', seed: 2 });
    for (const f of ['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) {
      expect(sha(path.join(a.dir, f))).toBe(sha(path.join(b.dir, f)));
    }
    expect(sha(path.join(a.dir, 'model.safetensors'))).not.toBe(sha(path.join(c.dir, 'model.safetensors')));
  });

  it('sharding does not change any tensor, and rewriting a directory removes stale weights', () => {
    const dir = tmpDir('shard');
    writeTestModel(dir, { preset: 'hf1bitllm-tiny', tokenizer: false });
    const single = openCheckpoint(dir);
    const bytes = new Map([...single.tensors.keys()].map((n) => [n, single.readBytes(n)]));
    const r = writeTestModel(dir, { preset: 'hf1bitllm-tiny', tokenizer: false, shards: 4 });
    expect(fs.existsSync(path.join(dir, 'model.safetensors'))).toBe(false);
    expect(r.files.filter((f) => f.endsWith('.safetensors'))).toHaveLength(4);
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8'));
    expect(index.metadata.total_size).toBe(r.bytes);
    const sharded = openCheckpoint(dir);
    for (const [n, b] of bytes) expect(sharded.readBytes(n)).toEqual(b);
    expectTellme(() => writeTestModel(tmpDir('shard-x'), { preset: 'hf1bitllm-tiny', shards: 1000 }), 'E_USAGE', 'shards');
  });

  for (const preset of TINY) {
    it(`${preset}: opens with the spec its options describe`, () => {
      const dir = tmpDir(preset);
      const r = writeTestModel(dir, { preset });
      const o = r.options;
      const spec = openCheckpoint(dir).spec;
      expect(spec).toMatchObject({
        family: o.family, weightStorage: o.weights, hiddenSize: o.hidden, intermediateSize: o.intermediate, numLayers: o.layers,
        numHeads: o.heads, numKvHeads: o.kvHeads, vocabSize: o.vocab, maxPositions: o.maxPositions, tiedEmbeddings: o.tied,
        ropeTheta: o.ropeTheta, dtype: o.dtype, bosTokenId: r.ids.bos, eosTokenIds: [r.ids.eos, r.ids.eot],
        activation: o.family === 'bitnet' ? 'relu2' : 'silu', subNorms: o.family !== 'hf1bitllm',
        scaleConvention: o.weights === 'master' ? null : o.family === 'hf1bitllm' ? 'divide' : 'multiply',
      });
      // The sizes the brief asks for: hidden 64..128 (multiple of 16), 2-4 layers, vocab 300-512, head_dim 16 or 32.
      expect(o.hidden % 16).toBe(0);
      expect(o.hidden).toBeGreaterThanOrEqual(64);
      expect(o.hidden).toBeLessThanOrEqual(128);
      expect(o.layers).toBeGreaterThanOrEqual(2);
      expect(o.layers).toBeLessThanOrEqual(4);
      expect(o.vocab).toBeGreaterThanOrEqual(300);
      expect(o.vocab).toBeLessThanOrEqual(512);
      expect([16, 32]).toContain(spec.headDim);
    });
  }

  it('presets have the semantics their names promise', () => {
    const p = TEST_MODEL_PRESETS;
    expect([p['bitnet-tiny-packed'].tied, p['bitnet-tiny-packed'].kvHeads < p['bitnet-tiny-packed'].heads, p['bitnet-tiny-packed'].dtype]).toEqual([true, true, 'bfloat16']);
    expect(p['bitnet-tiny-master'].weights).toBe('master');
    expect([p['1bitllm-tiny'].tied, p['1bitllm-tiny'].kvHeads === p['1bitllm-tiny'].heads, p['1bitllm-tiny'].dtype]).toEqual([false, true, 'float32']);
    expect([p['hf1bitllm-tiny'].weights, p['hf1bitllm-tiny'].family]).toEqual(['packed', 'hf1bitllm']);
  });

  it('packed weights never contain code 3, and weight scales follow each convention', () => {
    for (const preset of ['bitnet-tiny-packed', 'hf1bitllm-tiny'] as const) {
      const dir = tmpDir(`codes-${preset}`);
      const o = writeTestModel(dir, { preset, tokenizer: false }).options;
      const ck = openCheckpoint(dir);
      const counts = [0, 0, 0, 0];
      for (const t of ck.tensors.values()) {
        if (t.dtype !== 'U8') continue;
        for (const b of ck.readBytes(t.name)) for (let s = 0; s < 8; s += 2) counts[(b >> s) & 3]!++;
      }
      expect(counts[3]).toBe(0);
      const total = counts[0]! + counts[1]! + counts[2]!;
      for (let c = 0; c < 3; c++) expect(Math.abs(counts[c]! / total - 1 / 3)).toBeLessThan(0.02);
      for (const t of ck.tensors.values()) {
        if (!t.name.endsWith('weight_scale')) continue;
        const raw = ck.readF32(t.name)[0]!;
        const gain = /q_proj|k_proj/.test(t.name) ? o.qkGain : 1;
        const ws = preset === 'hf1bitllm-tiny' ? 1 / raw : raw;
        expect(ws).toBeGreaterThan(o.weightScale[0] * gain * 0.99);
        expect(ws).toBeLessThan(o.weightScale[1] * gain * 1.01);
        if (preset === 'hf1bitllm-tiny') expect(raw).toBeGreaterThan(20); // realistic inverted scales
      }
    }
  });

  it('float tensors follow the knobs (norm spread, embedding std, dtype)', () => {
    const dir = tmpDir('knobs');
    const o = writeTestModel(dir, { preset: '1bitllm-tiny', tokenizer: false, normSpread: 0.1, embedStd: 2, dtype: 'float16' }).options;
    const ck = openCheckpoint(dir);
    expect(ck.embedding().sourceDtype).toBe('F16');
    const norm = ck.layerNorm(1, 'post_attention')!;
    expect(Math.min(...norm)).toBeGreaterThanOrEqual(1 - o.normSpread - 1e-3);
    expect(Math.max(...norm)).toBeLessThanOrEqual(1 + o.normSpread + 1e-3);
    const e = ck.embedding().data;
    const std = Math.sqrt(e.reduce((s, x) => s + x * x, 0) / e.length);
    expect(Math.abs(std - 2) / 2).toBeLessThan(0.05);
    const head = ck.lmHead().data;
    const hstd = Math.sqrt(head.reduce((s, x) => s + x * x, 0) / head.length);
    expect(Math.abs(hstd - o.logitScale / Math.sqrt(o.hidden)) / hstd).toBeLessThan(0.1);
  });

  it('writes transformers-5 style configs that load to the same spec', () => {
    const a = tmpDir('t4');
    const b = tmpDir('t5');
    writeTestModel(a, { preset: 'bitnet-tiny-packed', tokenizer: false });
    writeTestModel(b, { preset: 'bitnet-tiny-packed', tokenizer: false, configStyle: 'transformers5' });
    const c5 = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'));
    expect(c5.rope_theta).toBeUndefined();
    expect(c5.torch_dtype).toBeUndefined();
    expect(c5.rope_parameters.rope_theta).toBe(500000);
    expect(openCheckpoint(b).spec).toEqual(openCheckpoint(a).spec);
  });

  it('keeps tensor data aligned (larger items first) and pads the header to 8 bytes', () => {
    const dir = tmpDir('align');
    writeTestModel(dir, { preset: '1bitllm-tiny', tokenizer: false, dtype: 'float32' });
    const h = readSafetensorsHeader(path.join(dir, 'model.safetensors'));
    expect(h.dataStart % 8).toBe(0);
    for (const t of h.tensors) expect(t.offset % 4).toBe(0);
  });

  it('stores bf16 weight scales exactly as read back', () => {
    const dir = tmpDir('bf16scale');
    writeTestModel(dir, { preset: 'bitnet-tiny-packed', tokenizer: false });
    const ck = openCheckpoint(dir);
    const raw = ck.readBytes('model.layers.0.self_attn.o_proj.weight_scale');
    expect(ck.readF32('model.layers.0.self_attn.o_proj.weight_scale')[0]).toBe(bf16ToF32(raw[0]! | (raw[1]! << 8)));
  });

  it('rejects impossible option combinations', () => {
    expectTellme(() => resolveTestModelOptions({ preset: '1bitllm-tiny', weights: 'packed' }), 'E_USAGE', '1bitllm');
    expectTellme(() => resolveTestModelOptions({ preset: 'hf1bitllm-tiny', weights: 'master' }), 'E_USAGE', 'hf1bitllm');
    expectTellme(() => resolveTestModelOptions({ heads: 5 }), 'E_USAGE', 'heads');
    expectTellme(() => resolveTestModelOptions({ successor: 0.5, tied: true }), 'E_USAGE', 'untied');
    expectTellme(() => resolveTestModelOptions({ preset: 'nope' as never }), 'E_USAGE', 'unknown preset');
    expectTellme(() => writeTestModel(tmpDir('small-vocab'), { vocab: 100 }), 'E_USAGE', 'vocabulary');
  });

  // How fast the big shapes are written is measured by bench/ scripts, not asserted here.
  it('writes the bitnet_b1_58-large shape (~270 MB) in the size the spec predicts', () => {
    const dir = tmpDir('large');
    let calls = 0;
    const r = writeTestModel(dir, { preset: 'bitnet-large-shape' }, { onProgress: () => calls++ });
    try {
      const ck = openCheckpoint(dir);
      expect(ck.spec).toMatchObject({ numLayers: 24, hiddenSize: 1536, intermediateSize: 4096, numHeads: 16, vocabSize: 32002, weightStorage: 'packed' });
      // Packed linears are 1/4 byte per weight; embedding, norms and scales are bf16.
      const linears = parameterCount(ck.spec) - 32002 * 1536 - (2 * 1536 + 1536 + 4096) * 24 - 1536;
      expect(r.bytes).toBe(linears / 4 + (parameterCount(ck.spec) - linears) * 2 + 7 * 24 * 2);
      expect(r.bytes).toBeGreaterThan(260e6);
      expect(r.bytes).toBeLessThan(280e6);
      expect(calls).toBe(ck.tensors.size);
      const m = ck.linear(23, 'down_proj');
      expect([m.rows, m.cols]).toEqual([1536, 4096]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

});
