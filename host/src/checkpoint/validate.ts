/**
 * Check, from headers alone, that the tensors a ModelSpec needs exist with the dtype and shape
 * config.json implies. Doing this at open time turns "garbage logits after an hour of
 * conversion" into one error that names the file, the tensor and what was expected.
 */

import { TellmeError } from '../errors.js';
import { LAYER_NORM_ROLES, LINEAR_NAMES, linearShape, type ModelSpec } from '../model/spec.js';
import { packedRows } from '../quant/ternary.js';
import { F32_CONVERTIBLE } from './dtype.js';
import { EMBED_NAME, FINAL_NORM_NAME, LM_HEAD_NAME, layerNormName, linearBiasName, linearWeightName, weightScaleName } from './names.js';
import type { TensorInfo } from './types.js';

export interface ValidationContext {
  dir: string;
  configFile: string;
  /** The safetensors files, for "missing tensor" messages. */
  files: readonly string[];
}

function fileList(ctx: ValidationContext): string {
  return ctx.files.length === 1 ? ctx.files[0]! : `${ctx.files.length} shards in ${ctx.dir}`;
}

export function requireTensor(tensors: ReadonlyMap<string, TensorInfo>, name: string, ctx: ValidationContext, why: string): TensorInfo {
  const t = tensors.get(name);
  if (!t) {
    throw new TellmeError(
      'E_CHECKPOINT',
      `${fileList(ctx)}: missing tensor '${name}' (${why}, required by ${ctx.configFile})`,
      'The safetensors files do not match config.json: re-download the checkpoint, or fix config.json.',
    );
  }
  return t;
}

function expectFloat(t: TensorInfo, shape: number[], ctx: ValidationContext, why: string): void {
  if (!F32_CONVERTIBLE.has(t.dtype)) {
    throw new TellmeError(
      'E_CHECKPOINT',
      `${t.file}: tensor '${t.name}' is ${t.dtype}, expected a float dtype (BF16, F16, F32) for ${why}`,
      'The checkpoint does not match its config.json; re-download it.',
    );
  }
  expectShape(t, shape, ctx, why);
}

function expectShape(t: TensorInfo, shape: number[], ctx: ValidationContext, why: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new TellmeError(
      'E_CHECKPOINT',
      `${t.file}: tensor '${t.name}' has shape [${t.shape.join(', ')}] but ${ctx.configFile} implies [${shape.join(', ')}] (${why})`,
      'The weights and config.json disagree: use the config.json that belongs to these weights.',
    );
  }
}

export function validateTensors(spec: ModelSpec, tensors: ReadonlyMap<string, TensorInfo>, ctx: ValidationContext): void {
  const h = spec.hiddenSize;
  const qDim = spec.numHeads * spec.headDim;
  const embed = requireTensor(tensors, EMBED_NAME, ctx, 'the token embedding');
  expectFloat(embed, [spec.vocabSize, h], ctx, 'the embedding [vocab_size, hidden_size]');
  expectFloat(requireTensor(tensors, FINAL_NORM_NAME, ctx, 'the final norm'), [h], ctx, 'the final norm [hidden_size]');
  if (!spec.tiedEmbeddings) {
    expectFloat(requireTensor(tensors, LM_HEAD_NAME, ctx, 'the untied output head'), [spec.vocabSize, h], ctx, 'the output head [vocab_size, hidden_size]');
  }

  for (let layer = 0; layer < spec.numLayers; layer++) {
    for (const role of LAYER_NORM_ROLES) {
      const name = layerNormName(spec.family, layer, role);
      if (name === null) continue;
      const size = role === 'ffn_sub' ? spec.intermediateSize : role === 'attn_sub' ? qDim : h;
      expectFloat(requireTensor(tensors, name, ctx, `the ${role} norm of layer ${layer}`), [size], ctx, `a norm of width ${size}`);
    }
    for (const lin of LINEAR_NAMES) {
      const { rows, cols } = linearShape(spec, lin);
      const name = linearWeightName(layer, lin);
      const t = requireTensor(tensors, name, ctx, `${lin} of layer ${layer}`);
      if (tensors.has(linearBiasName(layer, lin))) {
        throw new TellmeError('E_CHECKPOINT', `${tensors.get(linearBiasName(layer, lin))!.file}: tensor '${linearBiasName(layer, lin)}' is a BitLinear bias, which tellme does not support`, 'Use a checkpoint without linear biases.');
      }
      if (spec.weightStorage === 'packed') {
        if (t.dtype !== 'U8') {
          throw new TellmeError(
            'E_CHECKPOINT',
            `${t.file}: tensor '${name}' is ${t.dtype}, but this checkpoint stores packed U8 weights (layer 0 q_proj is U8)`,
            'All BitLinear weights of a checkpoint must be stored the same way; re-download it.',
          );
        }
        expectShape(t, [packedRows(rows), cols], ctx, `packed U8 [${rows}/4, ${cols}] for ${lin} [${rows}, ${cols}]`);
        const s = requireTensor(tensors, weightScaleName(layer, lin), ctx, `the weight scale of packed ${lin} in layer ${layer}`);
        const n = s.shape.reduce((a, d) => a * d, 1);
        if (!F32_CONVERTIBLE.has(s.dtype) || n !== 1) {
          throw new TellmeError(
            'E_CHECKPOINT',
            `${s.file}: tensor '${s.name}' is ${s.dtype} [${s.shape.join(', ')}], expected one float value (shape [1])`,
            'Per-tensor weight scales are required; re-download the checkpoint.',
          );
        }
      } else {
        if (!F32_CONVERTIBLE.has(t.dtype)) {
          throw new TellmeError(
            'E_CHECKPOINT',
            `${t.file}: tensor '${name}' is ${t.dtype}, but this checkpoint stores full-precision master weights (layer 0 q_proj is a float)`,
            'All BitLinear weights of a checkpoint must be stored the same way; re-download it.',
          );
        }
        expectShape(t, [rows, cols], ctx, `master weights [out, in] for ${lin}`);
      }
    }
  }
}

/** Buffers transformers itself skips when loading (non-persistent RoPE frequencies of old exports). */
const IGNORED_BY_TRANSFORMERS = /(^|\.)rotary_emb\.inv_freq$/;

/**
 * Tensors of the checkpoint that the config does not use (a 2-layer checkpoint with
 * num_hidden_layers 1, unknown extras), sorted. transformers warns about these ("Some weights of
 * the model checkpoint were not used"); a tied model's stored lm_head.weight counts as used, as
 * transformers ties it without a warning.
 */
export function unusedTensorNames(spec: ModelSpec, tensors: ReadonlyMap<string, TensorInfo>): string[] {
  const used = new Set<string>([EMBED_NAME, FINAL_NORM_NAME, LM_HEAD_NAME]);
  for (let layer = 0; layer < spec.numLayers; layer++) {
    for (const role of LAYER_NORM_ROLES) {
      const name = layerNormName(spec.family, layer, role);
      if (name !== null) used.add(name);
    }
    for (const lin of LINEAR_NAMES) {
      used.add(linearWeightName(layer, lin));
      if (spec.weightStorage === 'packed') used.add(weightScaleName(layer, lin));
    }
  }
  return [...tensors.keys()].filter((n) => !used.has(n) && !IGNORED_BY_TRANSFORMERS.test(n)).sort();
}
