/**
 * The TLMM engine's online tables and lookups (docs/numerics.md §6).
 *
 * For one token's int8 activations a (|a_i| <= 127, zero-padded to 3*groups), group g's table
 * holds table[g][idx] = t0*a[3g] + t1*a[3g+1] + t2*a[3g+2] for the 27 codes; |entry| <= 381, so
 * an entry needs 10 signed bits. A row's result is the integer sum of one lookup per group:
 *     acc[r] = Σ_g table[g][indices[r][g]]
 * Integer addition is exact, so the order of the sum does not matter and any parallel schedule
 * gives the same bits. |acc| <= 127 * 3 * groups, which bounds the accumulator width (§6.3).
 */

import { INDEX_DIGITS, TABLE_ENTRIES, type TlmmMatrix } from './encoding.js';
import { lookupRowsKernel } from './kernel.js';

/** Build all group tables for one token: out[g*27 + idx]. */
export function buildTables(act: Int8Array, actOff: number, cols: number, groups: number, out: Int32Array): void {
  for (let g = 0; g < groups; g++) {
    const c = g * 3;
    const a0 = c < cols ? act[actOff + c]! : 0;
    const a1 = c + 1 < cols ? act[actOff + c + 1]! : 0;
    const a2 = c + 2 < cols ? act[actOff + c + 2]! : 0;
    const base = g * TABLE_ENTRIES;
    // The 13 positive-half sums, mirrored (what the precompute unit does).
    for (let idx = 14; idx < TABLE_ENTRIES; idx++) {
      const v = INDEX_DIGITS[3 * idx]! * a0 + INDEX_DIGITS[3 * idx + 1]! * a1 + INDEX_DIGITS[3 * idx + 2]! * a2;
      out[base + idx] = v;
      out[base + 26 - idx] = -v;
    }
    out[base + 13] = 0;
  }
}

/** acc[r] = Σ_g table[g][idx[r][g]] for rows [r0, r1). */
export function lookupRows(m: TlmmMatrix, tables: Int32Array, acc: Int32Array, r0: number, r1: number): void {
  lookupRowsKernel(m.indices, m.groups, tables, acc, 0, r0, r1);
}

/** The test oracle: a plain integer dot product of ternary weights and int8 activations. */
export function dotProductRows(
  ternary: Int8Array,
  rows: number,
  cols: number,
  act: Int8Array,
  actOff: number,
  acc: Int32Array,
): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += ternary[r * cols + c]! * act[actOff + c]!;
    acc[r] = s;
  }
}

/** Bits of a signed accumulator that holds any |acc| <= 127*K without overflow. */
export function accumulatorBits(maxReduction: number): number {
  const bound = 127 * maxReduction;
  // Signed two's complement with b bits holds [-2^(b-1), 2^(b-1)-1].
  let b = 1;
  while (2 ** (b - 1) - 1 < bound) b++;
  return b;
}
