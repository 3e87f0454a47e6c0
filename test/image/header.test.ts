/**
 * The 128-byte image header of format version 2 (docs/image-format.md; host/src/image/format.ts)
 * on synthetic headers: its byte layout written out, and each check of decodeHeader at its
 * boundary, with the message and the fix line it gives. (corrupt.test.ts damages real images;
 * this reaches every branch.)
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isTellmeError, type TellmeError } from '../../host/src/errors.js';
import { alignTo, decodeHeader, encodeHeader, hasImageMagic, HEADER_BYTES, sha256Hex } from '../../host/src/image/format.js';

const SHA = 'ab'.repeat(32);
const FILE = 'x.tlm';

/** A header for a manifest at `off` of `len` bytes ending the file, with fields patched and rehashed. */
function header(opts: { off?: number; len?: number; fileLength?: number; version?: number; patch?: (dv: DataView, b: Uint8Array) => void; rehash?: boolean } = {}): Uint8Array {
  const off = opts.off ?? 8192;
  const len = opts.len ?? 100;
  const b = encodeHeader({ manifestOffset: off, manifestLength: len, manifestSha256: SHA, fileLength: opts.fileLength ?? off + len, ...(opts.version !== undefined ? { version: opts.version } : {}) });
  if (opts.patch) {
    opts.patch(new DataView(b.buffer), b);
    if (opts.rehash ?? true) b.set(createHash('sha256').update(b.subarray(0, 96)).digest(), 96);
  }
  return b;
}

function refusal(fn: () => unknown): TellmeError {
  try {
    fn();
  } catch (e) {
    if (isTellmeError(e)) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('image header', () => {
  it('has the documented byte layout', () => {
    const b = header({ off: 4096, len: 0x0102, fileLength: 4096 + 0x0102 });
    const dv = new DataView(b.buffer);
    expect(b.length).toBe(128);
    expect(Array.from(b.subarray(0, 8))).toEqual([0x89, 0x54, 0x4c, 0x4d, 0x49, 0x4d, 0x47, 0x0a]);
    expect([dv.getUint32(8, true), dv.getUint32(12, true), dv.getUint32(72, true)]).toEqual([2, 128, 4096]);
    expect([dv.getBigUint64(16, true), dv.getBigUint64(24, true), dv.getBigUint64(64, true)]).toEqual([4096n, 0x0102n, BigInt(4096 + 0x0102)]);
    expect(Buffer.from(b.subarray(32, 64)).toString('hex')).toBe(SHA);
    expect(Array.from(b.subarray(76, 96)).every((x) => x === 0)).toBe(true);
    expect(Buffer.from(b.subarray(96)).toString('hex')).toBe(createHash('sha256').update(b.subarray(0, 96)).digest('hex'));
    expect(decodeHeader(b, 4096 + 0x0102, FILE)).toEqual({
      version: 2, headerBytes: 128, manifestOffset: 4096, manifestLength: 0x0102, manifestSha256: SHA, fileLength: 4096 + 0x0102, alignment: 4096,
    });
    expect(HEADER_BYTES).toBe(128);
  });

  it('helpers: the magic test, alignTo, sha256Hex', () => {
    const b = header();
    expect(hasImageMagic(b)).toBe(true);
    expect(hasImageMagic(b.subarray(0, 8))).toBe(true); // the magic alone is enough
    expect(hasImageMagic(b.subarray(0, 7))).toBe(false);
    const c = b.slice();
    c[7] = 0x0b;
    expect(hasImageMagic(c)).toBe(false);
    expect([alignTo(0), alignTo(1), alignTo(4096), alignTo(4097), alignTo(10, 8)]).toEqual([0, 4096, 4096, 8192, 16]);
    expect(sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('refuses a short file or buffer', () => {
    const b = header();
    expect(refusal(() => decodeHeader(b.subarray(0, 127), 8292, FILE)).message).toBe(`${FILE}: 8292 bytes is shorter than the 128-byte image header (truncated, or not a model image)`);
    expect(refusal(() => decodeHeader(b, 127, FILE)).message).toContain('127 bytes is shorter than the 128-byte image header');
    const e = refusal(() => decodeHeader(header({ off: 4096, len: 1, fileLength: 128 }), 128, FILE));
    expect(e.message).not.toContain('shorter'); // exactly 128 bytes gets past the length check
  });

  it('refuses another file type, naming the magic, with a fix', () => {
    const c = header();
    c[0] = 0x50;
    const e = refusal(() => decodeHeader(c, 8292, FILE));
    expect(e.message).toBe(`${FILE}: not a TeLLMe model image (the file does not start with the image magic 89 54 4C 4D 49 4D 47 0A)`);
    expect(e.fix).toContain('a Hugging Face checkpoint is a directory');
  });

  it('refuses unknown versions: newer says upgrade, older says re-convert', () => {
    const newer = refusal(() => decodeHeader(header({ version: 3 }), 8292, FILE));
    expect(newer.message).toBe(`${FILE}: unknown image format version 3; this tellme reads version 2`);
    expect(newer.fix).toContain('Upgrade tellme');
    const older = refusal(() => decodeHeader(header({ version: 1 }), 8292, FILE));
    expect(older.message).toContain('unknown image format version 1');
    expect(older.fix).toBe('Re-convert the model with this version of tellme (`tellme convert`).');
  });

  it('refuses a header whose checksum fails, or whose fixed fields or reserved bytes are off', () => {
    const damaged = header({ patch: (_, b) => (b[20] = b[20]! ^ 1), rehash: false });
    const e = refusal(() => decodeHeader(damaged, 8292, FILE));
    expect(e.message).toContain('header checksum mismatch (bytes 0..95');
    expect(e.fix).toContain('copy it again');
    const sizeField = refusal(() => decodeHeader(header({ patch: (dv) => dv.setUint32(12, 129, true) }), 8292, FILE));
    expect(sizeField.message).toContain('header size field is 129, expected 128');
    const align = refusal(() => decodeHeader(header({ patch: (dv) => dv.setUint32(72, 8192, true) }), 8292, FILE));
    expect(align.message).toContain('section alignment field is 8192, expected 4096');
    for (const i of [76, 95]) {
      const r = refusal(() => decodeHeader(header({ patch: (_, b) => (b[i] = 7) }), 8292, FILE));
      expect(r.message).toContain(`reserved header byte ${i} is 7, expected 0`);
    }
  });

  it('refuses a 64-bit field beyond any real file size', () => {
    for (const [off, name] of [[16, 'manifest offset'], [24, 'manifest length'], [64, 'file length']] as const) {
      const r = refusal(() => decodeHeader(header({ patch: (dv) => dv.setBigUint64(off, 2n ** 53n, true) }), 8292, FILE));
      expect(r.message).toContain(`header field ${name} is ${2n ** 53n}, beyond any real file size`);
    }
    // 2^53 - 1 is a number; it then fails the file-length comparison, not the range check.
    const big = refusal(() => decodeHeader(header({ patch: (dv) => dv.setBigUint64(64, 2n ** 53n - 1n, true) }), 8292, FILE));
    expect(big.message).toContain(`the file is 8292 bytes but its header says ${2 ** 53 - 1}: it is truncated (${2 ** 53 - 1 - 8292} bytes missing)`);
  });

  it('refuses a file length that is not the file size, either way', () => {
    expect(refusal(() => decodeHeader(header(), 8291, FILE)).message).toContain('the file is 8291 bytes but its header says 8292: it is truncated (1 bytes missing)');
    expect(refusal(() => decodeHeader(header(), 8293, FILE)).message).toContain('the file is 8293 bytes but its header says 8292: 1 unexpected bytes follow the image');
  });

  it('refuses a manifest offset off the alignment or inside the header page, and a manifest that does not end the file', () => {
    expect(decodeHeader(header({ off: 4096 }), 4196, FILE).manifestOffset).toBe(4096);
    for (const off of [0, 4095, 4097, 2048]) {
      expect(refusal(() => decodeHeader(header({ off, len: 200 }), off + 200, FILE)).message).toContain(`manifest offset ${off} is not a multiple of 4096 after the header`);
    }
    expect(refusal(() => decodeHeader(header({ len: 0 }), 8192, FILE)).message).toContain('manifest [8192, 8192) does not end the file (8192 bytes)');
    expect(refusal(() => decodeHeader(header({ fileLength: 8293 }), 8293, FILE)).message).toContain('manifest [8192, 8292) does not end the file (8293 bytes)');
    expect(decodeHeader(header({ len: 1 }), 8193, FILE).manifestLength).toBe(1);
  });
});
