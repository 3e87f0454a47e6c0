/**
 * Message payloads: the fields of a message, in order, little-endian, no padding
 * (hw/spec/protocol.json; docs/protocol.md §3). Driven by the message descriptors, so one
 * codec serves every message; the C binding is generated per message instead, which makes the
 * two independent implementations of the same layout that the conformance tests compare.
 */

import { TellmeError } from '../errors.js';
import type { FieldSpec, MessageSpec } from './spec-types.js';

export type FieldValue = number | string | Uint8Array | readonly number[] | Float32Array;
export type Fields = Record<string, FieldValue>;

const utf8 = new TextEncoder();
// Strict: invalid UTF-8 is refused (the C decoder checks the same well-formedness), and a
// leading byte-order mark is kept, so that decoding and encoding again gives the same bytes.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function fail(msg: MessageSpec, f: FieldSpec | null, what: string): never {
  throw new TellmeError(
    'E_PROTOCOL',
    `${msg.name}${f ? '.' + f.name : ''}: ${what}`,
    'host and firmware must use bindings generated from the same hw/spec/protocol.json (update tellme or the firmware)',
  );
}

const INT_RANGE: Record<string, [number, number]> = {
  u8: [0, 0xff],
  u16: [0, 0xffff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
  u64: [0, Number.MAX_SAFE_INTEGER],
};

function encodedField(msg: MessageSpec, f: FieldSpec, v: FieldValue | undefined): Uint8Array {
  if (v === undefined) fail(msg, f, 'missing');
  const out = (n: number) => new Uint8Array(n);
  switch (f.type) {
    case 'u8':
    case 'u16':
    case 'u32':
    case 'i32':
    case 'u64': {
      const [lo, hi] = INT_RANGE[f.type]!;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) fail(msg, f, `${String(v)} is not a ${f.type}`);
      const b = out(f.type === 'u8' ? 1 : f.type === 'u16' ? 2 : f.type === 'u64' ? 8 : 4);
      const dv = new DataView(b.buffer);
      if (f.type === 'u8') dv.setUint8(0, v);
      else if (f.type === 'u16') dv.setUint16(0, v, true);
      else if (f.type === 'u32') dv.setUint32(0, v, true);
      else if (f.type === 'i32') dv.setInt32(0, v, true);
      else dv.setBigUint64(0, BigInt(v), true);
      return b;
    }
    case 'f32':
    case 'f64': {
      if (typeof v !== 'number') fail(msg, f, `${String(v)} is not a number`);
      const b = out(f.type === 'f32' ? 4 : 8);
      const dv = new DataView(b.buffer);
      if (f.type === 'f32') dv.setFloat32(0, v, true);
      else dv.setFloat64(0, v, true);
      return b;
    }
    case 'bytes': {
      if (!(v instanceof Uint8Array) || v.length !== f.size) fail(msg, f, `expected exactly ${f.size} bytes`);
      return v.slice();
    }
    case 'str': {
      if (typeof v !== 'string') fail(msg, f, 'expected a string');
      const s = utf8.encode(v);
      if (s.length > f.max!) fail(msg, f, `${s.length} bytes, more than its maximum ${f.max}`);
      const b = out(2 + s.length);
      new DataView(b.buffer).setUint16(0, s.length, true);
      b.set(s, 2);
      return b;
    }
    case 'blob': {
      if (!(v instanceof Uint8Array)) fail(msg, f, 'expected bytes');
      if (v.length > f.max!) fail(msg, f, `${v.length} bytes, more than its maximum ${f.max}`);
      const b = out(4 + v.length);
      new DataView(b.buffer).setUint32(0, v.length, true);
      b.set(v, 4);
      return b;
    }
    case 'u32[]':
    case 'f32[]': {
      if (typeof v === 'string' || typeof v === 'number' || (v instanceof Uint8Array)) fail(msg, f, 'expected an array');
      const a = v as ArrayLike<number>;
      if (a.length > f.max!) fail(msg, f, `${a.length} elements, more than its maximum ${f.max}`);
      const b = out(4 + 4 * a.length);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, a.length, true);
      for (let i = 0; i < a.length; i++) {
        const x = a[i]!;
        if (f.type === 'f32[]') {
          if (typeof x !== 'number') fail(msg, f, `element ${i} is not a number`);
          dv.setFloat32(4 + 4 * i, x, true);
        } else {
          if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) fail(msg, f, `element ${i} (${x}) is not a u32`);
          dv.setUint32(4 + 4 * i, x, true);
        }
      }
      return b;
    }
  }
}

/** The payload of a message from its field values (every field required, nothing extra). */
export function encodePayload(msg: MessageSpec, values: Readonly<Record<string, unknown>>): Uint8Array {
  for (const k of Object.keys(values)) {
    if (!msg.fields.some((f) => f.name === k)) fail(msg, null, `unknown field "${k}"`);
  }
  const parts = msg.fields.map((f) => encodedField(msg, f, values[f.name] as FieldValue | undefined));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const payload = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    payload.set(p, off);
    off += p.length;
  }
  return payload;
}

/**
 * The field values of a payload. Refuses a payload that is shorter or longer than its fields
 * say, a length or count over its field's maximum, and a u64 above 2^53 - 1.
 */
export function decodePayload(msg: MessageSpec, payload: Uint8Array): Fields {
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  let off = 0;
  const need = (f: FieldSpec, n: number) => {
    if (off + n > payload.length) fail(msg, f, `payload ends at byte ${payload.length}, the field needs bytes up to ${off + n}`);
  };
  const out: Fields = {};
  for (const f of msg.fields) {
    switch (f.type) {
      case 'u8':
        need(f, 1);
        out[f.name] = dv.getUint8(off);
        off += 1;
        break;
      case 'u16':
        need(f, 2);
        out[f.name] = dv.getUint16(off, true);
        off += 2;
        break;
      case 'u32':
        need(f, 4);
        out[f.name] = dv.getUint32(off, true);
        off += 4;
        break;
      case 'i32':
        need(f, 4);
        out[f.name] = dv.getInt32(off, true);
        off += 4;
        break;
      case 'u64': {
        need(f, 8);
        const v = dv.getBigUint64(off, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(msg, f, `${v} is above 2^53 - 1`);
        out[f.name] = Number(v);
        off += 8;
        break;
      }
      case 'f32':
        need(f, 4);
        out[f.name] = dv.getFloat32(off, true);
        off += 4;
        break;
      case 'f64':
        need(f, 8);
        out[f.name] = dv.getFloat64(off, true);
        off += 8;
        break;
      case 'bytes':
        need(f, f.size!);
        out[f.name] = payload.slice(off, off + f.size!);
        off += f.size!;
        break;
      case 'str': {
        need(f, 2);
        const n = dv.getUint16(off, true);
        if (n > f.max!) fail(msg, f, `length ${n} is more than its maximum ${f.max}`);
        off += 2;
        need(f, n);
        try {
          out[f.name] = utf8Decoder.decode(payload.subarray(off, off + n));
        } catch {
          fail(msg, f, 'is not valid UTF-8');
        }
        off += n;
        break;
      }
      case 'blob': {
        need(f, 4);
        const n = dv.getUint32(off, true);
        if (n > f.max!) fail(msg, f, `length ${n} is more than its maximum ${f.max}`);
        off += 4;
        need(f, n);
        out[f.name] = payload.slice(off, off + n);
        off += n;
        break;
      }
      case 'u32[]':
      case 'f32[]': {
        need(f, 4);
        const n = dv.getUint32(off, true);
        if (n > f.max!) fail(msg, f, `count ${n} is more than its maximum ${f.max}`);
        off += 4;
        need(f, 4 * n);
        if (f.type === 'u32[]') {
          const a = new Array<number>(n);
          for (let i = 0; i < n; i++) a[i] = dv.getUint32(off + 4 * i, true);
          out[f.name] = a;
        } else {
          const a = new Float32Array(n);
          for (let i = 0; i < n; i++) a[i] = dv.getFloat32(off + 4 * i, true);
          out[f.name] = a;
        }
        off += 4 * n;
        break;
      }
    }
  }
  if (off !== payload.length) fail(msg, null, `${payload.length - off} bytes after the last field`);
  return out;
}
