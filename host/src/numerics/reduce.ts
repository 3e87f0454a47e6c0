/**
 * Fixed-order binary32 reductions (docs/numerics.md §2.4).
 *
 * Floating-point sums depend on their order, so the order is part of the contract. Every
 * floating-point reduction over a vector uses 16 lanes: element i goes to lane i mod 16, each
 * lane accumulates its elements sequentially in increasing i (a lane starts at +0), and the 16
 * lane sums are combined by a balanced binary tree of adjacent pairs:
 *   ((((L0+L1)+(L2+L3))+((L4+L5)+(L6+L7)))+(((L8+L9)+(L10+L11))+((L12+L13)+(L14+L15))))
 * This is what a pipelined adder with 16 interleaved partial sums computes in hardware.
 */

import { f32 } from './f32.js';

export const REDUCTION_LANES = 16;

const lanes = new Float64Array(REDUCTION_LANES);

function treeCombine(l: Float64Array): number {
  // Level by level, adjacent pairs: 16 -> 8 -> 4 -> 2 -> 1.
  let width = REDUCTION_LANES;
  while (width > 1) {
    const half = width >> 1;
    for (let i = 0; i < half; i++) l[i] = f32(l[2 * i]! + l[2 * i + 1]!);
    width = half;
  }
  return l[0]!;
}

/** Σ a[offA+i] * b[offB+i] for i < n, each product rounded, in the 16-lane order. */
export function dot16(a: ArrayLike<number>, offA: number, b: ArrayLike<number>, offB: number, n: number): number {
  lanes.fill(0);
  for (let i = 0; i < n; i++) {
    const l = i & 15;
    lanes[l] = f32(lanes[l]! + f32(a[offA + i]! * b[offB + i]!));
  }
  return treeCombine(lanes);
}

/** Σ x[i]^2 in the 16-lane order. */
export function sumSquares16(x: ArrayLike<number>, off: number, n: number): number {
  lanes.fill(0);
  for (let i = 0; i < n; i++) {
    const l = i & 15;
    const v = x[off + i]!;
    lanes[l] = f32(lanes[l]! + f32(v * v));
  }
  return treeCombine(lanes);
}

/** Σ x[i] in the 16-lane order. */
export function sum16(x: ArrayLike<number>, off: number, n: number): number {
  lanes.fill(0);
  for (let i = 0; i < n; i++) {
    const l = i & 15;
    lanes[l] = f32(lanes[l]! + x[off + i]!);
  }
  return treeCombine(lanes);
}

/** max |x[i]| (exact; order-free). */
export function absMax(x: ArrayLike<number>, off: number, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const v = Math.abs(x[off + i]!);
    if (v > m) m = v;
  }
  return m;
}
