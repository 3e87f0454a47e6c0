/** tellme inspect: what a checkpoint directory or a model image holds. */

import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import type { Checkpoint } from '../../checkpoint/types.js';
import { TellmeError } from '../../errors.js';
import { parameterCount, ternaryWeightsPerToken } from '../../model/spec.js';
import { describeImage, imageText } from '../../image/describe.js';
import { isModelImage, openImage } from '../../image/reader.js';
import { addModelInput, modelPath, SHARED_OPTIONS } from '../conventions.js';
import { openModel, requireCheckpoint } from '../model-source.js';

export function describeCheckpoint(ckpt: Checkpoint, hasTokenizer: boolean, tokenizerProblem: string | null = null) {
  const s = ckpt.spec;
  const dtypes: Record<string, { tensors: number; bytes: number }> = {};
  for (const t of ckpt.tensors.values()) {
    const d = (dtypes[t.dtype] ??= { tensors: 0, bytes: 0 });
    d.tensors++;
    d.bytes += t.byteLength;
  }
  const files = new Set([...ckpt.tensors.values()].map((t) => t.file));
  return {
    directory: ckpt.dir,
    architecture: s.architecture,
    model_type: s.modelType,
    family: s.family,
    quantization: {
      weights: s.weightStorage,
      weight_scale: s.scaleConvention,
    },
    shapes: {
      hidden_size: s.hiddenSize,
      intermediate_size: s.intermediateSize,
      num_layers: s.numLayers,
      num_heads: s.numHeads,
      num_kv_heads: s.numKvHeads,
      head_dim: s.headDim,
      vocab_size: s.vocabSize,
      max_positions: s.maxPositions,
    },
    activation: s.activation,
    sub_norms: s.subNorms,
    tied_embeddings: s.tiedEmbeddings,
    rope_theta: s.ropeTheta,
    rms_norm_eps: s.rmsNormEps,
    dtype: s.dtype,
    parameters: parameterCount(s),
    ternary_weights_per_token: ternaryWeightsPerToken(s),
    tensors: ckpt.tensors.size,
    files: files.size,
    dtypes,
    bos_token_id: s.bosTokenId,
    eos_token_ids: s.eosTokenIds,
    tokenizer: hasTokenizer,
    /** Why tokenizer.json is unusable (text prompts fail; --ids works), or null. */
    tokenizer_problem: tokenizerProblem,
  };
}

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

interface InspectFlags {
  model?: string;
  json?: boolean;
  board?: string;
  sections?: boolean;
}

/** tellme inspect <image>: validate (every checksum) and describe a model image. */
export function inspectImage(file: string, flags: InspectFlags, write: (s: string) => void = (s) => process.stdout.write(s)): void {
  const image = openImage(file, flags.board !== undefined ? { hw: flags.board } : {});
  const d = describeImage(image);
  if (flags.json) write(JSON.stringify(d, null, 2) + '\n');
  else write(imageText(d, { allSections: flags.sections === true }));
}

export function register(program: Command): void {
  const cmd = program
    .command('inspect')
    .description('describe a checkpoint directory (architecture, shapes, dtypes, parameters, quantisation) or a model image (manifest, hardware set, sections; every checksum verified)');
  addModelInput(cmd, 'checkpoint directory or model image')
    .option(SHARED_OPTIONS.board, 'image: also check it was built for this board / hardware description')
    .option('--sections', 'image: list every section (default: weight and norm sections summarised per layer when there are many)')
    .option(SHARED_OPTIONS.json, 'print one JSON object')
    .action((model: string | undefined, flags: InspectFlags) => {
      const target = modelPath(model, flags, 'inspect')!;
      if (existsSync(target) && !statSync(target).isDirectory()) {
        if (isModelImage(target)) {
          inspectImage(target, flags);
          return;
        }
        throw new TellmeError('E_USAGE', `${target} is a file but not a model image; inspect takes a checkpoint directory or an image written by \`tellme convert\``, 'pass the directory that holds config.json, or a model image');
      }
      if (flags.board !== undefined || flags.sections) {
        throw new TellmeError('E_USAGE', '--board and --sections apply to model images only', 'drop them when inspecting a checkpoint directory');
      }
      const m = openModel(target);
      const d = describeCheckpoint(requireCheckpoint(m, 'inspect'), m.tokenizer !== null, m.tokenizerError?.message ?? null);
      if (flags.json) {
        process.stdout.write(JSON.stringify(d, null, 2) + '\n');
        return;
      }
      const sh = d.shapes;
      const lines = [
        `${d.directory}`,
        `  architecture    ${d.architecture} (model_type ${d.model_type}, family ${d.family})`,
        `  quantisation    ${d.quantization.weights} ternary weights` +
          (d.quantization.weight_scale ? `, weight_scale ${d.quantization.weight_scale === 'multiply' ? 'multiplies (autobitlinear)' : 'divides (bitlinear, inverted)'}` : ', absmean-ternarised per matrix at load'),
        `  layers          ${sh.num_layers} x (hidden ${sh.hidden_size}, FFN ${sh.intermediate_size}, ${d.activation === 'relu2' ? 'ReLU²' : 'SwiGLU'})`,
        `  attention       ${sh.num_heads} heads x ${sh.head_dim}, ${sh.num_kv_heads} KV heads${sh.num_kv_heads < sh.num_heads ? ' (GQA)' : ' (MHA)'}, RoPE theta ${d.rope_theta}`,
        `  sub-norms       ${d.sub_norms ? 'yes' : 'no'}; head ${d.tied_embeddings ? 'tied to the embedding' : 'untied'}`,
        `  vocabulary      ${sh.vocab_size}; context ${sh.max_positions}; tokenizer ${d.tokenizer ? 'yes' : d.tokenizer_problem ? `unusable (use --ids): ${d.tokenizer_problem}` : 'no (use --ids)'}`,
        `  parameters      ${human(d.parameters)} (${human(d.ternary_weights_per_token)} ternary)`,
        `  tensors         ${d.tensors} in ${d.files} file(s): ` +
          Object.entries(d.dtypes)
            .map(([k, v]) => `${k} ${v.tensors} (${human(v.bytes)}B)`)
            .join(', '),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
