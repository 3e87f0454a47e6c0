/**
 * Builds and runs the HLS C-simulation drivers (hls/csim) for the tests: `make build/hls/<name>`
 * (cached by make, header dependencies included), then the executable through execa.
 */
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot } from '../../host/src/paths.js';

export const ROOT = projectRoot();

/** Build one driver with the project's Makefile; returns the executable's path. */
export async function buildDriver(name: string): Promise<string> {
  await execa('make', ['-s', `build/hls/${name}`], { cwd: ROOT, timeout: 300_000 });
  return path.join(ROOT, 'build', 'hls', name);
}

export interface DriverResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The JSON summary on the last line of stdout, if any. */
  summary: { cases: number; mismatches: number; pass: boolean } | null;
}

/** Run a driver (never throws on a non-zero exit: the caller asserts on it). */
export async function runDriver(exe: string, args: string[], timeout = 300_000): Promise<DriverResult> {
  const r = await execa(exe, args, { cwd: ROOT, reject: false, timeout });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  let summary: DriverResult['summary'] = null;
  try {
    summary = JSON.parse(last) as DriverResult['summary'];
  } catch {
    summary = null;
  }
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr, summary };
}

/** A fresh temporary directory under the OS temp dir. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tellme-${prefix}-`));
}

/**
 * Build a driver from a copy of hls/ in which `edit` changed one file: the planted-fault tests
 * (a one-bit change in the arithmetic must make conformance fail). Returns the executable.
 */
export async function buildMutant(driver: string, file: string, from: string, to: string, opts: { reuseObjects?: boolean } = {}): Promise<string> {
  const dir = tempDir('mutant');
  // reuseObjects: start from the project's objects of the whole-accelerator library, timestamps
  // kept, so make rebuilds only what the changed file reaches (its object and the links).
  fs.cpSync(path.join(ROOT, 'hls'), path.join(dir, 'hls'), { recursive: true, preserveTimestamps: opts.reuseObjects === true });
  if (opts.reuseObjects) fs.cpSync(path.join(ROOT, 'build', 'hls', 'lib'), path.join(dir, 'build', 'hls', 'lib'), { recursive: true, preserveTimestamps: true });
  const target = path.join(dir, 'hls', file);
  const text = fs.readFileSync(target, 'utf8');
  const count = text.split(from).length - 1;
  if (count !== 1) throw new Error(`mutant: "${from}" occurs ${count} times in hls/${file} (must be exactly once)`);
  fs.writeFileSync(target, text.replace(from, to));
  fs.copyFileSync(path.join(ROOT, 'Makefile'), path.join(dir, 'Makefile'));
  await execa('make', ['-s', `build/hls/${driver}`], { cwd: dir, timeout: 300_000 });
  return path.join(dir, 'build', 'hls', driver);
}
