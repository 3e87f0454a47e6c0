/**
 * The whole accelerator at RTL fidelity (build/hls/accel_tb_rtl: every kernel of hls/src, the TLMM
 * engine being the Verilated hw/rtl tlmm_engine_hls behind hls/sim/tlmm_engine_rtl.cpp, as Vitis
 * co-simulation runs the RTL blackbox) against the golden model, tensor by tensor, with random
 * back-pressure on the engine's streams: the ReLU²/GQA/sub-norms family and the demo model's image,
 * each a prefill and 16 greedy decode steps. A corrupted table entry in the RTL (+tlmm_fault_entry,
 * a simulation-only hook of tlmm_table_builder) must fail at the first linear. Lean on purpose:
 * test/hls/accel.test.ts covers the families at C fidelity, test/rtl the engine alone.
 */
import { execa } from 'execa';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { loadHwConfig } from '../../host/src/hwconfig/load.js';
import { convertCheckpoint } from '../../host/src/image/writer.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { ensureCsimDriver, verifyCsim } from '../../host/src/verify/csim-target.js';
import { ROOT, tempDir } from './build.js';

const STEPS = 16;
const dir = tempDir('accel-rtl');
const tiny = path.join(dir, 'bitnet-tiny-packed');

beforeAll(async () => {
  writeTestModel(tiny, { preset: 'bitnet-tiny-packed' });
  await ensureCsimDriver('rtl');
}, 30 * 60_000);

describe('whole accelerator with the Verilated TLMM engine vs the golden model', () => {
  it('bitnet-tiny-packed (ReLU², GQA, sub-norms): prefill and 16 decode steps with back-pressure, every tensor bit for bit', async () => {
    const r = await verifyCsim({ model: tiny, fidelity: 'rtl', seeds: 1, decodeSteps: STEPS, stall: 0.3 });
    expect(r.report).toBe('');
    expect(r).toMatchObject({ target: 'csim-rtl', mismatches: 0, pass: true });
    expect(r.pass_cycles[0]).toHaveLength(1 + STEPS);
    expect(r.cases).toBeGreaterThan((1 + STEPS) * 30);
  }, 300_000);

  it('the demo model, as a model image through `tellme verify --target csim-rtl --json`', async () => {
    const image = path.join(dir, 'demo.tlm');
    await convertCheckpoint(openCheckpoint(path.join(ROOT, 'models', 'tellme-shakespeare-6l')), image, { hw: loadHwConfig('kv260'), context: 64 });
    const r = await execa('node', ['--import', 'tsx', 'host/src/cli/run.ts', 'verify', '--target', 'csim-rtl', '--model', image, '--json'], { cwd: ROOT, reject: false, timeout: 600_000 });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as { target: string; cases: number; mismatches: number; pass: boolean; pass_cycles: number[][] };
    expect(out).toMatchObject({ target: 'csim-rtl', mismatches: 0, pass: true });
    expect(out.pass_cycles[0]).toHaveLength(1 + STEPS);
    expect(out.cases).toBeGreaterThan((1 + STEPS) * 6 * 30);
  }, 600_000);

  it('a corrupted table entry in the RTL (+tlmm_fault_entry=22) fails at the first linear, q_proj of layer 0', async () => {
    const r = await verifyCsim({ model: tiny, fidelity: 'rtl', seeds: 1, decodeSteps: 1, plusargs: ['+tlmm_fault_entry=22'] });
    expect(r.pass).toBe(false);
    expect(r.mismatches).toBeGreaterThan(0);
    expect(r.report).toMatch(/first: q_proj\.acc of layer 0 at position 0 \(pass 0\)/);
  }, 300_000);
});
