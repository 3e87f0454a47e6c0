/**
 * The reader's file access (host/src/image/reader.ts outside openImage's checks): isModelImage on
 * what a path can be (a named pipe included), a file that ends early under an open image (the end
 * of file named, never read as zeros), a section read into a buffer of the wrong size, the
 * section lookups (has, section) with their refusal, a damaged section's checksum message, and
 * the checksum pass's default read size.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { IMAGE_MAGIC } from '../../host/src/image/format.js';
import { isModelImage, openImage } from '../../host/src/image/index.js';
import { convert, copyImage, expectTellme, testModel, tmpDir } from './helpers.js';

/** bitnet-tiny-packed on kv260. */
let kv260: string;

beforeAll(async () => {
  kv260 = (await convert(testModel({ preset: 'bitnet-tiny-packed' }), 'kv260')).path;
});

const DAMAGED = 'The image is damaged or was edited: copy it again or re-run `tellme convert`.';

describe('isModelImage', () => {
  it('a file that starts with the 8-byte magic is one; a directory, a missing path, 7 bytes of the magic, another file are not', () => {
    const dir = tmpDir('magic');
    const file = (name: string, bytes: Uint8Array) => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, bytes);
      return p;
    };
    expect(isModelImage(kv260)).toBe(true);
    expect(isModelImage(file('magic-only', IMAGE_MAGIC))).toBe(true);
    expect(isModelImage(path.dirname(kv260))).toBe(false);
    expect(isModelImage(path.join(dir, 'missing.tlm'))).toBe(false);
    expect(isModelImage(file('seven', IMAGE_MAGIC.subarray(0, 7)))).toBe(false);
    expect(isModelImage(file('empty', new Uint8Array(0)))).toBe(false);
    const other = Uint8Array.from(IMAGE_MAGIC);
    other[7] = 0x0d;
    expect(isModelImage(file('other', other))).toBe(false);
  });

  it('a named pipe is not a file: answered without opening it (opening a pipe waits for a writer)', () => {
    const fifo = path.join(tmpDir('fifo'), 'image.tlm');
    execFileSync('mkfifo', [fifo]);
    expect(isModelImage(fifo)).toBe(false);
  });
});

describe('a file that ends early under an open image', () => {
  it('a section read and the checksum pass name the byte where the file ended', async () => {
    const f = copyImage(kv260);
    const img = openImage(f, { verifyChecksums: false });
    const rope = img.section('rope');
    fs.truncateSync(f, rope.offset + 100);
    for (const read of [() => img.readSection('rope'), () => img.verifyChecksums()]) {
      const e = await expectTellme(read, 'E_IMAGE');
      expect([e.message, e.fix]).toStrictEqual([`${img.path}: unexpected end of file at byte ${rope.offset + 100}`, DAMAGED]);
    }
    expect(img.checksumsVerified).toBe(false);
  });
});

describe('the section lookups and reads', () => {
  it('has, section and readSectionInto: a buffer of the section size gets its bytes; another size is an internal error', async () => {
    const img = openImage(kv260, { verifyChecksums: false });
    expect(img.checksumsVerified).toBe(false);
    expect(img.has('rope')).toBe(true);
    expect(img.has('norms.L0.attn_sub')).toBe(true);
    expect(img.has('nope')).toBe(false);
    const rope = img.section('rope');
    const bytes = new Uint8Array(rope.size);
    img.readSectionInto('rope', bytes);
    const file = fs.readFileSync(kv260);
    expect(Buffer.from(bytes).equals(file.subarray(rope.offset, rope.offset + rope.size))).toBe(true);
    expect(img.readSection('rope')).toStrictEqual(bytes);
    for (const size of [rope.size - 1, rope.size + 1]) {
      await expectTellme(() => img.readSectionInto('rope', new Uint8Array(size)), 'E_INTERNAL', `readSectionInto rope: target ${size} bytes, section ${rope.size}`);
    }
    const e = await expectTellme(() => img.section('nope'), 'E_IMAGE');
    expect([e.message, e.fix]).toStrictEqual([
      `${img.path}: no section "nope" in this image`,
      'The image was written for another model or hardware set, or by another version of tellme; re-run `tellme convert`.',
    ]);
    img.verifyChecksums();
    expect(img.checksumsVerified).toBe(true);
    expect(openImage(kv260).checksumsVerified).toBe(true);
  });

  it("a damaged section read without the pass: its byte range and both hashes' first 16 hex digits", async () => {
    const f = copyImage(kv260);
    const img = openImage(f, { verifyChecksums: false });
    const rope = img.section('rope');
    const bytes = fs.readFileSync(f);
    bytes[rope.offset + 5] = bytes[rope.offset + 5]! ^ 1;
    fs.writeFileSync(f, bytes);
    const got = createHash('sha256').update(bytes.subarray(rope.offset, rope.offset + rope.size)).digest('hex');
    for (const read of [() => img.readSection('rope'), () => img.verifyChecksums()]) {
      const e = await expectTellme(read, 'E_IMAGE');
      expect([e.message, e.fix]).toStrictEqual([
        `${img.path}: section rope (bytes ${rope.offset}..${rope.offset + rope.size - 1}) fails its checksum: sha256 ${got.slice(0, 16)}… but the manifest records ${rope.sha256.slice(0, 16)}…`,
        DAMAGED,
      ]);
    }
  });

  it('the checksum pass at open reads 8 MiB at a time: one progress report per section of a small image', () => {
    const done: number[] = [];
    const img = openImage(kv260, { onVerify: (d) => done.push(d) });
    const sizes = [...img.manifest.sections].sort((a, b) => a.offset - b.offset).map((s) => s.size);
    expect(Math.max(...sizes)).toBeLessThan(8 * 1024 * 1024);
    expect(done).toStrictEqual(sizes.map((_, i) => sizes.slice(0, i + 1).reduce((a, b) => a + b, 0)));
  });
});
