/**
 * Options of the deterministic test-model generator, the named presets, and their resolution
 * (a preset, then the caller's overrides, then checks that the combination is a real checkpoint
 * shape of the chosen family).
 */

import { TellmeError } from '../errors.js';
import type { ModelFamily, WeightStorage } from '../model/spec.js';

export type TestModelDtype = 'bfloat16' | 'float16' | 'float32';

export interface TestModelOptions {
  family: ModelFamily;
  /** packed: U8 + weight_scale (bitnet offline, hf1bitllm); master: float weights (bitnet online, 1bitllm). */
  weights: WeightStorage;
  /** Dtype of every float tensor (embedding, norms, masters, weight scales) and of torch_dtype. */
  dtype: TestModelDtype;
  hidden: number;
  intermediate: number;
  layers: number;
  heads: number;
  kvHeads: number;
  /** Written as head_dim in config.json only when it differs from hidden / heads. */
  headDim: number | null;
  vocab: number;
  maxPositions: number;
  /** tie_word_embeddings: no lm_head.weight, logits use the embedding. */
  tied: boolean;
  seed: number;
  /** 1: model.safetensors; k > 1: k shards plus model.safetensors.index.json. */
  shards: number;
  /** Write tokenizer.json (a byte-level BPE learned from a built-in sample). */
  tokenizer: boolean;
  ropeTheta: number;
  rmsNormEps: number;
  /**
   * Target standard deviation of the logits when the head is random: head rows get std
   * logitScale / sqrt(hidden), so with norm weights near 1 the logits spread over several units.
   * Ignored for a tied model whose embedStd is set (the embedding is then the head).
   */
  logitScale: number;
  /** Spread of head row norms: row multiplier max(0.2, 1 + headRowSpread * N(0,1)). */
  headRowSpread: number;
  /**
   * Std of the input embedding (null: the head's std). Its size against the layer outputs
   * (about w_s * sqrt(2/3 * in_features) per element) decides how much of the final residual
   * still is the input token: tied models with a large embedding predict their last token with a
   * wide margin ("self" regime); untied models use it together with `successor`.
   */
  embedStd: number | null;
  /**
   * Untied models only, in [0, 1): the head row of token next[t] (a seeded permutation) is
   * successor * embedding row t + sqrt(1 - successor^2) * noise. While the residual stream still
   * carries the input embedding, the model then predicts next[t] after t with a clear margin.
   */
  successor: number;
  /** Norm weights are uniform in [1 - normSpread, 1 + normSpread]. */
  normSpread: number;
  /** Range of the multiplicative weight factor w_s of packed matrices (stored inverted for hf1bitllm). */
  weightScale: [number, number];
  /** Std of master weights (the absmean scale comes out at about 0.8 * masterStd). */
  masterStd: number;
  /**
   * Extra factor on the q_proj and k_proj weight scales (packed) or master std (masters). The
   * attention logits grow with its square: below 1 the softmax is less peaked, which keeps the
   * model from flipping between attended positions on rounding-level differences.
   */
  qkGain: number;
  /** 'transformers5' writes rope_parameters and dtype instead of rope_theta and torch_dtype (§7). */
  configStyle: 'transformers4' | 'transformers5';
}

const TINY_COMMON = {
  seed: 1,
  shards: 1,
  tokenizer: true,
  maxPositions: 256,
  rmsNormEps: 1e-5,
  logitScale: 6,
  headRowSpread: 0,
  embedStd: null,
  normSpread: 0.2,
  masterStd: 1,
  qkGain: 1,
  successor: 0,
  headDim: null,
  configStyle: 'transformers4',
} as const;

/** The named presets (tests, docs and `tellme make-test-model` use these names). */
export const TEST_MODEL_PRESETS = {
  /**
   * 2B-4T semantics at toy size: GQA, relu2, sub-norms, tied, bf16, packed autobitlinear/offline.
   * Tied "self" regime: the embedding (std 40) dominates the final residual (~70% of its energy),
   * so greedy decoding repeats the last prompt token with a margin of several logit std, while
   * the layers still shape every other logit.
   */
  'bitnet-tiny-packed': {
    ...TINY_COMMON,
    family: 'bitnet', weights: 'packed', dtype: 'bfloat16',
    hidden: 96, intermediate: 240, layers: 2, heads: 6, kvHeads: 2, vocab: 512, tied: true,
    ropeTheta: 500000, weightScale: [0.5, 2], embedStd: 40,
  },
  /** The -bf16 "online" variant: the same shape and regime with bf16 masters. */
  'bitnet-tiny-master': {
    ...TINY_COMMON,
    family: 'bitnet', weights: 'master', dtype: 'bfloat16',
    hidden: 96, intermediate: 240, layers: 2, heads: 6, kvHeads: 2, vocab: 512, tied: true,
    ropeTheta: 500000, weightScale: [0.5, 2], embedStd: 40,
  },
  /**
   * 1bitLLM semantics: model_type llama, MHA, SwiGLU, inner_attn_ln/ffn_layernorm, untied, fp32 masters.
   * Untied "successor" regime: each token's embedding points at the head row of a seeded successor,
   * so greedy decoding walks a permutation with margins of several logit std (diverse tokens).
   */
  '1bitllm-tiny': {
    ...TINY_COMMON,
    family: '1bitllm', weights: 'master', dtype: 'float32',
    hidden: 128, intermediate: 336, layers: 3, heads: 4, kvHeads: 4, vocab: 384, tied: false,
    ropeTheta: 10000, rmsNormEps: 1e-5, weightScale: [0.5, 2], embedStd: 30, successor: 0.9,
    // Attention logits of RMS ~65 at qkGain 1 are far sharper than a trained model's; 0.5 brings
    // them to ~16, where the softmax no longer turns rounding-level differences into flips.
    qkGain: 0.5,
  },
  /**
   * 1bitLLM semantics with a tied head and hidden/FFN sizes that are multiples of 256: the shape
   * llama.cpp's bitnet architecture and its TQ1_0/TQ2_0 blocks take (`tellme export-gguf`). The
   * embedding (std 3) is small enough that the layers pick the next token (greedy decoding
   * wanders over the vocabulary, with margins from ~0 to several units); qkGain 0.25 keeps the
   * attention logits near the 1bitllm-tiny preset's, below where the softmax turns rounding
   * differences into flips. normSpread 0.25 (not the common 0.2): at 0.2 an int8 rounding of
   * layer 1 sits within ulps of a tie, so golden and float (storage formats emulated) differed
   * by 2.5e-6 in cosine instead of binary32 rounding (test/reference/reference.test.ts).
   */
  '1bitllm-tiny-tied': {
    ...TINY_COMMON,
    family: '1bitllm', weights: 'master', dtype: 'float32',
    hidden: 256, intermediate: 512, layers: 2, heads: 4, kvHeads: 4, vocab: 512, tied: true,
    ropeTheta: 10000, weightScale: [0.5, 2], embedStd: 3, qkGain: 0.25, normSpread: 0.25,
  },
  /** HF1BitLLM semantics: llama + quant_method bitnet, packed, inverted scales, no sub-norms, silu, untied. */
  'hf1bitllm-tiny': {
    ...TINY_COMMON,
    family: 'hf1bitllm', weights: 'packed', dtype: 'bfloat16',
    hidden: 64, intermediate: 192, layers: 2, heads: 4, kvHeads: 2, vocab: 320, tied: false,
    // Real inverted scales are large (1/mean|W| ~ 25..60), so w_s is small and, without sub-norms,
    // the layer outputs are tiny (~0.03); an input embedding of std 0.05 keeps the successor
    // margins (test/testmodels/margins.test.ts) while the layers still move the logits by >20%.
    ropeTheta: 500000, weightScale: [1 / 60, 1 / 25], embedStd: 0.05, successor: 0.9, rmsNormEps: 1e-5,
  },
  /** bitnet_b1_58-large shape (24 x 1536, FFN 4096, 16 heads, vocab 32002) as a packed bitnet model, ~270 MB. */
  'bitnet-large-shape': {
    ...TINY_COMMON,
    family: 'bitnet', weights: 'packed', dtype: 'bfloat16', tokenizer: false,
    hidden: 1536, intermediate: 4096, layers: 24, heads: 16, kvHeads: 16, vocab: 32002, tied: true,
    maxPositions: 2048, ropeTheta: 10000, weightScale: [0.5, 2],
  },
  /** The same 0.73B shape as a 1bitLLM checkpoint (SwiGLU, bf16 masters, tied), which llama.cpp's bitnet architecture runs; ~1.5 GB. */
  '1bitllm-large-shape': {
    ...TINY_COMMON,
    family: '1bitllm', weights: 'master', dtype: 'bfloat16', tokenizer: false,
    hidden: 1536, intermediate: 4096, layers: 24, heads: 16, kvHeads: 16, vocab: 32002, tied: true,
    maxPositions: 2048, ropeTheta: 10000, weightScale: [0.5, 2],
  },
  /** microsoft/bitnet-b1.58-2B-4T shape (30 x 2560, FFN 6912, 20/5 heads, vocab 128256), ~1.2 GB. */
  'bitnet-2b4t-shape': {
    ...TINY_COMMON,
    family: 'bitnet', weights: 'packed', dtype: 'bfloat16', tokenizer: false,
    hidden: 2560, intermediate: 6912, layers: 30, heads: 20, kvHeads: 5, vocab: 128256, tied: true,
    maxPositions: 4096, ropeTheta: 500000, weightScale: [0.5, 2],
  },
} as const satisfies Record<string, TestModelOptions>;

export type TestModelPresetName = keyof typeof TEST_MODEL_PRESETS;
export const TEST_MODEL_PRESET_NAMES = Object.keys(TEST_MODEL_PRESETS) as TestModelPresetName[];

/** What writeTestModel accepts: a preset name and/or overrides (default preset: bitnet-tiny-packed). */
export type TestModelInput = Partial<TestModelOptions> & { preset?: TestModelPresetName };

function usage(msg: string, fix = 'Change the test-model options (see host/src/testmodels/options.ts for what each preset sets).'): TellmeError {
  return new TellmeError('E_USAGE', `test model: ${msg}`, fix);
}

export function resolveTestModelOptions(input: TestModelInput = {}): TestModelOptions {
  const presetName = input.preset ?? 'bitnet-tiny-packed';
  const preset = TEST_MODEL_PRESETS[presetName] as TestModelOptions | undefined;
  if (!preset) throw usage(`unknown preset ${JSON.stringify(presetName)}`, `Use one of: ${TEST_MODEL_PRESET_NAMES.join(', ')}.`);
  const o: TestModelOptions = { ...preset, weightScale: [...preset.weightScale] as [number, number] };
  for (const [k, v] of Object.entries(input)) if (k !== 'preset' && v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;

  for (const k of ['hidden', 'intermediate', 'layers', 'heads', 'kvHeads', 'vocab', 'maxPositions', 'shards'] as const) {
    if (!Number.isSafeInteger(o[k]) || o[k] <= 0) throw usage(`${k} must be a positive integer, got ${o[k]}`);
  }
  if (!Number.isSafeInteger(o.seed)) throw usage(`seed must be an integer, got ${o.seed}`);
  if (o.heads % o.kvHeads !== 0) throw usage(`heads ${o.heads} is not a multiple of kvHeads ${o.kvHeads}`);
  if (o.headDim === null && o.hidden % o.heads !== 0) throw usage(`hidden ${o.hidden} is not a multiple of heads ${o.heads}; set headDim`);
  if (o.headDim !== null && (!Number.isSafeInteger(o.headDim) || o.headDim <= 0 || o.headDim % 2 !== 0)) throw usage(`headDim must be a positive even integer, got ${o.headDim}`);
  if ((o.headDim ?? o.hidden / o.heads) % 2 !== 0) throw usage('the head dimension must be even (RoPE rotates pairs)');
  if (o.family === '1bitllm' && o.weights !== 'master') throw usage('1bitllm checkpoints hold full-precision masters (weights: "master")');
  if (o.family === 'hf1bitllm' && o.weights !== 'packed') throw usage('hf1bitllm checkpoints hold packed weights (weights: "packed")');
  const [lo, hi] = o.weightScale;
  if (!(lo > 0 && hi >= lo && Number.isFinite(hi))) throw usage(`weightScale must be [lo, hi] with 0 < lo <= hi, got [${lo}, ${hi}]`);
  for (const k of ['logitScale', 'masterStd', 'qkGain', 'rmsNormEps', 'ropeTheta'] as const) {
    if (!(o[k] > 0 && Number.isFinite(o[k]))) throw usage(`${k} must be a positive number, got ${o[k]}`);
  }
  if (!(o.normSpread >= 0 && o.normSpread < 1)) throw usage(`normSpread must be in [0, 1), got ${o.normSpread}`);
  if (!(o.successor >= 0 && o.successor < 1)) throw usage(`successor must be in [0, 1), got ${o.successor}`);
  if (o.successor > 0 && o.tied) throw usage('successor needs an untied head (tied: false)');
  if (!(o.headRowSpread >= 0)) throw usage(`headRowSpread must be >= 0, got ${o.headRowSpread}`);
  if (o.embedStd !== null && !(o.embedStd > 0)) throw usage(`embedStd must be positive or null, got ${o.embedStd}`);
  if (!['bfloat16', 'float16', 'float32'].includes(o.dtype)) throw usage(`dtype must be bfloat16, float16 or float32, got ${o.dtype}`);
  if (o.vocab < 32) throw usage(`vocab must be at least 32 (the special-token block lives at its top), got ${o.vocab}`);
  return o;
}
