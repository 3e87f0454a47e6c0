/**
 * The image file while it is written (docs/image-format.md §1): a temporary file next to the
 * target, sections written in place by positioned writes (each hashed as it goes), then the
 * manifest, then the header at offset 0, and only then the rename onto the target. A conversion
 * that fails (or is killed) never leaves a file that passes the magic-and-checksum tests, and
 * never touches an existing file at the target.
 */

import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import { TellmeError } from '../errors.js';
import { openTemporary } from '../files/output.js';
import { encodeHeader, HEADER_BYTES, sha256Hex } from './format.js';
import type { ImageManifest, SectionRecord } from './manifest.js';

/** The bytes of a typed array, without a copy. */
export function asBytes(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

function writeAt(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
}

/** A section being written: positioned writes at its offset, hashed as they go. */
export class SectionSink {
  private readonly hash: Hash = createHash('sha256');
  private written = 0;
  constructor(
    readonly rec: SectionRecord,
    private readonly fd: number,
  ) {}

  write(bytes: Uint8Array): void {
    if (this.written + bytes.length > this.rec.size) {
      throw new TellmeError('E_INTERNAL', `section ${this.rec.name}: ${this.written + bytes.length} bytes written, planned ${this.rec.size}`);
    }
    writeAt(this.fd, bytes, this.rec.offset + this.written);
    this.hash.update(bytes);
    this.written += bytes.length;
  }

  finish(): void {
    if (this.written !== this.rec.size) {
      throw new TellmeError('E_INTERNAL', `section ${this.rec.name}: ${this.written} bytes written, planned ${this.rec.size}`);
    }
    this.rec.sha256 = this.hash.digest('hex');
  }
}

export class ImageFile {
  private readonly byName: Map<string, SectionRecord>;

  private constructor(
    readonly target: string,
    private readonly tmp: string,
    private readonly fd: number,
    sections: readonly SectionRecord[],
  ) {
    this.byName = new Map(sections.map((s) => [s.name, s]));
  }

  /**
   * Write the image for `sections` (offsets already fixed) to `target` with `body`, then the
   * manifest it returns at manifestOffset and the header; rename onto target only on success.
   */
  static async write(
    target: string,
    sections: readonly SectionRecord[],
    manifestOffset: number,
    body: (file: ImageFile) => Promise<ImageManifest>,
  ): Promise<{ manifest: ImageManifest; fileBytes: number }> {
    const { tmp, fd } = openTemporary(target);
    const file = new ImageFile(target, tmp, fd, sections);
    let ok = false;
    try {
      const manifest = await body(file);
      const fileBytes = file.finish(manifest, sections, manifestOffset);
      ok = true;
      return { manifest, fileBytes };
    } finally {
      if (!ok) file.discard();
    }
  }

  /** A sink for the planned section `name`. */
  section(name: string): SectionSink {
    const rec = this.byName.get(name);
    if (!rec) throw new TellmeError('E_INTERNAL', `no section ${name} planned`);
    return new SectionSink(rec, this.fd);
  }

  /** Write a whole section at once. */
  writeSection(name: string, bytes: Uint8Array): void {
    const s = this.section(name);
    s.write(bytes);
    s.finish();
  }

  /** Manifest, header, close, rename; returns the file length. */
  private finish(manifest: ImageManifest, sections: readonly SectionRecord[], manifestOffset: number): number {
    for (const s of sections) if (!s.sha256) throw new TellmeError('E_INTERNAL', `section ${s.name} was never written`);
    const manifestBytes = new Uint8Array(Buffer.from(JSON.stringify(manifest), 'utf8'));
    writeAt(this.fd, manifestBytes, manifestOffset);
    const fileLength = manifestOffset + manifestBytes.length;
    const header = encodeHeader({ manifestOffset, manifestLength: manifestBytes.length, manifestSha256: sha256Hex(manifestBytes), fileLength });
    if (header.length !== HEADER_BYTES) throw new TellmeError('E_INTERNAL', 'header size');
    writeAt(this.fd, header, 0);
    fs.closeSync(this.fd);
    fs.renameSync(this.tmp, this.target);
    return fileLength;
  }

  private discard(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    fs.rmSync(this.tmp, { force: true });
  }
}
