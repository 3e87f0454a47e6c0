/**
 * Attention as the accelerator computes it (docs/numerics.md §8). q, k and v arrive as binary16
 * values (already rounded), everything else is binary32.
 *
 * Prefill (RPA): per query at position i and head h, keys are visited from the query's own
 * position down to 0 — the order of the reversed-reordered schedule — with an online softmax:
 *     m = -inf, l = 0, o = 0
 *     for j = i, i-1, ..., 0:
 *         s  = f32(dot16(q, k_j) * scale)
 *         m' = max(m, s);  a = exp(f32(m - m'));  b = exp(f32(s - m'))
 *         l  = f32(f32(l * a) + b);  o_d = f32(f32(o_d * a) + f32(b * v_jd));  m = m'
 *     out_d = f32(o_d * f32(1 / l))
 *
 * Decode (DA): two passes over the cache in position order:
 *     pass 1: s_j = f32(dot16(q, k_j) * scale), m = max_j s_j     (scores kept on chip)
 *     pass 2: e_j = exp(f32(s_j - m)); l = f32(l + e_j); o_d = f32(o_d + f32(e_j * v_jd))
 *     out_d = f32(o_d * f32(1 / l))
 */

import { f32 } from '../numerics/f32.js';
import { exp32 } from '../numerics/functions.js';
import { dot16 } from '../numerics/reduce.js';

export interface KvLayerCache {
  /** [positions][kvDim], values representable in binary16. */
  k: Float32Array;
  v: Float32Array;
}

export interface AttentionShape {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** f32(1 / f32(sqrt(headDim))). */
  scale: number;
}

export function attentionScale(headDim: number): number {
  return f32(1 / f32(Math.sqrt(headDim)));
}

/** s = f32(dot16(q_h, k_j) * scale): the score of query head h (at q[qh..]) against key j. */
function score(shape: AttentionShape, q: Float32Array, qh: number, cache: KvLayerCache, j: number, kvh: number): number {
  const d = shape.headDim;
  return f32(dot16(q, qh, cache.k, (j * shape.numKvHeads + kvh) * d, d) * shape.scale);
}

/** out_t = f32(o_t * f32(1 / l)) for one head. */
function normalise(o: Float64Array, l: number, out: Float32Array, off: number): void {
  const rl = f32(1 / l);
  for (let t = 0; t < o.length; t++) out[off + t] = f32(o[t]! * rl);
}

/** Online-softmax attention of the query at position `pos` (keys pos..0). */
export function prefillAttention(
  shape: AttentionShape,
  q: Float32Array,
  qOff: number,
  cache: KvLayerCache,
  pos: number,
  out: Float32Array,
  outOff: number,
): void {
  const { numHeads, numKvHeads, headDim: d } = shape;
  const kvDim = numKvHeads * d;
  const group = numHeads / numKvHeads;
  const o = new Float64Array(d);
  for (let h = 0; h < numHeads; h++) {
    const kvh = Math.floor(h / group);
    const qh = qOff + h * d;
    let m = -Infinity;
    let l = 0;
    o.fill(0);
    for (let j = pos; j >= 0; j--) {
      const kOff = j * kvDim + kvh * d;
      const s = score(shape, q, qh, cache, j, kvh);
      const mNew = s > m ? s : m;
      const a = exp32(f32(m - mNew));
      const b = exp32(f32(s - mNew));
      l = f32(f32(l * a) + b);
      for (let t = 0; t < d; t++) o[t] = f32(f32(o[t]! * a) + f32(b * cache.v[kOff + t]!));
      m = mNew;
    }
    normalise(o, l, out, outOff + h * d);
  }
}

/** Two-pass attention of the query at position `pos` over keys 0..pos. */
export function decodeAttention(
  shape: AttentionShape,
  q: Float32Array,
  qOff: number,
  cache: KvLayerCache,
  pos: number,
  out: Float32Array,
  outOff: number,
): void {
  const { numHeads, numKvHeads, headDim: d } = shape;
  const kvDim = numKvHeads * d;
  const group = numHeads / numKvHeads;
  const scores = new Float64Array(pos + 1);
  const o = new Float64Array(d);
  for (let h = 0; h < numHeads; h++) {
    const kvh = Math.floor(h / group);
    const qh = qOff + h * d;
    let m = -Infinity;
    for (let j = 0; j <= pos; j++) {
      const s = score(shape, q, qh, cache, j, kvh);
      scores[j] = s;
      if (s > m) m = s;
    }
    let l = 0;
    o.fill(0);
    for (let j = 0; j <= pos; j++) {
      const e = exp32(f32(scores[j]! - m));
      l = f32(l + e);
      const vOff = j * kvDim + kvh * d;
      for (let t = 0; t < d; t++) o[t] = f32(o[t]! + f32(e * cache.v[vOff + t]!));
    }
    normalise(o, l, out, outOff + h * d);
  }
}
