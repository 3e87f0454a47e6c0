/**
 * Does a model's shape fit what a hardware build was synthesised for? The converter and the
 * planner both ask, before any weight is read or any plan is built.
 */
import type { ModelSpec } from '../model/spec.js';
import type { LoadedHwConfig } from './types.js';

/** Synthesised-maxima checks; each message names the dimension and the excess. */
export function maximaProblems(spec: ModelSpec, hw: LoadedHwConfig): string[] {
  const m = hw.config.maxima;
  const out: string[] = [];
  const dims: [string, number, number][] = [
    ['hidden_size', spec.hiddenSize, m.hidden],
    ['intermediate_size', spec.intermediateSize, m.ffn],
    ['num_attention_heads', spec.numHeads, m.heads],
    ['num_key_value_heads', spec.numKvHeads, m.kv_heads],
    ['head_dim', spec.headDim, m.head_dim],
    ['num_hidden_layers', spec.numLayers, m.layers],
    ['vocab_size', spec.vocabSize, m.vocab],
  ];
  for (const [name, v, max] of dims) {
    if (v > max) out.push(`${name} ${v} exceeds the synthesised maximum ${max} of ${hw.config.name} by ${v - max} (${(v / max).toFixed(2)}x)`);
  }
  if (!hw.config.architecture.runtime_shapes) {
    const exact: [string, number, number][] = dims.filter(([n]) => n !== 'vocab_size');
    for (const [name, v, max] of exact) {
      if (v < max) out.push(`${name} ${v} differs from the ${max} the ${hw.config.name} bitstream is built for (it has no run-time shapes)`);
    }
    if (spec.activation !== 'silu') out.push(`activation ${spec.activation}: the ${hw.config.name} bitstream implements SiLU only`);
    if (!spec.subNorms) out.push(`the ${hw.config.name} bitstream always applies the BitNet sub-norms, which this model does not have`);
  }
  return out;
}
