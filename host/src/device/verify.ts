/**
 * `tellme verify --target sim-csim | sim-rtl | device`: conformance of a (virtual) board against
 * the golden model on the same image, in the verify command's JSON contract
 * ({target, cases, mismatches, pass, cycles, first_mismatch?}). The targets: verify-targets.ts.
 */

import { TellmeError } from '../errors.js';
import { goldenModelFromImage } from '../golden/weights-image.js';
import { Board } from './board.js';
import { checkBoardAgainstGolden, type ConformanceResult } from './conformance.js';
import { prepareModel } from './model.js';
import { openTarget, targetFromFlags, type Target } from './target.js';
import type { BoardTargetName, BoardTargetRequest } from './verify-targets.js';

export interface BoardVerifyRequest {
  /** Checkpoint directory (converted for the board) or model image. */
  model: string;
  seeds?: number;
  decodeSteps?: number;
  context?: number;
  progress?: (message: string) => void;
}

export async function verifyOnTarget(name: string, target: Target, req: BoardVerifyRequest): Promise<ConformanceResult> {
  const board = await Board.connect(await openTarget(target), 'tellme verify');
  try {
    const { image } = await prepareModel(board, req.model, req.context !== undefined ? { context: req.context } : {});
    const golden = await goldenModelFromImage(image, { threads: 1, ...(req.context !== undefined ? { contextLength: req.context } : {}) });
    try {
      return await checkBoardAgainstGolden(board, golden, {
        target: name,
        seeds: req.seeds ?? 3,
        ...(req.decodeSteps !== undefined ? { decodeSteps: req.decodeSteps } : {}),
        ...(req.progress ? { progress: req.progress } : {}),
      });
    } finally {
      await golden.close();
    }
  } finally {
    await board.close();
  }
}

function deviceTarget(req: BoardTargetRequest): Target {
  const t = targetFromFlags({
    ...(req.device !== undefined ? { device: req.device } : {}),
    ...(req.tcp !== undefined ? { tcp: req.tcp } : {}),
    ...(req.pcie !== undefined ? { pcie: req.pcie } : {}),
  });
  if (!t) throw new TellmeError('E_USAGE', 'verify --target device: which board?', 'pass --device <tty>, --tcp <host:port> or --pcie /dev/xdma0');
  return t;
}

/** `tellme verify --target sim-csim | sim-rtl | device`: the target the request names, then verifyOnTarget. */
export function verifyBoardTarget(name: BoardTargetName, req: BoardTargetRequest): Promise<ConformanceResult> {
  if (name === 'device') return verifyOnTarget(name, deviceTarget(req), req);
  if (req.device !== undefined || req.tcp !== undefined || req.pcie !== undefined) {
    throw new TellmeError('E_USAGE', `verify --target ${name} starts its own virtual board`, 'leave out --device, --tcp and --pcie (they go with --target device)');
  }
  return verifyOnTarget(name, { kind: 'sim', fidelity: name === 'sim-rtl' ? 'rtl' : 'csim', ...(req.board !== undefined ? { board: req.board } : {}) }, req);
}
