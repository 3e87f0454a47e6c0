/** tellme logits: the logits of a token sequence, from the golden model or the float reference. */

import type { Command } from 'commander';
import { TellmeError } from '../../errors.js';
import { argmax } from '../../runtime/sampling.js';
import { addModelInput, modelPath, SHARED_OPTIONS } from '../conventions.js';
import { BOARD_OPTION_HELP, loadGolden, openModel, requireCheckpoint } from '../model-source.js';
import { parseIds, parseIntOption } from '../options.js';
import { floatLogits } from '../../reference/logits.js';

interface LogitsFlags {
  model: string;
  ids: number[];
  backend: string;
  json?: boolean;
  threads?: number;
  board?: string;
  showTop: number;
}

export function register(program: Command): void {
  const cmd = program
    .command('logits')
    .description('compute the logits of a token sequence (prefill) with the golden model or the float reference');
  addModelInput(cmd, 'checkpoint directory, or a model image (golden backend)')
    .requiredOption(SHARED_OPTIONS.ids, 'comma-separated token ids', parseIds)
    .option('--backend <name>', 'golden (bit-accurate accelerator model) or float (training-time semantics)', 'golden')
    .option(SHARED_OPTIONS.json, 'print {"argmax": [per position], "logits": [last position]}')
    .option(SHARED_OPTIONS.board, BOARD_OPTION_HELP)
    .option(SHARED_OPTIONS.threads, 'compute threads (golden; default: all cores)', parseIntOption('--threads', 1, 64))
    .option('--show-top <k>', 'how many of the most likely tokens to list without --json', parseIntOption('--show-top', 1, 100), 5)
    .action(async (modelArg: string | undefined, flags: LogitsFlags) => {
      flags.model = modelPath(modelArg, flags, 'logits')!;
      if (flags.backend !== 'golden' && flags.backend !== 'float') {
        throw new TellmeError('E_USAGE', `unknown backend "${flags.backend}"`, 'Use --backend golden or --backend float.');
      }
      const m = openModel(flags.model, flags.board !== undefined ? { board: flags.board } : {});
      let all: Float32Array[];
      if (flags.backend === 'golden') {
        const model = await loadGolden(m, {
          ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
          ...(flags.board !== undefined ? { board: flags.board } : {}),
          context: Math.min(m.spec.maxPositions, Math.max(flags.ids.length, 1)),
        });
        all = model.prefill(flags.ids, { allLogits: true });
        await model.close();
      } else {
        all = await floatLogits(requireCheckpoint(m, 'the float backend'), flags.ids);
      }
      const last = all[all.length - 1]!;
      const am = all.map((l) => argmax(l));
      if (flags.json) {
        process.stdout.write(JSON.stringify({ argmax: am, logits: Array.from(last) }) + '\n');
        return;
      }
      process.stdout.write(`argmax per position: ${am.join(' ')}\n`);
      const order = Array.from(last.keys()).sort((a, b) => last[b]! - last[a]! || a - b);
      process.stdout.write(`top ${flags.showTop} at the last position:\n`);
      for (const id of order.slice(0, flags.showTop)) {
        const text = m.tokenizer ? JSON.stringify(m.tokenizer.decode([id])) : '';
        process.stdout.write(`  ${String(id).padStart(7)}  ${last[id]!.toFixed(4).padStart(10)}  ${text}\n`);
      }
    });
}
