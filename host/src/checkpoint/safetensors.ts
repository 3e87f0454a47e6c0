/**
 * safetensors reader: header validation and positioned reads.
 *
 * A checkpoint can be 13 GB, so nothing here reads a whole file: the header is read on its own,
 * and tensor data is read at its offset in bounded chunks into fresh buffers. Fresh buffers are
 * always 8-byte aligned, which also takes care of tensors whose file offset is not a multiple of
 * their item size (the format does not promise alignment).
 *
 * Validation follows the format (shared/reference/bitnet-checkpoints.md §5.1 and safetensors'
 * tensor.rs): u64 LE header length <= 100 MB and inside the file, UTF-8 JSON starting with '{'
 * (right-padded with spaces), string-only __metadata__, known dtypes, non-negative integer shapes,
 * data_offsets consistent with shape x itemsize, and a data buffer covered exactly once.
 */

import * as fs from 'node:fs';
import { TellmeError } from '../errors.js';
import { openInputFile } from '../files/input.js';
import { DTYPE_BITS, F32_CONVERTIBLE, convertToF32, isSafetensorsDtype, itemSize } from './dtype.js';
import type { TensorInfo } from './types.js';

/** The format's limit on the JSON header (safetensors MAX_HEADER_SIZE). */
export const MAX_HEADER_SIZE = 100_000_000;
/** Bytes read per readSync call when streaming tensor data (a multiple of 8). */
export const READ_CHUNK_BYTES = 8 * 1024 * 1024;

export interface SafetensorsHeader {
  file: string;
  fileSize: number;
  /** N, the JSON header length. */
  headerLength: number;
  /** Absolute file offset of the data buffer (8 + N). */
  dataStart: number;
  metadata: Record<string, string> | null;
  /** Tensors in header order; offsets are absolute file offsets. */
  tensors: TensorInfo[];
}

function bad(file: string, what: string, fix?: string): TellmeError {
  return new TellmeError(
    'E_SAFETENSORS',
    `${file}: ${what}`,
    fix ?? 'Re-download or re-save the file (safetensors save_file); the file is damaged or is not a safetensors file.',
  );
}

/** Read `length` bytes at `position` into target[targetOff..], failing on a short file. */
function readFully(fd: number, target: Uint8Array, targetOff: number, length: number, position: number, file: string): void {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, target, targetOff + done, length - done, position + done);
    if (n === 0) throw bad(file, `unexpected end of file at byte ${position + done} (the file is truncated or changed while being read)`);
    done += n;
  }
}

/** Read and validate the header of one safetensors file. Reads only the first 8 + N bytes. */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  // A regular file only: a directory or FIFO in a shard's place is refused, never read or waited on.
  const { fd, size: fileSize } = openInputFile(file, 'a safetensors file', 'E_SAFETENSORS');
  try {
    if (fileSize < 8) throw bad(file, `file is ${fileSize} bytes, shorter than the 8-byte header length field (truncated)`);
    const lenBytes = new Uint8Array(8);
    readFully(fd, lenBytes, 0, 8, 0, file);
    const n = new DataView(lenBytes.buffer).getBigUint64(0, true);
    if (n > BigInt(MAX_HEADER_SIZE)) {
      throw bad(file, `header length ${n} exceeds the format's limit of ${MAX_HEADER_SIZE} bytes`);
    }
    const headerLength = Number(n);
    if (8 + headerLength > fileSize) {
      throw bad(file, `header length ${headerLength} runs past the end of the file (${fileSize} bytes; truncated?)`);
    }
    const headerBytes = new Uint8Array(headerLength);
    readFully(fd, headerBytes, 0, headerLength, 8, file);
    return parseSafetensorsHeader(headerBytes, file, fileSize);
  } finally {
    fs.closeSync(fd);
  }
}

/** Validate header JSON bytes of a file of `fileSize` bytes (exported for tests). */
export function parseSafetensorsHeader(headerBytes: Uint8Array, file: string, fileSize: number): SafetensorsHeader {
  const headerLength = headerBytes.length;
  const dataStart = 8 + headerLength;
  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, so that it is refused below: the format has none.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw bad(file, 'header is not valid UTF-8');
  }
  if (text.startsWith('\uFEFF')) throw bad(file, 'header starts with a UTF-8 byte-order mark; the format has none');
  if (!text.startsWith('{')) throw bad(file, `header does not start with '{' (found ${JSON.stringify(text.slice(0, 16))})`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw bad(file, `header is not valid JSON: ${(e as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw bad(file, 'header JSON is not an object');

  let metadata: Record<string, string> | null = null;
  const tensors: TensorInfo[] = [];
  const bufferSize = fileSize - dataStart;
  const spans: { name: string; begin: number; end: number }[] = [];

  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(entry, file);
      continue;
    }
    const where = `tensor '${name}'`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw bad(file, `${where}: header entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (!isSafetensorsDtype(dtype)) {
      throw bad(file, `${where}: unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(DTYPE_BITS).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw bad(file, `${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)
    ) {
      throw bad(file, `${where}: data_offsets ${JSON.stringify(offsets)} is not a pair [begin, end] of non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw bad(file, `${where}: data_offsets [${begin}, ${end}] end before they begin`);
    const elements = (shape as number[]).reduce((a, d) => a * d, 1);
    const bits = elements * DTYPE_BITS[dtype];
    if (bits % 8 !== 0) throw bad(file, `${where}: ${elements} x ${dtype} is not a whole number of bytes`);
    const byteLength = bits / 8;
    if (end - begin !== byteLength) {
      throw bad(
        file,
        `${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but shape [${shape.join(', ')}] x ${dtype} needs ${byteLength}`,
      );
    }
    if (end > bufferSize) {
      throw bad(
        file,
        `${where}: data_offsets [${begin}, ${end}] lie outside the data buffer of ${bufferSize} bytes (the file is truncated or the header is wrong)`,
      );
    }
    spans.push({ name, begin, end });
    tensors.push({ name, dtype, shape: (shape as number[]).slice(), file, offset: dataStart + begin, byteLength });
  }

  // After the checks that name a tensor: what is left is a valid integer written another way.
  checkIntegerLiterals(text, file);
  checkCoverage(spans, bufferSize, file);
  return { file, fileSize, headerLength, dataStart, metadata, tensors };
}

/**
 * Every number in a header is a shape dimension or a data offset, which the format writes as a
 * plain unsigned integer (serde u64/usize): JSON.parse would read `96.0`, `9.6e1` and `-0` as the
 * same numbers, so the literals themselves are checked (strings are skipped).
 */
function checkIntegerLiterals(text: string, file: string): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* \ */) i++;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < text.length && /[0-9eE.+-]/.test(text[j]!)) j++;
      const literal = text.slice(i, j);
      if (!/^(0|[1-9][0-9]*)$/.test(literal)) {
        throw bad(file, `header holds the number ${literal}; shapes and data_offsets are plain non-negative integers in the format (no sign, fraction or exponent)`);
      }
      i = j - 1;
    }
  }
}

function parseMetadata(entry: unknown, file: string): Record<string, string> {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw bad(file, '__metadata__ is not an object');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
    if (typeof v !== 'string') throw bad(file, `__metadata__ value of '${k}' is ${JSON.stringify(v)}, but the format allows strings only`);
    out[k] = v;
  }
  return out;
}

/** The data buffer must be covered exactly once: no overlaps, no holes, nothing after the end. */
function checkCoverage(spans: { name: string; begin: number; end: number }[], bufferSize: number, file: string): void {
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: string | null = null;
  for (const s of spans) {
    if (s.begin < pos) {
      throw bad(file, `tensor '${s.name}' (data_offsets [${s.begin}, ${s.end}]) overlaps tensor '${prev}' (which ends at ${pos})`);
    }
    if (s.begin > pos) {
      throw bad(file, `bytes [${pos}, ${s.begin}) of the data buffer belong to no tensor (a hole before tensor '${s.name}')`);
    }
    pos = s.end;
    prev = s.name;
  }
  if (pos !== bufferSize) {
    throw bad(file, `the tensors cover ${pos} bytes of data but the file holds ${bufferSize} (trailing bytes after the last tensor)`);
  }
}

/** The raw little-endian bytes of a tensor, read at its offset in chunks. */
export function readTensorBytes(info: TensorInfo): Uint8Array {
  const out = new Uint8Array(info.byteLength);
  const fd = fs.openSync(info.file, 'r');
  try {
    for (let done = 0; done < info.byteLength; done += READ_CHUNK_BYTES) {
      const len = Math.min(READ_CHUNK_BYTES, info.byteLength - done);
      readFully(fd, out, done, len, info.offset + done, info.file);
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

/**
 * Every float tensor of a model (embedding, norms, master weights, head, weight scales) must be
 * finite: a NaN or infinity would flow through every later step as null logits or token 0. Checked
 * here, where the values are read, so that every consumer (convert, both golden backends, eval)
 * refuses it with the tensor's name.
 */
function requireFinite(values: Float32Array, start: number, info: TensorInfo): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) {
      throw new TellmeError(
        'E_NUMERICS',
        `${info.file}: tensor '${info.name}': element ${start + i} is ${v}; a model's weights must be finite`,
        'The checkpoint is corrupt; re-download it (or re-save it from the training framework).',
      );
    }
  }
}

export interface F32ReadOptions {
  /** Return NaN and infinities instead of refusing them (the dtype conversion tests). */
  allowNonFinite?: boolean;
}

function requireFloat(info: TensorInfo): void {
  if (!F32_CONVERTIBLE.has(info.dtype)) {
    throw new TellmeError(
      'E_CHECKPOINT',
      `${info.file}: tensor '${info.name}' is ${info.dtype}; only F32, F16, BF16 and F64 can be read as binary32`,
      'Read it with readBytes, or check that the checkpoint stores this tensor as a float.',
    );
  }
}

export function elementCount(info: TensorInfo): number {
  return info.shape.reduce((a, d) => a * d, 1);
}

/**
 * Stream a float tensor as binary32 chunks of at most `chunkElements` values: cb(chunk, index of
 * its first element). The chunk array is reused between calls; copy what you keep.
 */
export function forEachF32Chunk(
  info: TensorInfo,
  cb: (chunk: Float32Array, start: number) => void,
  chunkElements = READ_CHUNK_BYTES / 8,
  opts: F32ReadOptions = {},
): void {
  requireFloat(info);
  const n = elementCount(info);
  const size = itemSize(info.dtype);
  const raw = new Uint8Array(chunkElements * size);
  const conv = new Float32Array(chunkElements);
  const fd = fs.openSync(info.file, 'r');
  try {
    for (let start = 0; start < n; start += chunkElements) {
      const count = Math.min(chunkElements, n - start);
      readFully(fd, raw, 0, count * size, info.offset + start * size, info.file);
      convertToF32(info.dtype, raw, count, conv, 0);
      const chunk = count === chunkElements ? conv : conv.subarray(0, count);
      if (!opts.allowNonFinite) requireFinite(chunk, start, info);
      cb(chunk, start);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** A float tensor as binary32, converted chunk by chunk straight into the output array. */
export function readTensorF32(info: TensorInfo, opts: F32ReadOptions = {}): Float32Array {
  requireFloat(info);
  const n = elementCount(info);
  const out = new Float32Array(n);
  if (info.dtype === 'F32') {
    // Same bytes: read them straight into the output (it is freshly allocated, hence aligned).
    const fd = fs.openSync(info.file, 'r');
    try {
      const bytes = new Uint8Array(out.buffer);
      for (let done = 0; done < info.byteLength; done += READ_CHUNK_BYTES) {
        readFully(fd, bytes, done, Math.min(READ_CHUNK_BYTES, info.byteLength - done), info.offset + done, info.file);
      }
    } finally {
      fs.closeSync(fd);
    }
    if (!opts.allowNonFinite) requireFinite(out, 0, info);
    return out;
  }
  const size = itemSize(info.dtype);
  const chunkElements = READ_CHUNK_BYTES / 8;
  const raw = new Uint8Array(chunkElements * size);
  const fd = fs.openSync(info.file, 'r');
  try {
    for (let start = 0; start < n; start += chunkElements) {
      const count = Math.min(chunkElements, n - start);
      readFully(fd, raw, 0, count * size, info.offset + start * size, info.file);
      convertToF32(info.dtype, raw, count, out, start);
    }
  } finally {
    fs.closeSync(fd);
  }
  if (!opts.allowNonFinite) requireFinite(out, 0, info);
  return out;
}
