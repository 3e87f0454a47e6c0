/**
 * The converter's fast packer (image/pack.ts) at its boundaries, against answers written out by
 * hand (bit positions computed from docs/layout.md §3, not by another packer): the RoPE row map,
 * beats with vectors across byte boundaries, padded groups (index 13) past the matrix's groups and
 * rows, the zero tail of the last beat, paper beats with norm slots (from an offset into the
 * norms, and zero past their end), the lane split; and every refusal with its message.
 * pack.test.ts compares the same functions with the reference packer on random shapes.
 */
import { describe, expect, it } from 'vitest';
import { encodePackedRows, encodeTernaryRows, laneOf, packStream, ropeSourceRow, rowMap } from '../../host/src/image/pack.js';
import { makePackLayout } from '../../host/src/layout/index.js';
import { packTernary } from '../../host/src/quant/ternary.js';
import { expectTellme } from './helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const idx = (...v: number[]) => Uint8Array.from(v);

describe('the RoPE row map', () => {
  it('head_dim 4: destination rows take source rows 0, 2, 1, 3 of each head (consecutive pairs from the two halves)', () => {
    expect(Array.from({ length: 8 }, (_, r) => ropeSourceRow(r, 4))).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
    expect(Array.from(rowMap(12, 6))).toEqual([0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11]);
    expect(Array.from(rowMap(5, null))).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('packStream: beats written out by hand (5-bit indices, T = 2: 10-bit vectors)', () => {
  it('dense: three rows in one 64-bit beat, vectors across byte boundaries, the rest of the beat zero', () => {
    const layout = makePackLayout('dense', 64, 5, 2, [{ rowStart: 0, rows: 3, chunkStart: 0, chunks: 1 }]);
    // bits 0-4: 1, 5-9: 2, 10-14: 26, 15-19: 13, 20-24: 0, 25-29: 17
    expect(hex(packStream(idx(1, 2, 26, 13, 0, 17), 3, 2, layout))).toBe('41e8062200000000');
  });

  it('dense: groups past the matrix and rows past the matrix are index 13', () => {
    // One row of 3 groups in a block of 2 rows x 2 chunks: [5, 6] [13, 13] [7, 13] [13, 13].
    const layout = makePackLayout('dense', 64, 5, 2, [{ rowStart: 0, rows: 2, chunkStart: 0, chunks: 2 }]);
    expect(hex(packStream(idx(5, 6, 7), 1, 3, layout))).toBe('c5b4765a6b000000');
  });

  it('dense: 8-bit indices (the widest supported) are the bytes themselves; 9 bits are refused', async () => {
    const layout = makePackLayout('dense', 64, 8, 2, [{ rowStart: 0, rows: 2, chunkStart: 0, chunks: 1 }]);
    expect(hex(packStream(idx(0xff, 1, 2, 0x80), 2, 2, layout))).toBe('ff01028000000000');
    const wide = makePackLayout('dense', 64, 9, 2, [{ rowStart: 0, rows: 2, chunkStart: 0, chunks: 1 }]);
    await expectTellme(() => packStream(idx(1, 2, 3, 4), 2, 2, wide), 'E_INTERNAL', 'packStream: 9-bit indices are not supported (at most 8)');
    await expectTellme(() => packStream(idx(1, 2, 3), 2, 2, layout), 'E_INTERNAL', 'packStream: indices size');
  });

  // Paper beats of 64 bits: 4 vectors (bits 0-39), the binary16 norm weight in bits 40-55, 56-63 zero.
  // 5 rows: beat 0 holds rows 0-3, beat 1 row 4 and three padding slots of 13s.
  const paper = makePackLayout('paper', 64, 5, 2, [{ rowStart: 0, rows: 5, chunkStart: 0, chunks: 1 }]);
  const rows5 = idx(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
  it('paper: padding slots of the last beat are 13s; a beat carries norm weight normStart + beat', () => {
    expect(hex(packStream(rows5, 5, 2, paper, Uint16Array.of(0xabcd, 0x1234)))).toBe('410c52cc41cdab0049b5d65a6b341200');
    expect(hex(packStream(rows5, 5, 2, paper, Uint16Array.of(0x1111, 0xabcd, 0x1234), 1))).toBe('410c52cc41cdab0049b5d65a6b341200');
  });

  it('paper: norm slots past the end of the norms, or without norms, are zero', () => {
    expect(hex(packStream(rows5, 5, 2, paper, Uint16Array.of(0xabcd)))).toBe('410c52cc41cdab0049b5d65a6b000000');
    expect(hex(packStream(rows5, 5, 2, paper))).toBe('410c52cc41000000' + '49b5d65a6b000000');
    expect(hex(packStream(rows5, 5, 2, paper, Uint16Array.of(0x1111, 0xabcd), 2))).toBe('410c52cc41000000' + '49b5d65a6b000000');
  });
});

describe('laneOf: bytes [p·W/P, (p+1)·W/P) of every beat', () => {
  const stream = Uint8Array.from({ length: 24 }, (_, i) => i);
  it('word-sized lanes, byte-sized lanes, and one lane (a copy)', () => {
    expect(Array.from(laneOf(stream, 8, 2, 0))).toEqual([0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19]);
    expect(Array.from(laneOf(stream, 8, 2, 1))).toEqual([4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23]);
    expect(Array.from(laneOf(stream, 6, 3, 2))).toEqual([4, 5, 10, 11, 16, 17, 22, 23]);
    expect(Array.from(laneOf(stream.subarray(1, 17), 8, 2, 1))).toEqual([5, 6, 7, 8, 13, 14, 15, 16]);
    const one = laneOf(stream, 8, 1, 0);
    expect(Array.from(one)).toEqual(Array.from(stream));
    one[0] = 99;
    expect(stream[0]).toBe(0);
  });
});

describe('encodePackedRows / encodeTernaryRows: indices written out by hand, and refusals', () => {
  // 4 rows x 5 columns; codes c = t + 1; index = 9 c0 + 3 c1 + c2; the partial last group's
  // missing column is a zero weight (code 1); groups past ceil(5/3) = 2 are 13.
  const values = Int8Array.from([
    -1, 0, 1, 1, -1, // row 0: groups (0,1,2) -> 5, (2,0,_) -> 19
    1, 1, 1, 0, 0, //   row 1: 26, (1,1,_) -> 13
    0, -1, 0, -1, 1, // row 2: 10, (0,2,_) -> 7
    -1, -1, -1, 1, 1, // row 3: 0, (2,2,_) -> 25
  ]);
  const want = [5, 19, 13, 26, 13, 13, 10, 7, 13, 0, 25, 13];
  it('both encoders give the hand-computed indices, with the row map applied to destination rows', () => {
    const a = new Uint8Array(12);
    encodeTernaryRows(values, 4, 5, 3, rowMap(4, null), a);
    expect(Array.from(a)).toEqual(want);
    const b = new Uint8Array(12);
    encodePackedRows(packTernary(values, 4, 5), 4, 5, 3, rowMap(4, null), b, 't');
    expect(Array.from(b)).toEqual(want);
    const swapped = Int32Array.of(2, 0, 3, 1);
    const perm = [...want.slice(6, 9), ...want.slice(0, 3), ...want.slice(9, 12), ...want.slice(3, 6)];
    encodeTernaryRows(values, 4, 5, 3, swapped, a);
    expect(Array.from(a)).toEqual(perm);
    encodePackedRows(packTernary(values, 4, 5), 4, 5, 3, swapped, b, 't');
    expect(Array.from(b)).toEqual(perm);
  });

  it('a column count of 3k + 1: the last group has one real column', () => {
    const v = Int8Array.from([1, -1, 0, 1, /**/ 0, 0, 0, -1]); // 2 rows x 4
    const out = new Uint8Array(4);
    encodeTernaryRows(v, 2, 4, 2, rowMap(2, null), out);
    expect(Array.from(out)).toEqual([9 * 2 + 0 + 1, 9 * 2 + 3 + 1, 13, 0 + 3 + 1]);
    encodePackedRows(packTernary(v, 2, 4), 2, 4, 2, rowMap(2, null), out, 't');
    expect(Array.from(out)).toEqual([19, 22, 13, 4]);
  });

  it('refuses a wrong packed length (E_CHECKPOINT, with the fix), output size and a row map that is not a permutation', async () => {
    const packed = packTernary(values, 4, 5);
    const err = await expectTellme(() => encodePackedRows(packed.subarray(1), 4, 5, 3, rowMap(4, null), new Uint8Array(12), 'f: tensor w'), 'E_CHECKPOINT', 'f: tensor w: 4 packed bytes, expected 1 x 5 for 4 rows');
    expect(err.fix).toBe('The checkpoint is damaged or its config.json does not match its weights; re-download it.');
    await expectTellme(() => encodePackedRows(packed, 4, 5, 3, rowMap(4, null), new Uint8Array(11), 't'), 'E_INTERNAL', 'encodePackedRows: output size');
    await expectTellme(() => encodePackedRows(packed, 4, 5, 3, Int32Array.of(0, 1, 1, 3), new Uint8Array(12), 't'), 'E_INTERNAL', 'encodePackedRows: row map is not a permutation');
    await expectTellme(() => encodeTernaryRows(values.subarray(1), 4, 5, 3, rowMap(4, null), new Uint8Array(12)), 'E_INTERNAL', 'encodeTernaryRows: 19 values for 4x5');
    await expectTellme(() => encodeTernaryRows(values, 4, 5, 3, rowMap(4, null), new Uint8Array(13)), 'E_INTERNAL', 'encodeTernaryRows: output size');
  });

  it('a code 3 is refused wherever it is: full group, the partial group, packed rows of 3 and of 4 sub-rows', async () => {
    // 6 rows (R = 2: packed row r holds rows r, 2 + r, 4 + r) and 8 rows (R = 2, four sub-rows), 5 columns.
    const message = (r: number, c: number, i: number, row: number) => `t: invalid ternary code 3 at packed byte [${r}, ${c}] bits ${2 * i + 1}:${2 * i} (weight row ${row}, column ${c}); valid codes are 0, 1, 2 (-1, 0, +1)`;
    for (const [rows, r, c, i] of [[6, 0, 1, 1], [6, 1, 3, 2], [6, 1, 4, 0], [8, 1, 0, 3], [8, 0, 4, 2]] as const) {
      const packed = packTernary(new Int8Array(rows * 5), rows, 5);
      packed[r * 5 + c] = packed[r * 5 + c]! | (3 << (2 * i));
      const run = () => encodePackedRows(packed, rows, 5, 2, rowMap(rows, null), new Uint8Array(rows * 2), 't');
      const err = await expectTellme(run, 'E_CHECKPOINT', message(r, c, i, 2 * i + r));
      expect(err.fix).toBe('The packed weights are corrupt or use another packing; re-download the checkpoint.');
    }
  });

  it('a non-ternary value is refused naming its source row, in a full or the partial group', async () => {
    for (const [at, bad] of [[1, 2], [8, -2], [13, 2], [14, -3]] as const) {
      const v = values.slice();
      v[at] = bad;
      const srcRow = Math.floor(at / 5);
      await expectTellme(() => encodeTernaryRows(v, 4, 5, 3, Int32Array.of(3, 2, 1, 0), new Uint8Array(12)), 'E_INTERNAL', `encodeTernaryRows: non-ternary value in source row ${srcRow}`);
    }
  });
});
