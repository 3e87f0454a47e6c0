/**
 * The hand-written TLMM engine (hw/rtl, kv260 build) under Verilator equals the golden TLMM bit for
 * bit: random matrices over five seeds and shapes including K = 1536, 4096 and 6912, the edge cases
 * of numerics §6 (zeros, all +-1 against saturated activations, reductions ending inside a group
 * or a chunk, garbage in the activation padding), refused out-of-range commands, and every linear
 * of the demo model. Random back-pressure on every stream, except one full-rate run. A corrupted
 * table entry in the RTL makes the comparison fail.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { TellmeError } from '../../host/src/errors.js';
import { loadHwConfig } from '../../host/src/hwconfig/load.js';
import { convertCheckpoint } from '../../host/src/image/writer.js';
import { Rng } from '../../host/src/testmodels/prng.js';
import { refusalJob, writeCaseFile, type EncodedJob, type TlmmJob } from '../../host/src/verify/rtl-case.js';
import { ensureRtlSim, runRtlSim, type RtlSimResult } from '../../host/src/verify/rtl-sim.js';
import { activations, ternaryMatrix, type ActKind, type WeightKind } from '../../host/src/verify/random-jobs.js';
import { verifyRtl } from '../../host/src/verify/rtl-target.js';

const hw = loadHwConfig('kv260');
let sim: string;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-rtl-'));

beforeAll(async () => {
  sim = await ensureRtlSim(hw);
}, 30 * 60_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function job(name: string, rows: number, cols: number, tokens: number, rng: Rng, w: WeightKind = 'random', a: ActKind = 'quantised', padValue?: number): TlmmJob {
  const matrix = ternaryMatrix(rows, cols, w, rng);
  return { name, matrix, rowStart: 0, rows, act: activations(tokens, cols, a, rng), tokens, ...(padValue !== undefined ? { padValue } : {}) };
}

async function run(name: string, jobs: (TlmmJob | EncodedJob)[], opts: { seed?: number; stall?: number; args?: string[] } = {}): Promise<RtlSimResult> {
  const file = path.join(dir, `${name}.case`);
  writeCaseFile(file, jobs, hw);
  return runRtlSim(sim, file, opts);
}

describe('TLMM engine (Verilator) vs golden TLMM', () => {
  it('random matrices, 5 seeds, K = 1536 / 4096 / 6912 and odd shapes, with back-pressure', async () => {
    for (let seed = 1; seed <= 5; seed++) {
      const rng = new Rng(seed, 0x71a);
      const jobs = [
        job('k1536', 48 + 8 * seed, 1536, 1 + (seed % 3), rng),
        job('k4096', 16 * seed + 3, 4096, 1, rng),
        job('k6912', 40 - seed, 6912, 2, rng),
        job('k200', 1 + 13 * seed, 200, 3, rng), // reduction ends inside a group and a chunk
        job('k85', 100, 85, 2, rng),
      ];
      const r = await run(`random${seed}`, jobs, { seed, stall: 0.3 });
      expect(r.report).toBe('');
      expect([r.jobs, r.mismatches, r.protocol_errors]).toEqual([jobs.length, 0, 0]);
    }
  }, 600_000);

  it('edge cases: zeros, all +-1 against saturated activations, padding garbage, full rate', async () => {
    const rng = new Rng(99, 0xed9e);
    const jobs = [
      job('zero-w', 32, 1536, 1, rng, 'zeros'),
      job('zero-a', 32, 1536, 1, rng, 'random', 'zeros'),
      job('plus-max', 24, 8652, 1, rng, 'plus', 'max'), // the largest accumulator, +127 * 8652
      job('minus-max', 24, 8652, 1, rng, 'minus', 'max'), // the most negative
      job('plus-min', 16, 4096, 2, rng, 'plus', 'min'),
      job('alt-uniform', 64, 1000, 2, rng, 'alternating', 'uniform'),
      job('pad-garbage', 33, 100, 2, rng, 'random', 'uniform', 77), // padding groups (index 13) ignore activations
      job('one-row', 1, 300, 1, rng),
    ];
    for (const stall of [0.3, 0]) {
      const r = await run(`edge${stall}`, jobs, { seed: 7, stall });
      expect(r.report).toBe('');
      expect([r.mismatches, r.protocol_errors]).toEqual([0, 0]);
    }
  }, 600_000);

  it('refuses shapes past the maxima (zero rows, K past K_max, a tile larger than a buffer half) and keeps working', async () => {
    const rng = new Rng(3, 0x5e);
    const jobs: (TlmmJob | EncodedJob)[] = [
      refusalJob(0, 1536, 1, hw),
      refusalJob(16, 8653 + 84, 1, hw),
      refusalJob(8640, 8652, 1, hw),
      job('after', 40, 500, 2, rng),
    ];
    const r = await run('refusals', jobs);
    expect(r.report).toBe('');
    expect([r.mismatches, r.protocol_errors]).toEqual([0, 0]);
  }, 300_000);

  it('a corrupted table entry (+tlmm_fault_entry) makes the comparison fail', async () => {
    const rng = new Rng(5, 0xfa);
    const file = path.join(dir, 'fault.case');
    writeCaseFile(file, [job('fault', 32, 300, 1, rng, 'random', 'quantised')], hw);
    const r = await execa(sim, [file, '+tlmm_fault_entry=22'], { reject: false });
    expect(r.exitCode).toBe(1);
    const j = JSON.parse(r.stdout) as RtlSimResult;
    expect(j.mismatches).toBeGreaterThan(0);
    const ok = await execa(sim, [file], { reject: false });
    expect(ok.exitCode).toBe(0);
  }, 300_000);

  it('tellme verify --target rtl: every linear of the demo model, decode and prefill, through a real process', async () => {
    const r = await execa('node', ['--import', 'tsx', 'host/src/cli/run.ts', 'verify', '--target', 'rtl', '--model', 'models/tellme-shakespeare-6l', '--json'], {
      reject: false,
      timeout: 600_000,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    // 6 layers x 7 linears x one tile x (decode + prefill)
    expect(j).toMatchObject({ target: 'rtl', cases: 84, mismatches: 0, pass: true });
    expect(j['cycles']).toBeGreaterThan(0);
  }, 900_000);

  it('an image: the engine loads the image\'s own DDR beat streams; a foreign --board or a board without an RTL engine is refused', async () => {
    const image = path.join(dir, 'demo.tlm');
    await convertCheckpoint(openCheckpoint('models/tellme-shakespeare-6l'), image, { hw });
    const r = await verifyRtl({ model: image, stall: 0.2 });
    expect(r).toMatchObject({ target: 'rtl', cases: 84, mismatches: 0, protocol_errors: 0, pass: true });
    const refused = async (o: Parameters<typeof verifyRtl>[0]) => verifyRtl(o).then(() => null, (e: unknown) => e as TellmeError);
    expect((await refused({ model: image, board: 'kv260-paper' }))?.message).toContain('was converted for kv260, not kv260-paper');
    expect((await refused({ model: 'models/tellme-shakespeare-6l', board: 'kv260-paper' }))?.message).toContain('board kv260-paper has no Verilated TLMM engine');
  }, 600_000);
});
