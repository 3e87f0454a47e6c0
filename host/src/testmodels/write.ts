/**
 * writeTestModel: a complete, deterministic Hugging Face checkpoint directory of any of the three
 * families, from a seed. Every tensor draws from its own stream (seed, tensor name), so the
 * weights do not depend on tensor order or on how the model is sharded.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TellmeError } from '../errors.js';
import { LINEAR_NAMES, type LayerNormRole, type LinearName } from '../model/spec.js';
import { EMBED_NAME, FINAL_NORM_NAME, LM_HEAD_NAME, layerNormName, linearWeightName, weightScaleName } from '../checkpoint/names.js';
import { itemSize } from '../checkpoint/dtype.js';
import { tensorByteLength, writeSafetensors, type WriterTensor } from '../checkpoint/safetensors-writer.js';
import { INDEX_FILE, SINGLE_FILE } from '../checkpoint/tensor-index.js';
import { packedRows } from '../quant/ternary.js';
import { buildTokenizer, specialIds, tokenizerConfigJson, type SpecialIds } from './bpe.js';
import { resolveTestModelOptions, type TestModelInput, type TestModelOptions } from './options.js';
import { Rng } from './prng.js';
import { floatProducer, floatsToBytes, packedProducer, rowsProducer, safetensorsDtype } from './tensors.js';

export interface TestModelResult {
  dir: string;
  /** Every file written, absolute paths. */
  files: string[];
  /** Bytes of safetensors data written (all shards). */
  bytes: number;
  options: TestModelOptions;
  ids: SpecialIds;
}

export interface WriteTestModelHooks {
  /** Called after each tensor with the safetensors bytes written so far and the total. */
  onProgress?: (written: number, total: number) => void;
  /**
   * Files of an earlier run to remove first (paths relative to the directory). Default: every
   * file a loader would read whatever wrote it (model*.safetensors, the index, tokenizer.json),
   * for tests and benchmarks in their own directories; the CLI passes exactly what its earlier
   * run recorded, so that it never deletes a file it did not write.
   */
  replaceFiles?: readonly string[];
}

const SHARD_NAME = /^model-\d{5}-of-\d{5}\.safetensors$/;

function headDimOf(o: TestModelOptions): number {
  return o.headDim ?? o.hidden / o.heads;
}

function linearDims(o: TestModelOptions, name: LinearName): { rows: number; cols: number } {
  const q = o.heads * headDimOf(o);
  const kv = o.kvHeads * headDimOf(o);
  switch (name) {
    case 'q_proj': return { rows: q, cols: o.hidden };
    case 'k_proj':
    case 'v_proj': return { rows: kv, cols: o.hidden };
    case 'o_proj': return { rows: o.hidden, cols: q };
    case 'gate_proj':
    case 'up_proj': return { rows: o.intermediate, cols: o.hidden };
    case 'down_proj': return { rows: o.hidden, cols: o.intermediate };
  }
}

function buildTensors(o: TestModelOptions): WriterTensor[] {
  const dt = safetensorsDtype(o.dtype);
  const out: WriterTensor[] = [];
  // Tied: the embedding is the head, so its std sets the logit spread.
  const headStd = o.tied && o.embedStd !== null ? o.embedStd : o.logitScale / Math.sqrt(o.hidden);
  const gauss = (std: number) => (r: Rng) => std * r.gaussianish();

  // Optional spread of head row norms (headRowSpread; 0 in the presets).
  const rowScale = new Float32Array(o.vocab).fill(1);
  if (o.headRowSpread > 0) {
    const r = Rng.forTensor(o.seed, 'head-row-scale');
    for (let i = 0; i < o.vocab; i++) rowScale[i] = Math.max(0.2, 1 + o.headRowSpread * r.gaussianish());
  }
  const embedStd = o.embedStd ?? headStd;
  // Rows come from their own streams so the head can re-create any embedding row (successor).
  const embedRow = (row: number, out: Float32Array, std: number) => {
    const r = Rng.forRow(o.seed, EMBED_NAME, row);
    for (let i = 0; i < out.length; i++) out[i] = std * r.gaussianish();
  };
  out.push({
    name: EMBED_NAME, dtype: dt, shape: [o.vocab, o.hidden],
    data: rowsProducer(dt, o.vocab, o.hidden, (row, v) => embedRow(row, v, embedStd * (o.tied ? rowScale[row]! : 1))),
  });

  const norm = (name: string, size: number): WriterTensor => {
    const r = Rng.forTensor(o.seed, name);
    const v = new Float32Array(size);
    for (let i = 0; i < size; i++) v[i] = r.range(1 - o.normSpread, 1 + o.normSpread);
    return { name, dtype: dt, shape: [size], data: floatsToBytes(v, dt) };
  };

  const qDim = o.heads * headDimOf(o);
  for (let layer = 0; layer < o.layers; layer++) {
    for (const role of ['input', 'post_attention', 'attn_sub', 'ffn_sub'] as LayerNormRole[]) {
      const name = layerNormName(o.family, layer, role);
      if (name) out.push(norm(name, role === 'ffn_sub' ? o.intermediate : role === 'attn_sub' ? qDim : o.hidden));
    }
    for (const lin of LINEAR_NAMES) {
      const { rows, cols } = linearDims(o, lin);
      const name = linearWeightName(layer, lin);
      const rng = Rng.forTensor(o.seed, name);
      const gain = lin === 'q_proj' || lin === 'k_proj' ? o.qkGain : 1;
      if (o.weights === 'packed') {
        const R = packedRows(rows);
        out.push({ name, dtype: 'U8', shape: [R, cols], data: packedProducer(R * cols, rng) });
        const sname = weightScaleName(layer, lin);
        const ws = gain * Rng.forTensor(o.seed, sname).range(o.weightScale[0], o.weightScale[1]);
        // hf1bitllm (BitLinear class) stores the inverse of the multiplicative factor.
        const stored = o.family === 'hf1bitllm' ? 1 / ws : ws;
        out.push({ name: sname, dtype: dt, shape: [1], data: floatsToBytes(Float32Array.of(stored), dt) });
      } else {
        out.push({ name, dtype: dt, shape: [rows, cols], data: floatProducer(dt, rows * cols, rng, gauss(gain * o.masterStd)) });
      }
    }
  }
  out.push(norm(FINAL_NORM_NAME, o.hidden));
  if (!o.tied) {
    // successor > 0: the head row of token next[t] leans towards embedding row t, so a model whose
    // residual stream still carries the input embedding predicts next[t] after t with a clear margin.
    const next = o.successor > 0 ? permutation(o.vocab, Rng.forTensor(o.seed, 'successor')) : null;
    const from = new Int32Array(o.vocab);
    if (next) for (let t = 0; t < o.vocab; t++) from[next[t]!] = t;
    const mix = Math.sqrt(1 - o.successor * o.successor);
    const e = new Float32Array(o.hidden);
    out.push({
      name: LM_HEAD_NAME, dtype: dt, shape: [o.vocab, o.hidden],
      data: rowsProducer(dt, o.vocab, o.hidden, (row, v) => {
        const r = Rng.forRow(o.seed, LM_HEAD_NAME, row);
        const std = headStd * rowScale[row]!;
        if (next) embedRow(from[row]!, e, 1);
        for (let i = 0; i < v.length; i++) v[i] = std * (next ? o.successor * e[i]! + mix * r.gaussianish() : r.gaussianish());
      }),
    });
  }
  // The reference writer's order: larger items first, then by name, which keeps data aligned.
  return out.sort((a, b) => itemSize(b.dtype) - itemSize(a.dtype) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A seeded random permutation of 0..n-1 (Fisher-Yates). */
function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** Split tensors (in order) into exactly k non-empty groups of about equal byte size. */
function shard(tensors: WriterTensor[], k: number): WriterTensor[][] {
  if (k > tensors.length) throw new TellmeError('E_USAGE', `test model: cannot split ${tensors.length} tensors into ${k} shards`, 'Use fewer shards.');
  const sizes = tensors.map((t) => tensorByteLength(t.dtype, t.shape));
  const target = sizes.reduce((a, b) => a + b, 0) / k;
  const groups: WriterTensor[][] = [[]];
  let cur = 0;
  tensors.forEach((t, i) => {
    const last = groups[groups.length - 1]!;
    const shardsLeft = k - groups.length;
    if (last.length > 0 && shardsLeft > 0 && (cur + sizes[i]! > target || tensors.length - i <= shardsLeft)) {
      groups.push([t]);
      cur = sizes[i]!;
    } else {
      last.push(t);
      cur += sizes[i]!;
    }
  });
  return groups;
}

function configJson(o: TestModelOptions, ids: SpecialIds): Record<string, unknown> {
  const c: Record<string, unknown> = {};
  if (o.family === 'bitnet') {
    c['architectures'] = ['BitNetForCausalLM'];
    c['model_type'] = 'bitnet';
  } else if (o.family === '1bitllm') {
    c['architectures'] = ['BitnetForCausalLM'];
    c['model_type'] = 'llama';
  } else {
    c['architectures'] = ['LlamaForCausalLM'];
    c['model_type'] = 'llama';
  }
  Object.assign(c, {
    attention_bias: false,
    attention_dropout: 0.0,
    bos_token_id: ids.bos,
    eos_token_id: ids.eos,
    hidden_act: o.family === 'bitnet' ? 'relu2' : 'silu',
    hidden_size: o.hidden,
    initializer_range: 0.02,
    intermediate_size: o.intermediate,
    max_position_embeddings: o.maxPositions,
    num_attention_heads: o.heads,
    num_hidden_layers: o.layers,
    num_key_value_heads: o.kvHeads,
    rms_norm_eps: o.rmsNormEps,
    tie_word_embeddings: o.tied,
    use_cache: true,
    vocab_size: o.vocab,
  });
  if (o.headDim !== null) c['head_dim'] = o.headDim;
  if (o.configStyle === 'transformers5') {
    c['rope_parameters'] = { rope_theta: o.ropeTheta, rope_type: 'default' };
    c['dtype'] = o.dtype;
    c['transformers_version'] = '5.0.0';
  } else {
    c['rope_theta'] = o.ropeTheta;
    c['rope_scaling'] = null;
    c['torch_dtype'] = o.dtype;
    c['transformers_version'] = '4.52.0';
  }
  if (o.family === 'bitnet') {
    c['quantization_config'] = {
      quant_method: 'bitnet',
      linear_class: 'autobitlinear',
      quantization_mode: o.weights === 'packed' ? 'offline' : 'online',
    };
  } else if (o.family === 'hf1bitllm') {
    c['quantization_config'] = { quant_method: 'bitnet', linear_class: 'bitlinear', quantization_mode: 'offline', modules_to_not_convert: ['lm_head'] };
  } else {
    // 1bitLLM's config.json carries its training-time bit widths.
    c['weight_bits'] = 1;
    c['input_bits'] = 8;
  }
  return c;
}

function writeJson(file: string, value: unknown, files: string[]): void {
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
  files.push(file);
}

/** Remove what an earlier run may have left that would change what a loader reads. */
function removeStale(dir: string, replaceFiles: readonly string[] | undefined): void {
  if (replaceFiles) {
    for (const f of replaceFiles) {
      const p = path.resolve(dir, f);
      // Only plain files directly inside dir: a record naming ../x or a directory removes nothing.
      if (path.dirname(p) === dir && fs.lstatSync(p, { throwIfNoEntry: false })?.isFile()) fs.rmSync(p);
    }
    return;
  }
  for (const f of fs.readdirSync(dir)) {
    if (f === SINGLE_FILE || f === INDEX_FILE || f === 'tokenizer.json' || SHARD_NAME.test(f)) fs.rmSync(path.join(dir, f));
  }
}

export function writeTestModel(dirArg: string, input: TestModelInput = {}, hooks: WriteTestModelHooks = {}): TestModelResult {
  const o = resolveTestModelOptions(input);
  const dir = path.resolve(dirArg);
  fs.mkdirSync(dir, { recursive: true });
  removeStale(dir, hooks.replaceFiles);
  const ids = specialIds(o.vocab);
  const files: string[] = [];

  writeJson(path.join(dir, 'config.json'), configJson(o, ids), files);
  writeJson(path.join(dir, 'generation_config.json'), { _from_model_config: true, bos_token_id: ids.bos, eos_token_id: [ids.eos, ids.eot], do_sample: false }, files);
  if (o.tokenizer) {
    const tok = buildTokenizer(o.vocab, o.maxPositions);
    writeJson(path.join(dir, 'tokenizer.json'), tok.tokenizerJson, files);
    writeJson(path.join(dir, 'tokenizer_config.json'), tok.tokenizerConfig, files);
  } else {
    writeJson(path.join(dir, 'tokenizer_config.json'), tokenizerConfigJson(o.vocab, o.maxPositions, false), files);
  }

  const tensors = buildTensors(o);
  const total = tensors.reduce((a, t) => a + tensorByteLength(t.dtype, t.shape), 0);
  let written = 0;
  const withProgress = (ts: WriterTensor[]): WriterTensor[] =>
    ts.map((t) => ({
      ...t,
      data: (emit: (b: Uint8Array) => void) => {
        if (typeof t.data === 'function') t.data(emit);
        else emit(t.data);
        written += tensorByteLength(t.dtype, t.shape);
        hooks.onProgress?.(written, total);
      },
    }));
  const metadata = { format: 'pt' };
  if (o.shards === 1) {
    const file = path.join(dir, SINGLE_FILE);
    writeSafetensors(file, withProgress(tensors), metadata);
    files.push(file);
  } else {
    const groups = shard(tensors, o.shards);
    const weightMap: Record<string, string> = {};
    groups.forEach((g, i) => {
      const name = `model-${String(i + 1).padStart(5, '0')}-of-${String(groups.length).padStart(5, '0')}.safetensors`;
      const file = path.join(dir, name);
      writeSafetensors(file, withProgress(g), metadata);
      files.push(file);
      for (const t of g) weightMap[t.name] = name;
    });
    writeJson(path.join(dir, INDEX_FILE), { metadata: { total_size: total }, weight_map: weightMap }, files);
  }
  return { dir, files, bytes: total, options: o, ids };
}
