/**
 * `tellme verify --target csim`: the whole accelerator in C simulation (hls/csim/accel_tb.cpp,
 * every kernel of hls/src behind the register file of hls/sim) against the golden model, tensor by
 * tensor (docs/trace.md). Per seed, a prompt of seeded ids is prefilled (the head at every
 * position) and then decoded greedily for `decodeSteps` steps; both sides write a trace and
 * compareTraces lines them up. A case is one tensor of one pass; a mismatch, one that differs.
 *
 * `--target csim-rtl` is the same run at RTL fidelity: the driver build/hls/accel_tb_rtl links the
 * Verilated hw/rtl tlmm_engine_hls in place of the engine's C model (hls/sim/tlmm_engine_rtl.cpp,
 * what Vitis C/RTL co-simulation does with the RTL blackbox), with seeded random back-pressure on
 * the engine's streams.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { openCheckpoint } from '../checkpoint/open.js';
import { TellmeError } from '../errors.js';
import { goldenModelFromImage } from '../golden/weights-image.js';
import { loadHwConfig } from '../hwconfig/load.js';
import { convertCheckpoint } from '../image/writer.js';
import { isModelImage, openImage, type ModelImage } from '../image/reader.js';
import { projectRoot } from '../paths.js';
import { Rng } from '../testmodels/prng.js';
import { compareTraces, openTrace } from '../trace/compare.js';
import { recordTrace } from '../trace/record.js';
import { COMMAND } from '../regmap/registers.js';
import { CSIM_MAX_PROMPT, parseAccelTbReport, writeCsimJob } from './csim-job.js';
import type { VerifyResult } from './result.js';

export interface CsimVerifyOptions {
  /** Checkpoint directory or model image. */
  model: string;
  /** Hardware build for a checkpoint (default kv260); an image brings its own. */
  board?: string;
  /** Prompts (seeded ids). */
  seeds?: number;
  /** Greedy decode steps after each prompt. */
  decodeSteps?: number;
  /** Prompt length (default: 3 + seed mod 6). */
  promptTokens?: number;
  progress?: (message: string) => void;
  /** Keep the traces here (default: a temporary directory, removed). */
  workDir?: string;
  /** Driver to run instead of build/hls/accel_tb (the planted-fault test). */
  driver?: string;
  /** 'rtl': the Verilated TLMM engine in place of its C model (build/hls/accel_tb_rtl). */
  fidelity?: CsimFidelity;
  /** rtl: probability that an engine stream refuses a cycle (default 0.3; 0 = full rate). */
  stall?: number;
  /** rtl: Verilator runtime arguments, e.g. ['+tlmm_fault_entry=22'] (a planted table fault). */
  plusargs?: string[];
}

export type CsimFidelity = 'csim' | 'rtl';

export interface CsimVerifyResult extends VerifyResult {
  target: 'csim' | 'csim-rtl';
  board: string;
  /** Modelled cycles of every pass (prefill, then each decode step), per seed. */
  pass_cycles: number[][];
  report: string;
}

export const DEFAULT_DECODE_STEPS = 16;

/** Build (or reuse: make keeps it cached) the whole-accelerator driver of a fidelity; returns its path. */
export async function ensureCsimDriver(fidelity: CsimFidelity = 'csim'): Promise<string> {
  const root = projectRoot();
  const name = fidelity === 'rtl' ? 'accel_tb_rtl' : 'accel_tb';
  fs.mkdirSync(path.join(root, 'build', 'hls'), { recursive: true });
  // flock: two test workers may ask for the same build at once. The RTL one verilates hw/rtl first.
  const r = await execa('flock', [path.join(root, 'build', 'hls', '.lock'), 'make', '-s', `build/hls/${name}`], { cwd: root, reject: false, timeout: 30 * 60_000 });
  if (r.exitCode !== 0) {
    throw new TellmeError('E_INTERNAL', `building the C simulation (make build/hls/${name}) failed:\n${r.stderr || r.stdout}`, `Install g++${fidelity === 'rtl' ? ' and verilator' : ''} (make deps) and run the make command by hand to see the error.`);
  }
  return path.join(root, 'build', 'hls', name);
}

/** The model as an image: an image as it is, a checkpoint converted for `board` into `dir`. */
async function imageOf(model: string, board: string | undefined, dir: string, positions: number): Promise<ModelImage> {
  if (!fs.existsSync(model)) throw new TellmeError('E_NOT_FOUND', `${model} does not exist`, 'Pass the model as a checkpoint directory or a model image.');
  if (fs.statSync(model).isDirectory()) {
    const ckpt = openCheckpoint(model);
    const hw = loadHwConfig(board ?? 'kv260');
    const file = path.join(dir, 'model.tlm');
    await convertCheckpoint(ckpt, file, { hw, context: Math.min(ckpt.spec.maxPositions, Math.max(positions, 64)), force: true });
    return openImage(file);
  }
  if (!isModelImage(model)) throw new TellmeError('E_USAGE', `${model} is neither a checkpoint directory nor a model image`, 'Pass the directory that holds config.json, or an image made by tellme convert.');
  return openImage(model, board !== undefined ? { hw: board } : {});
}

/** Seeded prompt ids (seed s: its own stream). */
export function seededPrompt(seed: number, vocab: number, tokens: number): number[] {
  const rng = new Rng(0x5eed + seed, 7);
  return Array.from({ length: tokens }, () => Math.floor(rng.uniform() * vocab));
}

export async function verifyCsim(opts: CsimVerifyOptions): Promise<CsimVerifyResult> {
  const seeds = opts.seeds ?? 1;
  const steps = opts.decodeSteps ?? DEFAULT_DECODE_STEPS;
  const work = opts.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-csim-'));
  fs.mkdirSync(work, { recursive: true });
  const say = opts.progress ?? (() => undefined);
  try {
    const fidelity = opts.fidelity ?? 'csim';
    const driver = opts.driver ?? (await ensureCsimDriver(fidelity));
    const image = await imageOf(opts.model, opts.board, work, CSIM_MAX_PROMPT + steps + 1);
    const context = Math.min(image.context, CSIM_MAX_PROMPT + steps + 1);
    const golden = await goldenModelFromImage(image, { contextLength: context });
    let cases = 0;
    let mismatches = 0;
    let report = '';
    const passCycles: number[][] = [];
    try {
      for (let s = 0; s < seeds; s++) {
        const n = Math.min(opts.promptTokens ?? 3 + (s % 6), CSIM_MAX_PROMPT);
        const ids = seededPrompt(s, image.spec.vocabSize, n);
        const expected = path.join(work, `golden-${s}`);
        const actual = path.join(work, `csim-${s}`);
        say(`seed ${s}: ids ${ids.join(',')}, ${steps} decode steps`);
        for (const d of [expected, actual]) fs.rmSync(d, { recursive: true, force: true });
        recordTrace(golden, {
          ids,
          decodeSteps: steps,
          outDir: expected,
          model: { source: image.path, family: image.spec.family, layers: image.spec.numLayers, hidden: image.spec.hiddenSize, vocab: image.spec.vocabSize },
          hardware: { name: image.hw.config.name, hash: image.hw.hash, numerics: image.hw.config.numerics },
        });
        const job = writeCsimJob(image, path.join(work, `job-${s}.txt`), { ids, decodeSteps: steps, traceDir: actual, verifyCheck: true });
        // The RTL engine's back-pressure, seeded per prompt (hls/sim/tlmm_engine_rtl.cpp reads these).
        const env = fidelity === 'rtl' ? { TL_RTL_STALL: String(opts.stall ?? 0.3), TL_RTL_SEED: String(s + 1), TL_RTL_PLUSARGS: (opts.plusargs ?? []).join(' ') } : {};
        const r = await execa(driver, [job], { reject: false, timeout: 1_800_000, env });
        if (r.exitCode !== 0) {
          mismatches++;
          report ||= `seed ${s}: the C simulation failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-3).join(' / ')}`;
          continue;
        }
        const out = parseAccelTbReport(r.stdout);
        passCycles.push(out.passes.filter((p) => p.command !== COMMAND.verify).map((p) => p.cycles));
        // The VERIFY pass over the decoded tokens: each head record equals its DECODE record.
        cases += out.verify.positions;
        mismatches += out.verify.mismatches;
        if (out.verify.mismatches > 0) report ||= `seed ${s}: ${out.verify.mismatches} of ${out.verify.positions} VERIFY head records differ from the DECODE ones`;
        const cmp = compareTraces(openTrace(expected), openTrace(actual));
        cases += cmp.compared;
        mismatches += cmp.differing;
        if (cmp.first) report ||= `seed ${s}: ${cmp.differing} of ${cmp.compared} tensors differ; first: ${cmp.first.detail}`;
      }
    } finally {
      await golden.close();
    }
    const cycles = passCycles.reduce((a, p) => a + p.reduce((x, y) => x + y, 0), 0);
    return { target: fidelity === 'rtl' ? 'csim-rtl' : 'csim', cases, mismatches, pass: mismatches === 0 && cases > 0, cycles, board: image.hw.config.name, pass_cycles: passCycles, report };
  } finally {
    if (opts.workDir === undefined) fs.rmSync(work, { recursive: true, force: true });
  }
}
