/**
 * Running a command on a board: open the target, shake hands, check the board is the hardware
 * set asked for, get the model onto it (converting, uploading with a progress bar), open a
 * session; and Ctrl-C, which cancels what runs and leaves the board usable.
 */

import { Board } from '../device/board.js';
import { prepareModel, type PreparedModel } from '../device/model.js';
import { describeTarget, openTarget, targetFromFlags, type Target } from '../device/target.js';
import { TellmeError } from '../errors.js';
import { progressBar } from './progress.js';
import type { TargetOptionFlags } from './target-options.js';
import { packageVersion } from './version.js';

/** The target of a command's flags (--board doubles as the virtual board's hardware set). */
export function commandTarget(flags: TargetOptionFlags & { board?: string }): Target | null {
  return targetFromFlags({ ...flags, ...(flags.board !== undefined ? { simBoard: flags.board } : {}) });
}

export async function connectBoard(target: Target, flags: { board?: string } = {}): Promise<Board> {
  const board = await Board.connect(await openTarget(target), `tellme ${packageVersion()}`);
  const name = board.hello!.board;
  if (flags.board !== undefined && target.kind !== 'sim' && flags.board !== name) {
    await board.close();
    throw new TellmeError('E_USAGE', `--board ${flags.board}, but ${describeTarget(target)} is a ${name}`, `drop --board (a board reports its own hardware set) or pass --board ${name}`);
  }
  return board;
}

/** The model on the board and a session, with progress bars for conversion and upload. */
export async function modelOnBoard(board: Board, modelPath: string, opts: { context?: number; imageOnBoard?: string }): Promise<PreparedModel> {
  const convertBar = progressBar('converting');
  const uploadBar = progressBar('uploading');
  try {
    return await prepareModel(board, modelPath, {
      ...(opts.context !== undefined ? { context: opts.context } : {}),
      ...(opts.imageOnBoard !== undefined ? { imageOnBoard: opts.imageOnBoard } : {}),
      onConvert: (d, t, w) => convertBar.update(d, t, w),
      onUpload: (sent, total, from) => uploadBar.update(sent, total, `${(sent / 2 ** 20).toFixed(1)} of ${(total / 2 ** 20).toFixed(1)} MiB${from > 0 ? ` (resumed at ${(from / 2 ** 20).toFixed(1)})` : ''}`),
    });
  } finally {
    convertBar.stop();
    uploadBar.stop();
  }
}

/**
 * While `run` runs, the first Ctrl-C calls `cancel` (the board stops at its next token and
 * answers), a second one gives up at once. Returns whether Ctrl-C was pressed.
 */
export async function withInterrupt<T>(cancel: () => Promise<unknown>, run: () => Promise<T>): Promise<{ value: T; interrupted: boolean }> {
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) {
      process.stderr.write('\ntellme: interrupted again; leaving without waiting for the board\n');
      process.exit(130);
    }
    interrupted = true;
    process.stderr.write('\ntellme: cancelling (Ctrl-C again to leave at once)\n');
    cancel().catch(() => undefined);
  };
  process.on('SIGINT', onSigint);
  try {
    return { value: await run(), interrupted };
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
