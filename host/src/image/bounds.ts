/**
 * The converter's overflow check (docs/numerics.md §4.4): worst-case magnitudes of every binary32
 * value of the datapath, per layer, from the model's actual norm weights and weight scales.
 * A model whose worst case reaches 2^127 is refused (E_NUMERICS); the bounds go in the manifest.
 *
 * Bounds (binary64, rounding slack covered by the factor-2 margin to binary32's 2^128):
 *  - RMS-MAX output of length n with weight w:   √n · max|w|            (|z_i|·r ≤ √n)
 *  - BitLinear of reduction K, input bound a, scale w_s:  K · max(a, 1e-5) · w_s
 *    (|acc| ≤ 127·K and c = amax_c·w_s/127)
 *  - attention output (no sub-norm): kv_format fp16: 65504 (a convex combination of binary16
 *    values); int8: twice the v_proj output bound (a convex combination of dequantised int8 v
 *    values, each at most max(|v|, 1e-5); the fixed-point weights' rounding adds less than
 *    2^-8 relative for any context up to 66,052, numerics.md §8.3)
 *  - attention score (§8, §8.3): √d · Q · K with Q, K the q/k_proj output bounds (binary16:
 *    saturated at 65504; int8: |q8·σq| ≤ max(|q|, 1e-5)), since |s| ≤ d·Q·K·f32(1/√d)
 *  - gate activation: ReLU²: g²·u;  SiLU: g·u (|silu(g)| ≤ |g|)
 *  - residual after layer l:                      residual(l-1) + o_out + down_out, from max|embedding|
 *  - logits (§9):  h · max(√h·max|final norm|, 1e-5) · max(rowAmax, 1e-5)
 */

import { TellmeError } from '../errors.js';
import type { KvFormat } from '../hwconfig/index.js';
import { linearShape, type LayerNormRole, type LinearName, type ModelSpec } from '../model/spec.js';
import { ABSMAX_FLOOR } from '../numerics/quant.js';
import { F16_MAX } from '../numerics/f16.js';
import type { LayerBoundRecord } from './manifest.js';

export const LIMIT_LOG2 = 127;
export const LIMIT = 2 ** LIMIT_LOG2;

function rmsOut(n: number, w: number): number {
  return Math.sqrt(n) * w;
}

function linearOut(k: number, input: number, ws: number): number {
  return k * Math.max(input, ABSMAX_FLOOR) * ws;
}

/** Bounds of one layer. normAbsmax: max |w| of each norm (null: the model has none). */
export function layerBounds(
  spec: ModelSpec,
  layer: number,
  normAbsmax: Record<LayerNormRole, number | null>,
  scales: Record<LinearName, number>,
  residualIn: number,
  kvFormat: KvFormat,
): LayerBoundRecord {
  const h = spec.hiddenSize;
  const K = (n: LinearName) => linearShape(spec, n).cols;
  const qkvIn = rmsOut(h, normAbsmax.input!);
  const qOut = linearOut(K('q_proj'), qkvIn, scales.q_proj);
  const kOut = linearOut(K('k_proj'), qkvIn, scales.k_proj);
  const vOut = linearOut(K('v_proj'), qkvIn, scales.v_proj);
  const attnOut = kvFormat === 'int8' ? 2 * Math.max(vOut, ABSMAX_FLOOR) : F16_MAX;
  const stored = (x: number) => (kvFormat === 'int8' ? Math.max(x, ABSMAX_FLOOR) : Math.min(x, F16_MAX));
  const attnScore = Math.sqrt(spec.headDim) * stored(qOut) * stored(kOut);
  const oIn = normAbsmax.attn_sub !== null ? rmsOut(spec.numHeads * spec.headDim, normAbsmax.attn_sub) : attnOut;
  const oOut = linearOut(K('o_proj'), oIn, scales.o_proj);
  const ffnIn = rmsOut(h, normAbsmax.post_attention!);
  const gateOut = linearOut(K('gate_proj'), ffnIn, scales.gate_proj);
  const upOut = linearOut(K('up_proj'), ffnIn, scales.up_proj);
  const gateAct = spec.activation === 'relu2' ? gateOut * gateOut * upOut : gateOut * upOut;
  const downIn = normAbsmax.ffn_sub !== null ? rmsOut(spec.intermediateSize, normAbsmax.ffn_sub) : gateAct;
  const downOut = linearOut(K('down_proj'), downIn, scales.down_proj);
  return {
    layer,
    norm_absmax: { ...normAbsmax },
    qkv_in: qkvIn,
    q_out: qOut,
    k_out: kOut,
    v_out: vOut,
    attn_score: attnScore,
    o_in: oIn,
    o_out: oOut,
    ffn_in: ffnIn,
    gate_out: gateOut,
    up_out: upOut,
    gate_activation: gateAct,
    down_in: downIn,
    down_out: downOut,
    residual: residualIn + oOut + downOut,
  };
}

const LAYER_FIELDS: [keyof LayerBoundRecord, string][] = [
  ['qkv_in', 'q/k/v_proj input (input_layernorm RMS-MAX)'],
  ['q_out', 'q_proj output'],
  ['k_out', 'k_proj output'],
  ['v_out', 'v_proj output'],
  ['attn_score', 'attention score'],
  ['o_in', 'o_proj input'],
  ['o_out', 'o_proj output'],
  ['ffn_in', 'gate/up_proj input (post_attention_layernorm RMS-MAX)'],
  ['gate_out', 'gate_proj output'],
  ['up_out', 'up_proj output'],
  ['gate_activation', 'gate activation'],
  ['down_in', 'down_proj input'],
  ['down_out', 'down_proj output'],
  ['residual', 'residual stream'],
];

export interface Worst {
  bound: number;
  log2: number;
  where: string;
}

/** The largest bound of a layer and where it is. */
export function layerWorst(b: LayerBoundRecord): Worst {
  let worst: Worst = { bound: 0, log2: -Infinity, where: '' };
  for (const [k, what] of LAYER_FIELDS) {
    const v = b[k] as number;
    if (!(v <= worst.bound)) worst = { bound: v, log2: Math.log2(v), where: `layer ${b.layer} ${what}` };
  }
  return worst;
}

/** Refuse a non-finite or too-large bound (NaN counts as too large). */
export function checkBound(w: Worst, detail: string): void {
  if (w.bound < LIMIT) return;
  const v = Number.isFinite(w.bound) ? `${w.bound.toExponential(3)} (2^${w.log2.toFixed(1)})` : String(w.bound);
  throw new TellmeError(
    'E_NUMERICS',
    `the worst-case magnitude of the ${w.where} is ${v}, which reaches 2^${LIMIT_LOG2}: binary32 could overflow on this model (docs/numerics.md §4.4). ${detail}`,
    'Check the checkpoint: norm weights or weight scales this large are not a trained BitNet model (a wrong quantization_config.linear_class inverts every weight scale).',
  );
}

/** max |x| over a vector, refusing NaN and infinities (names the tensor). */
export function finiteAbsmax(v: Float32Array, what: string): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]!);
    if (!(a <= 3.4028234663852886e38)) {
      throw new TellmeError('E_NUMERICS', `${what}: element ${i} is ${v[i]}; the datapath needs finite values`, 'The checkpoint is corrupt; re-download it.');
    }
    if (a > m) m = a;
  }
  return m;
}

export function logitBound(spec: ModelSpec, finalNormAbsmax: number, rowAbsmax: number): number {
  const h = spec.hiddenSize;
  return h * Math.max(rmsOut(h, finalNormAbsmax), ABSMAX_FLOOR) * Math.max(rowAbsmax, ABSMAX_FLOOR);
}
