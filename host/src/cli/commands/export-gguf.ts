/**
 * `tellme export-gguf`: a checkpoint -> a GGUF file for llama.cpp's bitnet architecture (CPU
 * inference with TQ2_0 / TQ1_0 ternary kernels). Progress bar on a terminal, a summary (or one
 * JSON object with --json) at the end.
 */

import { InvalidArgumentError, type Command } from 'commander';
import { EMBEDDING_TYPES, WEIGHT_TYPES, exportGguf, type ExportGgufResult, type GgufEmbeddingType, type GgufWeightType } from '../../gguf/export.js';
import { TellmeError } from '../../errors.js';
import { addModelInput, modelPath, SHARED_OPTIONS } from '../conventions.js';
import { openModel, requireCheckpoint } from '../model-source.js';
import { progressBar } from '../progress.js';
import { mib } from './convert.js';

export interface ExportGgufCommandOptions {
  model: string;
  output: string;
  type?: GgufWeightType;
  embeddingType?: GgufEmbeddingType;
  /** commander's --no-tokenizer sets this to false. */
  tokenizer?: boolean;
  json?: boolean;
  progress?: boolean;
}

function choice<T extends string>(flag: string, values: readonly T[]) {
  return (v: string): T => {
    const lower = v.toLowerCase();
    if (!(values as readonly string[]).includes(lower)) throw new InvalidArgumentError(`${flag} must be one of ${values.join(', ')}`);
    return lower as T;
  };
}

const VOCAB_TEXT = {
  gpt2: 'byte-level BPE (llama.cpp "gpt2")',
  llama: 'SentencePiece-style BPE (llama.cpp "llama")',
  placeholder: 'none in the checkpoint: a placeholder vocabulary (run it on token ids)',
} as const;

export function exportSummaryText(r: ExportGgufResult): string {
  return [
    `${r.path}: GGUF for llama.cpp (architecture bitnet)`,
    `  source          ${r.source}`,
    `  weights         ${r.type.toUpperCase()} (ternary values exact; per-matrix scale as binary16 block scale, max relative error ${r.scaleMaxRelError.toExponential(2)})`,
    `  embedding/head  ${r.embeddingType.toUpperCase()}`,
    `  tokenizer       ${VOCAB_TEXT[r.vocab]}`,
    `  file            ${mib(r.bytes)}, ${r.tensors} tensors, ${r.seconds.toFixed(1)} s`,
  ].join('\n') + '\n';
}

export async function runExportGguf(opts: ExportGgufCommandOptions, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<ExportGgufResult> {
  if (!opts.output) throw new TellmeError('E_USAGE', 'no output file', 'pass -o <file.gguf>, e.g. -o model.gguf');
  const ckpt = requireCheckpoint(openModel(opts.model), 'export-gguf');
  const bar = progressBar('exporting', opts.progress ?? process.stderr.isTTY === true);
  let result: ExportGgufResult;
  try {
    result = await exportGguf(ckpt, opts.output, {
      ...(opts.type ? { type: opts.type } : {}),
      ...(opts.embeddingType ? { embeddingType: opts.embeddingType } : {}),
      tokenizer: opts.tokenizer !== false,
      progress: (d, t, w) => bar.update(d, t, w),
    });
  } finally {
    bar.stop();
  }
  write(opts.json ? JSON.stringify(result, null, 2) + '\n' : exportSummaryText(result));
  return result;
}

const DESCRIPTION = "export a checkpoint as a GGUF file for llama.cpp's bitnet architecture (CPU inference): ternary weights exactly, as TQ2_0 or TQ1_0";

export function register(program: Command): void {
  const cmd = program
    .command('export-gguf')
    .description(DESCRIPTION);
  addModelInput(cmd, 'Hugging Face checkpoint directory (1bitLLM-style: SwiGLU, sub-norms, tied embedding)')
    .requiredOption(SHARED_OPTIONS.output, 'GGUF file to write (replaced if it exists; never one of the checkpoint files)')
    .option('--type <type>', `ternary block type: ${WEIGHT_TYPES.join(' (2.06 bits/weight, faster) or ')} (1.69 bits/weight)`, choice('--type', WEIGHT_TYPES), 'tq2_0')
    .option('--embedding-type <type>', `type of the embedding, which llama.cpp also uses as the output head: ${EMBEDDING_TYPES.join(', ')}`, choice('--embedding-type', EMBEDDING_TYPES), 'q8_0')
    .option('--no-tokenizer', 'leave the tokenizer out (llama.cpp then takes token ids only)')
    .option(SHARED_OPTIONS.json, 'print the summary as one JSON object')
    .addHelpText(
      'after',
      [
        '',
        "Supported: checkpoints that llama.cpp's bitnet graph computes exactly as they were trained —",
        '1bitLLM/bitnet_b1_58-large and -3B style (model_type llama, SwiGLU, inner_attn_ln/ffn_layernorm,',
        'tied embedding), hidden and FFN sizes multiples of 256. Refused, with the reason: ReLU² models',
        '(microsoft/bitnet-b1.58-2B-4T), models without sub-norms (HF1BitLLM), untied heads.',
        '',
        'Examples:',
        '  tellme export-gguf ./bitnet_b1_58-large -o large.tq2_0.gguf',
        '  tellme export-gguf ./bitnet_b1_58-large -o large.tq1_0.gguf --type tq1_0 --embedding-type f16',
        '  llama-cli -m large.tq2_0.gguf -p "The capital of France is" -n 32',
      ].join('\n'),
    )
    .action(async (model: string | undefined, opts: ExportGgufCommandOptions) => {
      await runExportGguf({ ...opts, model: modelPath(model, opts, 'export-gguf')! });
    });
}
