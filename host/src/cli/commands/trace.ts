/**
 * tellme trace: every tensor of docs/numerics.md §11 the golden model computes for a prompt and
 * some greedy decode steps, as raw files plus metadata.json (docs/trace.md) — what the HLS C
 * simulation and the RTL testbenches compare against. tellme trace-compare: the first tensor and
 * element where two traces differ.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { TellmeError } from '../../errors.js';
import { prepareOutputDir } from '../../files/output.js';
import { boardNumerics, DEFAULT_BOARD, loadHwConfig } from '../../hwconfig/index.js';
import { compareTraces, openTrace } from '../../trace/compare.js';
import { METADATA_FILE, TRACE_FORMAT } from '../../trace/format.js';
import { recordTrace } from '../../trace/record.js';
import { addModelInput, modelPath, SHARED_OPTIONS } from '../conventions.js';
import { BOARD_OPTION_HELP, loadGolden, openModel } from '../model-source.js';
import { parseIds, parseIntOption } from '../options.js';

interface TraceFlags {
  model: string;
  ids: number[];
  decodeSteps: number;
  board?: string;
  output: string;
  overwrite?: boolean;
  threads?: number;
  json?: boolean;
}

/** A directory written by tellme trace: its metadata.json names the trace format. */
function isTraceDir(dir: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, METADATA_FILE), 'utf8')) as { format?: unknown }).format === TRACE_FORMAT;
  } catch {
    return false;
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('trace')
    .description('write every intermediate tensor of the golden model (per layer, token and pass) as raw little-endian files plus metadata.json (docs/trace.md)');
  addModelInput(cmd, 'checkpoint directory or model image')
    .requiredOption(SHARED_OPTIONS.ids, 'prompt as comma-separated token ids', parseIds)
    .requiredOption(SHARED_OPTIONS.output, 'directory for the trace (created when absent; empty, or an earlier trace with --overwrite)')
    .option(SHARED_OPTIONS.overwrite, 'replace an earlier trace in the output directory (file by file)')
    .option('--decode-steps <n>', 'greedy decode steps after the prompt', parseIntOption('--decode-steps', 0, 4096), 0)
    .option(SHARED_OPTIONS.board, BOARD_OPTION_HELP)
    .option(SHARED_OPTIONS.threads, 'compute threads (default: all cores)', parseIntOption('--threads', 1, 64))
    .option(SHARED_OPTIONS.json, 'print the metadata summary as JSON')
    .action(async (modelArg: string | undefined, flags: TraceFlags) => {
      flags.model = modelPath(modelArg, flags, 'trace')!;
      const m = openModel(flags.model, flags.board !== undefined ? { board: flags.board } : {});
      const outDir = prepareOutputDir(flags.output, { what: 'the trace', command: 'trace', isOwnOutput: isTraceDir, overwrite: flags.overwrite === true, inputs: [flags.model] });
      const hw = m.kind === 'image' ? m.image.hw : loadHwConfig(flags.board ?? DEFAULT_BOARD);
      const golden = await loadGolden(m, {
        ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
        ...(flags.board !== undefined ? { board: flags.board } : {}),
        context: Math.min(m.spec.maxPositions, flags.ids.length + flags.decodeSteps),
      });
      try {
        const meta = recordTrace(golden, {
          ids: flags.ids,
          decodeSteps: flags.decodeSteps,
          outDir,
          overwrite: flags.overwrite === true,
          model: { source: m.path, family: m.spec.family, layers: m.spec.numLayers, hidden: m.spec.hiddenSize, vocab: m.spec.vocabSize },
          hardware: { name: hw.config.name, hash: hw.hash, numerics: m.kind === 'image' ? hw.config.numerics : boardNumerics(flags.board ?? DEFAULT_BOARD) },
        });
        const elements = meta.tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
        if (flags.json) process.stdout.write(JSON.stringify({ output: outDir, tensors: meta.tensors.length, hardware: meta.hardware }) + '\n');
        else process.stdout.write(`wrote ${meta.tensors.length} tensors (${elements} elements) of ${meta.ids.length} prompt tokens and ${meta.decode_steps} decode steps to ${outDir} (${meta.hardware.name} numerics ${JSON.stringify(meta.hardware.numerics)})\n`);
      } finally {
        await golden.close();
      }
    });

  program
    .command('trace-compare')
    .description('compare a trace written by tellme trace with another trace or a produced set of the same file names; exit 1 at the first difference')
    .argument('<expected>', 'trace directory written by tellme trace')
    .argument('<actual>', 'trace directory to check (metadata.json optional)')
    .option('--json', 'print the comparison as JSON')
    .action((expectedDir: string, actualDir: string, flags: { json?: boolean }) => {
      const r = compareTraces(openTrace(expectedDir), openTrace(actualDir));
      if (flags.json) process.stdout.write(JSON.stringify(r) + '\n');
      else process.stdout.write(r.first ? `${r.differing} of ${r.compared} tensors differ; first: ${r.first.detail}\n` : `all ${r.compared} tensors identical\n`);
      if (r.first) {
        throw new TellmeError('E_NUMERICS', `the traces differ: ${r.first.detail}`, 'this is the first tensor (in datapath order) where the implementation leaves the contract; inspect that unit');
      }
    });
}
