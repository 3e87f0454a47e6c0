/**
 * The board targets of `tellme verify` (joined to verify/targets.ts's table by the command): the
 * virtual board at either fidelity, and a real board over a link. Their implementation
 * (device/verify.ts: connect, load, compare with the golden model) is loaded on use.
 */
import type { ConformanceResult } from './conformance.js';
import type { BoardVerifyRequest } from './verify.js';

export type BoardTargetName = 'sim-csim' | 'sim-rtl' | 'device';

/** What `tellme verify` passes to a board target: the common request plus the link flags. */
export interface BoardTargetRequest extends BoardVerifyRequest {
  /** The virtual board's hardware set (default kv260). */
  board?: string;
  device?: string;
  tcp?: string;
  pcie?: string;
}

/** ConformanceResult as a plain object type (verify's result type is an open record). */
export type BoardVerifyResult = { [K in keyof ConformanceResult]: ConformanceResult[K] };

/** Has the shape of verify/targets.ts's VerifyTarget. */
export interface BoardVerifyTarget {
  summary: string;
  run(req: BoardTargetRequest): Promise<BoardVerifyResult>;
}

const target = (name: BoardTargetName, summary: string): BoardVerifyTarget => ({
  summary,
  run: async (req) => (await import('./verify.js')).verifyBoardTarget(name, req),
});

export const BOARD_VERIFY_TARGETS: Record<BoardTargetName, BoardVerifyTarget> = {
  'sim-csim': target('sim-csim', 'the virtual board (the C firmware over the simulated accelerator): every logit of prefill and decode steps bit for bit, and its generations'),
  'sim-rtl': target('sim-rtl', 'the virtual board with the Verilated TLMM engine (hw/rtl) in the simulated accelerator, checked as sim-csim'),
  device: target('device', 'a board over --device, --tcp or --pcie, checked as sim-csim'),
};
