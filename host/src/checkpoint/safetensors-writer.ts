/**
 * Streaming safetensors writer: the header first, then each tensor's bytes in order, produced
 * on demand, so a 1 GB test model is written in bounded memory. Tensors are laid out in the
 * order given with no padding (callers that want aligned data order them by item size, as the
 * reference writer does; tests use the given order to produce misaligned offsets on purpose).
 * The header is right-padded with spaces so the data buffer starts at a multiple of 8.
 */

import * as fs from 'node:fs';
import { TellmeError } from '../errors.js';
import { DTYPE_BITS } from './dtype.js';
import type { SafetensorsDtype } from './types.js';

export interface WriterTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** The bytes, or a producer that calls emit() with consecutive pieces of them. */
  data: Uint8Array | ((emit: (bytes: Uint8Array) => void) => void);
}

export interface WriteResult {
  file: string;
  /** Total file size. */
  bytes: number;
  headerLength: number;
}

/** Bytes buffered before a write() system call. */
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;

export function tensorByteLength(dtype: SafetensorsDtype, shape: readonly number[]): number {
  const bits = shape.reduce((a, d) => a * d, 1) * DTYPE_BITS[dtype];
  if (bits % 8 !== 0) throw new TellmeError('E_INTERNAL', `${shape.join('x')} x ${dtype} is not a whole number of bytes`);
  return bits / 8;
}

/** Build the padded header bytes for tensors laid out in order. */
export function buildHeader(tensors: readonly Pick<WriterTensor, 'name' | 'dtype' | 'shape'>[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || Object.prototype.hasOwnProperty.call(header, t.name)) {
      throw new TellmeError('E_INTERNAL', `safetensors writer: duplicate or reserved tensor name '${t.name}'`);
    }
    const len = tensorByteLength(t.dtype, t.shape);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + len] };
    offset += len;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const out = Buffer.alloc(padded, 0x20);
  json.copy(out);
  return out;
}

export function writeSafetensors(file: string, tensors: readonly WriterTensor[], metadata?: Record<string, string>): WriteResult {
  const header = buildHeader(tensors, metadata);
  const fd = fs.openSync(file, 'w');
  try {
    const buf = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
    let fill = 0;
    let written = 0;
    const flush = () => {
      let off = 0;
      while (off < fill) off += fs.writeSync(fd, buf, off, fill - off);
      written += fill;
      fill = 0;
    };
    const put = (bytes: Uint8Array) => {
      if (bytes.length >= WRITE_BUFFER_BYTES) {
        flush();
        let off = 0;
        while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
        written += bytes.length;
        return;
      }
      if (fill + bytes.length > WRITE_BUFFER_BYTES) flush();
      buf.set(bytes, fill);
      fill += bytes.length;
    };
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(header.length), true);
    put(len);
    put(header);
    for (const t of tensors) {
      const expected = tensorByteLength(t.dtype, t.shape);
      let got = 0;
      const emit = (bytes: Uint8Array) => {
        got += bytes.length;
        if (got > expected) throw new TellmeError('E_INTERNAL', `safetensors writer: tensor '${t.name}' produced more than its ${expected} bytes`);
        put(bytes);
      };
      if (typeof t.data === 'function') t.data(emit);
      else emit(t.data);
      if (got !== expected) throw new TellmeError('E_INTERNAL', `safetensors writer: tensor '${t.name}' produced ${got} of its ${expected} bytes`);
    }
    flush();
    return { file, bytes: written, headerLength: header.length };
  } finally {
    fs.closeSync(fd);
  }
}
