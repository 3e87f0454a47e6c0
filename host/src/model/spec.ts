/**
 * The typed description of a BitNet b1.58 model: everything the converter, the planner, the
 * golden model and the float reference need to know about its shape and semantics, independent
 * of where the weights come from (an HF checkpoint directory or a model image).
 */

/** Checkpoint families we read (see shared/reference/bitnet-checkpoints.md). */
export type ModelFamily =
  /** HF transformers `model_type: "bitnet"` (microsoft/bitnet-b1.58-2B-4T and its -bf16 master). */
  | 'bitnet'
  /** 1bitLLM bitnet_b1_58-large / -3B (`model_type: "llama"`, BitnetForCausalLM, latent masters). */
  | '1bitllm'
  /** HF1BitLLM-style packed Llama (`linear_class: "bitlinear"`, inverted scales, no sub-norms). */
  | 'hf1bitllm';

export type FfnActivation = 'relu2' | 'silu';

/** How ternary weights are stored in the checkpoint. */
export type WeightStorage =
  /** uint8 HF block packing (4 ternaries per byte along out_features) plus `weight_scale`. */
  | 'packed'
  /** full-precision latent ("master") weights, absmean-ternarised per matrix at load. */
  | 'master';

/** What a packed checkpoint's `weight_scale` means. */
export type ScaleConvention =
  /** autobitlinear: W = t * weight_scale (≈ mean|W_master|, O(0.1..3)). */
  | 'multiply'
  /** bitlinear (the HF default class): W = t / weight_scale (inverted, large). */
  | 'divide';

export const LINEAR_NAMES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LinearName = (typeof LINEAR_NAMES)[number];

/** The per-layer norms, by role (checkpoint names differ by family). */
export const LAYER_NORM_ROLES = ['input', 'post_attention', 'attn_sub', 'ffn_sub'] as const;
export type LayerNormRole = (typeof LAYER_NORM_ROLES)[number];

export interface ModelSpec {
  family: ModelFamily;
  /** config.json `architectures[0]`, e.g. "BitNetForCausalLM". */
  architecture: string;
  /** config.json `model_type`. */
  modelType: string;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  maxPositions: number;
  rmsNormEps: number;
  ropeTheta: number;
  activation: FfnActivation;
  /** attn_sub_norm / ffn_sub_norm (2B-4T) or inner_attn_ln / ffn_layernorm (1bitLLM) present. */
  subNorms: boolean;
  /** No lm_head.weight: logits = x · embed_tokensᵀ. */
  tiedEmbeddings: boolean;
  weightStorage: WeightStorage;
  /** Meaning of weight_scale for packed weights; null for masters. */
  scaleConvention: ScaleConvention | null;
  /** config.json torch_dtype / dtype, informational. */
  dtype: string | null;
  bosTokenId: number | null;
  /** All ids that end generation (eos plus eot where the tokenizer config names one). */
  eosTokenIds: number[];
  padTokenId: number | null;
}

/** Shape of one BitLinear: out_features x in_features (rows x cols, reduction along cols). */
export function linearShape(spec: ModelSpec, name: LinearName): { rows: number; cols: number } {
  const h = spec.hiddenSize;
  const qDim = spec.numHeads * spec.headDim;
  const kvDim = spec.numKvHeads * spec.headDim;
  switch (name) {
    case 'q_proj':
      return { rows: qDim, cols: h };
    case 'k_proj':
    case 'v_proj':
      return { rows: kvDim, cols: h };
    case 'o_proj':
      return { rows: h, cols: qDim };
    case 'gate_proj':
    case 'up_proj':
      return { rows: spec.intermediateSize, cols: h };
    case 'down_proj':
      return { rows: h, cols: spec.intermediateSize };
  }
}

/** Ternary weights per token (all BitLinears of all layers). */
export function ternaryWeightsPerToken(spec: ModelSpec): number {
  let n = 0;
  for (const name of LINEAR_NAMES) {
    const { rows, cols } = linearShape(spec, name);
    n += rows * cols;
  }
  return n * spec.numLayers;
}

/** Total parameter count as HF counts it (embedding, head if untied, norms, linears). */
export function parameterCount(spec: ModelSpec): number {
  const h = spec.hiddenSize;
  let perLayer = ternaryWeightsPerToken(spec) / spec.numLayers + 2 * h;
  if (spec.subNorms) perLayer += spec.numHeads * spec.headDim + spec.intermediateSize;
  let n = spec.vocabSize * h + perLayer * spec.numLayers + h;
  if (!spec.tiedEmbeddings) n += spec.vocabSize * h;
  return n;
}

/**
 * Plausibility limits of a model's shape and constants, far beyond any real BitNet (the largest
 * Llama has 126 layers, hidden 16384, vocab 256k): what is outside them is a corrupt or hostile
 * config.json or manifest, refused before anything is allocated or any plan is built (100000
 * layers would otherwise grow a plan past 2.8 GB; 1e6 layers in a manifest would hang a loader).
 */
export const MODEL_LIMITS = {
  hiddenSize: 65536,
  intermediateSize: 262144,
  numLayers: 1024,
  numHeads: 1024,
  numKvHeads: 1024,
  headDim: 1024,
  vocabSize: 1 << 22,
  maxPositions: 1 << 30,
} as const;

/** rms_norm_eps range: positive, and far below the mean square of any activation vector. */
export const RMS_NORM_EPS_RANGE = [1e-12, 0.1] as const;
/** rope_theta range: the RoPE base; real models use 1e4 .. 1e7. */
export const ROPE_THETA_RANGE = [2, 1e12] as const;

/** Why a spec is implausible (field names as config.json spells them); empty when it is plausible. */
export function implausibleSpec(spec: ModelSpec): string[] {
  const out: string[] = [];
  const dims: [string, number, number][] = [
    ['hidden_size', spec.hiddenSize, MODEL_LIMITS.hiddenSize],
    ['intermediate_size', spec.intermediateSize, MODEL_LIMITS.intermediateSize],
    ['num_hidden_layers', spec.numLayers, MODEL_LIMITS.numLayers],
    ['num_attention_heads', spec.numHeads, MODEL_LIMITS.numHeads],
    ['num_key_value_heads', spec.numKvHeads, MODEL_LIMITS.numKvHeads],
    ['head_dim', spec.headDim, MODEL_LIMITS.headDim],
    ['vocab_size', spec.vocabSize, MODEL_LIMITS.vocabSize],
    ['max_position_embeddings', spec.maxPositions, MODEL_LIMITS.maxPositions],
  ];
  for (const [name, v, max] of dims) {
    if (!(Number.isSafeInteger(v) && v >= 1 && v <= max)) out.push(`${name} ${v} is not an integer in 1..${max}`);
  }
  if (out.length === 0) {
    if (spec.numHeads % spec.numKvHeads !== 0) out.push(`num_attention_heads ${spec.numHeads} is not a multiple of num_key_value_heads ${spec.numKvHeads}`);
    if (spec.headDim % 2 !== 0) out.push(`head_dim ${spec.headDim} is odd; RoPE rotates pairs`);
  }
  const [epsMin, epsMax] = RMS_NORM_EPS_RANGE;
  if (!(spec.rmsNormEps >= epsMin && spec.rmsNormEps <= epsMax)) out.push(`rms_norm_eps ${spec.rmsNormEps} is outside [${epsMin}, ${epsMax}]`);
  const [thMin, thMax] = ROPE_THETA_RANGE;
  if (!(spec.ropeTheta >= thMin && spec.ropeTheta <= thMax)) out.push(`rope_theta ${spec.ropeTheta} is outside [${thMin}, ${thMax}]`);
  return out;
}
