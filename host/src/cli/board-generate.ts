/** `tellme generate --device|--tcp|--pcie|--sim`: the board runs the generation loop (GENERATE). */

import type { Target } from '../device/target.js';
import { TellmeError } from '../errors.js';
import { connectBoard, modelOnBoard, withInterrupt } from './board-session.js';
import type { LoadedModel } from './model-source.js';
import { TokenPrinter } from './token-printer.js';

export interface BoardGenerateFlags {
  prompt?: string;
  ids?: number[];
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  draftTokens?: number;
  json?: boolean;
  context?: number;
  stats?: boolean;
  board?: string;
  imageOnBoard?: string;
}

export async function generateOnBoard(target: Target, m: LoadedModel, promptIds: number[], flags: BoardGenerateFlags): Promise<void> {
  const board = await connectBoard(target, flags);
  try {
    await modelOnBoard(board, m.path, flags);
    const printer = new TokenPrinter(m.tokenizer, flags.json === true);
    if (!flags.ids) printer.prompt(flags.prompt);
    const t0 = performance.now();
    const { value: r, interrupted } = await withInterrupt(
      () => board.cancel(),
      () =>
        board.generate(promptIds, {
          maxNewTokens: flags.maxNewTokens,
          temperature: flags.temperature,
          topK: flags.topK,
          topP: flags.topP,
          seed: flags.seed,
          draftTokens: flags.draftTokens ?? 0,
          stopIds: m.spec.eosTokenIds,
          onToken: (id) => printer.token(id),
        }),
    );
    const wall = (performance.now() - t0) / 1000;
    printer.finish({ ids: r.ids, stopReason: r.stopReason, promptTokens: r.promptTokens, passes: r.passes });
    if (flags.stats) {
      const n = r.ids.length;
      process.stderr.write(
        `${board.description}: prompt ${r.promptTokens} tokens in ${r.prefillSeconds.toFixed(3)} s; ${n} tokens in ${r.decodeSeconds.toFixed(3)} s ` +
          `(${n > 1 ? ((n - 1) / r.decodeSeconds).toFixed(2) : '-'} tok/s decode, board time); ${wall.toFixed(3)} s end to end; passes ${r.passes}; stop: ${r.stopReason}\n`,
      );
    }
    if (interrupted) throw new TellmeError('E_CANCELLED', `cancelled after ${r.ids.length} tokens (Ctrl-C); the board is ready for the next command`, 'nothing to do');
  } finally {
    await board.close();
  }
}
