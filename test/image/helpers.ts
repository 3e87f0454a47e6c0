/** Shared helpers for the image tests: fresh temp dirs, test models, converted images, error checks. */

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, expect } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import type { Checkpoint } from '../../host/src/checkpoint/types.js';
import { isTellmeError, type ErrorCode, type TellmeError } from '../../host/src/errors.js';
import { loadHwConfig } from '../../host/src/hwconfig/index.js';
import { convertCheckpoint, encodeHeader, type ConvertResult, type ImageManifest } from '../../host/src/image/index.js';
import { writeTestModel, type TestModelInput } from '../../host/src/testmodels/index.js';

const created: string[] = [];
afterAll(() => {
  for (const d of created.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh directory under os.tmpdir(), removed after the test file. */
export function tmpDir(tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tellme-image-${tag}-`));
  created.push(dir);
  return dir;
}

/** A generated checkpoint in a fresh directory. */
export function testModel(input: TestModelInput): Checkpoint {
  const dir = tmpDir('model');
  writeTestModel(dir, input);
  return openCheckpoint(dir);
}

/** Convert into a fresh directory (force: tiny models do not match the fixed-shape paper build). */
export async function convert(ckpt: Checkpoint, board: string, opts: { context?: number; force?: boolean } = {}): Promise<ConvertResult> {
  const out = path.join(tmpDir('out'), `${board}.tlm`);
  const run = () => convertCheckpoint(ckpt, out, { hw: loadHwConfig(board), force: opts.force ?? true, ...(opts.context !== undefined ? { context: opts.context } : {}) });
  const cache = process.env['TELLME_TEST_IMAGE_CACHE'];
  return cache ? cachedConversion(cache, ckpt, board, opts, out, run) : run();
}

/**
 * Mutation runs of the image reader only (never make test): with TELLME_TEST_IMAGE_CACHE set to a
 * fresh directory, each distinct conversion (the checkpoint's bytes, the board, the options) runs
 * once, in Stryker's dry run, and later test runs get a copy of that image. The reader's mutants
 * are then tested against images from the unmutated writer, and a mutant's tests do not repeat
 * the conversions. Unsound when writer code is mutated: a run of the writer side must not set it.
 */
async function cachedConversion(cache: string, ckpt: Checkpoint, board: string, opts: object, out: string, run: () => Promise<ConvertResult>): Promise<ConvertResult> {
  const hash = createHash('sha256').update(JSON.stringify([board, opts]));
  for (const name of fs.readdirSync(ckpt.dir).sort()) {
    const file = path.join(ckpt.dir, name);
    if (fs.statSync(file).isFile()) hash.update(name).update(fs.readFileSync(file));
  }
  const key = path.join(cache, hash.digest('hex').slice(0, 24));
  if (!fs.existsSync(`${key}.json`)) {
    const r = await run();
    fs.mkdirSync(cache, { recursive: true });
    fs.copyFileSync(r.path, `${key}.tlm`);
    fs.writeFileSync(`${key}.json`, JSON.stringify(r));
    return r;
  }
  fs.copyFileSync(`${key}.tlm`, out);
  return { ...(JSON.parse(fs.readFileSync(`${key}.json`, 'utf8')) as ConvertResult), path: out };
}

/** A copy of a file in a fresh directory. */
export function copyImage(file: string): string {
  const dst = path.join(tmpDir('copy'), path.basename(file));
  fs.copyFileSync(file, dst);
  return dst;
}

async function capture(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Run fn (sync or async), expect a TellmeError with `code` whose message contains every fragment. */
export async function expectTellme(fn: () => unknown, code: ErrorCode, ...fragments: (string | RegExp)[]): Promise<TellmeError> {
  const err = await capture(fn);
  expect(err, 'expected a TellmeError').toBeDefined();
  if (!isTellmeError(err)) throw err;
  expect(err.code, err.message).toBe(code);
  for (const f of fragments) {
    if (typeof f === 'string') expect(err.message).toContain(f);
    else expect(err.message).toMatch(f);
  }
  return err;
}

/**
 * Rewrite an image's manifest through `edit` and store it with a valid checksum and header, so
 * the reader's checks past the checksums are what the test exercises. `version` sets the header's
 * format version too.
 */
export function rewriteManifest(file: string, edit: (m: Record<string, unknown>) => void, version?: number): void {
  const m = readManifest(file);
  edit(m);
  writeManifestBytes(file, Buffer.from(JSON.stringify(m), 'utf8'), version);
}

/** Store `bytes` (any bytes) as the manifest, with a header recording their length and checksum. */
export function writeManifestBytes(file: string, bytes: Uint8Array, version?: number): void {
  const buf = fs.readFileSync(file);
  const off = Number(buf.readBigUInt64LE(16));
  const header = encodeHeader({ manifestOffset: off, manifestLength: bytes.length, manifestSha256: createHash('sha256').update(bytes).digest('hex'), fileLength: off + bytes.length, ...(version !== undefined ? { version } : {}) });
  fs.writeFileSync(file, Buffer.concat([Buffer.from(header), buf.subarray(header.length, off), bytes]));
}

/** A copy of `base` with its manifest edited (fresh checksum and header). */
export function withManifest(base: string, edit: (m: ImageManifest) => void): string {
  const f = copyImage(base);
  rewriteManifest(f, (m) => edit(m as unknown as ImageManifest));
  return f;
}

/** A copy of `base` with section `name` edited in place, its sha256 recomputed in the manifest. */
export function withSection(base: string, name: string, edit: (bytes: Buffer) => void): string {
  const f = copyImage(base);
  const rec = (readManifest(f) as unknown as ImageManifest).sections.find((s) => s.name === name)!;
  const buf = fs.readFileSync(f);
  const section = buf.subarray(rec.offset, rec.offset + rec.size);
  edit(section);
  fs.writeFileSync(f, buf);
  const sha = createHash('sha256').update(section).digest('hex');
  rewriteManifest(f, (m) => void ((m as unknown as ImageManifest).sections.find((s) => s.name === name)!.sha256 = sha));
  return f;
}

export function readManifest(file: string): Record<string, unknown> {
  const buf = fs.readFileSync(file);
  const off = Number(buf.readBigUInt64LE(16));
  const len = Number(buf.readBigUInt64LE(24));
  return JSON.parse(buf.subarray(off, off + len).toString('utf8')) as Record<string, unknown>;
}

/** Flip the bits of one byte of a file in place. */
export function flipByte(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, offset);
    b[0] = b[0]! ^ 0xff;
    fs.writeSync(fd, b, 0, 1, offset);
  } finally {
    fs.closeSync(fd);
  }
}
