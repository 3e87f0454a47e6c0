/** Shared helpers for checkpoint tests: temp dirs, raw safetensors bytes, error assertions. */

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, expect } from 'vitest';
import { isTellmeError, type ErrorCode, type TellmeError } from '../../host/src/errors.js';
import { readSafetensorsHeader, readTensorBytes } from '../../host/src/checkpoint/safetensors.js';
import { writeSafetensors, type WriterTensor } from '../../host/src/checkpoint/safetensors-writer.js';

const created: string[] = [];
// Registered while a test file imports this module, so each file removes its own directories.
afterAll(() => {
  for (const d of created.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A fresh directory under os.tmpdir(), removed after the test file. */
export function tmpDir(tag: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tellme-${tag}-`));
  created.push(dir);
  return dir;
}

/** A safetensors file from a header (object or exact JSON text) and data bytes; N can be forced. */
export function writeRawSafetensors(
  file: string,
  header: Record<string, unknown> | string,
  data: Uint8Array = new Uint8Array(0),
  opts: { headerLength?: bigint } = {},
): void {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(opts.headerLength ?? BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([len, json, data]));
}

/** Run fn, expect a TellmeError with `code` whose message contains every fragment. */
export function expectTellme(fn: () => unknown, code: ErrorCode, ...fragments: string[]): TellmeError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a TellmeError').toBeDefined();
  if (!isTellmeError(err)) throw err;
  expect(err.code).toBe(code);
  for (const f of fragments) expect(err.message).toContain(f);
  return err;
}

/** Read every tensor of a single-file checkpoint, let `mutate` edit the list, and write it back. */
export function rewriteSafetensors(file: string, mutate: (tensors: WriterTensor[]) => void): void {
  const header = readSafetensorsHeader(file);
  const tensors: WriterTensor[] = header.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: readTensorBytes(t) }));
  mutate(tensors);
  writeSafetensors(file, tensors, header.metadata ?? undefined);
}

export function editJson(file: string, edit: (json: Record<string, unknown>) => void): void {
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(json);
  fs.writeFileSync(file, JSON.stringify(json));
}

/** Rewrite a safetensors file's header JSON (keeping its data bytes) after `mutate` edits it. */
export function patchHeader(file: string, mutate: (header: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void): void {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  mutate(header);
  writeRawSafetensors(file, header, buf.subarray(8 + n));
}
