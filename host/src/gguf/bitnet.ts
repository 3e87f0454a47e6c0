/**
 * llama.cpp's `bitnet` architecture (src/models/bitnet.cpp, src/llama-arch.cpp): which of our
 * model specs it can run, its hyperparameter keys and its tensor names.
 *
 * Its graph is the 1bitLLM model: per layer RMSNorm -> q/k/v -> NeoX RoPE (pairs i, i + d/2, as
 * HF's rotate_half) -> attention -> attn_sub_norm -> o_proj; RMSNorm -> SiLU(gate) * up ->
 * ffn_sub_norm -> down_proj; output_norm, and the logits from token_embd (the head is always
 * the embedding). wq and wo are [n_embd, n_embd].
 */

import type { LayerNormRole, LinearName, ModelSpec } from '../model/spec.js';
import { QK_K } from './blocks.js';
import { gguf, type GgufValue } from './container.js';

export const BITNET_ARCH = 'bitnet';

/** Why llama.cpp's bitnet architecture cannot run this model as it is (empty: it can). */
export function bitnetProblems(spec: ModelSpec): string[] {
  const p: string[] = [];
  if (spec.activation !== 'silu') {
    p.push(`its FFN uses ${spec.activation === 'relu2' ? 'ReLU²' : spec.activation} (the bitnet-b1.58-2B-4T semantics), but llama.cpp's bitnet graph computes SiLU(gate) * up`);
  }
  if (!spec.subNorms) p.push('it has no attention/FFN sub-norms (attn_sub_norm, ffn_sub_norm), which llama.cpp\'s bitnet graph requires');
  if (!spec.tiedEmbeddings) p.push('it has a separate lm_head, but llama.cpp\'s bitnet graph always uses the token embedding as the output head');
  if (spec.numHeads * spec.headDim !== spec.hiddenSize) {
    p.push(`heads x head_dim = ${spec.numHeads} x ${spec.headDim} differs from hidden_size ${spec.hiddenSize}, and llama.cpp's bitnet q/o projections are hidden x hidden`);
  }
  for (const [what, n] of [['hidden_size', spec.hiddenSize], ['intermediate_size', spec.intermediateSize]] as const) {
    if (n % QK_K !== 0) p.push(`${what} ${n} is not a multiple of ${QK_K}, the block size of llama.cpp's ternary types (TQ1_0, TQ2_0)`);
  }
  return p;
}

/** The architecture's hyperparameters (`bitnet.*` keys). */
export function bitnetHyperparameters(spec: ModelSpec): [string, GgufValue][] {
  const a = BITNET_ARCH;
  return [
    [`${a}.vocab_size`, gguf.u32(spec.vocabSize)],
    [`${a}.context_length`, gguf.u32(spec.maxPositions)],
    [`${a}.embedding_length`, gguf.u32(spec.hiddenSize)],
    [`${a}.block_count`, gguf.u32(spec.numLayers)],
    [`${a}.feed_forward_length`, gguf.u32(spec.intermediateSize)],
    [`${a}.attention.head_count`, gguf.u32(spec.numHeads)],
    [`${a}.attention.head_count_kv`, gguf.u32(spec.numKvHeads)],
    [`${a}.attention.key_length`, gguf.u32(spec.headDim)],
    [`${a}.attention.value_length`, gguf.u32(spec.headDim)],
    [`${a}.attention.layer_norm_rms_epsilon`, gguf.f32(spec.rmsNormEps)],
    [`${a}.rope.dimension_count`, gguf.u32(spec.headDim)],
    [`${a}.rope.freq_base`, gguf.f32(spec.ropeTheta)],
  ];
}

export const TOKEN_EMBD = 'token_embd.weight';
export const OUTPUT_NORM = 'output_norm.weight';

const LINEAR_TENSOR: Record<LinearName, string> = {
  q_proj: 'attn_q',
  k_proj: 'attn_k',
  v_proj: 'attn_v',
  o_proj: 'attn_output',
  gate_proj: 'ffn_gate',
  up_proj: 'ffn_up',
  down_proj: 'ffn_down',
};

const NORM_TENSOR: Record<LayerNormRole, string> = {
  input: 'attn_norm',
  attn_sub: 'attn_sub_norm',
  post_attention: 'ffn_norm',
  ffn_sub: 'ffn_sub_norm',
};

export function linearTensorName(layer: number, name: LinearName): string {
  return `blk.${layer}.${LINEAR_TENSOR[name]}.weight`;
}

export function normTensorName(layer: number, role: LayerNormRole): string {
  return `blk.${layer}.${NORM_TENSOR[role]}.weight`;
}
