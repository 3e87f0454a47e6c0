/**
 * The model image container: a fixed 128-byte header at offset 0, sections aligned to 4 KiB, and
 * the JSON manifest at the end (docs/image-format.md). All integers little-endian.
 *
 *   offset size  field
 *   0      8     magic 89 54 4C 4D 49 4D 47 0A ("\x89TLMIMG\n")
 *   8      4     u32 format version (FORMAT_VERSION; the manifest's format_version must agree)
 *   12     4     u32 header size (128)
 *   16     8     u64 manifest offset (a multiple of the section alignment)
 *   24     8     u64 manifest length (bytes of UTF-8 JSON)
 *   32     32    sha256 of the manifest bytes
 *   64     8     u64 file length (the manifest ends the file)
 *   72     4     u32 section alignment (4096)
 *   76     20    reserved, zero
 *   96     32    sha256 of header bytes [0, 96)
 */

import { createHash } from 'node:crypto';
import { TellmeError } from '../errors.js';

export const IMAGE_MAGIC = Uint8Array.of(0x89, 0x54, 0x4c, 0x4d, 0x49, 0x4d, 0x47, 0x0a);
/** Version of the container and of the manifest schema (they change together). */
export const FORMAT_VERSION = 2;
/** Versions this reader understands. */
export const SUPPORTED_VERSIONS: readonly number[] = [2];
export const FORMAT_NAME = 'tellme-image';
export const HEADER_BYTES = 128;
/** Every section (and the manifest) starts on a multiple of this; the first one at 4096. */
export const SECTION_ALIGNMENT = 4096;
const HASHED_HEADER_BYTES = 96;

export interface ImageHeader {
  version: number;
  headerBytes: number;
  manifestOffset: number;
  manifestLength: number;
  /** hex */
  manifestSha256: string;
  fileLength: number;
  alignment: number;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function encodeHeader(h: Omit<ImageHeader, 'version' | 'headerBytes' | 'alignment'> & { version?: number }): Uint8Array {
  const buf = new Uint8Array(HEADER_BYTES);
  const dv = new DataView(buf.buffer);
  buf.set(IMAGE_MAGIC, 0);
  dv.setUint32(8, h.version ?? FORMAT_VERSION, true);
  dv.setUint32(12, HEADER_BYTES, true);
  dv.setBigUint64(16, BigInt(h.manifestOffset), true);
  dv.setBigUint64(24, BigInt(h.manifestLength), true);
  buf.set(Buffer.from(h.manifestSha256, 'hex'), 32);
  dv.setBigUint64(64, BigInt(h.fileLength), true);
  dv.setUint32(72, SECTION_ALIGNMENT, true);
  buf.set(createHash('sha256').update(buf.subarray(0, HASHED_HEADER_BYTES)).digest(), HASHED_HEADER_BYTES);
  return buf;
}

/** Whether the bytes start with the image magic (a cheap "is this an image?" test). */
export function hasImageMagic(bytes: Uint8Array): boolean {
  if (bytes.length < IMAGE_MAGIC.length) return false;
  for (let i = 0; i < IMAGE_MAGIC.length; i++) if (bytes[i] !== IMAGE_MAGIC[i]) return false;
  return true;
}

function bad(file: string, what: string, fix = 'The image is damaged (an interrupted copy or download?): copy it again or re-run `tellme convert`.'): TellmeError {
  return new TellmeError('E_IMAGE', `${file}: ${what}`, fix);
}

function u64(dv: DataView, off: number, field: string, file: string): number {
  const v = dv.getBigUint64(off, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(file, `header field ${field} is ${v}, beyond any real file size`);
  return Number(v);
}

/** Parse and check the header of a file of `fileSize` bytes (the manifest itself is checked by the reader). */
export function decodeHeader(buf: Uint8Array, fileSize: number, file: string): ImageHeader {
  if (fileSize < HEADER_BYTES || buf.length < HEADER_BYTES) {
    throw bad(file, `${fileSize} bytes is shorter than the ${HEADER_BYTES}-byte image header (truncated, or not a model image)`);
  }
  if (!hasImageMagic(buf)) {
    throw new TellmeError(
      'E_IMAGE',
      `${file}: not a TeLLMe model image (the file does not start with the image magic 89 54 4C 4D 49 4D 47 0A)`,
      'Pass a file written by `tellme convert`; a Hugging Face checkpoint is a directory (pass the directory instead).',
    );
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, HEADER_BYTES);
  const version = dv.getUint32(8, true);
  if (!SUPPORTED_VERSIONS.includes(version)) {
    throw new TellmeError(
      'E_IMAGE',
      `${file}: unknown image format version ${version}; this tellme reads version${SUPPORTED_VERSIONS.length > 1 ? 's' : ''} ${SUPPORTED_VERSIONS.join(', ')}`,
      version > FORMAT_VERSION ? 'Upgrade tellme to a version that reads this image, or re-convert the model with this version (`tellme convert`).' : 'Re-convert the model with this version of tellme (`tellme convert`).',
    );
  }
  const want = createHash('sha256').update(buf.subarray(0, HASHED_HEADER_BYTES)).digest();
  const have = buf.subarray(HASHED_HEADER_BYTES, HEADER_BYTES);
  if (Buffer.compare(want, have) !== 0) throw bad(file, 'header checksum mismatch (bytes 0..95 of the file do not match the sha256 stored at byte 96)');
  const headerBytes = dv.getUint32(12, true);
  if (headerBytes !== HEADER_BYTES) throw bad(file, `header size field is ${headerBytes}, expected ${HEADER_BYTES}`);
  const alignment = dv.getUint32(72, true);
  if (alignment !== SECTION_ALIGNMENT) throw bad(file, `section alignment field is ${alignment}, expected ${SECTION_ALIGNMENT}`);
  for (let i = 76; i < HASHED_HEADER_BYTES; i++) if (buf[i] !== 0) throw bad(file, `reserved header byte ${i} is ${buf[i]}, expected 0`);
  const manifestOffset = u64(dv, 16, 'manifest offset', file);
  const manifestLength = u64(dv, 24, 'manifest length', file);
  const fileLength = u64(dv, 64, 'file length', file);
  if (fileLength !== fileSize) {
    throw bad(
      file,
      fileSize < fileLength
        ? `the file is ${fileSize} bytes but its header says ${fileLength}: it is truncated (${fileLength - fileSize} bytes missing)`
        : `the file is ${fileSize} bytes but its header says ${fileLength}: ${fileSize - fileLength} unexpected bytes follow the image`,
    );
  }
  if (manifestOffset % SECTION_ALIGNMENT !== 0 || manifestOffset < SECTION_ALIGNMENT) {
    throw bad(file, `manifest offset ${manifestOffset} is not a multiple of ${SECTION_ALIGNMENT} after the header`);
  }
  if (manifestLength === 0 || manifestOffset + manifestLength !== fileLength) {
    throw bad(file, `manifest [${manifestOffset}, ${manifestOffset + manifestLength}) does not end the file (${fileLength} bytes)`);
  }
  return {
    version,
    headerBytes,
    manifestOffset,
    manifestLength,
    manifestSha256: Buffer.from(buf.subarray(32, 64)).toString('hex'),
    fileLength,
    alignment,
  };
}

export function alignTo(x: number, a = SECTION_ALIGNMENT): number {
  return Math.ceil(x / a) * a;
}
