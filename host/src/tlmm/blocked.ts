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
    const lanes = Math.min(BLOCK_ROWS, m.rows - b * BLOCK_ROWS);
    if (lanes < BLOCK_ROWS) out.fill(ZERO_INDEX, dstBlock, dstBlock + g * BLOCK_ROWS);
    // Sequential writes; 16 sequential read streams (one per row of the block).
    const src0 = b * BLOCK_ROWS * g;
    for (let k = 0; k < g; k++) {
      const d = dstBlock + k * BLOCK_ROWS;
      for (let lane = 0; lane < lanes; lane++) out[d + lane] = m.indices[src0 + lane * g + k]!;
    }
  }
}
