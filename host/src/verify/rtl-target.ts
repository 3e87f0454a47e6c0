/**
 * `tellme verify --target rtl`: every linear of a model through the Verilated TLMM engine.
 *
 * For each layer and each linear (compute order), each weight tile of the board's URAM plan is one
 * job per pass: a decode call (1 token) and a prefill block (prefillTokens tokens), repeated for
 * each seed. The weights are exactly what the board gets: an image's own DDR beat streams (its
 * lanes joined), or a checkpoint's weights packed by the image's packer. The expected accumulators
 * are the golden TLMM's (tlmm/tables.ts).
 *
 * The activations are seeded int8 vectors shaped like the quantiser's output (per-token absmax at
 * 127); the golden model's per-linear trace (`tellme trace`, docs/trace.md) will replace them with
 * the real inputs of a prefill and decode once it exists.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCheckpoint } from '../checkpoint/open.js';
import { TellmeError } from '../errors.js';
import { decodeImageLinear } from '../golden/weights-image.js';
import { loadHwConfig } from '../hwconfig/load.js';
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { isModelImage, openImage } from '../image/reader.js';
import { joinLanes } from '../layout/beats.js';
import { COMPUTE_ORDER, planUram, type UramPlan } from '../layout/uram.js';
import type { LinearName, ModelSpec } from '../model/spec.js';
import { permuteRopeRows } from '../numerics/rope.js';
import { Rng, hashString } from '../testmodels/prng.js';
import { encodeTernary, type TlmmMatrix } from '../tlmm/encoding.js';
import { activations } from './random-jobs.js';
import type { VerifyResult } from './result.js';
import { writeCaseFile, type TlmmJob } from './rtl-case.js';
import { ensureRtlSim, runRtlSim } from './rtl-sim.js';

export interface RtlVerifyOptions {
  /** Checkpoint directory or model image. */
  model: string;
  /** Hardware build for a checkpoint (default kv260); an image brings its own. */
  board?: string;
  /** Activation seeds per tile and pass. */
  seeds?: number;
  /** Tokens of the prefill block. */
  prefillTokens?: number;
  /** Back-pressure probability on every stream. */
  stall?: number;
  progress?: (message: string) => void;
}

export interface RtlVerifyResult extends VerifyResult {
  target: 'rtl';
  cases: number;
  mismatches: number;
  pass: boolean;
  cycles: number;
  board: string;
  protocol_errors: number;
  report: string;
}

interface ModelSource {
  spec: ModelSpec;
  hw: LoadedHwConfig;
  uram: UramPlan;
  matrix(layer: number, linear: LinearName): TlmmMatrix;
  /** The packed beat stream of a tile when the source has one (images). */
  beats(layer: number, linear: LinearName, tile: number): Uint8Array | undefined;
}

function openSource(model: string, board: string | undefined): ModelSource {
  if (!fs.existsSync(model)) throw new TellmeError('E_NOT_FOUND', `${model} does not exist`, 'Pass --model <checkpoint directory | model image>.');
  if (fs.statSync(model).isDirectory()) {
    const ckpt = openCheckpoint(model);
    const hw = loadHwConfig(board ?? 'kv260');
    const spec = ckpt.spec;
    return {
      spec,
      hw,
      uram: planUram(spec, hw),
      matrix: (l, p) => {
        const m = ckpt.linear(l, p);
        // q/k rows in the consecutive-pair order the image stores (numerics §7).
        const values = p === 'q_proj' || p === 'k_proj' ? permuteRopeRows(m.values, m.rows, m.cols, spec.headDim) : m.values;
        return encodeTernary(values, m.rows, m.cols);
      },
      beats: () => undefined,
    };
  }
  if (!isModelImage(model)) throw new TellmeError('E_USAGE', `${model} is neither a checkpoint directory nor a model image`, 'Pass the directory that holds config.json, or an image made by tellme convert.');
  const image = openImage(model);
  if (board && board !== image.hw.config.name) {
    throw new TellmeError('E_USAGE', `${model} was converted for ${image.hw.config.name}, not ${board}`, 'Drop --board (an image brings its own build) or convert the checkpoint for that board.');
  }
  return {
    spec: image.spec,
    hw: image.hw,
    uram: image.uram,
    matrix: (l, p) => decodeImageLinear(image, l, p, () => new Float32Array(0)),
    beats: (l, p, t) => {
      const lanes: Uint8Array[] = [];
      for (let i = 0; i < image.hw.config.memory.weight_ports; i++) lanes.push(image.readSection(`weights.L${l}.${p}.t${t}.p${i}`));
      return joinLanes(lanes, image.hw.derived.beatBytes);
    },
  };
}

export async function verifyRtl(opts: RtlVerifyOptions): Promise<RtlVerifyResult> {
  const seeds = opts.seeds ?? 1;
  const prefill = opts.prefillTokens ?? 8;
  if (!Number.isInteger(seeds) || seeds < 1) throw new TellmeError('E_USAGE', `--seeds ${seeds} must be a positive integer`, 'Pass --seeds 1 or more.');
  if (!Number.isInteger(prefill) || prefill < 1) throw new TellmeError('E_USAGE', `--prefill-tokens ${prefill} must be a positive integer`, 'Pass --prefill-tokens 1 or more.');
  const src = openSource(opts.model, opts.board);
  const binary = await ensureRtlSim(src.hw);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-verify-rtl-'));
  const result: RtlVerifyResult = { target: 'rtl', cases: 0, mismatches: 0, pass: true, cycles: 0, board: src.hw.config.name, protocol_errors: 0, report: '' };
  try {
    for (let l = 0; l < src.spec.numLayers; l++) {
      const jobs: TlmmJob[] = [];
      for (const name of COMPUTE_ORDER) {
        const lp = src.uram.linears.find((x) => x.linear === name)!;
        const m = src.matrix(l, name);
        for (const tile of lp.tiles) {
          const beats = src.beats(l, name, tile.tile);
          for (let s = 0; s < seeds; s++) {
            for (const tokens of [1, prefill]) {
              const label = `L${l}.${name}.t${tile.tile}.${tokens === 1 ? 'decode' : 'prefill'}.s${s}`;
              const rng = new Rng(s + 1, hashString(label));
              jobs.push({ name: label, matrix: m, rowStart: tile.rowStart, rows: tile.rows, act: activations(tokens, m.cols, 'quantised', rng), tokens, beats });
            }
          }
        }
      }
      const file = path.join(dir, `layer${l}.case`);
      writeCaseFile(file, jobs, src.hw);
      const r = await runRtlSim(binary, file, { seed: l + 1, stall: opts.stall ?? 0.3 });
      fs.rmSync(file);
      result.cases += r.jobs;
      result.mismatches += r.mismatches;
      result.protocol_errors += r.protocol_errors;
      result.cycles += r.cycles.reduce((a, b) => a + b, 0);
      if (r.report && !result.report) result.report = `layer ${l}: ${r.report}`;
      opts.progress?.(`layer ${l + 1}/${src.spec.numLayers}: ${r.jobs} calls, ${r.mismatches} mismatches`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  result.pass = result.mismatches === 0 && result.protocol_errors === 0;
  return result;
}
