/**
 * Hugging Face config.json (+ the tensors actually present) -> ModelSpec.
 *
 * Families (shared/reference/bitnet-checkpoints.md §1, §2, §7):
 *   bitnet     model_type "bitnet" (microsoft/bitnet-b1.58-2B-4T packed, and its -bf16 masters)
 *   1bitllm    model_type "llama" + architectures ["BitnetForCausalLM"] (latent masters, SwiGLU)
 *   hf1bitllm  model_type "llama" + quantization_config.quant_method "bitnet" (packed, inverted scales)
 * Storage is decided by the tensors (U8 weights are packed, float weights are masters), because
 * that is what the loader will actually read; quantization_config is only cross-checked, and a
 * contradiction is an error that names both sides.
 */

import { TellmeError } from '../errors.js';
import { implausibleSpec, type FfnActivation, type ModelFamily, type ModelSpec, type ScaleConvention, type WeightStorage } from '../model/spec.js';
import { F32_CONVERTIBLE } from './dtype.js';
import { linearWeightName } from './names.js';
import type { SpecialTokens } from './special-tokens.js';
import type { TensorInfo } from './types.js';

/** What tellme reads, for error messages. */
export const SUPPORTED_MODELS =
  'model_type "bitnet" (BitNetForCausalLM, e.g. microsoft/bitnet-b1.58-2B-4T and -bf16); ' +
  'model_type "llama" with architectures ["BitnetForCausalLM"] (1bitLLM bitnet_b1_58-large/-3B); ' +
  'model_type "llama" with quantization_config.quant_method "bitnet" (HF1BitLLM-style packed Llama)';

/** The BitNet quantization_config as far as it matters to a loader (§1.3). */
export interface QuantizationConfig {
  quantMethod: string;
  /** As written; null when absent (HF then uses "bitlinear"). */
  linearClass: 'autobitlinear' | 'bitlinear' | null;
  /** As written; null when absent (HF then uses "offline"). */
  quantizationMode: 'online' | 'offline' | null;
}

export interface ConfigInput {
  config: Readonly<Record<string, unknown>>;
  /** Path of config.json, for messages. */
  configFile: string;
  tensors: ReadonlyMap<string, TensorInfo>;
  special: SpecialTokens;
}

function cfgError(file: string, msg: string, fix: string): TellmeError {
  return new TellmeError('E_CONFIG', `${file}: ${msg}`, fix);
}

function positiveInt(config: Readonly<Record<string, unknown>>, key: string, file: string, fallback?: number): number {
  const v = config[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw cfgError(file, `missing "${key}"`, `Add "${key}" to ${file} (a positive integer).`);
  }
  if (!Number.isSafeInteger(v) || (v as number) <= 0) {
    throw cfgError(file, `"${key}" is ${JSON.stringify(v)}, expected a positive integer`, `Fix "${key}" in ${file}.`);
  }
  return v as number;
}

function positiveNumber(v: unknown, key: string, file: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw cfgError(file, `"${key}" is ${JSON.stringify(v)}, expected a positive number`, `Fix "${key}" in ${file}.`);
  }
  return v;
}

export function detectFamily(config: Readonly<Record<string, unknown>>, file: string): ModelFamily {
  const modelType = config['model_type'];
  const archs = Array.isArray(config['architectures']) ? (config['architectures'] as unknown[]).map(String) : [];
  const qc = config['quantization_config'] as Record<string, unknown> | undefined | null;
  const found = `model_type ${JSON.stringify(modelType)}, architectures ${JSON.stringify(config['architectures'] ?? null)}`;
  if (modelType === 'bitnet') return 'bitnet';
  if (modelType === 'llama') {
    // 1bitLLM ships custom code under this name; transformers' own class is spelled BitNetForCausalLM.
    if (archs.some((a) => a.toLowerCase() === 'bitnetforcausallm')) return '1bitllm';
    if (qc && typeof qc === 'object' && qc['quant_method'] === 'bitnet') return 'hf1bitllm';
    throw cfgError(
      file,
      `${found} is a plain Llama model, not a ternary BitNet checkpoint (no BitnetForCausalLM architecture, no quantization_config.quant_method "bitnet")`,
      `tellme reads ternary models only: ${SUPPORTED_MODELS}.`,
    );
  }
  throw cfgError(file, `unsupported model: ${found}`, `tellme reads: ${SUPPORTED_MODELS}.`);
}

export function parseQuantizationConfig(config: Readonly<Record<string, unknown>>, file: string): QuantizationConfig | null {
  const qc = config['quantization_config'];
  if (qc === undefined || qc === null) return null;
  if (typeof qc !== 'object' || Array.isArray(qc)) throw cfgError(file, 'quantization_config is not an object', `Fix quantization_config in ${file}.`);
  const q = qc as Record<string, unknown>;
  if (q['quant_method'] !== 'bitnet') {
    throw cfgError(
      file,
      `quantization_config.quant_method is ${JSON.stringify(q['quant_method'])}; only "bitnet" (ternary) is supported`,
      'Use a BitNet b1.58 checkpoint; other quantisation methods are not ternary.',
    );
  }
  const lc = q['linear_class'];
  if (lc !== undefined && lc !== null && lc !== 'autobitlinear' && lc !== 'bitlinear') {
    throw cfgError(file, `quantization_config.linear_class is ${JSON.stringify(lc)}; expected "autobitlinear" or "bitlinear"`, `Fix linear_class in ${file}.`);
  }
  const mode = q['quantization_mode'];
  if (mode !== undefined && mode !== null && mode !== 'online' && mode !== 'offline') {
    throw cfgError(file, `quantization_config.quantization_mode is ${JSON.stringify(mode)}; expected "online" or "offline"`, `Fix quantization_mode in ${file}.`);
  }
  if (q['use_rms_norm'] === true) {
    throw cfgError(
      file,
      'quantization_config.use_rms_norm is true (an extra RMSNorm inside every BitLinear), which tellme does not implement',
      'Use a checkpoint without use_rms_norm (the Microsoft and 1bitLLM models have it off).',
    );
  }
  return {
    quantMethod: 'bitnet',
    linearClass: (lc ?? null) as QuantizationConfig['linearClass'],
    quantizationMode: (mode ?? null) as QuantizationConfig['quantizationMode'],
  };
}

/** rope_theta at the top level (transformers 4) or in rope_parameters (transformers 5, §7). */
function ropeTheta(config: Readonly<Record<string, unknown>>, file: string, fallback: number): number {
  const params = config['rope_parameters'];
  const scaling = config['rope_scaling'];
  for (const [key, v] of [['rope_parameters', params], ['rope_scaling', scaling]] as const) {
    if (v === undefined || v === null) continue;
    if (typeof v !== 'object' || Array.isArray(v)) throw cfgError(file, `"${key}" is not an object`, `Fix ${key} in ${file}.`);
    const type = (v as Record<string, unknown>)['rope_type'] ?? (v as Record<string, unknown>)['type'];
    if (type !== undefined && type !== 'default') {
      throw cfgError(file, `${key}.rope_type ${JSON.stringify(type)} is not supported (only the default RoPE)`, 'Use a checkpoint with the default rotary embedding.');
    }
  }
  if (config['rope_theta'] !== undefined && config['rope_theta'] !== null) return positiveNumber(config['rope_theta'], 'rope_theta', file, fallback);
  if (params && typeof params === 'object') {
    const t = (params as Record<string, unknown>)['rope_theta'];
    if (t !== undefined) return positiveNumber(t, 'rope_parameters.rope_theta', file, fallback);
  }
  return fallback;
}

function activation(config: Readonly<Record<string, unknown>>, file: string, fallback: FfnActivation): FfnActivation {
  const act = config['hidden_act'] ?? fallback;
  if (act === 'relu2') return 'relu2';
  if (act === 'silu' || act === 'swish') return 'silu';
  throw cfgError(file, `hidden_act ${JSON.stringify(act)} is not supported (relu2 or silu)`, `Fix hidden_act in ${file}.`);
}

/** Packed or master, from the dtype of layer 0's q_proj weight. */
function storageFromTensors(tensors: ReadonlyMap<string, TensorInfo>, configFile: string): { storage: WeightStorage; probe: TensorInfo } {
  const name = linearWeightName(0, 'q_proj');
  const probe = tensors.get(name);
  if (!probe) {
    throw new TellmeError(
      'E_CHECKPOINT',
      `checkpoint next to ${configFile}: missing tensor '${name}'`,
      'The safetensors files do not match config.json; re-download the checkpoint.',
    );
  }
  if (probe.dtype === 'U8') return { storage: 'packed', probe };
  if (F32_CONVERTIBLE.has(probe.dtype)) return { storage: 'master', probe };
  throw new TellmeError(
    'E_CHECKPOINT',
    `${probe.file}: tensor '${name}' is ${probe.dtype}; expected U8 (packed ternary) or a float dtype (full-precision master)`,
    'Use a BitNet checkpoint with packed U8 or BF16/F16/F32 weights.',
  );
}

export function specFromConfig(input: ConfigInput): ModelSpec {
  const { config, configFile: file, tensors, special } = input;
  const family = detectFamily(config, file);
  const qc = parseQuantizationConfig(config, file);
  const isBitnet = family === 'bitnet';

  const hiddenSize = positiveInt(config, 'hidden_size', file);
  const numHeads = positiveInt(config, 'num_attention_heads', file);
  const numKvHeads = positiveInt(config, 'num_key_value_heads', file, numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw cfgError(file, `num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`, `Fix the head counts in ${file}.`);
  }
  if (config['head_dim'] == null && hiddenSize % numHeads !== 0) {
    throw cfgError(file, `hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads} and there is no head_dim`, `Add head_dim to ${file}.`);
  }
  const headDim = positiveInt(config, 'head_dim', file, hiddenSize / numHeads);
  if (config['attention_bias'] === true || config['mlp_bias'] === true) {
    throw cfgError(file, 'attention_bias / mlp_bias is true; BitLinear biases are not supported', 'Use a checkpoint without linear biases.');
  }

  const { storage, probe } = storageFromTensors(tensors, file);
  if (qc) {
    const mode = qc.quantizationMode ?? 'offline';
    const expected: WeightStorage = mode === 'offline' ? 'packed' : 'master';
    if (expected !== storage) {
      throw new TellmeError(
        'E_CHECKPOINT',
        `${file} declares quantization_config.quantization_mode ${JSON.stringify(qc.quantizationMode ?? 'offline (the default)')}, which means ${expected === 'packed' ? 'packed U8 weights' : 'full-precision master weights'}, ` +
          `but ${probe.file} stores '${probe.name}' as ${probe.dtype} [${probe.shape.join(', ')}] (${storage === 'packed' ? 'packed' : 'masters'})`,
        `Set quantization_mode to "${storage === 'packed' ? 'offline' : 'online'}" in ${file} if the weights are right, or use the weights that match the config.`,
      );
    }
  }
  if (family === 'hf1bitllm' && storage !== 'packed') {
    throw new TellmeError('E_CHECKPOINT', `${file}: HF1BitLLM-style (llama + quant_method "bitnet") checkpoints hold packed U8 weights, but '${probe.name}' in ${probe.file} is ${probe.dtype}`, 'Use the packed checkpoint.');
  }
  // autobitlinear multiplies by weight_scale; bitlinear (the HF default class) divides (§1.4).
  const scaleConvention: ScaleConvention | null = storage === 'packed' ? (qc?.linearClass === 'autobitlinear' ? 'multiply' : 'divide') : null;

  const tie = config['tie_word_embeddings'];
  if (tie !== undefined && tie !== null && typeof tie !== 'boolean') {
    throw cfgError(file, `tie_word_embeddings is ${JSON.stringify(tie)}, expected true or false`, `Fix tie_word_embeddings in ${file}.`);
  }
  const hasHead = tensors.has('lm_head.weight');
  if (tie === false && !hasHead) {
    throw new TellmeError(
      'E_CHECKPOINT',
      `${file} sets tie_word_embeddings false, but no safetensors file holds 'lm_head.weight'`,
      'Set tie_word_embeddings to true if the head is the embedding, or add the missing lm_head.weight shard.',
    );
  }
  // transformers ties whenever the config says so (a stored lm_head.weight is then replaced).
  const tiedEmbeddings = tie === true || (tie == null && !hasHead);

  const dtype = config['torch_dtype'] ?? config['dtype'];
  const spec: ModelSpec = {
    family,
    architecture: Array.isArray(config['architectures']) && typeof config['architectures'][0] === 'string' ? (config['architectures'][0] as string) : '',
    modelType: String(config['model_type']),
    hiddenSize,
    intermediateSize: positiveInt(config, 'intermediate_size', file),
    numLayers: positiveInt(config, 'num_hidden_layers', file),
    numHeads,
    numKvHeads,
    headDim,
    vocabSize: positiveInt(config, 'vocab_size', file),
    maxPositions: positiveInt(config, 'max_position_embeddings', file, 2048),
    // BitNetConfig defaults eps to 1e-5, LlamaConfig to 1e-6.
    rmsNormEps: positiveNumber(config['rms_norm_eps'], 'rms_norm_eps', file, isBitnet ? 1e-5 : 1e-6),
    ropeTheta: ropeTheta(config, file, isBitnet ? 500000 : 10000),
    activation: activation(config, file, isBitnet ? 'relu2' : 'silu'),
    subNorms: family !== 'hf1bitllm',
    tiedEmbeddings,
    weightStorage: storage,
    scaleConvention,
    dtype: typeof dtype === 'string' ? dtype : null,
    bosTokenId: special.bos,
    eosTokenIds: special.eos,
    padTokenId: special.pad,
  };
  const implausible = implausibleSpec(spec);
  if (implausible.length > 0) {
    throw cfgError(file, `${implausible.join('; ')} (no real model is this shape; the file is corrupt or not a model's config)`, `Fix ${file}, or re-download it.`);
  }
  return spec;
}
