/**
 * Integer attention of the int8 KV profile (docs/numerics.md §8.3): ONE algorithm for prefill,
 * decode and verify passes, so a pass of N tokens gives exactly the bits of N single-token steps.
 *
 * Per token, after RoPE (binary32), every head vector is quantised to int8 with its own scale
 * (quantizeAttentionHead): q per query head, k and v per KV head; the KV cache holds k8, v8 and
 * binary32 σk, σv. The query at position i, head h (KV head g), over keys j = 0 … i:
 *     σq'  = f32(σq × scale)
 *     s_j  = f32( f32(Σ_t q8_t·k8_j,t) × f32(σq' × σk_j) )      (the integer dot product is exact)
 *     m    = max_j s_j;   V = max_j σv_j;   ρ = f32(2^24 ÷ V)
 *     e_j  = exp(f32(s_j − m));   l = Σ_j e_j  (sequential, ascending j)
 *     u_j  = ⌊ f32( f32(e_j × σv_j) × ρ ) ⌉                       (0 ≤ u_j ≤ 2^24)
 *     A_t  = Σ_j u_j · v8_j,t                                      (exact integer, order-free)
 *     out_t = f32( f32(A_t) × f32( V·2^-24 ÷ l ) )
 */

import { f32, roundHalfEven } from '../numerics/f32.js';
import { exp32 } from '../numerics/functions.js';
import { int8Step, quantizeToken } from '../numerics/quant.js';
import { absMax } from '../numerics/reduce.js';
import type { AttentionShape } from './attention.js';

/** One layer's int8 KV cache: k8, v8 [positions][kvHeads][d]; σk, σv [positions][kvHeads]. */
export interface Int8KvLayerCache {
  k8: Int8Array;
  v8: Int8Array;
  sk: Float32Array;
  sv: Float32Array;
}

export function int8KvLayerCache(positions: number, kvHeads: number, headDim: number): Int8KvLayerCache {
  return {
    k8: new Int8Array(positions * kvHeads * headDim),
    v8: new Int8Array(positions * kvHeads * headDim),
    sk: new Float32Array(positions * kvHeads),
    sv: new Float32Array(positions * kvHeads),
  };
}

/** The fixed-point scale of the value sum: u_j carries 24 fractional bits of e_j·σv_j ÷ V. */
const VALUE_FRACTION_BITS = 24;
const TWO_POW_FRACTION = 2 ** VALUE_FRACTION_BITS;

/** ρ = f32(2^24 ÷ V): the fixed-point factor of a query's value sum (V: the prefix max of σv). */
export function valueRho(V: number): number {
  return f32(TWO_POW_FRACTION / V);
}

/** u_j = ⌊f32(f32(e_j × σv_j) × ρ)⌉, an integer in [0, 2^24] (docs/numerics.md §8.3 proves the bound). */
export function valueWeight(e: number, sv: number, rho: number): number {
  return roundHalfEven(f32(f32(e * sv) * rho));
}

/**
 * The head quantiser: x[off, off+d) → out8[outOff..] (int8, §4.1 with the vector's own absmax);
 * returns σ = f32(amax_c ÷ 127).
 */
export function quantizeAttentionHead(x: ArrayLike<number>, off: number, d: number, out8: Int8Array, outOff: number): number {
  const amax = absMax(x, off, d);
  quantizeToken(x, off, d, amax, out8, outOff);
  return int8Step(amax);
}

/**
 * Attention of the query at position `pos` (all heads) over keys 0..pos. q8[qOff + h·d ..] and
 * sq[sqOff + h] hold the query's int8 heads and their scales; out[outOff + h·d ..] gets binary32.
 */
export function int8Attention(
  shape: AttentionShape,
  q8: Int8Array,
  qOff: number,
  sq: Float32Array,
  sqOff: number,
  cache: Int8KvLayerCache,
  pos: number,
  out: Float32Array,
  outOff: number,
): void {
  const { numHeads, numKvHeads, headDim: d } = shape;
  const group = numHeads / numKvHeads;
  const n = pos + 1;
  const scores = new Float64Array(n);
  const acc = new Float64Array(d);
  for (let g = 0; g < numKvHeads; g++) {
    // V: the largest value scale of this KV head over the prefix (causal).
    let V = 0;
    for (let j = 0; j < n; j++) {
      const s = cache.sv[j * numKvHeads + g]!;
      if (s > V) V = s;
    }
    const rho = valueRho(V);
    const vStep = V / TWO_POW_FRACTION; // ldexp(V, -24): exact
    // Each KV head is read once per key for its whole query group (the GQA schedule of §8.3).
    for (let h = g * group; h < (g + 1) * group; h++) {
      const qh = qOff + h * d;
      const sqs = f32(sq[sqOff + h]! * shape.scale);
      let m = -Infinity;
      for (let j = 0; j < n; j++) {
        const kOff = (j * numKvHeads + g) * d;
        let dot = 0;
        for (let t = 0; t < d; t++) dot += q8[qh + t]! * cache.k8[kOff + t]!;
        // dot is an exact integer below 2^24, so f32(dot) = dot and one rounding is f32(f32(dot) × …).
        const s = f32(dot * f32(sqs * cache.sk[j * numKvHeads + g]!));
        scores[j] = s;
        if (s > m) m = s;
      }
      let l = 0;
      acc.fill(0);
      for (let j = 0; j < n; j++) {
        const e = exp32(f32(scores[j]! - m));
        l = f32(l + e);
        const u = valueWeight(e, cache.sv[j * numKvHeads + g]!, rho);
        if (u === 0) continue;
        const vOff = (j * numKvHeads + g) * d;
        // Exact: |A_t| ≤ 127 · 2^24 · (pos + 1) < 2^53.
        for (let t = 0; t < d; t++) acc[t] += u * cache.v8[vOff + t]!;
      }
      const c = f32(vStep / l);
      const o = outOff + h * d;
      for (let t = 0; t < d; t++) out[o + t] = f32(f32(acc[t]!) * c);
    }
  }
}
