/**
 * The payload codec (host/src/protocol/codec.ts) on a message with one field of every type the
 * protocol spec allows: a known answer written out byte for byte (docs/protocol.md §3:
 * little-endian, no padding, length prefixes of 2 bytes for str and 4 for blob and arrays), and
 * every refusal of both directions at its exact boundary, with its message. The generated
 * messages exercise the codec in framing.test.ts and c-binding.test.ts; this file pins what those
 * do not reach (i32, f32, f64, every range check, every length limit, invalid UTF-8).
 */
import { describe, expect, it } from 'vitest';
import { decodePayload, encodePayload } from '../../host/src/protocol/codec.js';
import { maxFieldBytes, type FieldSpec, type MessageSpec } from '../../host/src/protocol/spec-types.js';
import { isTellmeError } from '../../host/src/errors.js';

const FIELDS: FieldSpec[] = [
  { name: 'a', type: 'u8' },
  { name: 'b', type: 'u16' },
  { name: 'c', type: 'u32' },
  { name: 'd', type: 'i32' },
  { name: 'e', type: 'u64' },
  { name: 'f', type: 'f32' },
  { name: 'g', type: 'f64' },
  { name: 'h', type: 'bytes', size: 3 },
  { name: 'i', type: 'str', max: 5 },
  { name: 'j', type: 'blob', max: 4 },
  { name: 'k', type: 'u32[]', max: 3 },
  { name: 'l', type: 'f32[]', max: 2 },
];
const MSG: MessageSpec = { name: 'ALL', id: 0x7001, kind: 'request', fields: FIELDS };
const one = (f: FieldSpec): MessageSpec => ({ name: 'ONE', id: 0x7002, kind: 'request', fields: [f] });

const VALUES = {
  a: 0xab,
  b: 0x1234,
  c: 0xdeadbeef,
  d: -2,
  e: Number.MAX_SAFE_INTEGER,
  f: 1.5,
  g: -0.1,
  h: Uint8Array.of(1, 2, 3),
  i: 'é€', // 2 + 3 UTF-8 bytes: exactly the maximum of 5
  j: Uint8Array.of(9),
  k: [1, 0xffffffff],
  l: [-1],
};

// prettier-ignore
const BYTES = [
  0xab,                                           // a u8
  0x34, 0x12,                                     // b u16
  0xef, 0xbe, 0xad, 0xde,                         // c u32
  0xfe, 0xff, 0xff, 0xff,                         // d i32 -2
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00, // e u64 2^53 - 1
  0x00, 0x00, 0xc0, 0x3f,                         // f f32 1.5
  0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0xbf, // g f64 -0.1
  0x01, 0x02, 0x03,                               // h bytes[3]
  0x05, 0x00, 0xc3, 0xa9, 0xe2, 0x82, 0xac,       // i str: length 5, "é€"
  0x01, 0x00, 0x00, 0x00, 0x09,                   // j blob: length 1
  0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, // k u32[]: count 2
  0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0xbf, // l f32[]: count 1, -1
];

const FIX = 'host and firmware must use bindings generated from the same hw/spec/protocol.json (update tellme or the firmware)';

/** The E_PROTOCOL message `f` throws; fails the test when it returns or throws something else. */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (!isTellmeError(e) || e.code !== 'E_PROTOCOL') throw e;
    expect(e.fix).toBe(FIX);
    return e.message;
  }
  throw new Error('expected a refusal, got none');
}

describe('payload codec: one field of every type, byte for byte', () => {
  it('encodes the known answer', () => {
    expect(Array.from(encodePayload(MSG, VALUES))).toEqual(BYTES);
  });

  it('decodes it back to the same values, each in its type', () => {
    const d = decodePayload(MSG, Uint8Array.from(BYTES));
    expect(Object.keys(d)).toEqual(FIELDS.map((f) => f.name));
    expect(d).toMatchObject({ a: 0xab, b: 0x1234, c: 0xdeadbeef, d: -2, e: Number.MAX_SAFE_INTEGER, f: 1.5, g: -0.1, i: 'é€' });
    expect(d['h']).toEqual(Uint8Array.of(1, 2, 3));
    expect(d['j']).toEqual(Uint8Array.of(9));
    expect(d['k']).toEqual([1, 0xffffffff]);
    expect(d['l']).toBeInstanceOf(Float32Array);
    expect(Array.from(d['l'] as Float32Array)).toEqual([-1]);
  });

  it('decodes from a view into a larger buffer (byteOffset honoured), and copies bytes and blobs out of it', () => {
    const buf = new Uint8Array(BYTES.length + 7);
    buf.set(BYTES, 5);
    const view = buf.subarray(5, 5 + BYTES.length);
    const d = decodePayload(MSG, view);
    expect(d['c']).toBe(0xdeadbeef);
    buf.fill(0);
    expect(d['h']).toEqual(Uint8Array.of(1, 2, 3));
    expect(d['j']).toEqual(Uint8Array.of(9));
  });

  it('the scalar ends of every integer type round-trip', () => {
    const ends: [FieldSpec['type'], number, number[]][] = [
      ['u8', 0, [0]],
      ['u8', 255, [0xff]],
      ['u16', 65535, [0xff, 0xff]],
      ['u32', 0, [0, 0, 0, 0]],
      ['i32', -0x80000000, [0, 0, 0, 0x80]],
      ['i32', 0x7fffffff, [0xff, 0xff, 0xff, 0x7f]],
      ['u64', 0, [0, 0, 0, 0, 0, 0, 0, 0]],
    ];
    for (const [type, v, bytes] of ends) {
      const m = one({ name: 'x', type });
      expect(Array.from(encodePayload(m, { x: v })), `${type} ${v}`).toEqual(bytes);
      expect(decodePayload(m, Uint8Array.from(bytes))['x'], `${type} ${v}`).toBe(v);
    }
  });

  it('f32 rounds to binary32 (the nearest, ties to even), f64 keeps every bit; NaN and infinities pass', () => {
    const f32 = one({ name: 'x', type: 'f32' });
    expect(decodePayload(f32, encodePayload(f32, { x: 0.1 }))['x']).toBe(Math.fround(0.1));
    expect(Array.from(encodePayload(f32, { x: 1 + 2 ** -24 }))).toEqual([0, 0, 0x80, 0x3f]); // a tie: to 1.0
    expect(decodePayload(f32, encodePayload(f32, { x: -Infinity }))['x']).toBe(-Infinity);
    const f64 = one({ name: 'x', type: 'f64' });
    expect(decodePayload(f64, encodePayload(f64, { x: 2 ** -1074 }))['x']).toBe(2 ** -1074);
    expect(Number.isNaN(decodePayload(f64, encodePayload(f64, { x: NaN }))['x'])).toBe(true);
  });

  it('strings keep a leading byte-order mark, and the limit counts UTF-8 bytes, not characters', () => {
    const m = one({ name: 's', type: 'str', max: 5 });
    const bom = '\ufeffab'; // 3 + 2 bytes
    const enc = encodePayload(m, { s: bom });
    expect(Array.from(enc)).toEqual([5, 0, 0xef, 0xbb, 0xbf, 0x61, 0x62]);
    expect(decodePayload(m, enc)['s']).toBe(bom);
    expect(refusal(() => encodePayload(m, { s: '€€' }))).toBe('ONE.s: 6 bytes, more than its maximum 5');
  });

  it('arrays at exactly their maximum are accepted (encode and decode)', () => {
    const u = one({ name: 'k', type: 'u32[]', max: 3 });
    const enc = encodePayload(u, { k: [0, 1, 0xffffffff] });
    expect(decodePayload(u, enc)['k']).toEqual([0, 1, 0xffffffff]);
    const f = one({ name: 'l', type: 'f32[]', max: 2 });
    expect(Array.from(decodePayload(f, encodePayload(f, { l: Float32Array.of(2, 3) }))['l'] as Float32Array)).toEqual([2, 3]);
    const b = one({ name: 'j', type: 'blob', max: 4 });
    expect(decodePayload(b, encodePayload(b, { j: Uint8Array.of(1, 2, 3, 4) }))['j']).toEqual(Uint8Array.of(1, 2, 3, 4));
  });
});

describe('encodePayload refuses, naming the message and field', () => {
  it('a missing field and an unknown one', () => {
    const { a: _a, ...noA } = VALUES;
    expect(refusal(() => encodePayload(MSG, noA))).toBe('ALL.a: missing');
    expect(refusal(() => encodePayload(MSG, { ...VALUES, z: 1 }))).toBe('ALL: unknown field "z"');
  });

  it('integers one past either end, fractions and non-numbers', () => {
    const cases: [FieldSpec['type'], unknown, string][] = [
      ['u8', 256, '256 is not a u8'],
      ['u8', -1, '-1 is not a u8'],
      ['u16', 65536, '65536 is not a u16'],
      ['u32', 2 ** 32, '4294967296 is not a u32'],
      ['u32', 1.5, '1.5 is not a u32'],
      ['i32', -0x80000001, '-2147483649 is not a i32'],
      ['i32', 0x80000000, '2147483648 is not a i32'],
      ['u64', Number.MAX_SAFE_INTEGER + 1, '9007199254740992 is not a u64'],
      ['u64', -1, '-1 is not a u64'],
      ['u32', '7', '7 is not a u32'],
      ['f32', '1', '1 is not a number'],
      ['f64', null, 'null is not a number'],
    ];
    for (const [type, v, what] of cases) expect(refusal(() => encodePayload(one({ name: 'x', type }), { x: v })), `${type} ${String(v)}`).toBe(`ONE.x: ${what}`);
  });

  it('bytes of another length or type, strings and blobs of the wrong type or over their maximum', () => {
    const bytes = one({ name: 'h', type: 'bytes', size: 3 });
    expect(refusal(() => encodePayload(bytes, { h: Uint8Array.of(1, 2) }))).toBe('ONE.h: expected exactly 3 bytes');
    expect(refusal(() => encodePayload(bytes, { h: Uint8Array.of(1, 2, 3, 4) }))).toBe('ONE.h: expected exactly 3 bytes');
    expect(refusal(() => encodePayload(bytes, { h: [1, 2, 3] }))).toBe('ONE.h: expected exactly 3 bytes');
    const str = one({ name: 's', type: 'str', max: 2 });
    expect(refusal(() => encodePayload(str, { s: 12 }))).toBe('ONE.s: expected a string');
    expect(refusal(() => encodePayload(str, { s: 'abc' }))).toBe('ONE.s: 3 bytes, more than its maximum 2');
    expect(Array.from(encodePayload(str, { s: 'ab' }))).toEqual([2, 0, 0x61, 0x62]);
    const blob = one({ name: 'j', type: 'blob', max: 2 });
    expect(refusal(() => encodePayload(blob, { j: 'ab' }))).toBe('ONE.j: expected bytes');
    expect(refusal(() => encodePayload(blob, { j: Uint8Array.of(1, 2, 3) }))).toBe('ONE.j: 3 bytes, more than its maximum 2');
  });

  it('arrays: not an array, over their maximum, and elements that are not numbers or not u32', () => {
    for (const type of ['u32[]', 'f32[]'] as const) {
      const m = one({ name: 'k', type, max: 2 });
      for (const v of ['ab', 3, Uint8Array.of(1)]) expect(refusal(() => encodePayload(m, { k: v })), `${type} ${String(v)}`).toBe('ONE.k: expected an array');
      expect(refusal(() => encodePayload(m, { k: [1, 2, 3] }))).toBe('ONE.k: 3 elements, more than its maximum 2');
    }
    const f = one({ name: 'l', type: 'f32[]', max: 2 });
    expect(refusal(() => encodePayload(f, { l: [1, '2'] }))).toBe('ONE.l: element 1 is not a number');
    const u = one({ name: 'k', type: 'u32[]', max: 2 });
    expect(refusal(() => encodePayload(u, { k: [0, -1] }))).toBe('ONE.k: element 1 (-1) is not a u32');
    expect(refusal(() => encodePayload(u, { k: [2 ** 32] }))).toBe('ONE.k: element 0 (4294967296) is not a u32');
    expect(refusal(() => encodePayload(u, { k: [0.5] }))).toBe('ONE.k: element 0 (0.5) is not a u32');
  });
});

describe('decodePayload refuses, naming the message and field', () => {
  it('a payload cut short inside any field, and one with bytes after the last field', () => {
    // Cut at every length shorter than the whole: the field the cut falls in is named.
    const ends: number[] = [];
    let off = 0;
    for (const size of [1, 2, 4, 4, 8, 4, 8, 3, 7, 5, 12, 8]) ends.push((off += size));
    for (let n = 0; n < BYTES.length; n++) {
      const k = ends.findIndex((e) => n < e);
      const msg = refusal(() => decodePayload(MSG, Uint8Array.from(BYTES.slice(0, n))));
      expect(msg, `cut at ${n}`).toMatch(new RegExp(`^ALL\\.${FIELDS[k]!.name}: payload ends at byte ${n}, the field needs bytes up to \\d+$`));
    }
    expect(refusal(() => decodePayload(MSG, Uint8Array.from(BYTES.slice(0, 1))))).toBe('ALL.b: payload ends at byte 1, the field needs bytes up to 3');
    expect(refusal(() => decodePayload(MSG, Uint8Array.from([...BYTES, 0, 0])))).toBe('ALL: 2 bytes after the last field');
  });

  it('a length prefix over its field maximum (str, blob, arrays), exactly the maximum accepted', () => {
    const str = one({ name: 's', type: 'str', max: 2 });
    expect(refusal(() => decodePayload(str, Uint8Array.of(3, 0, 0x61, 0x62, 0x63)))).toBe('ONE.s: length 3 is more than its maximum 2');
    expect(decodePayload(str, Uint8Array.of(2, 0, 0x61, 0x62))['s']).toBe('ab');
    const blob = one({ name: 'j', type: 'blob', max: 1 });
    expect(refusal(() => decodePayload(blob, Uint8Array.of(2, 0, 0, 0, 7, 8)))).toBe('ONE.j: length 2 is more than its maximum 1');
    expect(decodePayload(blob, Uint8Array.of(1, 0, 0, 0, 7))['j']).toEqual(Uint8Array.of(7));
    for (const type of ['u32[]', 'f32[]'] as const) {
      const m = one({ name: 'k', type, max: 1 });
      expect(refusal(() => decodePayload(m, Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))).toBe('ONE.k: count 2 is more than its maximum 1');
      expect(Array.from(decodePayload(m, Uint8Array.of(1, 0, 0, 0, 0, 0, 0x80, 0x3f))['k'] as ArrayLike<number>)).toEqual([type === 'u32[]' ? 0x3f800000 : 1]);
    }
  });

  it('a string that is not valid UTF-8 (a lone continuation byte, a truncated sequence, an overlong form)', () => {
    const m = one({ name: 's', type: 'str', max: 4 });
    for (const bad of [[0x80], [0xe2, 0x82], [0xc0, 0xaf]]) {
      expect(refusal(() => decodePayload(m, Uint8Array.from([bad.length, 0, ...bad]))), bad.join(',')).toBe('ONE.s: is not valid UTF-8');
    }
  });

  it('a u64 above 2^53 - 1; 2^53 - 1 itself is read', () => {
    const m = one({ name: 'e', type: 'u64' });
    expect(refusal(() => decodePayload(m, Uint8Array.of(0, 0, 0, 0, 0, 0, 0x20, 0)))).toBe('ONE.e: 9007199254740992 is above 2^53 - 1');
    expect(decodePayload(m, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0))['e']).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('maxFieldBytes: the largest encoding of each field type, length prefix included', () => {
  it('equals the encoding of a value at the maximum', () => {
    const full: Record<string, unknown> = { a: 0, b: 0, c: 0, d: 0, e: 0, f: 0, g: 0, h: Uint8Array.of(1, 2, 3), i: 'abcde', j: Uint8Array.of(1, 2, 3, 4), k: [1, 2, 3], l: [1, 2] };
    const sizes = FIELDS.map((f) => maxFieldBytes(f));
    expect(sizes).toEqual([1, 2, 4, 4, 8, 4, 8, 3, 7, 8, 16, 12]);
    for (const f of FIELDS) expect(encodePayload(one(f), { [f.name]: full[f.name] }).length, f.name).toBe(maxFieldBytes(f));
  });
});
