/** Tensor names of the HF checkpoint families (shared/reference/bitnet-checkpoints.md §1.5, §2.4). */

import type { LayerNormRole, LinearName, ModelFamily } from '../model/spec.js';

export const EMBED_NAME = 'model.embed_tokens.weight';
export const FINAL_NORM_NAME = 'model.norm.weight';
export const LM_HEAD_NAME = 'lm_head.weight';

function linearPrefix(layer: number, name: LinearName): string {
  const block = name === 'gate_proj' || name === 'up_proj' || name === 'down_proj' ? 'mlp' : 'self_attn';
  return `model.layers.${layer}.${block}.${name}`;
}

export function linearWeightName(layer: number, name: LinearName): string {
  return `${linearPrefix(layer, name)}.weight`;
}

/** The packed checkpoints' per-matrix scale tensor, shape [1] (or a scalar). */
export function weightScaleName(layer: number, name: LinearName): string {
  return `${linearPrefix(layer, name)}.weight_scale`;
}

export function linearBiasName(layer: number, name: LinearName): string {
  return `${linearPrefix(layer, name)}.bias`;
}

/** Norm tensor of a role, or null when the family has no such norm (hf1bitllm sub-norms). */
export function layerNormName(family: ModelFamily, layer: number, role: LayerNormRole): string | null {
  const p = `model.layers.${layer}`;
  switch (role) {
    case 'input':
      return `${p}.input_layernorm.weight`;
    case 'post_attention':
      return `${p}.post_attention_layernorm.weight`;
    case 'attn_sub':
      if (family === 'bitnet') return `${p}.self_attn.attn_sub_norm.weight`;
      if (family === '1bitllm') return `${p}.self_attn.inner_attn_ln.weight`;
      return null;
    case 'ffn_sub':
      if (family === 'bitnet') return `${p}.mlp.ffn_sub_norm.weight`;
      if (family === '1bitllm') return `${p}.mlp.ffn_layernorm.weight`;
      return null;
  }
}
