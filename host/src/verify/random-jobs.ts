/**
 * Seeded TLMM jobs for the RTL conformance checks: random ternary matrices (with a chosen share of
 * zeros), activations like the quantiser's (per-token absmax to +-127), and the edge cases of
 * numerics §6: all-zero weights or activations, all +1 / all -1 weights against saturated
 * activations (the largest accumulators), reductions that end inside a group or a chunk.
 */
import { encodeTernary, type TlmmMatrix } from '../tlmm/encoding.js';
import { Rng } from '../testmodels/prng.js';

export type WeightKind = 'random' | 'zeros' | 'plus' | 'minus' | 'alternating';
export type ActKind = 'quantised' | 'zeros' | 'max' | 'min' | 'uniform';

export function ternaryMatrix(rows: number, cols: number, kind: WeightKind, rng: Rng, zeroShare = 1 / 3): TlmmMatrix {
  const v = new Int8Array(rows * cols);
  for (let i = 0; i < v.length; i++) {
    switch (kind) {
      case 'random':
        v[i] = rng.uniform() < zeroShare ? 0 : rng.nextU32() & 1 ? 1 : -1;
        break;
      case 'zeros':
        v[i] = 0;
        break;
      case 'plus':
        v[i] = 1;
        break;
      case 'minus':
        v[i] = -1;
        break;
      case 'alternating':
        v[i] = (i % cols) % 2 ? -1 : 1;
        break;
    }
  }
  return encodeTernary(v, rows, cols);
}

/** int8 activations [tokens][cols]. 'quantised': Gaussian-ish values scaled so each token's absmax is 127. */
export function activations(tokens: number, cols: number, kind: ActKind, rng: Rng): Int8Array {
  const a = new Int8Array(tokens * cols);
  for (let t = 0; t < tokens; t++) {
    const row = a.subarray(t * cols, (t + 1) * cols);
    if (kind === 'quantised') {
      const x = Array.from({ length: cols }, () => rng.gaussianish());
      const amax = Math.max(...x.map(Math.abs), 1e-6);
      for (let i = 0; i < cols; i++) row[i] = Math.round((x[i]! * 127) / amax);
    } else if (kind === 'uniform') {
      for (let i = 0; i < cols; i++) row[i] = (rng.nextU32() % 255) - 127;
    } else {
      row.fill(kind === 'zeros' ? 0 : kind === 'max' ? 127 : -127);
    }
  }
  return a;
}
