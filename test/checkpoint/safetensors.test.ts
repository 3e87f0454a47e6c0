import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MAX_HEADER_SIZE,
  forEachF32Chunk,
  readSafetensorsHeader,
  readTensorBytes,
  readTensorF32,
} from '../../host/src/checkpoint/safetensors.js';
import { buildHeader, writeSafetensors } from '../../host/src/checkpoint/safetensors-writer.js';
import { f16BitsToF32Exact } from '../../host/src/checkpoint/dtype.js';
import { bf16ToF32, f16ToF32 } from '../../host/src/numerics/f16.js';
import { f32ToBits } from '../../host/src/numerics/f32.js';
import { expectTellme, tmpDir, writeRawSafetensors } from './helpers.js';

const u16le = (vals: number[]) => new Uint8Array(Uint16Array.from(vals).buffer);
const f32le = (vals: number[]) => new Uint8Array(Float32Array.from(vals).buffer);

function one(file: string, name: string) {
  const t = readSafetensorsHeader(file).tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no ${name}`);
  return t;
}

describe('safetensors dtype conversion', () => {
  it('BF16 -> F32 is exact for all 65536 bit patterns (bits << 16, as numerics bf16ToF32)', () => {
    const dir = tmpDir('st-bf16');
    const file = path.join(dir, 'a.safetensors');
    const all = Array.from({ length: 65536 }, (_, i) => i);
    writeSafetensors(file, [{ name: 'x', dtype: 'BF16', shape: [65536], data: u16le(all) }]);
    const v = readTensorF32(one(file, 'x'), { allowNonFinite: true });
    // The bits are read through an integer view: reading a NaN element as a JS number may quiet a
    // signalling NaN (0x7f81…) depending on how V8 compiled the loop, which once made this flaky.
    const vBits = new Uint32Array(v.buffer, v.byteOffset, v.length);
    const bad: number[] = [];
    for (let i = 0; i < 65536; i++) {
      if (vBits[i] !== (i << 16) >>> 0) bad.push(i);
      else if (!Number.isNaN(v[i]!) && !Object.is(v[i], bf16ToF32(i))) bad.push(i);
    }
    expect(bad).toEqual([]);
    expect(v[0x3f80]).toBe(1);
    expect(v[0xc040]).toBe(-3);
  });

  it('F16 -> F32 is exact, subnormals included', () => {
    const dir = tmpDir('st-f16');
    const file = path.join(dir, 'a.safetensors');
    const all = Array.from({ length: 65536 }, (_, i) => i);
    writeSafetensors(file, [{ name: 'x', dtype: 'F16', shape: [256, 256], data: u16le(all) }]);
    const v = readTensorF32(one(file, 'x'), { allowNonFinite: true });
    // Subnormals: man * 2^-24 exactly (numerics' f16ToF32 deliberately flushes these).
    expect(v[0x0001]).toBe(2 ** -24);
    expect(v[0x03ff]).toBe(1023 * 2 ** -24);
    expect(v[0x8001]).toBe(-(2 ** -24));
    expect(Object.is(v[0x8000], -0)).toBe(true);
    expect(v[0x3c00]).toBe(1);
    expect(v[0x7bff]).toBe(65504);
    expect(v[0x0400]).toBe(2 ** -14);
    expect(v[0x7c00]).toBe(Infinity);
    expect(v[0xfc00]).toBe(-Infinity);
    expect(Number.isNaN(v[0x7e00]!)).toBe(true);
    const bad: number[] = [];
    for (let h = 0; h < 65536; h++) {
      const exp = (h >>> 10) & 0x1f;
      const man = h & 0x3ff;
      // Normals agree with numerics' f16ToF32; subnormals are (-1)^s * man * 2^-24.
      const want = exp === 0 && man !== 0 ? (h & 0x8000 ? -1 : 1) * man * 2 ** -24 : f16ToF32(h);
      if (!Object.is(v[h], want) && !(Number.isNaN(v[h]!) && Number.isNaN(want))) bad.push(h);
      if (!Object.is(v[h], f16BitsToF32Exact(h)) && !Number.isNaN(v[h]!)) bad.push(h);
    }
    expect(bad).toEqual([]);
  });

  it('F32 keeps every bit (subnormals, -0, infinities) and F64 rounds to nearest binary32', () => {
    const dir = tmpDir('st-f32');
    const file = path.join(dir, 'a.safetensors');
    const f32vals = [1.5, -0, 1e-45, -3.4028234663852886e38, Infinity, 0.1];
    const f64vals = [0.1, 1 + 2 ** -30, 1 + 2 ** -23 + 2 ** -24, 1e300, -2.5];
    writeSafetensors(file, [
      { name: 'a', dtype: 'F32', shape: [6], data: f32le(f32vals) },
      { name: 'b', dtype: 'F64', shape: [5], data: new Uint8Array(Float64Array.from(f64vals).buffer) },
    ]);
    const a = readTensorF32(one(file, 'a'), { allowNonFinite: true });
    expect(Array.from(a, (x) => f32ToBits(x))).toEqual(f32vals.map((x) => f32ToBits(x)));
    const b = readTensorF32(one(file, 'b'), { allowNonFinite: true });
    expect(Array.from(b)).toEqual(f64vals.map((x) => Math.fround(x)));
    expect(b[1]).toBe(1); // 1 + 2^-30 rounds down
    expect(b[2]).toBe(1 + 2 ** -22); // exact tie -> even
  });

  it('reads U8/I8/I32 raw; readF32 refuses non-float dtypes', () => {
    const dir = tmpDir('st-raw');
    const file = path.join(dir, 'a.safetensors');
    writeSafetensors(file, [
      { name: 'u', dtype: 'U8', shape: [3], data: Uint8Array.of(0, 128, 255) },
      { name: 'i', dtype: 'I8', shape: [2], data: new Uint8Array(Int8Array.of(-1, 5).buffer) },
      { name: 'n', dtype: 'I32', shape: [1], data: new Uint8Array(Int32Array.of(-7).buffer) },
    ]);
    expect(Array.from(readTensorBytes(one(file, 'u')))).toEqual([0, 128, 255]);
    expect(Array.from(new Int8Array(readTensorBytes(one(file, 'i')).buffer))).toEqual([-1, 5]);
    expect(new Int32Array(readTensorBytes(one(file, 'n')).buffer)[0]).toBe(-7);
    expectTellme(() => readTensorF32(one(file, 'n')), 'E_CHECKPOINT', "'n'", 'I32', file);
    expectTellme(() => readTensorF32(one(file, 'u')), 'E_CHECKPOINT', 'U8');
  });

  it('reads misaligned tensors (offset % itemsize != 0)', () => {
    const dir = tmpDir('st-misaligned');
    const file = path.join(dir, 'a.safetensors');
    writeSafetensors(file, [
      { name: 'pad', dtype: 'U8', shape: [3], data: Uint8Array.of(1, 2, 3) },
      { name: 'f', dtype: 'F32', shape: [3], data: f32le([1.25, -2, 3e-3]) },
      { name: 'pad2', dtype: 'U8', shape: [1], data: Uint8Array.of(9) },
      { name: 'b', dtype: 'BF16', shape: [2], data: u16le([0x3f80, 0xc040]) },
      { name: 'd', dtype: 'F64', shape: [1], data: new Uint8Array(Float64Array.of(0.1).buffer) },
    ]);
    const h = readSafetensorsHeader(file);
    const f = h.tensors.find((t) => t.name === 'f')!;
    expect((f.offset - h.dataStart) % 4).toBe(3);
    expect(Array.from(readTensorF32(f))).toEqual([1.25, -2, Math.fround(3e-3)]);
    expect(Array.from(readTensorF32(one(file, 'b')))).toEqual([1, -3]);
    expect(readTensorF32(one(file, 'd'))[0]).toBe(Math.fround(0.1));
  });

  it('streams chunks that reassemble to readTensorF32', () => {
    const dir = tmpDir('st-chunks');
    const file = path.join(dir, 'a.safetensors');
    const vals = Array.from({ length: 1000 }, (_, i) => (i * 37) % 6553);
    writeSafetensors(file, [{ name: 'x', dtype: 'BF16', shape: [10, 100], data: u16le(vals) }]);
    const info = one(file, 'x');
    const whole = readTensorF32(info);
    const parts = new Float32Array(1000);
    const starts: number[] = [];
    forEachF32Chunk(info, (c, s) => {
      parts.set(c, s);
      starts.push(s);
    }, 64);
    expect(starts.length).toBe(Math.ceil(1000 / 64));
    expect(parts).toEqual(whole);
  });

  it('accepts scalars, zero-size tensors, metadata and space padding', () => {
    const dir = tmpDir('st-edge');
    const file = path.join(dir, 'a.safetensors');
    writeSafetensors(file, [
      { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Uint8Array(0) },
      { name: 'scalar', dtype: 'F32', shape: [], data: f32le([7]) },
    ], { format: 'pt' });
    const h = readSafetensorsHeader(file);
    expect(h.metadata).toEqual({ format: 'pt' });
    expect(h.dataStart % 8).toBe(0);
    expect(readTensorF32(one(file, 'scalar'))[0]).toBe(7);
    expect(readTensorF32(one(file, 'empty')).length).toBe(0);
    // The padding really is spaces after the JSON.
    const header = buildHeader([{ name: 'scalar', dtype: 'F32', shape: [] }]);
    expect(header.length % 8).toBe(0);
    expect(Buffer.from(header).toString('utf8').trimEnd().endsWith('}')).toBe(true);
  });
});

describe('safetensors header validation', () => {
  const dir = tmpDir('st-bad');
  let n = 0;
  const file = () => path.join(dir, `f${n++}.safetensors`);
  const okEntry = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };

  it('rejects a file shorter than the length field', () => {
    const f = file();
    fs.writeFileSync(f, Buffer.from([1, 2, 3]));
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', f, 'truncated');
  });

  it('rejects a header length above the 100 MB limit', () => {
    const f = file();
    writeRawSafetensors(f, { x: okEntry }, new Uint8Array(8), { headerLength: BigInt(MAX_HEADER_SIZE + 1) });
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', f, 'exceeds');
  });

  it('rejects a header length past the end of the file', () => {
    const f = file();
    writeRawSafetensors(f, { x: okEntry }, new Uint8Array(8), { headerLength: 5000n });
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', f, 'past the end');
  });

  it('rejects a header that does not start with {', () => {
    const f = file();
    writeRawSafetensors(f, ` {"x":${JSON.stringify(okEntry)}}`, new Uint8Array(8));
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', f, "start with '{'");
  });

  it('rejects invalid UTF-8 and invalid JSON', () => {
    const f = file();
    const bytes = Buffer.concat([Buffer.from('{"x'), Buffer.from([0xff, 0xfe]), Buffer.from('":1}')]);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(bytes.length));
    fs.writeFileSync(f, Buffer.concat([len, bytes]));
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', 'UTF-8');
    const g = file();
    writeRawSafetensors(g, '{"x": {"dtype": "F32",', new Uint8Array(0));
    expectTellme(() => readSafetensorsHeader(g), 'E_SAFETENSORS', g, 'not valid JSON');
  });

  it('accepts trailing spaces after the JSON', () => {
    const f = file();
    writeRawSafetensors(f, `{"x":${JSON.stringify(okEntry)}}     `, new Uint8Array(8));
    expect(readSafetensorsHeader(f).tensors[0]!.name).toBe('x');
  });

  it('rejects non-string metadata values', () => {
    const f = file();
    writeRawSafetensors(f, { __metadata__: { format: 'pt', n: 3 }, x: okEntry }, new Uint8Array(8));
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', '__metadata__', "'n'");
  });

  it('rejects unknown dtypes and bad shapes', () => {
    const f = file();
    writeRawSafetensors(f, { x: { ...okEntry, dtype: 'F12' } }, new Uint8Array(8));
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', "tensor 'x'", 'unknown dtype "F12"');
    const g = file();
    writeRawSafetensors(g, { x: { ...okEntry, shape: [-2] } }, new Uint8Array(8));
    expectTellme(() => readSafetensorsHeader(g), 'E_SAFETENSORS', "tensor 'x'", 'non-negative integers');
    const h = file();
    writeRawSafetensors(h, { x: { ...okEntry, shape: [2.5] } }, new Uint8Array(8));
    expectTellme(() => readSafetensorsHeader(h), 'E_SAFETENSORS', "tensor 'x'", 'shape');
  });

  it('rejects data_offsets that disagree with shape x itemsize', () => {
    const f = file();
    writeRawSafetensors(f, { x: { ...okEntry, shape: [3] } }, new Uint8Array(8));
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', "tensor 'x'", 'needs 12');
    const g = file();
    writeRawSafetensors(g, { x: { ...okEntry, data_offsets: [8, 0] } }, new Uint8Array(8));
    expectTellme(() => readSafetensorsHeader(g), 'E_SAFETENSORS', "tensor 'x'", 'end before');
    const h = file();
    writeRawSafetensors(h, { x: { ...okEntry, data_offsets: [0] } }, new Uint8Array(8));
    expectTellme(() => readSafetensorsHeader(h), 'E_SAFETENSORS', "tensor 'x'", 'data_offsets');
  });

  it('rejects out-of-range offsets', () => {
    const f = file();
    writeRawSafetensors(f, { a: okEntry, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, new Uint8Array(12));
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', f, "tensor 'b'", 'outside the data buffer');
  });

  it('rejects overlapping tensors', () => {
    const f = file();
    writeRawSafetensors(f, { a: okEntry, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, new Uint8Array(12));
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', f, "tensor 'b'", "overlaps tensor 'a'");
  });

  it('rejects holes and trailing bytes (the buffer must be covered exactly)', () => {
    const f = file();
    writeRawSafetensors(f, { a: okEntry, b: { dtype: 'F32', shape: [1], data_offsets: [12, 16] } }, new Uint8Array(16));
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', f, 'hole', "'b'");
    const g = file();
    writeRawSafetensors(g, { a: okEntry }, new Uint8Array(10));
    expectTellme(() => readSafetensorsHeader(g), 'E_SAFETENSORS', g, 'trailing');
  });

  it('rejects a truncated file (data cut short)', () => {
    const f = file();
    writeSafetensors(f, [{ name: 'w', dtype: 'F32', shape: [4, 4], data: new Uint8Array(64) }]);
    fs.truncateSync(f, fs.statSync(f).size - 10);
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', f, "tensor 'w'", 'truncated');
  });
});
