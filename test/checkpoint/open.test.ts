import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/index.js';
import { writeSafetensors, type WriterTensor } from '../../host/src/checkpoint/safetensors-writer.js';
import { LAYER_NORM_ROLES, LINEAR_NAMES, linearShape } from '../../host/src/model/spec.js';
import { absmeanTernarize, unpackTernary } from '../../host/src/quant/ternary.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { editJson, expectTellme, patchHeader, rewriteSafetensors, tmpDir } from './helpers.js';

/** A fresh tiny checkpoint (no tokenizer, to keep it quick). */
function tiny(preset: 'bitnet-tiny-packed' | 'bitnet-tiny-master' | '1bitllm-tiny' | 'hf1bitllm-tiny' = 'bitnet-tiny-packed', extra = {}) {
  const dir = tmpDir('open');
  writeTestModel(dir, { preset, tokenizer: false, ...extra });
  return { dir, file: path.join(dir, 'model.safetensors'), config: path.join(dir, 'config.json') };
}

describe('openCheckpoint on a hand-built checkpoint', () => {
  // hidden 8, 2 heads of 4 (1 KV head), FFN 8, one layer, vocab 4: every value is known.
  function build(dir: string, scaleBits = 0x3fc0 /* bf16 1.5 */) {
    const f32 = (n: number, f: (i: number) => number) => new Uint8Array(Float32Array.from({ length: n }, (_, i) => f(i)).buffer);
    const packed = (rows: number, cols: number) => new Uint8Array((rows / 4) * cols).fill(0b10100001);
    const t: WriterTensor[] = [
      { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [4, 8], data: f32(32, (i) => i / 8) },
      { name: 'model.norm.weight', dtype: 'F32', shape: [8], data: f32(8, () => 1) },
      { name: 'model.layers.0.input_layernorm.weight', dtype: 'F32', shape: [8], data: f32(8, (i) => 1 + i / 16) },
      { name: 'model.layers.0.post_attention_layernorm.weight', dtype: 'F32', shape: [8], data: f32(8, () => 2) },
      { name: 'model.layers.0.self_attn.attn_sub_norm.weight', dtype: 'F32', shape: [8], data: f32(8, () => 3) },
      { name: 'model.layers.0.mlp.ffn_sub_norm.weight', dtype: 'F32', shape: [8], data: f32(8, () => 4) },
    ];
    const dims: Record<string, [number, number, string]> = {
      q_proj: [8, 8, 'self_attn'], k_proj: [4, 8, 'self_attn'], v_proj: [4, 8, 'self_attn'], o_proj: [8, 8, 'self_attn'],
      gate_proj: [8, 8, 'mlp'], up_proj: [8, 8, 'mlp'], down_proj: [8, 8, 'mlp'],
    };
    for (const [name, [rows, cols, block]] of Object.entries(dims)) {
      t.push({ name: `model.layers.0.${block}.${name}.weight`, dtype: 'U8', shape: [rows / 4, cols], data: packed(rows, cols) });
      t.push({ name: `model.layers.0.${block}.${name}.weight_scale`, dtype: 'BF16', shape: [1], data: new Uint8Array(Uint16Array.of(scaleBits).buffer) });
    }
    writeSafetensors(path.join(dir, 'model.safetensors'), t);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({
      architectures: ['BitNetForCausalLM'], model_type: 'bitnet', hidden_size: 8, intermediate_size: 8, num_hidden_layers: 1,
      num_attention_heads: 2, num_key_value_heads: 1, vocab_size: 4, tie_word_embeddings: true, bos_token_id: 0, eos_token_id: 1,
      quantization_config: { quant_method: 'bitnet', linear_class: 'autobitlinear', quantization_mode: 'offline' },
    }));
  }

  it('unpacks the block layout and applies the multiplicative scale', () => {
    const dir = tmpDir('hand');
    build(dir);
    const ck = openCheckpoint(dir);
    expect(ck.spec.headDim).toBe(4);
    const q = ck.linear(0, 'q_proj');
    expect([q.rows, q.cols, q.scale]).toEqual([8, 8, 1.5]);
    // Every byte is 0b10100001: rows 0-1 (bits 1:0) = 0, rows 2-3 = -1, rows 4-7 = +1.
    const rowValue = [0, 0, -1, -1, 1, 1, 1, 1];
    for (let r = 0; r < 8; r++) expect(Array.from(q.values.subarray(r * 8, r * 8 + 8))).toEqual(new Array(8).fill(rowValue[r]));
    const k = ck.linear(0, 'k_proj'); // rows 4 -> R 1: rows 0..3 = 0, -1, +1, +1
    expect(Array.from(k.values.subarray(0, 32)).filter((_, i) => i % 8 === 0)).toEqual([0, -1, 1, 1]);
    expect(ck.layerNorm(0, 'input')![1]).toBe(1 + 1 / 16);
    expect(ck.layerNorm(0, 'attn_sub')![0]).toBe(3);
    expect(ck.layerNorm(0, 'ffn_sub')![0]).toBe(4);
    expect(ck.lmHead().data).toEqual(ck.embedding().data);
    expect(ck.embedding().data[9]).toBe(9 / 8);
    expect(ck.spec.eosTokenIds).toEqual([1]);
  });

  it('refuses a weight scale that contradicts linear_class, lazily (on linear())', () => {
    const dir = tmpDir('hand-scale');
    build(dir, 0x4248 /* bf16 50 */);
    const ck = openCheckpoint(dir); // opening reads headers only
    expectTellme(() => ck.linear(0, 'o_proj'), 'E_CONFIG', 'model.layers.0.self_attn.o_proj.weight_scale', 'autobitlinear', 'config.json');
  });

  it('reports a code-3 byte with the tensor and file', () => {
    const dir = tmpDir('hand-code3');
    build(dir);
    rewriteSafetensors(path.join(dir, 'model.safetensors'), (ts) => {
      const t = ts.find((x) => x.name === 'model.layers.0.mlp.up_proj.weight')!;
      const bytes = Uint8Array.from(t.data as Uint8Array);
      bytes[5] = 0b11000001;
      t.data = bytes;
    });
    expectTellme(() => openCheckpoint(dir).linear(0, 'up_proj'), 'E_CHECKPOINT', 'model.layers.0.mlp.up_proj.weight', 'model.safetensors', 'code 3');
  });
});

describe('openCheckpoint on generated models', () => {
  for (const preset of ['bitnet-tiny-packed', 'bitnet-tiny-master', '1bitllm-tiny', 'hf1bitllm-tiny'] as const) {
    it(`${preset}: every accessor agrees with the raw tensors`, () => {
      const { dir } = tiny(preset);
      const ck = openCheckpoint(dir);
      const { spec } = ck;
      for (let layer = 0; layer < spec.numLayers; layer++) {
        for (const name of LINEAR_NAMES) {
          const m = ck.linear(layer, name);
          const { rows, cols } = linearShape(spec, name);
          expect([m.rows, m.cols]).toEqual([rows, cols]);
          const block = name.endsWith('_proj') && ['gate_proj', 'up_proj', 'down_proj'].includes(name) ? 'mlp' : 'self_attn';
          const w = `model.layers.${layer}.${block}.${name}.weight`;
          if (spec.weightStorage === 'packed') {
            expect(m.values).toEqual(unpackTernary(ck.readBytes(w), rows, cols, w));
            const raw = ck.readF32(`model.layers.${layer}.${block}.${name}.weight_scale`)[0]!;
            expect(m.scale).toBe(spec.scaleConvention === 'multiply' ? Math.fround(raw) : Math.fround(1 / raw));
          } else {
            const q = absmeanTernarize(ck.readF32(w), rows, cols);
            expect(m.values).toEqual(q.values);
            expect(m.scale).toBe(q.scale);
          }
        }
        for (const role of LAYER_NORM_ROLES) {
          const n = ck.layerNorm(layer, role);
          if (!spec.subNorms && (role === 'attn_sub' || role === 'ffn_sub')) expect(n).toBeNull();
          else expect(n!.length).toBe(role === 'ffn_sub' ? spec.intermediateSize : spec.hiddenSize);
        }
      }
      if (spec.tiedEmbeddings) expect(ck.lmHead().data).toEqual(ck.embedding().data);
      else expect(ck.lmHead().data).toEqual(ck.readF32('lm_head.weight'));
      expect(ck.finalNorm().length).toBe(spec.hiddenSize);
      expect(ck.embedding().rows).toBe(spec.vocabSize);
      expectTellme(() => ck.linear(spec.numLayers, 'q_proj'), 'E_USAGE', `layer ${spec.numLayers}`);
    });
  }

  it('1bitLLM norms use inner_attn_ln / ffn_layernorm names', () => {
    const { dir } = tiny('1bitllm-tiny');
    const ck = openCheckpoint(dir);
    expect(ck.tensors.has('model.layers.0.self_attn.inner_attn_ln.weight')).toBe(true);
    expect(ck.layerNorm(0, 'attn_sub')).toEqual(ck.readF32('model.layers.0.self_attn.inner_attn_ln.weight'));
    expect(ck.layerNorm(0, 'ffn_sub')).toEqual(ck.readF32('model.layers.0.mlp.ffn_layernorm.weight'));
  });

  it('a sharded checkpoint reads the same tensors as a single file', () => {
    const one = tiny('bitnet-tiny-packed');
    const sharded = tiny('bitnet-tiny-packed', { shards: 3 });
    expect(fs.existsSync(path.join(sharded.dir, 'model.safetensors.index.json'))).toBe(true);
    expect(fs.existsSync(sharded.file)).toBe(false);
    const a = openCheckpoint(one.dir);
    const b = openCheckpoint(sharded.dir);
    expect(new Set([...b.tensors.values()].map((t) => t.file)).size).toBe(3);
    expect([...b.tensors.keys()].sort()).toEqual([...a.tensors.keys()].sort());
    for (const name of a.tensors.keys()) expect(b.readBytes(name)).toEqual(a.readBytes(name));
    expect(b.linear(1, 'down_proj')).toEqual(a.linear(1, 'down_proj'));
  });
});

describe('openCheckpoint bad inputs (one test per case)', () => {
  it('truncated file', () => {
    const { dir, file } = tiny();
    fs.truncateSync(file, fs.statSync(file).size - 100);
    expectTellme(() => openCheckpoint(dir), 'E_SAFETENSORS', file, 'tensor', 'truncated');
  });

  it('header length past the end of the file', () => {
    const { dir, file } = tiny();
    const fd = fs.openSync(file, 'r+');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(fs.statSync(file).size + 1000));
    fs.writeSync(fd, len, 0, 8, 0);
    fs.closeSync(fd);
    expectTellme(() => openCheckpoint(dir), 'E_SAFETENSORS', file, 'header length', 'past the end');
  });

  it('invalid JSON in the header', () => {
    const { dir, file } = tiny();
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from('{{'), 0, 2, 8);
    fs.closeSync(fd);
    expectTellme(() => openCheckpoint(dir), 'E_SAFETENSORS', file, 'not valid JSON');
  });

  it('overlapping offsets', () => {
    const { dir, file } = tiny();
    patchHeader(file, (h) => {
      const t = h['model.norm.weight']!;
      t.data_offsets = [t.data_offsets[0]! - 2, t.data_offsets[1]! - 2];
    });
    expectTellme(() => openCheckpoint(dir), 'E_SAFETENSORS', file, "'model.norm.weight'", 'overlaps');
  });

  it('out-of-range offsets', () => {
    const { dir, file } = tiny();
    patchHeader(file, (h) => {
      const [name, t] = Object.entries(h).filter(([k]) => k !== '__metadata__').sort((a, b) => b[1].data_offsets[1]! - a[1].data_offsets[1]!)[0]!;
      t.data_offsets = [t.data_offsets[0]! + 64, t.data_offsets[1]! + 64];
      expect(name).toBeTruthy();
    });
    expectTellme(() => openCheckpoint(dir), 'E_SAFETENSORS', file, 'outside the data buffer');
  });

  it('shape contradicting config.json', () => {
    const { dir, config } = tiny();
    editJson(config, (c) => {
      c['intermediate_size'] = 256;
    });
    expectTellme(() => openCheckpoint(dir), 'E_CHECKPOINT', 'model.safetensors', 'has shape', config, '[256]');
  });

  it('dtype contradicting config.json (a packed linear stored as BF16, a U8 norm)', () => {
    const { dir, file } = tiny();
    rewriteSafetensors(file, (ts) => {
      const t = ts.find((x) => x.name === 'model.layers.1.self_attn.v_proj.weight')!;
      t.dtype = 'BF16';
      t.shape = [t.shape[0]!, t.shape[1]! / 2];
    });
    expectTellme(() => openCheckpoint(dir), 'E_CHECKPOINT', file, "'model.layers.1.self_attn.v_proj.weight'", 'BF16', 'packed U8');
    const b = tiny();
    rewriteSafetensors(b.file, (ts) => {
      const t = ts.find((x) => x.name === 'model.norm.weight')!;
      t.dtype = 'U8';
      t.shape = [t.shape[0]! * 2];
    });
    expectTellme(() => openCheckpoint(b.dir), 'E_CHECKPOINT', b.file, "'model.norm.weight'", 'U8', 'float dtype');
  });

  it('missing tensor', () => {
    const { dir, file } = tiny();
    rewriteSafetensors(file, (ts) => {
      ts.splice(ts.findIndex((x) => x.name === 'model.layers.1.mlp.ffn_sub_norm.weight'), 1);
    });
    expectTellme(() => openCheckpoint(dir), 'E_CHECKPOINT', file, "missing tensor 'model.layers.1.mlp.ffn_sub_norm.weight'");
  });

  it('missing weight_scale of a packed linear', () => {
    const { dir, file } = tiny();
    rewriteSafetensors(file, (ts) => {
      ts.splice(ts.findIndex((x) => x.name === 'model.layers.0.mlp.gate_proj.weight_scale'), 1);
    });
    expectTellme(() => openCheckpoint(dir), 'E_CHECKPOINT', "missing tensor 'model.layers.0.mlp.gate_proj.weight_scale'");
  });

  it('unknown architecture', () => {
    const { dir, config } = tiny();
    editJson(config, (c) => {
      c['model_type'] = 'mamba';
      c['architectures'] = ['MambaForCausalLM'];
    });
    expectTellme(() => openCheckpoint(dir), 'E_CONFIG', config, '"mamba"', 'MambaForCausalLM');
  });

  it('directory without config.json', () => {
    const { dir, config } = tiny();
    fs.rmSync(config);
    expectTellme(() => openCheckpoint(dir), 'E_CHECKPOINT', dir, 'no config.json');
  });

  it('a directory that does not exist, and a file instead of a directory', () => {
    const { dir, file } = tiny();
    expectTellme(() => openCheckpoint(path.join(dir, 'nope')), 'E_NOT_FOUND', 'nope');
    expectTellme(() => openCheckpoint(file), 'E_CHECKPOINT', 'not a checkpoint directory');
  });

  it('invalid JSON in config.json', () => {
    const { dir, config } = tiny();
    fs.writeFileSync(config, '{"model_type": "bitnet",');
    expectTellme(() => openCheckpoint(dir), 'E_CONFIG', config, 'invalid JSON');
  });

  it('no safetensors at all (PyTorch .bin only)', () => {
    const { dir, file } = tiny();
    fs.renameSync(file, path.join(dir, 'pytorch_model.bin'));
    expectTellme(() => openCheckpoint(dir), 'E_CHECKPOINT', 'model.safetensors', 'PyTorch .bin');
  });

  it('quantization_config contradicting the stored weights', () => {
    const { dir, config } = tiny('bitnet-tiny-master');
    editJson(config, (c) => {
      (c['quantization_config'] as Record<string, unknown>)['quantization_mode'] = 'offline';
    });
    expectTellme(() => openCheckpoint(dir), 'E_CHECKPOINT', config, '"offline"', 'model.layers.0.self_attn.q_proj.weight', 'BF16');
  });

  it('inverted scales under a config that declares autobitlinear', () => {
    const { dir, config } = tiny('hf1bitllm-tiny');
    editJson(config, (c) => {
      (c['quantization_config'] as Record<string, unknown>)['linear_class'] = 'autobitlinear';
    });
    const ck = openCheckpoint(dir);
    expect(ck.spec.scaleConvention).toBe('multiply');
    expectTellme(() => ck.linear(0, 'v_proj'), 'E_CONFIG', 'v_proj.weight_scale', 'too large', 'linear_class "autobitlinear"');
  });
});

describe('sharded index errors', () => {
  it('a shard listed in the index is missing', () => {
    const { dir } = tiny('bitnet-tiny-packed', { shards: 2 });
    fs.rmSync(path.join(dir, 'model-00002-of-00002.safetensors'));
    expectTellme(() => openCheckpoint(dir), 'E_NOT_FOUND', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json');
  });

  it('the index maps a tensor to a shard that does not hold it', () => {
    const { dir } = tiny('bitnet-tiny-packed', { shards: 2 });
    const index = path.join(dir, 'model.safetensors.index.json');
    editJson(index, (j) => {
      const map = j['weight_map'] as Record<string, string>;
      map['model.norm.weight'] = map['model.norm.weight'] === 'model-00001-of-00002.safetensors' ? 'model-00002-of-00002.safetensors' : 'model-00001-of-00002.safetensors';
    });
    expectTellme(() => openCheckpoint(dir), 'E_CHECKPOINT', "'model.norm.weight'", 'does not contain it');
  });

  it('a shard holds a tensor the index does not list', () => {
    const { dir } = tiny('bitnet-tiny-packed', { shards: 2 });
    editJson(path.join(dir, 'model.safetensors.index.json'), (j) => {
      delete (j['weight_map'] as Record<string, string>)['model.layers.0.input_layernorm.weight'];
    });
    expectTellme(() => openCheckpoint(dir), 'E_CHECKPOINT', "'model.layers.0.input_layernorm.weight'", 'does not list');
  });
});
