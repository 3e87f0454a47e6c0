/**
 * The Verilated TLMM engine (hw/rtl's tlmm_engine_hls, the HLS blackbox, + sim/tlmm): built by
 * `make rtl-sim SIM_BOARD=<board>` into build/sim/<board>/ (make keeps it cached), run through execa
 * on a case file (rtl-case.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { TellmeError } from '../errors.js';
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { rtlEngineBuilds } from '../hwgen/blackbox.js';
import { projectRoot } from '../paths.js';

export interface RtlSimResult {
  jobs: number;
  mismatches: number;
  protocol_errors: number;
  /** Core cycles of each job (command to last output beat). */
  cycles: number[];
  /** Clock cycles of each call, ap_start to ap_done (call i loads job i and computes job i - 1). */
  call_cycles: number[];
  total_cycles: number;
  seed: number;
  stall: number;
  report: string;
}

export interface RtlSimOptions {
  seed?: number;
  /** Probability that a stream source idles / the sink refuses in a cycle (0 = full rate). */
  stall?: number;
  /** Accumulator lanes the sink takes per cycle (default: all Q, one beat per cycle). */
  sinkLanes?: number;
  /** Write an FST waveform here. */
  trace?: string;
  timeoutMs?: number;
}


function simDir(board: string, trace: boolean): string {
  return path.join(projectRoot(), 'build', 'sim', trace ? `${board}-trace` : board);
}

/** Build (or reuse) the simulator of a board (with trace = true: the one that writes waveforms); returns the binary's path. */
export async function ensureRtlSim(hw: LoadedHwConfig, trace = false): Promise<string> {
  if (!rtlEngineBuilds(hw)) {
    const a = hw.config.architecture;
    throw new TellmeError(
      'E_USAGE',
      `board ${hw.config.name} has no Verilated TLMM engine: hw/rtl implements dense beats a loader can take at a beat per cycle, one token per lookup and parallel activation reads (this build: ${a.beat_packing} ${hw.derived.beatBits}-bit beats, prefill_token_block ${a.prefill_token_block}, ${a.activation_read} activation reads)`,
      'Use a board whose engine hw/rtl builds, e.g. --board kv260.',
    );
  }
  const root = projectRoot();
  const board = hw.config.name;
  if (!fs.existsSync(path.join(root, 'hw', 'gen', board, 'tellme_hw_pkg.sv'))) {
    throw new TellmeError('E_USAGE', `hw/gen/${board}/tellme_hw_pkg.sv does not exist`, 'Only bundled boards have a generated RTL package; run `make hwgen` after adding a board.');
  }
  fs.mkdirSync(path.join(root, 'build', 'sim'), { recursive: true });
  // flock: two test workers may ask for the same build at once.
  const r = await execa('flock', [path.join(root, 'build', 'sim', '.lock'), 'make', '-s', 'rtl-sim', `SIM_BOARD=${board}`, `RTL_TRACE=${trace ? 1 : 0}`], {
    cwd: root,
    reject: false,
    timeout: 30 * 60_000,
    all: true,
  });
  if (r.exitCode !== 0) {
    throw new TellmeError('E_INTERNAL', `building the Verilated TLMM engine for ${board} failed:\n${r.all ?? ''}`, 'Install verilator (make deps) and check build/sim/<board>/build.log.');
  }
  return path.join(simDir(board, trace), 'Vtlmm_engine_hls');
}

/** Run the simulator on a case file. Mismatches are results, not errors; a crash or hang is. */
export async function runRtlSim(binary: string, caseFile: string, opts: RtlSimOptions = {}): Promise<RtlSimResult> {
  const args = [caseFile, '--seed', String(opts.seed ?? 1), '--stall', String(opts.stall ?? 0.3)];
  if (opts.sinkLanes) args.push('--sink-lanes', String(opts.sinkLanes));
  if (opts.trace) args.push('--trace', opts.trace);
  const r = await execa(binary, args, { reject: false, timeout: opts.timeoutMs ?? 20 * 60_000 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if ((r.exitCode === 0 || r.exitCode === 1) && line.startsWith('{')) return JSON.parse(line) as RtlSimResult;
  throw new TellmeError(
    'E_INTERNAL',
    `the Verilated TLMM engine failed on ${caseFile} (exit ${r.exitCode ?? r.signal}${r.timedOut ? ', timed out' : ''}): ${r.stderr.trim() || line}`,
    'Rerun with --trace to get a waveform; see sim/README.md.',
  );
}
