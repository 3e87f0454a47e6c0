/**
 * The converter's encoders (image/pack.ts) refuse a bad weight at the row that holds it: each
 * row's checks read that row's own columns only, and a fault seen in one group is not forgotten
 * by the groups after it. pack-boundaries.test.ts has one fault per case; these have faults
 * placed where a scan one column too far, or a flag cleared by a later group, names another row
 * or lets the fault through.
 */
import { describe, it } from 'vitest';
import { encodePackedRows, encodeTernaryRows, rowMap } from '../../host/src/image/pack.js';
import { packTernary } from '../../host/src/quant/ternary.js';
import { expectTellme } from './helpers.js';

describe('encodePackedRows: a code 3 is named at its own packed row', () => {
  it('a code 3 in sub-row 1 of packed row 0 is named, not the one in sub-row 0 of packed row 1 just past its columns', async () => {
    // 8 rows x 5 columns: R = 2 packed rows of 5 bytes; packed row 0 holds weight rows 0, 2, 4, 6.
    const rows = 8;
    const cols = 5;
    const packed = packTernary(new Int8Array(rows * cols), rows, cols);
    packed[0 * cols + 2] = packed[0 * cols + 2]! | (3 << 2); // packed row 0, column 2, bits 3:2: weight row 2
    packed[1 * cols + 0] = packed[1 * cols + 0]! | 3; // packed row 1, column 0, bits 1:0: weight row 1
    await expectTellme(
      () => encodePackedRows(packed, rows, cols, 2, rowMap(rows, null), new Uint8Array(rows * 2), 't'),
      'E_CHECKPOINT',
      't: invalid ternary code 3 at packed byte [0, 2] bits 3:2 (weight row 2, column 2)',
    );
  });
});

describe('encodeTernaryRows: a non-ternary value is named at its own source row', () => {
  it('a bad value in column 0 of a row is not charged to the row before it (columns a multiple of 3 or not)', async () => {
    for (const cols of [5, 6, 7]) {
      const rows = 4;
      const v = new Int8Array(rows * cols);
      v[2 * cols] = 2; // source row 2, column 0
      const groups = Math.ceil(cols / 3);
      await expectTellme(
        () => encodeTernaryRows(v, rows, cols, groups, rowMap(rows, null), new Uint8Array(rows * groups)),
        'E_INTERNAL',
        'encodeTernaryRows: non-ternary value in source row 2',
      );
    }
  });

  it('a value of -2 in a full group is refused (only the range check sees it: its code + 1 is 0)', async () => {
    const v = new Int8Array(2 * 5);
    v[1] = -2; // row 0, column 1: the first full group
    await expectTellme(() => encodeTernaryRows(v, 2, 5, 2, rowMap(2, null), new Uint8Array(4)), 'E_INTERNAL', 'non-ternary value in source row 0');
  });

  it('a bad value in the first of three full groups is still refused after two valid groups', async () => {
    for (const bad of [2, -2, 3]) {
      const v = new Int8Array(9);
      v[0] = bad;
      await expectTellme(() => encodeTernaryRows(v, 1, 9, 3, rowMap(1, null), new Uint8Array(3)), 'E_INTERNAL', 'non-ternary value in source row 0');
    }
  });
});
