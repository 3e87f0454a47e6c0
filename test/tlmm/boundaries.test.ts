/**
 * The TLMM encoding's refusals, padding and offsets at their boundaries (docs/numerics.md §6):
 * what tlmm.test.ts's round trips and kernel comparisons do not reach — wrong sizes and
 * non-ternary values refused with their message, codes outside 0..26, the padding group, table
 * entry 13 written as 0 whatever the buffer held, row ranges and block offsets, and the
 * accumulator width at the exact bound.
 */
import { describe, expect, it } from 'vitest';
import { isTellmeError } from '../../host/src/errors.js';
import { decodeTernary, encodeTernary, indexToTriple, paddedGroups, ZERO_INDEX } from '../../host/src/tlmm/encoding.js';
import { accumulatorBits, buildTables, lookupRows } from '../../host/src/tlmm/tables.js';
import { blockCount, blockIndices } from '../../host/src/tlmm/blocked.js';

function error(fn: () => unknown): { code: string; message: string; fix: string | undefined } {
  try {
    fn();
  } catch (e) {
    if (isTellmeError(e)) return { code: e.code, message: e.message, fix: e.fix };
    throw e;
  }
  throw new Error('expected a TellmeError');
}

describe('encodeTernary refusals', () => {
  it('a value count that is not rows x cols, and an output buffer of the wrong size', () => {
    expect(error(() => encodeTernary(new Int8Array(5), 2, 3))).toMatchObject({ code: 'E_INTERNAL', message: 'encodeTernary: 5 values for 2x3' });
    expect(error(() => encodeTernary(new Int8Array(6), 2, 3, 1, new Uint8Array(3)))).toMatchObject({ code: 'E_INTERNAL', message: 'encodeTernary: output size' });
    const out = new Uint8Array(2);
    expect(encodeTernary(Int8Array.of(1, 0, -1, 0, 0, 0), 2, 3, 1, out).indices).toBe(out);
    expect(Array.from(out)).toEqual([21, 13]);
  });

  it('a non-ternary value in a full group and in the padded last group, on either side', () => {
    // cols = 8: columns 0..5 are two full groups (digits a, b, c), columns 6 and 7 the padded group.
    for (const [v, col] of [[-2, 3], [2, 4], [2, 5], [2, 6], [-2, 6], [2, 7], [-2, 7]] as const) {
      const values = new Int8Array(2 * 8);
      values[8 + col] = v; // row 1
      const near = col < 6 ? 3 : 6;
      expect(error(() => encodeTernary(values, 2, 8))).toMatchObject({ code: 'E_INTERNAL', message: `encodeTernary: non-ternary value in row 1 near column ${near}` });
    }
    // The third full group names column 6 (3 · g, not 3 / g).
    const nine = new Int8Array(9);
    nine[7] = 2;
    expect(error(() => encodeTernary(nine, 1, 9)).message).toBe('encodeTernary: non-ternary value in row 0 near column 6');
  });

  it('pads the last group with zero digits and rounds the group count up to the multiple', () => {
    expect(paddedGroups(7)).toBe(3);
    expect(paddedGroups(7, 4)).toBe(4);
    expect(paddedGroups(9, 3)).toBe(3);
    const m = encodeTernary(Int8Array.of(1, 1, 1, -1, -1, -1, 1), 1, 7, 4);
    expect(Array.from(m.indices)).toEqual([26, 0, 13 + 9, ZERO_INDEX]);
  });
});

describe('codes outside 0..26', () => {
  it('indexToTriple refuses -1, 27 and non-integers with a fix line', () => {
    for (const idx of [-1, 27, 1.5]) {
      const e = error(() => indexToTriple(idx));
      expect(e.code).toBe('E_IMAGE');
      expect(e.message).toBe(`TLMM index ${idx} is not a valid code (0..26)`);
      expect(e.fix).toContain('re-convert');
    }
    expect(indexToTriple(0)).toEqual([-1, -1, -1]);
    expect(indexToTriple(26)).toEqual([1, 1, 1]);
  });

  it('decodeTernary names the row and group of a bad code or of weight in the padding', () => {
    const m = encodeTernary(Int8Array.of(1, 0, -1, 1, 0, 0, 0, 1), 2, 4);
    const bad = { ...m, indices: Uint8Array.from(m.indices) };
    bad.indices[3] = 27;
    const e = error(() => decodeTernary(bad));
    expect(e).toMatchObject({ code: 'E_IMAGE', message: 'invalid TLMM index 27 at row 1, group 1 (valid codes are 0..26)' });
    expect(e.fix).toContain('re-convert');
    const pad = { ...m, indices: Uint8Array.from(m.indices) };
    pad.indices[3] = ZERO_INDEX + 1; // row 1, group 1: column 3 = 0, padding column 5 = +1
    const p = error(() => decodeTernary(pad));
    expect(p).toMatchObject({ code: 'E_IMAGE', message: 'non-zero weight in the padding of row 1 (group 1)' });
    expect(p.fix).toContain('re-convert');
    pad.indices[3] = ZERO_INDEX + 3; // column 4, the first padding column (c = cols), = +1
    expect(error(() => decodeTernary(pad)).message).toBe('non-zero weight in the padding of row 1 (group 1)');
    pad.indices[3] = ZERO_INDEX + 9; // column 3 = +1, padding zero: valid
    expect(Array.from(decodeTernary(pad))).toEqual([1, 0, -1, 1, 0, 0, 0, 1]);
  });
});

describe('tables, lookups and blocks', () => {
  it('buildTables writes all 27 entries of each group (entry 13 = 0) over whatever the buffer held; the padded group sees zeros', () => {
    const act = Int8Array.of(5, -7, 11, 3, 100, 100); // cols = 4: columns 4, 5 are not the matrix's
    const out = new Int32Array(2 * 27).fill(99);
    buildTables(act, 0, 4, 2, out);
    const entry = (g: number, t: [number, number, number], a: number[]) => t[0] * a[0]! + t[1] * a[1]! + t[2] * a[2]!;
    for (let i = 0; i < 27; i++) {
      const t = indexToTriple(i);
      expect(out[i]).toBe(entry(0, t, [5, -7, 11]) || 0);
      expect(out[27 + i]).toBe(entry(1, t, [3, 0, 0]) || 0);
    }
    // A buffer longer than groups x 27 keeps its tail; with cols = 3 and 2 groups, group 1 is all padding.
    const long = new Int32Array(3 * 27).fill(99);
    buildTables(Int8Array.of(1, 2, 3, 50, 50, 50), 0, 3, 2, long);
    expect(Array.from(long.subarray(27, 54))).toEqual(new Array(27).fill(0));
    expect(Array.from(long.subarray(54))).toEqual(new Array(27).fill(99));
    // An offset into the activations.
    const shifted = new Int32Array(27);
    buildTables(Int8Array.of(0, 0, 5, -7, 11), 2, 3, 1, shifted);
    expect(Array.from(shifted)).toEqual(Array.from(out.subarray(0, 27)));
  });

  it('lookupRows writes rows [r0, r1) only', () => {
    const m = encodeTernary(Int8Array.of(1, 1, 1, -1, -1, -1, 1, 0, 0), 3, 3);
    const tables = new Int32Array(27);
    buildTables(Int8Array.of(1, 2, 4), 0, 3, 1, tables);
    const acc = new Int32Array(3).fill(-5);
    lookupRows(m, tables, acc, 1, 3);
    expect(Array.from(acc)).toEqual([-5, -7, 1]);
    const first = new Int32Array(3).fill(-5);
    lookupRows(m, tables, first, 0, 2);
    expect(Array.from(first)).toEqual([7, -7, -5]);
  });

  it('blockIndices interleaves 16 rows per block from block0 on, padding lanes with the zero index', () => {
    const rows = 17;
    const values = new Int8Array(rows * 3);
    for (let r = 0; r < rows; r++) values[r * 3] = (r % 3) - 1; // row r: index 13 + 9·((r mod 3) − 1)
    const m = encodeTernary(values, rows, 3);
    expect([blockCount(0), blockCount(16), blockCount(17)]).toEqual([0, 1, 2]);
    const out = new Uint8Array(4 * 16).fill(200); // blocks 0 and 3 are not this matrix's
    blockIndices(m, out, 1);
    expect(Array.from(out.subarray(0, 16))).toEqual(new Array(16).fill(200));
    expect(Array.from(out.subarray(48, 64))).toEqual(new Array(16).fill(200));
    expect(Array.from(out.subarray(16, 32))).toEqual(Array.from({ length: 16 }, (_, r) => 13 + 9 * ((r % 3) - 1)));
    expect(Array.from(out.subarray(32, 48))).toEqual([13 + 9 * ((16 % 3) - 1), ...new Array(15).fill(ZERO_INDEX)]);
  });

  it('accumulatorBits: the smallest signed width that holds 127·K', () => {
    // 127·K ≤ 2^(b-1) − 1: K = 1 needs 8 bits (127 = 2^7 − 1); K = 2 needs 9; K = 8256 (127·8256 = 1048512 < 2^20) needs 21.
    expect(accumulatorBits(1)).toBe(8);
    expect(accumulatorBits(2)).toBe(9);
    expect(accumulatorBits(8256)).toBe(21);
    expect(accumulatorBits(8257)).toBe(22); // 127·8257 = 1048639 > 2^20 − 1
  });
});
