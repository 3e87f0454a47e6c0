/**
 * The output-path policy (README, "Command-line conventions"), regression tests for the data-loss
 * defects of issue 11: no command overwrites its own input (by any path), deletes what it did not
 * write, replaces a link / FIFO / directory, creates missing parents, or hangs on a FIFO.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { ERROR_STYLE, tellmeInProcess as tellme } from './run-in-process.js';

let tmp: string;
let ckpt: string;
let before: Map<string, string>;

/** sha256 of every file under dir (relative names), to show that nothing changed. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = path.join(e.parentPath, e.name);
    out.set(path.relative(dir, p), crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex'));
  }
  return out;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-out-'));
  ckpt = path.join(tmp, 'ckpt');
  writeTestModel(ckpt, { preset: 'bitnet-tiny-packed' });
  before = snapshot(ckpt);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function refused(args: string[], words: string | RegExp) {
  const r = await tellme(...args);
  expect(r.exitCode, args.join(' ')).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(ERROR_STYLE);
  expect(r.stderr).toMatch(words);
  return r;
}

describe('convert -o', () => {
  it('never writes over one of its inputs, by any path', async () => {
    const elsewhere = path.join(tmp, 'links');
    fs.mkdirSync(elsewhere);
    fs.linkSync(path.join(ckpt, 'model.safetensors'), path.join(elsewhere, 'hard.safetensors'));
    fs.mkdirSync(path.join(ckpt, 'sub'));
    for (const out of [
      path.join(ckpt, 'model.safetensors'),
      path.join(ckpt, 'config.json'),
      path.join(ckpt, 'tokenizer.json'),
      path.join(ckpt, 'sub', '..', 'config.json'),
      path.join(elsewhere, 'hard.safetensors'),
    ]) {
      await refused(['convert', ckpt, '-o', out], /one of this command's inputs/);
    }
    fs.rmdirSync(path.join(ckpt, 'sub'));
    expect(snapshot(ckpt)).toEqual(before);
  });

  it('refuses a symlink, a FIFO, a directory and a missing parent instead of replacing or creating them', async () => {
    const link = path.join(tmp, 'link.tlm');
    fs.symlinkSync(path.join(ckpt, 'config.json'), link);
    await refused(['convert', ckpt, '-o', link], /is a symbolic link/);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    const fifo = path.join(tmp, 'fifo.tlm');
    execFileSync('mkfifo', [fifo]);
    await refused(['convert', ckpt, '-o', fifo], /is a FIFO/);
    expect(fs.lstatSync(fifo).isFIFO()).toBe(true);
    await refused(['convert', ckpt, '-o', tmp], /is a directory/);
    await refused(['convert', ckpt, '-o', path.join(tmp, 'missing', 'x.tlm')], /output directory .*missing does not exist/);
    expect(fs.existsSync(path.join(tmp, 'missing'))).toBe(false);
    await refused(['convert', ckpt, '-o', '/proc/self/x.tlm'], /cannot create a file in/);
    expect(snapshot(ckpt)).toEqual(before);
  });

  it('replaces an existing image only when the conversion succeeds', async () => {
    const out = path.join(tmp, 'replace.tlm');
    fs.writeFileSync(out, 'old');
    await refused(['convert', ckpt, '-o', out, '--context', '100000'], /--context/);
    expect(fs.readFileSync(out, 'utf8')).toBe('old');
    const ok = await tellme('convert', ckpt, '-o', out, '--json');
    expect(ok.exitCode).toBe(0);
    expect(fs.statSync(out).size).toBeGreaterThan(4096);
    expect(fs.readdirSync(tmp).filter((f) => f.includes('.partial-'))).toEqual([]);
  });
});

describe('make-test-model -o', () => {
  it('refuses a non-empty directory it did not write, and deletes nothing', async () => {
    const dir = path.join(tmp, 'mine');
    fs.mkdirSync(path.join(dir, 'notes'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'thesis.txt'), 'precious');
    fs.writeFileSync(path.join(dir, 'notes', 'a.txt'), 'precious too');
    const snap = snapshot(dir);
    for (const extra of [[], ['--overwrite']]) {
      await refused(['make-test-model', '--preset', 'bitnet-tiny-packed', '-o', dir, ...extra], /not empty and does not hold an earlier output of tellme make-test-model/);
    }
    expect(snapshot(dir)).toEqual(snap);
  });

  it('replaces its own checkpoint only with --overwrite, keeping every other file', async () => {
    const dir = path.join(tmp, 'tm');
    expect((await tellme('make-test-model', '--preset', 'bitnet-tiny-packed', '--shards', '3', '-o', dir)).exitCode).toBe(0);
    fs.writeFileSync(path.join(dir, 'README.md'), 'mine');
    // Named like a shard, but not written by make-test-model: it stays.
    fs.writeFileSync(path.join(dir, 'model-00001-of-00009.safetensors'), 'mine');
    fs.mkdirSync(path.join(dir, 'runs'));
    fs.writeFileSync(path.join(dir, 'runs', 'log.txt'), 'mine');
    await refused(['make-test-model', '--preset', 'bitnet-tiny-packed', '-o', dir], /already holds an output of tellme make-test-model.*\n.*--overwrite/);
    const r = await tellme('make-test-model', '--preset', 'hf1bitllm-tiny', '-o', dir, '--overwrite');
    expect(r.exitCode).toBe(0);
    const names = fs.readdirSync(dir).sort();
    expect(names).toContain('README.md');
    expect(names).toContain('runs');
    expect(names).toContain('model.safetensors');
    expect(names.filter((n) => n.startsWith('model-0'))).toEqual(['model-00001-of-00009.safetensors']); // the old shards are gone, not the user's file
    expect(fs.readFileSync(path.join(dir, 'model-00001-of-00009.safetensors'), 'utf8')).toBe('mine');
    expect(fs.readFileSync(path.join(dir, 'runs', 'log.txt'), 'utf8')).toBe('mine');
  });

  it('refuses a file, a missing parent and an unwritable place, creating nothing', async () => {
    const file = path.join(tmp, 'afile');
    fs.writeFileSync(file, 'x');
    await refused(['make-test-model', '--preset', 'bitnet-tiny-packed', '-o', file], /is a regular file; the checkpoint is a directory/);
    await refused(['make-test-model', '--preset', 'bitnet-tiny-packed', '-o', path.join(tmp, 'no', 'such', 'dir')], /output directory .* does not exist/);
    expect(fs.existsSync(path.join(tmp, 'no'))).toBe(false);
    await refused(['make-test-model', '--preset', 'bitnet-tiny-packed', '-o', '/proc/self/tm'], /cannot create/);
  });
});

describe('plan --html', () => {
  it('follows the same policy', async () => {
    await refused(['plan', '--shape', 'bitnet-large', '--html', path.join(tmp, 'nodir', 'r.html')], /output directory .* does not exist/);
    await refused(['plan', '--shape', 'bitnet-large', '--html', tmp], /is a directory/);
    await refused(['plan', ckpt, '--html', path.join(ckpt, 'config.json')], /one of this command's inputs/);
    expect(snapshot(ckpt)).toEqual(before);
  });
});
