/**
 * `tellme convert`: a Hugging Face BitNet checkpoint -> one model image for a board
 * (docs/image-format.md). Streams the checkpoint (bounded memory), shows a progress bar on a
 * terminal, and ends with a summary (or one JSON object with --json).
 */

import type { Command } from 'commander';
import { openCheckpoint } from '../../checkpoint/open.js';
import { TellmeError } from '../../errors.js';
import { hwConfigFromObject, loadHwConfig } from '../../hwconfig/load.js';
import { convertCheckpoint, type ConvertResult } from '../../image/writer.js';
import type { ImageManifest } from '../../image/manifest.js';
import { packingStats } from '../../layout/stats.js';
import { planUram } from '../../layout/uram.js';
import { addModelInput, modelPath, SHARED_OPTIONS } from '../conventions.js';
import { parseIntOption } from '../options.js';
import { progressBar } from '../progress.js';
import { reportUnusedTensors } from '../model-source.js';

export interface ConvertCommandOptions {
  model: string;
  board: string;
  output: string;
  context?: number;
  json?: boolean;
  force?: boolean;
  strict?: boolean;
  /** Show a progress bar (default: when stderr is a terminal). */
  progress?: boolean;
}

export interface ConvertSummary {
  image: string;
  source: string;
  board: string;
  hash: string;
  bytes: number;
  sections: number;
  manifest_bytes: number;
  by_kind: Record<string, { sections: number; bytes: number }>;
  weight_bytes_per_token: number;
  ideal_weight_bytes_per_token: number;
  uram: {
    weight_buffer_urams: number;
    buffers: number;
    words_per_buffer: number;
    peak_words_per_bank: number;
    peak_fraction: number;
    steps_per_layer: number;
  };
  ddr: { regions: number; total_bytes: number; usable_bytes: number };
  context: number;
  fits: boolean;
  problems: string[];
  numerics: ImageManifest['numerics']['worst'];
  seconds: number;
  peak_rss_bytes: number;
}

export function summarize(r: ConvertResult): ConvertSummary {
  const m = r.manifest;
  const by: Record<string, { sections: number; bytes: number }> = {};
  for (const s of m.sections) {
    const k = (by[s.kind] ??= { sections: 0, bytes: 0 });
    k.sections++;
    k.bytes += s.size;
  }
  const hw = hwConfigFromObject(m.hardware.config);
  const stats = packingStats(m.spec, hw, planUram(m.spec, hw));
  return {
    image: r.path,
    source: m.source.path,
    board: m.hardware.name,
    hash: m.hardware.hash,
    bytes: r.fileBytes,
    sections: m.sections.length,
    manifest_bytes: r.fileBytes - Math.ceil(Math.max(...m.sections.map((s) => s.offset + s.size)) / 4096) * 4096,
    by_kind: by,
    weight_bytes_per_token: by['weights']?.bytes ?? 0,
    ideal_weight_bytes_per_token: stats.idealBits / 8,
    uram: {
      weight_buffer_urams: m.uram.weight_buffer_urams,
      buffers: m.uram.buffers,
      words_per_buffer: m.uram.words_per_buffer,
      peak_words_per_bank: m.uram.peak_words_per_bank,
      peak_fraction: m.uram.peak_words_per_bank / m.uram.words_per_buffer,
      steps_per_layer: m.uram.steps_per_layer,
    },
    ddr: { regions: m.ddr.regions.length, total_bytes: m.ddr.total_bytes, usable_bytes: m.ddr.usable_bytes },
    context: m.context,
    fits: m.fit.fits,
    problems: m.fit.problems,
    numerics: m.numerics.worst,
    seconds: r.seconds,
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
  };
}

export function mib(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

export function summaryText(s: ConvertSummary, m: ImageManifest): string {
  const spec = m.spec;
  const kinds = Object.entries(s.by_kind)
    .map(([k, v]) => `${k} ${v.sections} (${mib(v.bytes)})`)
    .join(', ');
  const lines = [
    `${s.image}: model image for ${s.board} (hw hash ${s.hash.slice(0, 12)}…)`,
    `  source          ${s.source} (${m.source.family}, ${m.source.weight_storage} weights, ${m.source.dtype ?? 'unknown dtype'})`,
    `  model           ${spec.numLayers} layers x ${spec.hiddenSize} (FFN ${spec.intermediateSize}, ${spec.activation === 'relu2' ? 'ReLU²' : 'SwiGLU'}), ${spec.numHeads}/${spec.numKvHeads} heads x ${spec.headDim}, vocab ${spec.vocabSize}, context ${s.context}`,
    `  image           ${mib(s.bytes)}: ${s.sections} sections + manifest ${mib(s.manifest_bytes)}`,
    `  sections        ${kinds}`,
    `  weights/token   ${mib(s.weight_bytes_per_token)} of beats streamed per token (ideal 5 bits per 3 weights: ${mib(s.ideal_weight_bytes_per_token)})`,
    `  URAM            weight buffer ${s.uram.weight_buffer_urams} URAMs, ${s.uram.buffers} buffer(s) of ${s.uram.words_per_buffer} words per bank; peak tile ${s.uram.peak_words_per_bank} words (${(100 * s.uram.peak_fraction).toFixed(0)}%); ${s.uram.steps_per_layer} steps per layer`,
    `  DDR             ${mib(s.ddr.total_bytes)} in ${s.ddr.regions} regions (${mib(s.ddr.usable_bytes)} usable)`,
    `  numerics        worst case ${s.numerics.bound.toExponential(2)} (2^${s.numerics.log2.toFixed(1)}, ${s.numerics.where}); limit 2^127`,
  ];
  if (m.numerics.fp16_norms && m.numerics.fp16_norms.inexact > 0) {
    lines.push(`  binary16 norms  ${m.numerics.fp16_norms.inexact} of ${m.numerics.fp16_norms.weights} norm weights rounded for this fp16 build (max relative error ${m.numerics.fp16_norms.max_rel_error.toExponential(2)})`);
  }
  if (!s.fits) lines.push(`  DOES NOT FIT    ${s.problems.join('; ')} (written because of --force)`);
  lines.push(`  time            ${s.seconds.toFixed(1)} s, peak RSS ${mib(s.peak_rss_bytes)}`);
  return lines.join('\n') + '\n';
}

/** Run the command; returns the summary (tests call this directly). */
export async function runConvert(opts: ConvertCommandOptions, write: (s: string) => void = (s) => process.stdout.write(s)): Promise<ConvertSummary> {
  if (!opts.output) throw new TellmeError('E_USAGE', 'no output file', 'Pass -o <image file>, e.g. -o model.tlm.');
  const hw = loadHwConfig(opts.board);
  const ckpt = openCheckpoint(opts.model);
  reportUnusedTensors(ckpt, opts.strict === true);
  const bar = progressBar('converting', opts.progress ?? process.stderr.isTTY === true);
  let result: ConvertResult;
  try {
    result = await convertCheckpoint(ckpt, opts.output, {
      hw,
      ...(opts.context !== undefined ? { context: opts.context } : {}),
      ...(opts.force ? { force: true } : {}),
      progress: (d, t, w) => bar.update(d, t, w),
    });
  } finally {
    bar.stop();
  }
  const summary = summarize(result);
  if (opts.json) write(JSON.stringify(summary, null, 2) + '\n');
  else write(summaryText(summary, result.manifest));
  return summary;
}

export function register(program: Command): void {
  const cmd = program
    .command('convert')
    .description('convert a Hugging Face BitNet checkpoint into a model image for a board: TLMM-encoded, tiled and beat-packed weights, norms, RoPE table, embedding, LM head, tokenizer');
  addModelInput(cmd, 'Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer files)')
    .requiredOption(SHARED_OPTIONS.output, 'image file to write (an existing file is replaced only when the conversion succeeds)')
    .option(SHARED_OPTIONS.board, 'board profile name (hw/boards/*.json) or hardware description file', 'kv260')
    .option(SHARED_OPTIONS.context, 'positions of the RoPE table and KV cache (default: min(max_position_embeddings, the board maximum))', parseIntOption('--context', 1))
    .option(SHARED_OPTIONS.force, 'write the image even if the model does not fit the board (recorded in the image; for simulation)')
    .option(SHARED_OPTIONS.strict, 'refuse checkpoint tensors that config.json does not use (default: warn and ignore them)')
    .option(SHARED_OPTIONS.json, 'print the summary as one JSON object')
    .addHelpText(
      'after',
      '\nExamples:\n  tellme convert ./bitnet-b1.58-2B-4T --board kv260 -o 2b4t.kv260.tlm\n  tellme convert --model ./bitnet_b1_58-large --board kv260-paper -o large.paper.tlm --context 1024\n  tellme inspect 2b4t.kv260.tlm',
    )
    .action(async (model: string | undefined, opts: ConvertCommandOptions) => {
      await runConvert({ ...opts, model: modelPath(model, opts, 'convert')! });
    });
}
