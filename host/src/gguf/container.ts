/**
 * The GGUF container, version 3 (ggml/include/gguf.h and docs of the format): a little-endian
 * header, the metadata key/value pairs, the tensor infos, then the tensor data, each tensor at an
 * offset (from the start of the data section) that is a multiple of the alignment (32 unless
 * `general.alignment` says otherwise).
 *
 *   "GGUF" | u32 version | u64 tensor count | u64 kv count
 *   kv:     string key | u32 value type | value          (string = u64 byte length + UTF-8)
 *   tensor: string name | u32 n_dims | u64 ne[n_dims] | u32 ggml type | u64 offset
 *
 * ne[0] is the fastest-varying dimension: a row-major [rows][cols] matrix is ne = [cols, rows].
 * The header is built in memory; tensor data is streamed, one tensor at a time, by the caller.
 */

import * as fs from 'node:fs';
import { TellmeError } from '../errors.js';
import { openTemporary } from '../files/output.js';
import { rowBytes, type GgmlType } from './blocks.js';

export const GGUF_MAGIC = 'GGUF';
export const GGUF_VERSION = 3;
export const GGUF_ALIGNMENT = 32;

/** gguf_type values. */
const T = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 } as const;

type ScalarKind = 'u32' | 'i32' | 'f32' | 'bool' | 'string';

export type GgufValue =
  | { kind: 'u32' | 'i32' | 'f32'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'string'; value: string }
  | { kind: 'array'; of: 'i32' | 'f32' | 'string'; values: readonly (number | string)[] };

export const gguf = {
  u32: (value: number): GgufValue => ({ kind: 'u32', value }),
  i32: (value: number): GgufValue => ({ kind: 'i32', value }),
  f32: (value: number): GgufValue => ({ kind: 'f32', value }),
  bool: (value: boolean): GgufValue => ({ kind: 'bool', value }),
  string: (value: string): GgufValue => ({ kind: 'string', value }),
  strings: (values: readonly string[]): GgufValue => ({ kind: 'array', of: 'string', values }),
  f32s: (values: readonly number[]): GgufValue => ({ kind: 'array', of: 'f32', values }),
  i32s: (values: readonly number[]): GgufValue => ({ kind: 'array', of: 'i32', values }),
};

export interface GgufTensorInfo {
  name: string;
  type: GgmlType;
  /** ne[0] first (the row length), as GGUF stores them. */
  dims: number[];
}

/** Little-endian byte builder for the header. */
class ByteBuilder {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private static readonly utf8 = new TextEncoder();

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.reserve(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }
  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }
  f32(v: number): void {
    this.reserve(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }
  u64(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new TellmeError('E_INTERNAL', `gguf: ${v} is not a u64 this writer can store`);
    this.reserve(8);
    this.view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
  }
  string(s: string): void {
    const bytes = ByteBuilder.utf8.encode(s);
    this.u64(bytes.length);
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }
  zeros(n: number): void {
    this.reserve(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function writeScalar(b: ByteBuilder, kind: ScalarKind, v: number | string | boolean): void {
  switch (kind) {
    case 'u32':
      return b.u32(v as number);
    case 'i32':
      return b.i32(v as number);
    case 'f32':
      return b.f32(v as number);
    case 'bool':
      return b.u8(v ? 1 : 0);
    case 'string':
      return b.string(v as string);
  }
}

function checkValue(key: string, v: GgufValue): void {
  const okNumber = (kind: string, x: unknown) =>
    typeof x === 'number' &&
    (kind === 'f32' ? Number.isFinite(x) : kind === 'u32' ? Number.isInteger(x) && x >= 0 && x <= 0xffffffff : Number.isInteger(x) && x >= -(2 ** 31) && x < 2 ** 31);
  if (v.kind === 'array') {
    for (const x of v.values) {
      if (v.of === 'string' ? typeof x !== 'string' : !okNumber(v.of, x)) throw new TellmeError('E_INTERNAL', `gguf: ${key}: ${String(x)} is not a ${v.of}`);
    }
  } else if ((v.kind === 'u32' || v.kind === 'i32' || v.kind === 'f32') && !okNumber(v.kind, v.value)) {
    throw new TellmeError('E_INTERNAL', `gguf: ${key}: ${v.value} is not a ${v.kind}`);
  }
}

export interface GgufLayout {
  /** Header bytes, padded so that the data section starts aligned. */
  header: Uint8Array;
  /** Offset of each tensor's data from the start of the data section, and its byte size. */
  tensors: { info: GgufTensorInfo; offset: number; bytes: number }[];
  /** File size once every tensor is written. */
  fileBytes: number;
}

/** Tensor data bytes of a tensor (rows of dims[0] elements). */
export function tensorBytes(t: GgufTensorInfo): number {
  const rows = t.dims.slice(1).reduce((a, d) => a * d, 1);
  return rowBytes(t.type, t.dims[0]!, `tensor ${t.name}`) * rows;
}

function alignUp(n: number): number {
  return Math.ceil(n / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;
}

/** The header (metadata in the given order, tensor infos in order) and where each tensor goes. */
export function layoutGguf(metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensorInfo[]): GgufLayout {
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name)) throw new TellmeError('E_INTERNAL', `gguf: duplicate tensor name ${t.name}`);
    names.add(t.name);
  }
  const b = new ByteBuilder();
  for (const c of GGUF_MAGIC) b.u8(c.charCodeAt(0));
  b.u32(GGUF_VERSION);
  b.u64(tensors.length);
  b.u64(metadata.size);
  for (const [key, v] of metadata) {
    checkValue(key, v);
    b.string(key);
    if (v.kind === 'array') {
      b.u32(T.array);
      b.u32(T[v.of]);
      b.u64(v.values.length);
      for (const x of v.values) writeScalar(b, v.of, x);
    } else {
      b.u32(T[v.kind]);
      writeScalar(b, v.kind, v.value);
    }
  }
  const placed: GgufLayout['tensors'] = [];
  let offset = 0;
  for (const t of tensors) {
    const bytes = tensorBytes(t);
    b.string(t.name);
    b.u32(t.dims.length);
    for (const d of t.dims) b.u64(d);
    b.u32(t.type.id);
    b.u64(offset);
    placed.push({ info: t, offset, bytes });
    offset = alignUp(offset + bytes);
  }
  b.zeros(alignUp(b.length) - b.length);
  // The data section ends padded too, as ggml's own writer leaves it.
  return { header: b.bytes(), tensors: placed, fileBytes: b.length + offset };
}

/**
 * Write a GGUF file: the header, then each tensor's bytes from produce(i) in order, padded to the
 * alignment. Writes to a temporary file next to it (files/output.ts) and renames it to `file` when complete, so a failure never
 * leaves a truncated file under the final name (nor touches an existing one). Yields to the
 * event loop between tensors, so a progress bar can draw.
 */
export async function writeGguf(
  file: string,
  layout: GgufLayout,
  produce: (index: number, info: GgufTensorInfo) => Uint8Array,
): Promise<void> {
  const { tmp: tmpFile, fd } = openTemporary(file);
  let ok = false;
  try {
    let pos = 0;
    const put = (bytes: Uint8Array) => {
      for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done, pos + done);
      pos += bytes.length;
    };
    put(layout.header);
    const dataStart = layout.header.length;
    for (let i = 0; i < layout.tensors.length; i++) {
      const t = layout.tensors[i]!;
      const gap = dataStart + t.offset - pos;
      if (gap > 0) put(new Uint8Array(gap));
      const bytes = produce(i, t.info);
      if (bytes.length !== t.bytes) throw new TellmeError('E_INTERNAL', `gguf: tensor ${t.info.name} produced ${bytes.length} bytes, expected ${t.bytes}`);
      put(bytes);
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (layout.fileBytes > pos) put(new Uint8Array(layout.fileBytes - pos));
    if (pos !== layout.fileBytes) throw new TellmeError('E_INTERNAL', `gguf: wrote ${pos} bytes, expected ${layout.fileBytes}`);
    fs.closeSync(fd);
    fs.renameSync(tmpFile, file);
    ok = true;
  } finally {
    if (!ok) {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
      fs.rmSync(tmpFile, { force: true });
    }
  }
}
