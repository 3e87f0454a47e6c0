/**
 * tellme trace: every tensor of docs/numerics.md §11 the golden model computes for a prompt and
 * some greedy decode steps, as raw files plus metadata.json (docs/trace.md) — what the HLS C
 * simulation and the RTL testbenches compare against. tellme trace-compare: the first tensor and
 * element where two traces differ.
 */

import type { Command } from 'commander';
import { TellmeError } from '../../errors.js';
import { boardNumerics, DEFAULT_BOARD, loadHwConfig } from '../../hwconfig/index.js';
import { compareTraces, openTrace } from '../../trace/compare.js';
import { recordTrace } from '../../trace/record.js';
import { BOARD_OPTION_HELP, loadGolden, openModel } from '../model-source.js';
import { parseIds, parseIntOption } from '../options.js';

interface TraceFlags {
  model: string;
  ids: number[];
  decodeSteps: number;
  board?: string;
  output: string;
  threads?: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('trace')
    .description('write every intermediate tensor of the golden model (per layer, token and pass) as raw little-endian files plus metadata.json (docs/trace.md)')
    .requiredOption('-m, --model <path>', 'checkpoint directory or model image')
    .requiredOption('--ids <ids>', 'prompt as comma-separated token ids', parseIds)
    .requiredOption('-o, --output <dir>', 'directory for the trace (created; must not hold one)')
    .option('--decode-steps <n>', 'greedy decode steps after the prompt', parseIntOption('--decode-steps', 0, 4096), 0)
    .option('--board <name>', BOARD_OPTION_HELP)
    .option('--threads <n>', 'compute threads (default: all cores)', parseIntOption('--threads', 1, 64))
    .option('--json', 'print the metadata summary as JSON')
    .action(async (flags: TraceFlags) => {
      const m = openModel(flags.model, flags.board !== undefined ? { board: flags.board } : {});
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
          outDir: flags.output,
          model: { source: m.path, family: m.spec.family, layers: m.spec.numLayers, hidden: m.spec.hiddenSize, vocab: m.spec.vocabSize },
          hardware: { name: hw.config.name, hash: hw.hash, numerics: m.kind === 'image' ? hw.config.numerics : boardNumerics(flags.board ?? DEFAULT_BOARD) },
        });
        const elements = meta.tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
        if (flags.json) process.stdout.write(JSON.stringify({ output: flags.output, tensors: meta.tensors.length, hardware: meta.hardware }) + '\n');
        else process.stdout.write(`wrote ${meta.tensors.length} tensors (${elements} elements) of ${meta.ids.length} prompt tokens and ${meta.decode_steps} decode steps to ${flags.output} (${meta.hardware.name} numerics ${JSON.stringify(meta.hardware.numerics)})\n`);
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
