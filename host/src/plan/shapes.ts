/**
 * Model shapes for planning: built-in shapes (so docs and tests run without files) and
 * config.json -> ModelSpec through the checkpoint package's parser (host/src/checkpoint/config.ts),
 * fed with a stand-in tensor list because planning needs only the shapes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { specFromConfig, parseQuantizationConfig } from '../checkpoint/config.js';
import { linearWeightName, LM_HEAD_NAME } from '../checkpoint/names.js';
import type { TensorInfo } from '../checkpoint/types.js';
import { TellmeError } from '../errors.js';
import { MAX_JSON_BYTES, readInputText } from '../files/input.js';
import { isModelImage, openImage } from '../image/reader.js';
import type { ModelSpec } from '../model/spec.js';

const base = {
  maxPositions: 2048,
  rmsNormEps: 1e-5,
  subNorms: true,
  weightStorage: 'master' as const,
  scaleConvention: null,
  dtype: null,
  padTokenId: null,
};

/** Built-in shapes (shared/reference/bitnet-checkpoints.md §2). */
export const BUILTIN_SHAPES: Readonly<Record<string, ModelSpec>> = {
  'bitnet-large': {
    ...base,
    family: '1bitllm',
    architecture: 'BitnetForCausalLM',
    modelType: 'llama',
    hiddenSize: 1536,
    intermediateSize: 4096,
    numLayers: 24,
    numHeads: 16,
    numKvHeads: 16,
    headDim: 96,
    vocabSize: 32002,
    ropeTheta: 10000,
    activation: 'silu',
    tiedEmbeddings: true,
    bosTokenId: 1,
    eosTokenIds: [2],
    padTokenId: 32000,
  },
  'bitnet-2b4t': {
    ...base,
    family: 'bitnet',
    architecture: 'BitNetForCausalLM',
    modelType: 'bitnet',
    hiddenSize: 2560,
    intermediateSize: 6912,
    numLayers: 30,
    numHeads: 20,
    numKvHeads: 5,
    headDim: 128,
    vocabSize: 128256,
    maxPositions: 4096,
    ropeTheta: 500000,
    activation: 'relu2',
    tiedEmbeddings: true,
    weightStorage: 'packed',
    scaleConvention: 'multiply',
    bosTokenId: 128000,
    eosTokenIds: [128001, 128009],
  },
  'bitnet-3b': {
    ...base,
    family: '1bitllm',
    architecture: 'BitnetForCausalLM',
    modelType: 'llama',
    hiddenSize: 3200,
    intermediateSize: 8640,
    numLayers: 26,
    numHeads: 32,
    numKvHeads: 32,
    headDim: 100,
    vocabSize: 32002,
    ropeTheta: 10000,
    activation: 'silu',
    tiedEmbeddings: true,
    bosTokenId: 1,
    eosTokenIds: [2],
    padTokenId: 32000,
  },
};

export function builtinShape(name: string): ModelSpec {
  const s = BUILTIN_SHAPES[name];
  if (!s) {
    throw new TellmeError('E_USAGE', `unknown shape "${name}"; built-in shapes: ${Object.keys(BUILTIN_SHAPES).join(', ')}`, 'Use one of the built-in shapes, or --model with a checkpoint directory or config.json.');
  }
  return { ...s, eosTokenIds: [...s.eosTokenIds] };
}

function idOrNull(v: unknown): number | null {
  return Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : null;
}

/**
 * ModelSpec from a parsed HF config.json, for planning: only the shapes are real. Storage is
 * taken from quantization_config (offline -> packed U8, otherwise masters) since no tensors are
 * read; a config that says tie_word_embeddings false is assumed to come with its lm_head.
 */
export function specFromConfigJson(obj: Record<string, unknown>, file = 'config.json'): ModelSpec {
  const qc = parseQuantizationConfig(obj, file);
  const packed = qc !== null && (qc.quantizationMode ?? 'offline') === 'offline';
  const probe: TensorInfo = {
    name: linearWeightName(0, 'q_proj'),
    dtype: packed ? 'U8' : 'BF16',
    shape: [],
    file: path.join(path.dirname(file), '(shapes only)'),
    offset: 0,
    byteLength: 0,
  };
  const tensors = new Map<string, TensorInfo>([[probe.name, probe]]);
  if (obj['tie_word_embeddings'] === false) tensors.set(LM_HEAD_NAME, { ...probe, name: LM_HEAD_NAME, dtype: 'BF16' });
  const eosRaw = obj['eos_token_id'];
  const eos = (Array.isArray(eosRaw) ? eosRaw : [eosRaw]).map(idOrNull).filter((x): x is number => x !== null);
  return specFromConfig({
    config: obj,
    configFile: file,
    tensors,
    special: { bos: idOrNull(obj['bos_token_id']), eos, pad: idOrNull(obj['pad_token_id']) },
  });
}

function readJson(file: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(readInputText(file, { what: 'a config.json', limit: MAX_JSON_BYTES, code: 'E_CONFIG' })!);
  } catch (e) {
    if (e instanceof TellmeError) throw e;
    throw new TellmeError('E_CONFIG', `${file}: cannot read JSON: ${(e as Error).message}`, 'Pass a valid config.json.');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new TellmeError('E_CONFIG', `${file}: expected a JSON object`, 'Pass a valid config.json.');
  return v as Record<string, unknown>;
}

/**
 * The shapes behind --model: an HF checkpoint directory (its config.json is enough), a
 * config.json file, or a model image.
 */
export function modelSpecFromPath(p: string): { spec: ModelSpec; source: string } {
  if (!fs.existsSync(p)) throw new TellmeError('E_NOT_FOUND', `${p} does not exist`, 'Pass a checkpoint directory, its config.json, or a model image.');
  if (!fs.statSync(p).isDirectory() && isModelImage(p)) return { spec: openImage(p, { verifyChecksums: false }).spec, source: p };
  let file = p;
  if (fs.statSync(p).isDirectory()) {
    file = path.join(p, 'config.json');
    if (!fs.existsSync(file)) {
      throw new TellmeError('E_NOT_FOUND', `${p} holds no config.json`, 'Pass a Hugging Face checkpoint directory (config.json is enough for planning) or a model image.');
    }
  }
  const obj = readJson(file);
  if (typeof obj['hidden_size'] === 'number') return { spec: specFromConfigJson(obj, file), source: file };
  throw new TellmeError(
    'E_CONFIG',
    `${file}: not a Hugging Face config.json (no "hidden_size") and not a model image`,
    'Pass a checkpoint directory, its config.json, or a model image made by tellme convert.',
  );
}
