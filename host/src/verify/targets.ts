/**
 * The targets of `tellme verify`: each implementation of the accelerator that can be checked
 * against the golden model, in one table. A target takes the common request and returns at least
 * {target, cases, mismatches, pass, cycles}; add one here and the command picks it up. The board
 * targets (sim-csim, sim-rtl, device) sit above this layer, in device/verify-targets.ts; the
 * command joins both tables.
 */
import type { VerifyResult } from './result.js';

export type { VerifyResult } from './result.js';

export interface VerifyRequest {
  model: string;
  board?: string;
  seeds?: number;
  prefillTokens?: number;
  stall?: number;
  progress?: (message: string) => void;
  /** The link of a board target (device/verify-targets.ts): one of these. */
  device?: string;
  tcp?: string;
  pcie?: string;
}


export interface VerifyTarget {
  /** One line for --help. */
  summary: string;
  run(req: VerifyRequest): Promise<VerifyResult>;
}

export const VERIFY_TARGETS: Record<string, VerifyTarget> = {
  rtl: {
    summary: 'the hand-written TLMM engine (hw/rtl) under Verilator: every linear tile of the model, decode and prefill calls',
    // loaded on use: every `tellme` start reads this table (for --help), few runs need a target
    run: async (req) => (await import('./rtl-target.js')).verifyRtl(req),
  },
  csim: {
    summary: 'the whole accelerator of hls/src in C simulation (g++): prefill and greedy decode steps per seed, every tensor against the golden model\'s trace',
    run: async (req) => (await import('./csim-target.js')).verifyCsim(req),
  },
  'csim-rtl': {
    summary: 'csim with the Verilated TLMM engine (hw/rtl tlmm_engine_hls) in place of its C model, as Vitis co-simulation runs the RTL blackbox, random back-pressure on its streams (--stall, default 0.3)',
    run: async (req) => (await import('./csim-target.js')).verifyCsim({ ...req, fidelity: 'rtl' }),
  },
};
