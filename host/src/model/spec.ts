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
