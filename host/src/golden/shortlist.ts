/**
 * The shortlist selection unit of the ternary LM head (docs/numerics.md §9.2): the K rows first in
 * the order (score descending, id ascending). Scores are compared numerically (−0 = +0; they are
 * never NaN). Hardware keeps a K-entry sorted list and inserts each row as its score arrives in
 * id order; any method that yields this set in this order is equivalent.
 */

/** Row a comes before row b in the shortlist order. */
function before(scores: Float32Array, a: number, b: number): boolean {
  const sa = scores[a]!;
  const sb = scores[b]!;
  return sa > sb || (sa === sb && a < b);
}

/** The first min(k, rows) ids in the order (score descending, id ascending). */
export function selectShortlist(scores: Float32Array, k: number): Int32Array {
  const n = Math.min(k, scores.length);
  // A heap whose root is the last of the kept rows in the shortlist order.
  const heap = new Int32Array(n);
  let size = 0;
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) return;
      const r = l + 1;
      // The child that comes later in the order is the one that may have to go up.
      const later = r < size && before(scores, heap[l]!, heap[r]!) ? r : l;
      if (!before(scores, heap[i]!, heap[later]!)) return;
      const t = heap[i]!;
      heap[i] = heap[later]!;
      heap[later] = t;
      i = later;
    }
  };
  const siftUp = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(scores, heap[p]!, heap[i]!)) return;
      const t = heap[i]!;
      heap[i] = heap[p]!;
      heap[p] = t;
      i = p;
    }
  };
  for (let id = 0; id < scores.length; id++) {
    if (size < n) {
      heap[size] = id;
      siftUp(size++);
    } else if (n > 0 && before(scores, id, heap[0]!)) {
      heap[0] = id;
      siftDown(0);
    }
  }
  return Int32Array.from(heap).sort((a, b) => (before(scores, a, b) ? -1 : 1));
}
