/** tellme logits: the logits of a token sequence, from the golden model or the float reference. */

import type { Command } from 'commander';
import { TellmeError } from '../../errors.js';
import { argmax } from '../../runtime/sampling.js';
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
  top: number;
}

export function register(program: Command): void {
  program
    .command('logits')
    .description('compute the logits of a token sequence (prefill) with the golden model or the float reference')
    .requiredOption('-m, --model <path>', 'checkpoint directory, or a model image (golden backend)')
    .requiredOption('--ids <ids>', 'comma-separated token ids', parseIds)
    .option('--backend <name>', 'golden (bit-accurate accelerator model) or float (training-time semantics)', 'golden')
    .option('--json', 'print {"argmax": [per position], "logits": [last position]}')
    .option('--board <name>', BOARD_OPTION_HELP)
    .option('--threads <n>', 'compute threads (golden; default: all cores)', parseIntOption('--threads', 1, 64))
    .option('--top <k>', 'how many top tokens to list without --json', parseIntOption('--top', 1, 100), 5)
    .action(async (flags: LogitsFlags) => {
      if (flags.backend !== 'golden' && flags.backend !== 'float') {
        throw new TellmeError('E_USAGE', `unknown backend "${flags.backend}"`, 'use --backend golden or --backend float');
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
      process.stdout.write(`top ${flags.top} at the last position:\n`);
      for (const id of order.slice(0, flags.top)) {
        const text = m.tokenizer ? JSON.stringify(m.tokenizer.decode([id])) : '';
        process.stdout.write(`  ${String(id).padStart(7)}  ${last[id]!.toFixed(4).padStart(10)}  ${text}\n`);
      }
    });
}
