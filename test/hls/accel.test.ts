/**
 * The whole accelerator in C simulation (hls/csim/accel_tb.cpp: every kernel of hls/src behind the
 * register file of hls/sim, driven as the firmware drives the board) against the golden model,
 * tensor by tensor through the trace format (docs/trace.md): both model families
 * (ReLU²/GQA/sub-norms and SiLU/MHA/llama naming), a model without sub-norms, and the demo model,
 * each a prefill and 16 greedy decode steps. The two sides share no code (C++ kernels against the
 * TypeScript golden model). After the decode steps a VERIFY pass re-runs the decoded tokens; its
 * head records must equal the DECODE ones. A one-bit change of one kernel's arithmetic must fail,
 * naming the unit's tensor, and a fault only VERIFY meets must fail the VERIFY check.
 */
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { loadHwConfig } from '../../host/src/hwconfig/load.js';
import { convertCheckpoint } from '../../host/src/image/writer.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { ensureCsimDriver, verifyCsim } from '../../host/src/verify/csim-target.js';
import { ROOT, buildDriver, buildMutant, runDriver, tempDir } from './build.js';

const STEPS = 16;
const dir = tempDir('accel');
const model = (preset: string) => path.join(dir, preset);

beforeAll(async () => {
  for (const preset of ['bitnet-tiny-packed', '1bitllm-tiny', 'hf1bitllm-tiny']) writeTestModel(model(preset), { preset: preset as never });
  await ensureCsimDriver();
}, 600_000);

describe('whole accelerator in C simulation vs the golden model', () => {
  it.each([
    ['bitnet-tiny-packed', 2],
    ['1bitllm-tiny', 1],
    ['hf1bitllm-tiny', 1],
  ])('%s: prefill and %i seed(s) of 16 decode steps, every tensor bit for bit', async (preset, seeds) => {
    const r = await verifyCsim({ model: model(preset), seeds, decodeSteps: STEPS });
    expect(r.report).toBe('');
    expect(r.mismatches).toBe(0);
    expect(r.pass).toBe(true);
    expect(r.pass_cycles).toHaveLength(seeds);
    for (const p of r.pass_cycles) expect(p).toHaveLength(1 + STEPS);
    expect(r.cases).toBeGreaterThan(seeds * (1 + STEPS) * 30);
  }, 300_000);

  it('the demo model, as a model image through `tellme verify --target csim --json`', async () => {
    const image = path.join(dir, 'demo.tlm');
    const ckpt = openCheckpoint(path.join(ROOT, 'models', 'tellme-shakespeare-6l'));
    await convertCheckpoint(ckpt, image, { hw: loadHwConfig('kv260'), context: 64 });
    const r = await execa('node', ['--import', 'tsx', 'host/src/cli/run.ts', 'verify', '--target', 'csim', '--model', image, '--json'], { cwd: ROOT, reject: false, timeout: 300_000 });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout) as { target: string; cases: number; mismatches: number; pass: boolean; pass_cycles: number[][] };
    expect(out).toMatchObject({ target: 'csim', mismatches: 0, pass: true });
    expect(out.pass_cycles[0]).toHaveLength(1 + STEPS);
    expect(out.cases).toBeGreaterThan((1 + STEPS) * 6 * 30);
  }, 300_000);

  it('a planted one-bit change in the attention unit (the output scale 2^-24 -> 2^-25) fails at attn.out of layer 0', async () => {
    const driver = await buildMutant('accel_tb', 'src/attention.cpp', 'tl_ldexp(vmax[q], -24)', 'tl_ldexp(vmax[q], -25)', { reuseObjects: true });
    const r = await verifyCsim({ model: model('bitnet-tiny-packed'), seeds: 1, decodeSteps: 2, driver });
    expect(r.pass).toBe(false);
    expect(r.mismatches).toBeGreaterThan(0);
    expect(r.report).toMatch(/first: attn\.out of layer 0 at position 0 \(pass 0\)/);
  }, 600_000);

  it('a planted sequencer fault that only VERIFY meets (its head at the last position only) fails the VERIFY check', async () => {
    const driver = await buildMutant('accel_tb', 'src/accel_top.cpp', 'const bool all = command == tl_regs::COMMAND_VERIFY ||', 'const bool all = command == tl_regs::COMMAND_DECODE ||', { reuseObjects: true });
    const r = await verifyCsim({ model: model('bitnet-tiny-packed'), seeds: 1, decodeSteps: 3, driver });
    expect(r.pass).toBe(false);
    expect(r.report).toMatch(/VERIFY head records differ from the DECODE ones/);
  }, 600_000);

  it("the C ABI of hls/sim from C (the firmware sim HAL's view): block protocol, read-back, refused calls, simulation errors", async () => {
    const r = await runDriver(await buildDriver('abi_check'), []);
    expect(r.stderr).toBe('');
    expect(r.summary).toEqual({ cases: 15, mismatches: 0, pass: true });
    expect(r.exitCode).toBe(0);
  }, 600_000);

  it('a model path that does not exist is a clear error', async () => {
    await expect(verifyCsim({ model: path.join(dir, 'nope') })).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    expect(fs.existsSync(path.join(dir, 'nope'))).toBe(false);
  });
});
