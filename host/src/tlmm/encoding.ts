/**
 * TLMM weight encoding (docs/numerics.md §6, docs/layout.md).
 *
 * A ternary matrix W [rows][cols] is cut along its reduction dimension (cols) into groups of
 * G = 3 consecutive weights. Each group (t0, t1, t2) — t0 multiplies the group's first (lowest
 * column) activation — becomes one 5-bit table index
 *
 *     idx = 13 + 9*t0 + 3*t1 + t2        (0..26; 13 is the all-zero group)
 *
 * i.e. the group read as a balanced-ternary number, offset to be non-negative. Codes 27..31 are
 * never produced and are rejected by the decoder. The matching 27-entry table for activations
 * (a0, a1, a2) holds, at index idx, the partial sum of the weights that idx encodes:
 *
 *     table[idx] = t0(idx)*a0 + t1(idx)*a1 + t2(idx)*a2,   table[26 - idx] = -table[idx]
 *
 * (the sign symmetry lets hardware compute 13 sums and mirror them). Each row's groups are
 * zero-padded up to a multiple of `groupsMultiple` (T for the hardware: a whole index vector),
 * with index 13 and zero activations, so padding never changes a result.
 */

import { TellmeError } from '../errors.js';

export const GROUP_SIZE = 3;
export const INDEX_BITS = 5;
export const TABLE_ENTRIES = 27;
export const ZERO_INDEX = 13;

/** Index of a ternary triple. */
export function tripleToIndex(t0: number, t1: number, t2: number): number {
  return ZERO_INDEX + 9 * t0 + 3 * t1 + t2;
}

/** The ternary digits of an index, [t0, t1, t2]. */
export function indexToTriple(idx: number): [number, number, number] {
  if (!Number.isInteger(idx) || idx < 0 || idx >= TABLE_ENTRIES) {
    throw new TellmeError('E_IMAGE', `TLMM index ${idx} is not a valid code (0..26)`, 'The weights are damaged; re-convert the model (tellme convert).');
  }
  const t0 = Math.floor(idx / 9) - 1;
  const t1 = (Math.floor(idx / 3) % 3) - 1;
  const t2 = (idx % 3) - 1;
  return [t0, t1, t2];
}

/** Digits of every index, precomputed: DIGITS[3*idx + j] = t_j. */
export const INDEX_DIGITS: Int8Array = (() => {
  const d = new Int8Array(TABLE_ENTRIES * 3);
  for (let i = 0; i < TABLE_ENTRIES; i++) {
    const [a, b, c] = indexToTriple(i);
    d[3 * i] = a;
    d[3 * i + 1] = b;
    d[3 * i + 2] = c;
  }
  return d;
})();

/** Number of groups per row once padded: ceil(cols / 3) rounded up to a multiple of m. */
export function paddedGroups(cols: number, groupsMultiple = 1): number {
  const g = Math.ceil(cols / GROUP_SIZE);
  return Math.ceil(g / groupsMultiple) * groupsMultiple;
}

/** A matrix in TLMM form: one 5-bit index per group, row-major [rows][groups]. */
export interface TlmmMatrix {
  rows: number;
  /** Logical reduction length (before padding). */
  cols: number;
  /** Groups per row after padding (>= ceil(cols/3)). */
  groups: number;
  /** Indices 0..26, [rows][groups]. */
  indices: Uint8Array;
}

/** Encode a row-major ternary matrix. Values outside {-1,0,1} are an error. */
export function encodeTernary(
  values: Int8Array,
  rows: number,
  cols: number,
  groupsMultiple = 1,
  out?: Uint8Array,
): TlmmMatrix {
  if (values.length !== rows * cols) {
    throw new TellmeError('E_INTERNAL', `encodeTernary: ${values.length} values for ${rows}x${cols}`);
  }
  const groups = paddedGroups(cols, groupsMultiple);
  const indices = out ?? new Uint8Array(rows * groups);
  if (indices.length !== rows * groups) throw new TellmeError('E_INTERNAL', 'encodeTernary: output size');
  const full = Math.floor(cols / 3);
  for (let r = 0; r < rows; r++) {
    const src = r * cols;
    const dst = r * groups;
    // Whole groups: (t+1) is 0..2 for a ternary value, so one unsigned compare checks all three.
    for (let g = 0; g < full; g++) {
      const p = src + 3 * g;
      const a = values[p]! + 1;
      const b = values[p + 1]! + 1;
      const c = values[p + 2]! + 1;
      if ((a >>> 0) > 2 || (b >>> 0) > 2 || (c >>> 0) > 2) {
        throw new TellmeError('E_INTERNAL', `encodeTernary: non-ternary value in row ${r} near column ${3 * g}`);
      }
      indices[dst + g] = 9 * a + 3 * b + c; // = 13 + 9 t0 + 3 t1 + t2
    }
    // The last partial group and the padding groups.
    for (let g = full; g < groups; g++) {
      const c = g * 3;
      const t0 = c < cols ? values[src + c]! : 0;
      const t1 = c + 1 < cols ? values[src + c + 1]! : 0;
      const t2 = c + 2 < cols ? values[src + c + 2]! : 0;
      if (t0 < -1 || t0 > 1 || t1 < -1 || t1 > 1 || t2 < -1 || t2 > 1) {
        throw new TellmeError('E_INTERNAL', `encodeTernary: non-ternary value in row ${r} near column ${c}`);
      }
      indices[dst + g] = ZERO_INDEX + 9 * t0 + 3 * t1 + t2;
    }
  }
  return { rows, cols, groups, indices };
}

/** Decode back to a row-major ternary matrix (tests, inspection). Rejects invalid codes. */
export function decodeTernary(m: TlmmMatrix): Int8Array {
  const out = new Int8Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) {
    for (let g = 0; g < m.groups; g++) {
      const idx = m.indices[r * m.groups + g]!;
      if (idx >= TABLE_ENTRIES) {
        throw new TellmeError('E_IMAGE', `invalid TLMM index ${idx} at row ${r}, group ${g} (valid codes are 0..26)`, 'The weights are damaged; re-convert the model (tellme convert).');
      }
      for (let j = 0; j < 3; j++) {
        const c = g * 3 + j;
        const t = INDEX_DIGITS[3 * idx + j]!;
        if (c < m.cols) out[r * m.cols + c] = t;
        else if (t !== 0) {
          throw new TellmeError('E_IMAGE', `non-zero weight in the padding of row ${r} (group ${g})`, 'The weights are damaged; re-convert the model (tellme convert).');
        }
      }
    }
  }
  return out;
}
