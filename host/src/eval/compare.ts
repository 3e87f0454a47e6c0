/** Vector comparisons for `tellme eval`, computed in binary64 (the inputs are binary32). */

export interface VectorComparison {
  /** Cosine similarity (1 when both are zero; 0 when exactly one is). */
  cosine: number;
  /** max_i |a_i − b_i|. */
  maxAbsErr: number;
  /** max_i |b_i| of the reference b, to read maxAbsErr against. */
  refMaxAbs: number;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkLengths(a, b);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 && nb === 0) return 1;
  if (na === 0 || nb === 0) return 0;
  return dot / Math.sqrt(na * nb);
}

export function maxAbsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkLengths(a, b);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    if (e > m || Number.isNaN(e)) m = e;
  }
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Compare a (e.g. the golden model) with the reference b. */
export function compareVectors(a: ArrayLike<number>, b: ArrayLike<number>): VectorComparison {
  return { cosine: cosine(a, b), maxAbsErr: maxAbsError(a, b), refMaxAbs: maxAbs(b) };
}

/** Index of the largest value; ties go to the lowest index (the greedy rule of docs/numerics.md §10). */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

export interface TopTwo {
  top1: number;
  top2: number;
  /** logit[top1] − logit[top2] (≥ 0); Infinity for a one-entry vector. */
  margin: number;
}

/** The two best ids (ties to the lower id) and the gap between their values. */
export function topTwo(v: ArrayLike<number>): TopTwo {
  const top1 = argmax(v);
  let top2 = -1;
  for (let i = 0; i < v.length; i++) {
    if (i === top1) continue;
    if (top2 < 0 || v[i]! > v[top2]!) top2 = i;
  }
  return { top1, top2, margin: top2 < 0 ? Infinity : v[top1]! - v[top2]! };
}

/** How many leading entries two sequences share. */
export function leadingAgreement(a: readonly number[], b: readonly number[]): number {
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k++;
  return k;
}

function checkLengths(a: ArrayLike<number>, b: ArrayLike<number>): void {
  if (a.length !== b.length) throw new RangeError(`cannot compare vectors of lengths ${a.length} and ${b.length}`);
}
