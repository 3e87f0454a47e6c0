/**
 * The shortlist selection unit (docs/numerics.md §9.2) against the definition written as a full
 * sort: the K rows first in the order (score descending, id ascending), −0 = +0, K ≥ vocab keeps
 * every row; and the sampler's view of a shortlist (ids outside it are −∞ and never chosen).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { selectShortlist } from '../../host/src/golden/shortlist.js';
import { argmax, sample, Xoshiro128 } from '../../host/src/runtime/sampling.js';

function bySort(scores: Float32Array, k: number): number[] {
  return Array.from(scores.keys())
    .sort((a, b) => (scores[a]! > scores[b]! ? -1 : scores[a]! < scores[b]! ? 1 : a - b))
    .slice(0, k);
}

describe('selectShortlist', () => {
  it('equals the full sort, ties to the lower id, on scores with many ties (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(-2, -1, -0, 0, 0.5, 1, 3, 1e30, -1e30), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 320 }),
        (xs, k) => {
          const s = Float32Array.from(xs);
          expect(Array.from(selectShortlist(s, k))).toEqual(bySort(s, k));
        },
      ),
      { numRuns: 300, seed: 20261130 },
    );
  });

  it('−0 and +0 are one score (the lower id first); K above the vocabulary keeps every row', () => {
    expect(Array.from(selectShortlist(Float32Array.from([0, -0, 0, -0]), 2))).toEqual([0, 1]);
    expect(Array.from(selectShortlist(Float32Array.from([-0, 0, 1]), 2))).toEqual([2, 0]);
    expect(Array.from(selectShortlist(Float32Array.from([3, 1, 2]), 10))).toEqual([0, 2, 1]);
    expect(Array.from(selectShortlist(Float32Array.from([5, 5, 5, 5, 9]), 1))).toEqual([4]);
  });
});

describe('token selection over a shortlist (ids outside it are −∞)', () => {
  const logits = Float32Array.from([-Infinity, 2, -Infinity, 2, 1, -Infinity]);
  it('greedy: the largest rescored logit, ties to the lower id', () => {
    expect(argmax(logits)).toBe(1);
  });
  it('sampling never picks an id outside the shortlist; top-k larger than K means K', () => {
    const rng = new Xoshiro128(3);
    const seen = new Set<number>();
    for (let i = 0; i < 400; i++) seen.add(sample(logits, { temperature: 5, topK: 100, topP: 1 }, rng));
    expect([...seen].sort()).toEqual([1, 3, 4]);
    const a = new Xoshiro128(9);
    const b = new Xoshiro128(9);
    const dense = Float32Array.from([2, 2, 1]); // the same candidates without the −∞ ids
    for (let i = 0; i < 50; i++) {
      const x = sample(logits, { temperature: 0.7, topK: 2, topP: 0.9 }, a);
      const y = [1, 3, 4][sample(dense, { temperature: 0.7, topK: 2, topP: 0.9 }, b)];
      expect(x).toBe(y);
    }
  });
});
