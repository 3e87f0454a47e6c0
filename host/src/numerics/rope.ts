/**
 * Rotary position embedding as the accelerator applies it (docs/numerics.md §7).
 *
 * HF rotates pairs (i, i + d/2) of each head ("rotate_half"). The accelerator streams a head as
 * consecutive elements and rotates neighbours (2i, 2i+1) instead; the two are made equal by an
 * offline permutation of the q_proj and k_proj weight rows within each head:
 *     new row 2i   <- old row i
 *     new row 2i+1 <- old row i + d/2        (i < d/2)
 * so the projection outputs arrive already interleaved. q·k is unchanged because q and k are
 * permuted alike, and v / o_proj are not touched.
 *
 * The cos/sin table is part of the model image: computed once here (binary64 cos/sin of the
 * binary32 angle, rounded to binary32) and read by every implementation, never recomputed.
 */

import { f32 } from './f32.js';

/** inv_freq[i] = f32(1 / f32(theta^(f32(2i/d)))), as HF computes it in float32. */
export function ropeInvFreq(headDim: number, theta: number): Float64Array {
  const half = headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    const e = f32((2 * i) / headDim);
    inv[i] = f32(1 / f32(Math.pow(theta, e)));
  }
  return inv;
}

/** Table [pos][i][cos, sin] for positions [0, positions), i < d/2, binary32 values. */
export function ropeTable(headDim: number, theta: number, positions: number): Float32Array {
  const half = headDim / 2;
  const inv = ropeInvFreq(headDim, theta);
  const t = new Float32Array(positions * half * 2);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = f32(p * inv[i]!);
      const o = (p * half + i) * 2;
      t[o] = Math.cos(angle);
      t[o + 1] = Math.sin(angle);
    }
  }
  return t;
}

/** Permute the rows of a row-major [heads*d][cols] matrix into consecutive-pair order. */
export function permuteRopeRows(values: Int8Array, rows: number, cols: number, headDim: number): Int8Array {
  const out = new Int8Array(values.length);
  const half = headDim / 2;
  for (let r = 0; r < rows; r++) {
    const head = Math.floor(r / headDim);
    const j = r % headDim;
    // new row j of this head comes from old row src
    const src = j % 2 === 0 ? j / 2 : half + (j - 1) / 2;
    out.set(values.subarray((head * headDim + src) * cols, (head * headDim + src + 1) * cols), r * cols);
  }
  return out;
}

/** Rotate one head (headDim values at x[off..]) in place at position pos, consecutive pairs. */
export function applyRope(x: Float32Array | Float64Array, off: number, headDim: number, pos: number, table: Float32Array): void {
  const half = headDim / 2;
  const base = pos * half * 2;
  for (let i = 0; i < half; i++) {
    const c = table[base + 2 * i]!;
    const s = table[base + 2 * i + 1]!;
    const a = x[off + 2 * i]!;
    const b = x[off + 2 * i + 1]!;
    x[off + 2 * i] = f32(f32(a * c) - f32(b * s));
    x[off + 2 * i + 1] = f32(f32(b * c) + f32(a * s));
  }
}
