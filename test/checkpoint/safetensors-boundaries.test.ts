/**
 * Each safetensors rule at its exact boundary (issue 12): the last accepted value and the first
 * refused one, with the message that names the rule — so a check that is off by one, or that
 * lets a later check refuse the file with a vaguer message, fails here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_HEADER_SIZE, readSafetensorsHeader } from '../../host/src/checkpoint/safetensors.js';
import { expectTellme, tmpDir, writeRawSafetensors } from './helpers.js';

const dir = tmpDir('st-edge');
let count = 0;
const file = () => path.join(dir, `e${count++}.safetensors`);
const f32 = (begin: number, end: number, shape = [(end - begin) / 4]) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

/** A file whose 8-byte length field says `n` while the JSON that follows has `json.length` bytes. */
function withLength(json: string, n: number, data = new Uint8Array(0)): string {
  const f = file();
  writeRawSafetensors(f, json, data, { headerLength: BigInt(n) });
  return f;
}

describe('safetensors rules at their boundaries', () => {
  it('file size: 7 bytes is shorter than the length field; 8 bytes gets past that check', () => {
    const f = file();
    fs.writeFileSync(f, new Uint8Array(7));
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', 'shorter than the 8-byte header length field');
    const g = file();
    fs.writeFileSync(g, new Uint8Array(8)); // N = 0: an empty header
    const e = expectTellme(() => readSafetensorsHeader(g), 'E_SAFETENSORS', "does not start with '{'");
    expect(e.message).not.toContain('shorter');
  });

  it('header length: 8 + N = file size is read; one more byte runs past the end (the 8-byte field counts)', () => {
    const json = '{}';
    expect(readSafetensorsHeader(withLength(json, 2)).tensors).toEqual([]);
    // 8 + 3 > 10 bytes: refused by the length check itself, not later by a short read.
    for (const n of [3, 9, 10]) expectTellme(() => readSafetensorsHeader(withLength(json, n)), 'E_SAFETENSORS', `header length ${n} runs past the end of the file (10 bytes`);
  });

  it(`header length: ${MAX_HEADER_SIZE} is within the format's limit, ${MAX_HEADER_SIZE + 1} exceeds it`, () => {
    const at = expectTellme(() => readSafetensorsHeader(withLength('{}', MAX_HEADER_SIZE)), 'E_SAFETENSORS', 'runs past the end');
    expect(at.message).not.toContain('exceeds');
    expectTellme(() => readSafetensorsHeader(withLength('{}', MAX_HEADER_SIZE + 1)), 'E_SAFETENSORS', `header length ${MAX_HEADER_SIZE + 1} exceeds`);
  });

  it('data_offsets: end - begin equal to shape x itemsize is accepted, one byte more or less is not', () => {
    const ok = file();
    writeRawSafetensors(ok, { x: f32(0, 8) }, new Uint8Array(8));
    expect(readSafetensorsHeader(ok).tensors[0]!.byteLength).toBe(8);
    for (const end of [7, 9]) {
      const f = file();
      writeRawSafetensors(f, { x: { dtype: 'F32', shape: [2], data_offsets: [0, end] } }, new Uint8Array(end));
      expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', `span ${end} bytes`, 'needs 8');
    }
  });

  it('data_offsets: begin = end is an empty tensor; end = begin - 1 is refused', () => {
    const ok = file();
    writeRawSafetensors(ok, { a: f32(0, 4), e: { dtype: 'F32', shape: [0], data_offsets: [4, 4] } }, new Uint8Array(4));
    expect(readSafetensorsHeader(ok).tensors.map((t) => t.byteLength)).toEqual([4, 0]);
    const f = file();
    writeRawSafetensors(f, { x: { dtype: 'F32', shape: [0], data_offsets: [4, 3] } }, new Uint8Array(4));
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', 'end before they begin');
  });

  it('the data buffer: a tensor may end at its last byte, not one byte after', () => {
    const ok = file();
    writeRawSafetensors(ok, { a: f32(0, 8), b: f32(8, 12) }, new Uint8Array(12));
    expect(readSafetensorsHeader(ok).tensors).toHaveLength(2);
    const f = file();
    writeRawSafetensors(f, { a: f32(0, 8), b: f32(9, 13) }, new Uint8Array(12));
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', "tensor 'b'", 'outside the data buffer of 12 bytes');
  });

  it('coverage: a one-byte hole, a one-byte overlap and one trailing byte are each refused', () => {
    const hole = file();
    writeRawSafetensors(hole, { a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] }, b: { dtype: 'U8', shape: [4], data_offsets: [5, 9] } }, new Uint8Array(9));
    expectTellme(() => readSafetensorsHeader(hole), 'E_SAFETENSORS', 'bytes [4, 5)', "hole before tensor 'b'");
    const overlap = file();
    writeRawSafetensors(overlap, { a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] }, b: { dtype: 'U8', shape: [4], data_offsets: [3, 7] } }, new Uint8Array(7));
    expectTellme(() => readSafetensorsHeader(overlap), 'E_SAFETENSORS', "tensor 'b'", "overlaps tensor 'a' (which ends at 4)");
    const trailing = file();
    writeRawSafetensors(trailing, { a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] } }, new Uint8Array(5));
    expectTellme(() => readSafetensorsHeader(trailing), 'E_SAFETENSORS', 'cover 4 bytes of data but the file holds 5');
  });

  it('sub-byte dtypes: an even number of F4 elements is whole bytes, an odd number is not', () => {
    const ok = file();
    writeRawSafetensors(ok, { x: { dtype: 'F4', shape: [4], data_offsets: [0, 2] } }, new Uint8Array(2));
    expect(readSafetensorsHeader(ok).tensors[0]!.byteLength).toBe(2);
    const f = file();
    writeRawSafetensors(f, { x: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } }, new Uint8Array(2));
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', '3 x F4 is not a whole number of bytes');
  });

  it('shapes: 0 is a dimension, -1 is not; data_offsets must be two non-negative integers', () => {
    const f = file();
    writeRawSafetensors(f, { x: { dtype: 'F32', shape: [2, -1], data_offsets: [0, 0] } });
    expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', 'shape [2,-1]');
    for (const offsets of [[-1, 3], [0, 4, 8], [0.5, 4]]) {
      const g = file();
      writeRawSafetensors(g, { x: { dtype: 'F32', shape: [1], data_offsets: offsets } }, new Uint8Array(4));
      expectTellme(() => readSafetensorsHeader(g), 'E_SAFETENSORS', `data_offsets ${JSON.stringify(offsets)} is not a pair`);
    }
  });

  it('__metadata__: an object of strings is accepted, anything else is refused', () => {
    const ok = file();
    writeRawSafetensors(ok, { __metadata__: { format: 'pt', note: '' }, x: f32(0, 4) }, new Uint8Array(4));
    expect(readSafetensorsHeader(ok).metadata).toEqual({ format: 'pt', note: '' });
    for (const meta of [['pt'], 'pt', null]) {
      const f = file();
      writeRawSafetensors(f, { __metadata__: meta, x: f32(0, 4) }, new Uint8Array(4));
      expectTellme(() => readSafetensorsHeader(f), 'E_SAFETENSORS', '__metadata__ is not an object');
    }
  });
});
