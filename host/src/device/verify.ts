/**
 * `tellme verify --target sim-csim | sim-rtl | device`: conformance of a (virtual) board against
 * the golden model on the same image, in the verify command's JSON contract
 * ({target, cases, mismatches, pass, cycles, first_mismatch?}). For the verify target registry.
 */

import { goldenModelFromImage } from '../golden/weights-image.js';
import { Board } from './board.js';
import { checkBoardAgainstGolden, type ConformanceResult } from './conformance.js';
import { prepareModel } from './model.js';
import { openTarget, type Target } from './target.js';

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
