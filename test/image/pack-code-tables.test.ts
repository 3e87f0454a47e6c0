/**
 * encodePackedRows's lookup tables (image/pack.ts: the code triple -> index table and the byte
 * spreading tables, both built when the module loads) against docs/numerics.md §6.1 written out
 * here: for the HF packing (quant/ternary.ts: packed byte [r][c] holds weight row i·R + r, column
 * c in bits 2i+1:2i as the code t + 1), index = 9 c0 + 3 c1 + c2, a partial last group's missing
 * columns are code 1, groups past the matrix are 13, and a code 3 is refused.
 * Every sub-row of a byte meets all 27 code triples (both paths: packed rows of 4 sub-rows and of
 * fewer), and all 9 pairs of a partial group; a code 3 is refused in every column of a full and a
 * partial group at every sub-row. Kept free of the image test helpers so that a by-hand mutation
 * run (tools/mutation/static.mjs) loads little.
 */
import { describe, expect, it } from 'vitest';
import { isTellmeError } from '../../host/src/errors.js';
import { encodePackedRows, rowMap } from '../../host/src/image/pack.js';

/** Code triple q (0..26) -> its three codes, most significant first. */
const codesOf = (q: number) => [Math.floor(q / 9), Math.floor(q / 3) % 3, q % 3] as const;

/**
 * A packed matrix of `rows` rows and `cols` columns whose codes are given per (weight row, column),
 * and the indices docs/numerics.md §6.1 gives for it (groups of three columns, then 13s).
 */
function packedCase(rows: number, cols: number, groups: number, code: (row: number, col: number) => number) {
  const R = Math.ceil(rows / 4);
  const packed = new Uint8Array(R * cols);
  const want: number[] = [];
  for (let row = 0; row < rows; row++) {
    const i = Math.floor(row / R);
    const r = row - i * R;
    for (let c = 0; c < cols; c++) packed[r * cols + c]! |= code(row, c) << (2 * i);
    for (let g = 0; g < groups; g++) {
      if (3 * g >= cols) {
        want.push(13);
        continue;
      }
      const c = [0, 1, 2].map((k) => (3 * g + k < cols ? code(row, 3 * g + k) : 1));
      want.push(9 * c[0]! + 3 * c[1]! + c[2]!);
    }
  }
  return { packed, want };
}

describe('encodePackedRows: every code triple at every sub-row of a packed byte', () => {
  // 12 rows: 3 packed rows of 4 sub-rows (the fast path); 11 rows: the last packed row has 3
  // sub-rows (the other path); 5 rows: 2 packed rows of 3 and 2 sub-rows. 81 columns are 27
  // full groups; 82 and 83 end in a partial group of 1 and 2 columns.
  for (const rows of [12, 11, 5]) {
    for (const cols of [81, 82, 83]) {
      it(`${rows} rows x ${cols} columns`, () => {
        const groups = Math.ceil(cols / 3) + 1;
        // Full groups: weight row w meets triple (g + 7w) mod 27 in group g, so every row sees all
        // 27. The partial group: pair (w mod 9) of (c0, c1), so the rows see all 9.
        const code = (w: number, c: number) => {
          const g = Math.floor(c / 3);
          if (g < 27) return codesOf((g + 7 * w) % 27)[c % 3]!;
          const pair = w % 9;
          return c % 3 === 0 ? Math.floor(pair / 3) : pair % 3;
        };
        const { packed, want } = packedCase(rows, cols, groups, code);
        const out = new Uint8Array(rows * groups);
        encodePackedRows(packed, rows, cols, groups, rowMap(rows, null), out, 't');
        expect(Array.from(out)).toEqual(want);
      });
    }
  }
});

describe('encodePackedRows: a code 3 is refused in every column of a full and a partial group, at every sub-row', () => {
  it('4 sub-rows and 3 sub-rows, 5 columns (a full group and a partial group of 2)', () => {
    const cols = 5;
    const missed: string[] = [];
    for (const rows of [4, 3]) {
      for (let row = 0; row < rows; row++) {
        for (let col = 0; col < cols; col++) {
          const { packed } = packedCase(rows, cols, 2, (w, c) => (w === row && c === col ? 3 : 1));
          try {
            encodePackedRows(packed, rows, cols, 2, rowMap(rows, null), new Uint8Array(rows * 2), 't');
            missed.push(`${rows} rows: row ${row}, column ${col} accepted`);
          } catch (e) {
            const named = isTellmeError(e) && e.code === 'E_CHECKPOINT' && e.message.includes(`invalid ternary code 3 at packed byte [0, ${col}] bits ${2 * row + 1}:${2 * row} (weight row ${row}, column ${col})`);
            if (!named) missed.push(`${rows} rows: row ${row}, column ${col}: ${String(e)}`);
          }
        }
      }
    }
    expect(missed).toEqual([]);
  });
});
