/**
 * The converter's packed-weight encoder (image/pack.ts encodePackedRows) and the checkpoint loader
 * behind the golden model (quant/ternary.ts unpackTernary) are two implementations of the same
 * unpacking, written apart: they must accept and refuse the same packed tensors. When rows is not
 * a multiple of 4, the last packed rows have slots past `rows` that hold no weight; a code 3 there
 * is still a corrupt byte. Before, the converter ignored it while the golden model refused it, so
 * `tellme convert` wrote an image from a checkpoint the golden model would not load.
 */
import { describe, expect, it } from 'vitest';
import { isTellmeError } from '../../host/src/errors.js';
import { encodePackedRows, encodeTernaryRows, rowMap } from '../../host/src/image/pack.js';
import { packTernary, packedRows, unpackTernary } from '../../host/src/quant/ternary.js';

/** The error message `f` throws (an E_CHECKPOINT), or null when it returns. */
function refusal(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    if (!isTellmeError(e) || e.code !== 'E_CHECKPOINT') throw e;
    return e.message;
  }
}

function weights(rows: number, cols: number, seed: number): Int8Array {
  const v = new Int8Array(rows * cols);
  let x = seed >>> 0;
  for (let i = 0; i < v.length; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    v[i] = (x >>> 29) % 3 - 1;
  }
  return v;
}

const groupsOf = (cols: number) => Math.ceil(cols / 3); // TLMM groups of 3 weights

function encode(packed: Uint8Array, rows: number, cols: number): Uint8Array {
  const out = new Uint8Array(rows * groupsOf(cols));
  encodePackedRows(packed, rows, cols, groupsOf(cols), rowMap(rows, null), out, 't');
  return out;
}

/** The converter's encoding of the loader's unpacked weights: what a packed tensor must encode to. */
function viaLoader(packed: Uint8Array, rows: number, cols: number): Uint8Array {
  const out = new Uint8Array(rows * groupsOf(cols));
  encodeTernaryRows(unpackTernary(packed, rows, cols, 't'), rows, cols, groupsOf(cols), rowMap(rows, null), out);
  return out;
}

// rows 5, 6, 7: one, two and three unused slots; 9 and 10 on R = 3; columns with and without a
// partial group of 3, and 12 columns for encodePackedRows' four-sub-row path in the full rows.
const SHAPES: [number, number][] = [
  [5, 4],
  [6, 3],
  [7, 5],
  [9, 7],
  [10, 12],
];

describe('encodePackedRows and unpackTernary agree on the slots past the last row', () => {
  for (const [rows, cols] of SHAPES) {
    const R = packedRows(rows);
    const unused: [number, number][] = []; // [packed row, sub-row] of every slot past `rows`
    for (let r = 0; r < R; r++) for (let i = 0; i < 4; i++) if (i * R + r >= rows) unused.push([r, i]);

    it(`${rows} x ${cols}: a code 3 in any slot, used or not, is refused by both with the same message`, () => {
      expect(unused.length).toBe(4 * R - rows);
      const clean = packTernary(weights(rows, cols, rows * 31 + cols), rows, cols);
      let refusedUnused = 0;
      for (let r = 0; r < R; r++) {
        for (let i = 0; i < 4; i++) {
          for (let c = 0; c < cols; c++) {
            const bad = clean.slice();
            bad[r * cols + c] = bad[r * cols + c]! | (3 << (2 * i));
            const want = `t: invalid ternary code 3 at packed byte [${r}, ${c}] bits ${2 * i + 1}:${2 * i} (weight row ${i * R + r}, column ${c})`;
            const byLoader = refusal(() => unpackTernary(bad, rows, cols, 't'));
            const byConverter = refusal(() => encode(bad, rows, cols));
            expect(byLoader, `loader, packed byte [${r}, ${c}] sub-row ${i}`).toContain(want);
            expect(byConverter, `converter, packed byte [${r}, ${c}] sub-row ${i}`).toBe(byLoader);
            if (i * R + r >= rows) refusedUnused++;
          }
        }
      }
      expect(refusedUnused).toBe(unused.length * cols);
    });

    it(`${rows} x ${cols}: codes 1 and 2 in the unused slots are ignored by both (the same encoding as the code 0 packTernary leaves there)`, () => {
      const clean = packTernary(weights(rows, cols, rows * 17 + cols), rows, cols);
      const want = encode(clean, rows, cols);
      expect(viaLoader(clean, rows, cols)).toEqual(want);
      for (const code of [1, 2]) {
        const dirty = clean.slice();
        // packTernary leaves the unused slots at code 0; put `code` there.
        for (const [r, i] of unused) {
          for (let c = 0; c < cols; c++) {
            const p = r * cols + c;
            expect((dirty[p]! >>> (2 * i)) & 3).toBe(0);
            dirty[p] = dirty[p]! | (code << (2 * i));
          }
        }
        expect(encode(dirty, rows, cols), `converter, code ${code}`).toEqual(want);
        expect(viaLoader(dirty, rows, cols), `loader, code ${code}`).toEqual(want);
      }
    });
  }
});
