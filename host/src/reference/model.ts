/**
 * The float reference: the models' training-time semantics (HF transformers' BitNet / Llama
 * modules with AutoBitLinear fake quantisation) in binary32 on TensorFlow.js. A forward pass
 * runs a whole sequence at once, with no KV cache, and returns the logits of every position.
 *
 * Weights come through the Checkpoint interface: each BitLinear as t · w_s (the dequantised
 * ternary weights), norms and embeddings as binary32; the output head is the full-precision
 * lm_head (or the tied embedding), never int8. Small models keep their weights as tensors; large
 * ones are streamed layer by layer on every forward pass so memory stays bounded.
 */

import type { Tensor, Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs';
import type { Checkpoint } from '../checkpoint/types.js';
import { TellmeError } from '../errors.js';
import { LINEAR_NAMES, linearShape, type LayerNormRole, type LinearName, type ModelSpec } from '../model/spec.js';
import { applyRotary, bitLinear, causalAttention, gateActivation, rmsNorm, ropeCosSin, actQuant } from './ops.js';
import { loadTf, type Tf, type TfBackendName } from './tf.js';

/** Where a forward pass reports the residual stream: same points as the golden model's trace. */
export type ReferenceStage = 'embed' | 'layer_out' | 'final_norm';

/**
 * Observes intermediate values: `values` is [n][hidden] row-major for all n positions of the
 * call (layer -1 for 'embed', numLayers for 'final_norm'). It is a fresh copy the callee may keep.
 */
export type ReferenceTrace = (layer: number, stage: ReferenceStage, values: Float32Array) => void;

export interface ReferenceForwardOptions {
  /** Logits of every position (default) or only of the last. */
  logits?: 'all' | 'last';
  trace?: ReferenceTrace;
  /**
   * Approximations of the accelerator's storage formats, all off by default. They exist to
   * attribute the golden model's distance from the reference (`tellme eval --ablations`), not to
   * reproduce its bits; a forward pass with ablations is no longer the training-time semantics.
   */
  ablations?: ReferenceAblations;
}

export interface ReferenceOptions {
  /**
   * Keep the dequantised weights as tensors between forward passes when they need at most this
   * many bytes (binary32); otherwise stream them from the checkpoint on every pass.
   * Default 1 GiB.
   */
  residentBytes?: number;
  /** Rows of the output head per matmul when the head is streamed (default 8192). */
  headChunkRows?: number;
  /** Progress while loading / streaming weights. */
  progress?: (done: number, total: number, what: string) => void;
}

export interface ReferenceAblations {
  /** Round embedding rows to bfloat16 (nearest even) on lookup. */
  bf16Embedding?: boolean;
  /** Round q and k (after RoPE) and v to binary16, saturating at ±65504, flushing subnormals. */
  f16Qkv?: boolean;
  /**
   * Quantise q and k (after RoPE) and v to int8 per head with the head's own absmax (ActQuant over
   * each head vector), as the int8 KV cache stores them (docs/numerics.md §8.3).
   */
  int8Qkv?: boolean;
  /** An int8 output head: rows int8 with a per-row absmax, the final-norm output int8 per token. */
  int8Head?: boolean;
}

interface LayerTensors {
  linear: Record<LinearName, Tensor2D>;
  norms: Record<LayerNormRole, Tensor1D | null>;
}

const DEFAULT_RESIDENT_BYTES = 2 ** 30;
const DEFAULT_HEAD_CHUNK = 8192;

/** Bytes of all dequantised BitLinear weights plus the output head, as binary32. */
export function referenceWeightBytes(spec: ModelSpec): number {
  let n = 0;
  for (const name of LINEAR_NAMES) {
    const { rows, cols } = linearShape(spec, name);
    n += rows * cols;
  }
  return 4 * (n * spec.numLayers + spec.vocabSize * spec.hiddenSize);
}

export class FloatReference {
  readonly spec: ModelSpec;
  readonly backend: TfBackendName;
  /** True when the weights are held as tensors between passes. */
  readonly resident: boolean;
  private readonly tf: Tf;
  private readonly ckpt: Checkpoint;
  private readonly opts: ReferenceOptions;
  private readonly embedding: Float32Array;
  private readonly headData: Float32Array;
  private residentLayers: LayerTensors[] | null = null;
  private residentHead: Tensor2D | null = null;
  private finalNormW: Tensor1D;
  private closed = false;

  private constructor(tf: Tf, backend: TfBackendName, ckpt: Checkpoint, opts: ReferenceOptions) {
    this.tf = tf;
    this.backend = backend;
    this.ckpt = ckpt;
    this.spec = ckpt.spec;
    this.opts = opts;
    const emb = ckpt.embedding();
    checkDense('embedding', emb.rows, emb.cols, this.spec.vocabSize, this.spec.hiddenSize);
    this.embedding = emb.data;
    if (this.spec.tiedEmbeddings) {
      this.headData = emb.data;
    } else {
      const head = ckpt.lmHead();
      checkDense('lm_head', head.rows, head.cols, this.spec.vocabSize, this.spec.hiddenSize);
      this.headData = head.data;
    }
    this.finalNormW = tf.tensor1d(ckpt.finalNorm());
    this.resident = referenceWeightBytes(this.spec) <= (opts.residentBytes ?? DEFAULT_RESIDENT_BYTES);
  }

  /** Open the reference on a checkpoint (loads TensorFlow.js and, when they fit, the weights). */
  static async fromCheckpoint(ckpt: Checkpoint, opts: ReferenceOptions = {}): Promise<FloatReference> {
    const { tf, backend } = await loadTf();
    const ref = new FloatReference(tf, backend, ckpt, opts);
    if (ref.resident) {
      const L = ref.spec.numLayers;
      ref.residentLayers = [];
      for (let l = 0; l < L; l++) {
        ref.residentLayers.push(ref.loadLayer(l));
        opts.progress?.(l + 1, L + 1, `layer ${l}`);
      }
      ref.residentHead = tf.tensor2d(ref.headData, [ref.spec.vocabSize, ref.spec.hiddenSize]);
      opts.progress?.(L + 1, L + 1, 'lm head');
    }
    return ref;
  }

  /** Free the tensors. */
  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const layer of this.residentLayers ?? []) disposeLayer(layer);
    this.residentLayers = null;
    this.residentHead?.dispose();
    this.residentHead = null;
    this.finalNormW.dispose();
  }

  /** One layer's weights as tensors: BitLinears dequantised (t · w_s), norms. */
  private loadLayer(l: number): LayerTensors {
    const tf = this.tf;
    const linear = {} as Record<LinearName, Tensor2D>;
    for (const name of LINEAR_NAMES) {
      const m = this.ckpt.linear(l, name);
      const { rows, cols } = linearShape(this.spec, name);
      if (m.rows !== rows || m.cols !== cols || m.values.length !== rows * cols) {
        throw new TellmeError('E_CHECKPOINT', `layer ${l} ${name}: ternary matrix is ${m.rows}x${m.cols}, expected ${rows}x${cols}`, 'The checkpoint is damaged or its config.json does not match its weights; re-download it.');
      }
      const w = new Float32Array(rows * cols);
      const s = Math.fround(m.scale);
      for (let i = 0; i < w.length; i++) w[i] = m.values[i]! * s; // t ∈ {-1, 0, 1}: exact
      linear[name] = tf.tensor2d(w, [rows, cols]);
    }
    const norm = (role: LayerNormRole): Tensor1D | null => {
      const w = this.ckpt.layerNorm(l, role);
      return w ? tf.tensor1d(w) : null;
    };
    return {
      linear,
      norms: { input: norm('input'), post_attention: norm('post_attention'), attn_sub: norm('attn_sub'), ffn_sub: norm('ffn_sub') },
    };
  }

  /**
   * Full-sequence forward pass over ids (positions 0 .. n-1). Returns the logits of every
   * position (or only the last, with `logits: 'last'`), binary32, one array per position.
   */
  async forward(ids: readonly number[], opts: ReferenceForwardOptions = {}): Promise<Float32Array[]> {
    if (this.closed) throw new TellmeError('E_INTERNAL', 'the float reference was disposed');
    const tf = this.tf;
    const spec = this.spec;
    const n = ids.length;
    const h = spec.hiddenSize;
    if (n === 0) throw new TellmeError('E_USAGE', 'no tokens to run', 'Pass at least one token id.');
    if (n > spec.maxPositions) {
      throw new TellmeError('E_USAGE', `${n} tokens exceed max_position_embeddings ${spec.maxPositions}`, 'shorten the prompt or the generation');
    }
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= spec.vocabSize) {
        throw new TellmeError('E_USAGE', `token id ${id} is outside the vocabulary (0..${spec.vocabSize - 1})`, `Pass token ids in 0..${spec.vocabSize - 1}.`);
      }
    }
    const trace = opts.trace;

    // Embedding lookup (no scaling).
    const x0 = new Float32Array(n * h);
    for (let t = 0; t < n; t++) x0.set(this.embedding.subarray(ids[t]! * h, (ids[t]! + 1) * h), t * h);
    if (opts.ablations?.bf16Embedding) roundArrayBf16(x0);
    trace?.(-1, 'embed', x0.slice());
    let x: Tensor2D = tf.tensor2d(x0, [n, h]);

    const { cos, sin } = ropeCosSin(tf, spec.headDim, spec.ropeTheta, n);
    try {
      for (let l = 0; l < spec.numLayers; l++) {
        const weights = this.residentLayers ? this.residentLayers[l]! : this.loadLayer(l);
        try {
          const next = tf.tidy(() => this.layer(x, weights, cos, sin, opts.ablations ?? {}));
          x.dispose();
          x = next;
        } finally {
          if (!this.residentLayers) disposeLayer(weights);
        }
        if (!this.residentLayers) this.opts.progress?.(l + 1, spec.numLayers + 1, `layer ${l}`);
        if (trace) trace(l, 'layer_out', copyF32(x));
      }

      // Final norm and the full-precision head.
      const rows = opts.logits === 'last' ? [n - 1] : Array.from({ length: n }, (_, t) => t);
      const normed = tf.tidy(() => rmsNorm(tf, x, this.finalNormW, spec.rmsNormEps));
      try {
        if (trace) trace(spec.numLayers, 'final_norm', copyF32(normed));
        const sel = tf.tidy(() => tf.gather(normed, tf.tensor1d(rows, 'int32'), 0));
        try {
          return this.head(sel, opts.ablations?.int8Head === true);
        } finally {
          sel.dispose();
        }
      } finally {
        normed.dispose();
      }
    } finally {
      x.dispose();
      cos.dispose();
      sin.dispose();
    }
  }

  /** One decoder layer on x [n, h]; returns the new residual stream (inside a tidy). */
  private layer(x: Tensor2D, w: LayerTensors, cos: Tensor2D, sin: Tensor2D, ablations: ReferenceAblations): Tensor2D {
    const tf = this.tf;
    const spec = this.spec;
    const n = x.shape[0];
    const eps = spec.rmsNormEps;
    const d = spec.headDim;

    // Attention block. q, k, v share one quantised input (each BitLinear quantises the same
    // tensor identically, so quantising once is the same computation).
    const a = actQuant(tf, rmsNorm(tf, x, need(w.norms.input, 'input'), eps));
    const q = tf.reshape(tf.matMul(a, w.linear.q_proj, false, true), [n, spec.numHeads, d]) as Tensor3D;
    const k = tf.reshape(tf.matMul(a, w.linear.k_proj, false, true), [n, spec.numKvHeads, d]) as Tensor3D;
    const v = tf.reshape(tf.matMul(a, w.linear.v_proj, false, true), [n, spec.numKvHeads, d]) as Tensor3D;
    let qr = applyRotary(tf, q, cos, sin);
    let kr = applyRotary(tf, k, cos, sin);
    let vr = v;
    if (ablations.f16Qkv) [qr, kr, vr] = [qr, kr, vr].map((t) => roundTensorF16(tf, t)) as [Tensor3D, Tensor3D, Tensor3D];
    if (ablations.int8Qkv) [qr, kr, vr] = [qr, kr, vr].map((t) => actQuant(tf, t)) as [Tensor3D, Tensor3D, Tensor3D];
    let o = causalAttention(tf, qr, kr, vr);
    if (w.norms.attn_sub) o = rmsNorm(tf, o, w.norms.attn_sub, eps);
    const x1 = tf.add(x, bitLinear(tf, o, w.linear.o_proj)) as Tensor2D;

    // Gated FFN block.
    const m = actQuant(tf, rmsNorm(tf, x1, need(w.norms.post_attention, 'post_attention'), eps));
    const g = tf.matMul(m, w.linear.gate_proj, false, true) as Tensor2D;
    const u = tf.matMul(m, w.linear.up_proj, false, true) as Tensor2D;
    let f = gateActivation(tf, spec.activation, g, u);
    if (w.norms.ffn_sub) f = rmsNorm(tf, f, w.norms.ffn_sub, eps);
    return tf.add(x1, bitLinear(tf, f, w.linear.down_proj)) as Tensor2D;
  }

  /** Logits = xn · headᵀ for the selected rows, in vocabulary chunks when the head is streamed. */
  private head(xn: Tensor2D, int8: boolean): Float32Array[] {
    const tf = this.tf;
    const spec = this.spec;
    const m = xn.shape[0];
    const V = spec.vocabSize;
    const h = spec.hiddenSize;
    const out = Array.from({ length: m }, () => new Float32Array(V));
    const chunk = this.residentHead && !int8 ? V : Math.max(1, this.opts.headChunkRows ?? DEFAULT_HEAD_CHUNK);
    for (let r0 = 0; r0 < V; r0 += chunk) {
      const r1 = Math.min(V, r0 + chunk);
      const part = tf.tidy(() => {
        if (int8) return int8Head(tf, xn, this.headData.subarray(r0 * h, r1 * h), r1 - r0, h);
        const w = this.residentHead ?? tf.tensor2d(this.headData.subarray(r0 * h, r1 * h), [r1 - r0, h]);
        return tf.matMul(xn, w, false, true);
      });
      const data = copyF32(part);
      part.dispose();
      const width = r1 - r0;
      for (let t = 0; t < m; t++) out[t]!.set(data.subarray(t * width, (t + 1) * width), r0);
    }
    return out;
  }
}

/** Round binary32 values to bfloat16 in place (nearest, ties to even). */
function roundArrayBf16(v: Float32Array): void {
  const u = new Uint32Array(v.buffer, v.byteOffset, v.length);
  for (let i = 0; i < u.length; i++) {
    const b = u[i]!;
    if ((b & 0x7f800000) === 0x7f800000) continue; // inf / NaN
    u[i] = ((b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000) >>> 0;
  }
}

/** Nearest binary16 value of x, saturating at ±65504, with results below 2^-14 flushed to ±0. */
export function roundF16(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  if (a === 0) return x;
  let e = Math.floor(Math.log2(Math.min(a, 65536)));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  const ulp = 2 ** (Math.max(e, -14) - 10);
  const v = a / ulp;
  let r = Math.round(v);
  if (r - v === 0.5 && r % 2 !== 0) r -= 1;
  let m = r * ulp;
  if (m > 65504) m = 65504;
  if (m < 2 ** -14) m = 0;
  return x < 0 ? -m : m;
}

function roundTensorF16(tf: Tf, t: Tensor3D): Tensor3D {
  const d = t.dataSync();
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = roundF16(d[i]!);
  return tf.tensor3d(out, t.shape);
}

/** Logits of an int8 head chunk: per-row absmax int8 rows, per-token int8 activations. */
function int8Head(tf: Tf, xn: Tensor2D, rows: Float32Array, nRows: number, h: number): Tensor2D {
  const q = new Float32Array(nRows * h);
  const rowAmax = new Float32Array(nRows);
  for (let r = 0; r < nRows; r++) {
    let amax = 0;
    for (let c = 0; c < h; c++) amax = Math.max(amax, Math.abs(rows[r * h + c]!));
    rowAmax[r] = Math.max(amax, 1e-5);
    const s = Math.fround(127 / rowAmax[r]!);
    for (let c = 0; c < h; c++) {
      const v = Math.fround(rows[r * h + c]! * s);
      let k = Math.round(v);
      if (k - v === 0.5 && k % 2 !== 0) k -= 1;
      q[r * h + c] = Math.max(-127, Math.min(127, k));
    }
  }
  const xAmax = tf.maximum(tf.max(tf.abs(xn), -1, true), tf.scalar(1e-5)); // [n, 1]
  const xq = tf.clipByValue(tf.round(tf.mul(xn, tf.div(tf.scalar(127), xAmax))), -127, 127);
  const acc = tf.matMul(xq, tf.tensor2d(q, [nRows, h]), false, true); // [n, rows]
  return tf.div(tf.mul(tf.mul(acc, xAmax), tf.tensor2d(rowAmax, [1, nRows])), tf.scalar(16129)) as Tensor2D;
}

/** A tensor's values as a fresh Float32Array. */
function copyF32(t: Tensor): Float32Array {
  const d = t.dataSync();
  return d instanceof Float32Array ? d.slice() : Float32Array.from(d);
}

function need(w: Tensor1D | null, role: string): Tensor1D {
  if (!w) throw new TellmeError('E_CHECKPOINT', `the checkpoint has no ${role} layer norm`, 'The checkpoint is incomplete; re-download it.');
  return w;
}

function disposeLayer(layer: LayerTensors): void {
  for (const t of Object.values(layer.linear)) t.dispose();
  for (const t of Object.values(layer.norms)) t?.dispose();
}

function checkDense(what: string, rows: number, cols: number, vocab: number, hidden: number): void {
  if (rows !== vocab || cols !== hidden) {
    throw new TellmeError('E_CHECKPOINT', `${what} is ${rows}x${cols}, expected ${vocab}x${hidden} (vocab_size x hidden_size)`, 'The checkpoint is damaged or its config.json does not match its weights; re-download it.');
  }
}
