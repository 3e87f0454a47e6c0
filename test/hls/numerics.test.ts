/**
 * The numerics headers (hls/include/tl_*.h, C11) against the golden model's numerics
 * (host/src/numerics), bit for bit: dense sweeps for exp, rsqrt, sigmoid, SiLU, the binary16
 * conversions and round-to-even; every binary16/bfloat16 pattern; seeded random records and
 * edge cases for the rest; known answers from docs/numerics.md inside the driver. A planted
 * one-bit change of an exp coefficient must make the check fail.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDriver, buildMutant, runDriver, tempDir } from './build.js';
import { writeNumericsVectors } from './numerics-vectors.js';

describe('hls/include numerics headers vs host/src/numerics', () => {
  let exe: string;
  let files: string[];
  beforeAll(async () => {
    exe = await buildDriver('numerics_check');
    files = writeNumericsVectors(tempDir('numerics'), 20260101);
  });

  it('agree bit for bit on every vector and known answer', async () => {
    const r = await runDriver(exe, files);
    expect(r.stderr).not.toMatch(/malformed|truncated|cannot read|unknown operation/);
    expect(r.summary).toMatchObject({ mismatches: 0, pass: true });
    expect(r.summary!.cases).toBeGreaterThan(5_000_000);
    expect(r.exitCode).toBe(0);
  });

  it('agree on other seeds (smaller sweeps)', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const r = await runDriver(exe, writeNumericsVectors(tempDir(`numerics-${seed}`), seed, 0.05));
      expect(r.summary, r.stderr).toMatchObject({ mismatches: 0, pass: true });
    }
  });

  it('fails on a missing vector file (never a skip)', async () => {
    const r = await runDriver(exe, [path.join(tempDir('none'), 'exp.bin')]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/cannot read the vector file/);
  });

  it('fails on a corrupted expected value', async () => {
    const dir = tempDir('numerics-bad');
    const [file] = writeNumericsVectors(dir, 7, 0.01).filter((f) => f.endsWith('quantize.bin'));
    const buf = fs.readFileSync(file!);
    buf.writeUInt32LE(buf.readUInt32LE(buf.length - 4) ^ 1, buf.length - 4); // the last expected word
    fs.writeFileSync(file!, buf);
    const r = await runDriver(exe, [file!]);
    expect(r.summary).toMatchObject({ mismatches: 1, pass: false });
    expect(r.exitCode).toBe(1);
  });

  it('catches a planted one-bit change of an exp coefficient (1/3!)', async () => {
    const mutant = await buildMutant('numerics_check', 'include/tl_functions.h', 'tl_bits_f32(0x3e2aaaabu)', 'tl_bits_f32(0x3e2aaaaau)');
    const r = await runDriver(mutant, files.filter((f) => /\/(exp|sigmoid|silu)\.bin$/.test(f)));
    expect(r.summary!.mismatches).toBeGreaterThan(0);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/exp\(0x[0-9a-f]{8}\) = 0x[0-9a-f]{8}, golden 0x[0-9a-f]{8}/);
  });
});
