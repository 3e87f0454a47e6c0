/**
 * The firmware's C unit tests (firmware/test: codecs, JSON, frames, the accelerator driver on a
 * mock HAL, the LM head's dot product; the xdma HAL backend on files) built with -Wall -Wextra -Werror for x86-64 and, cross,
 * for aarch64 — run natively and under qemu-aarch64, so the NEON head is exercised — and the
 * libFuzzer harness of the frame and message parser (ASan + UBSan) for a bounded time.
 */
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../host/src/paths.js';

const ROOT = projectRoot();

async function build(target: string): Promise<string> {
  await execa('make', ['-s', target], { cwd: ROOT, timeout: 300_000 });
  return path.join(ROOT, target);
}

function summary(stdout: string): { cases: number; checks: number; failures: number } {
  return JSON.parse(stdout.trim().split('\n').pop()!) as { cases: number; checks: number; failures: number };
}

describe('firmware unit tests', () => {
  it('pass on x86-64', async () => {
    const exe = await build('build/firmware/x86_64/fw_unit');
    const r = await execa(exe, [], { reject: false, timeout: 120_000 });
    expect(r.stderr).not.toMatch(/^FAIL/m);
    expect(summary(r.stdout)).toMatchObject({ failures: 0 });
    expect(summary(r.stdout).cases).toBeGreaterThanOrEqual(14);
    expect(r.exitCode).toBe(0);
  });

  it('pass on aarch64 under qemu-aarch64 (the NEON head)', async () => {
    const exe = await build('build/firmware/aarch64/fw_unit');
    expect(fs.readFileSync(exe).subarray(18, 20).readUInt16LE(0)).toBe(183); // e_machine EM_AARCH64
    const r = await execa('qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', exe], { reject: false, timeout: 120_000 });
    expect(r.stderr).toMatch(/^ok {3}head dot matches portable and known answers$/m);
    expect(summary(r.stdout)).toMatchObject({ failures: 0 });
    expect(r.exitCode).toBe(0);
  });

  it('the xdma backend maps the registers and moves the window in pieces, a short transfer is an error (files as XDMA devices); the kv260 backend builds for aarch64', async () => {
    const exe = await build('build/firmware/x86_64/fw_xdma');
    const r = await execa(exe, [], { reject: false, timeout: 120_000 });
    expect(summary(r.stdout)).toMatchObject({ cases: 3, failures: 0 });
    expect(r.exitCode).toBe(0);
    const obj = await build('build/firmware/aarch64/tl_hal_kv260.o');
    expect(fs.readFileSync(obj).subarray(18, 20).readUInt16LE(0)).toBe(183);
  });

  it('a one-test filter runs that test only, and no match is a failure', async () => {
    const exe = await build('build/firmware/x86_64/fw_unit');
    const one = await execa(exe, ['crc32'], { reject: false });
    expect(summary(one.stdout).cases).toBe(1);
    const none = await execa(exe, ['no such test'], { reject: false });
    expect(none.exitCode).toBe(1);
  });
});

describe('fuzzing the frame and message parser', () => {
  it('runs for a bounded time with no finding (libFuzzer, ASan + UBSan)', async () => {
    const exe = await build('build/firmware/fuzz/fuzz_frames');
    const corpus = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-fuzz-'));
    try {
      const r = await execa(exe, ['-max_total_time=10', '-seed=1', '-print_final_stats=1', `-artifact_prefix=${corpus}/`, corpus], { reject: false, timeout: 120_000 });
      const runs = Number(/stat::number_of_executed_units:\s+(\d+)/.exec(r.stderr)?.[1] ?? 0);
      expect(r.stderr).not.toMatch(/ERROR: (AddressSanitizer|libFuzzer)|runtime error|property failed/);
      expect(r.exitCode).toBe(0);
      expect(runs).toBeGreaterThan(1000);
    } finally {
      fs.rmSync(corpus, { recursive: true, force: true });
    }
  });
});
