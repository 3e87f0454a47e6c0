/**
 * The golden model's in-memory index layout for its SIMD kernel: rows in blocks of 16, indices
 * interleaved by row within a group, so one 16-byte load gives group g of 16 rows:
 *     blocked[(b*groups + g)*16 + lane] = indices[(16b + lane)*groups + g]
 * Rows past the matrix's end are padding (index 13, the all-zero group). This is a host-side
 * layout only; the hardware layout is in docs/layout.md.
 */

import { ZERO_INDEX, type TlmmMatrix } from './encoding.js';

export const BLOCK_ROWS = 16;

export function blockCount(rows: number): number {
  return Math.ceil(rows / BLOCK_ROWS);
}

/** Interleave rows [0, m.rows) of m into out, starting at block `block0` of out. */
export function blockIndices(m: TlmmMatrix, out: Uint8Array, block0 = 0): void {
  const g = m.groups;
  const blocks = blockCount(m.rows);
  for (let b = 0; b < blocks; b++) {
    const dstBlock = (block0 + b) * g * BLOCK_ROWS;
    for (let lane = 0; lane < BLOCK_ROWS; lane++) {
      const r = b * BLOCK_ROWS + lane;
      if (r < m.rows) {
        const src = r * g;
        for (let k = 0; k < g; k++) out[dstBlock + k * BLOCK_ROWS + lane] = m.indices[src + k]!;
      } else {
        for (let k = 0; k < g; k++) out[dstBlock + k * BLOCK_ROWS + lane] = ZERO_INDEX;
      }
    }
  }
}
