/**
 * The golden model: a bit-accurate TypeScript model of the TeLLMe accelerator and its firmware
 * (docs/numerics.md), for the contract choices of one hardware build (`numerics`):
 *  - kv_format fp16: binary16 q/k/v and KV cache; prefill runs the prefill datapath
 *    (online-softmax attention in reversed-reordered key order, §8.1), decode the decode datapath
 *    (two-pass attention, §8.2);
 *  - kv_format int8: int8 q/k/v with per-head binary32 scales and one integer attention
 *    algorithm for every pass (§8.3).
 * The ternary matmuls use the TLMM formulation: 27-entry tables of each group of 3 int8
 * activations, looked up with the weights' 5-bit indices.
 */

import type { Checkpoint } from '../checkpoint/types.js';
import { TellmeError } from '../errors.js';
import { boardNumerics, type ContractNumerics } from '../hwconfig/index.js';
import { KernelPool } from '../kernels/pool.js';
import type { ModelSpec } from '../model/spec.js';
import { bf16ToF32, roundToF16 } from '../numerics/f16.js';
import { f32 } from '../numerics/f32.js';
import { relu2Gate, siluGate } from '../numerics/functions.js';
import { dequantFactor, headDequantFactor, quantizeToken } from '../numerics/quant.js';
import { absMax } from '../numerics/reduce.js';
import { rmsMax } from '../numerics/rmsmax.js';
import { attentionScale, decodeAttention, prefillAttention, type AttentionShape, type KvLayerCache } from './attention.js';
import { int8Attention, int8KvLayerCache, quantizeAttentionHead, type Int8KvLayerCache } from './attention-int8.js';
import { applyRope } from '../numerics/rope.js';
import { goldenWeightsFromCheckpoint, type FusedLinear, type GoldenWeights, type Progress } from './weights.js';

export interface GoldenOptions {
  /** Total threads for the kernels (default: all cores). */
  threads?: number;
  /** KV cache / RoPE length; default and maximum: the model's max_position_embeddings. */
  contextLength?: number;
  /**
   * The build's contract choices (docs/numerics.md; `numerics` of a hardware description).
   * Default: the default board's (hwconfig DEFAULT_BOARD).
   */
  numerics?: ContractNumerics;
  progress?: Progress;
}

/** Observes intermediate vectors (for `tellme eval`); values must not be kept without copying. */
export type Trace = (layer: number, stage: 'embed' | 'layer_out' | 'final_norm', token: number, values: Float32Array) => void;

export interface ForwardOptions {
  /** Return logits for every position of the call (default: only the last). */
  allLogits?: boolean;
  trace?: Trace;
}

export class GoldenModel {
  readonly spec: ModelSpec;
  readonly weights: GoldenWeights;
  readonly contextLength: number;
  readonly numerics: ContractNumerics;
  private readonly pool: KernelPool;
  /** The KV cache in the build's format: binary16 values (fp16) or int8 with scales (int8). */
  private readonly kv: { format: 'fp16'; layers: KvLayerCache[] } | { format: 'int8'; layers: Int8KvLayerCache[] };
  private readonly attn: AttentionShape;
  private positionValue = 0;
  // Kernel scratch in the arena.
  private readonly tablesOff: number;
  private readonly accOff: number;
  private readonly x16Off: number;
  private readonly headOutOff: number;
  /** int8 activations of one token, in the arena (the table builder reads them there). */
  private readonly actOff: number;
  private readonly actLen: number;

  private constructor(weights: GoldenWeights, pool: KernelPool, contextLength: number, numerics: ContractNumerics) {
    const spec = weights.spec;
    checkNumerics(numerics);
    this.numerics = { ...numerics };
    this.spec = spec;
    this.weights = weights;
    this.pool = pool;
    this.contextLength = contextLength;
    const kvDim = spec.numKvHeads * spec.headDim;
    this.kv =
      numerics.kv_format === 'int8'
        ? { format: 'int8', layers: Array.from({ length: spec.numLayers }, () => int8KvLayerCache(contextLength, spec.numKvHeads, spec.headDim)) }
        : {
            format: 'fp16',
            layers: Array.from({ length: spec.numLayers }, () => ({
              k: new Float32Array(contextLength * kvDim),
              v: new Float32Array(contextLength * kvDim),
            })),
          };
    this.attn = {
      numHeads: spec.numHeads,
      numKvHeads: spec.numKvHeads,
      headDim: spec.headDim,
      scale: attentionScale(spec.headDim),
    };
    let maxGroups = 0;
    let maxRows = 0;
    for (const layer of weights.layers) {
      for (const m of [layer.qkv, layer.o, layer.gateUp, layer.down]) {
        maxGroups = Math.max(maxGroups, m.groups);
        maxRows = Math.max(maxRows, m.rows);
      }
    }
    const arena = pool.arena;
    this.tablesOff = arena.alloc(KernelPool.tableBytes(maxGroups), 64);
    this.accOff = arena.alloc(Math.max(maxRows, 1) * 4, 64);
    this.x16Off = arena.alloc(weights.head.stride * 2, 64);
    this.headOutOff = arena.alloc(weights.head.rows * 4, 64);
    this.actLen = Math.max(maxGroups * 3, weights.head.stride);
    this.actOff = arena.alloc(this.actLen, 64);
  }

  static async fromCheckpoint(ckpt: Checkpoint, opts: GoldenOptions = {}): Promise<GoldenModel> {
    const contextLength = resolveContext(ckpt.spec, opts.contextLength);
    const numerics = opts.numerics ?? boardNumerics();
    checkNumerics(numerics);
    const pool = await KernelPool.create(opts.threads);
    const weights = await goldenWeightsFromCheckpoint(ckpt, pool, {
      contextLength,
      ...(opts.progress ? { progress: opts.progress } : {}),
    });
    return new GoldenModel(weights, pool, contextLength, numerics);
  }

  /** Build from weights already placed in a pool's arena (the image loader does this). */
  static fromWeights(weights: GoldenWeights, pool: KernelPool, numerics: ContractNumerics): GoldenModel {
    return new GoldenModel(weights, pool, weights.ropePositions, numerics);
  }

  static async createPool(threads?: number): Promise<KernelPool> {
    return KernelPool.create(threads);
  }

  /** Tokens held in the KV cache. */
  get position(): number {
    return this.positionValue;
  }

  /** Forget the conversation (the KV cache is simply overwritten). */
  reset(): void {
    this.positionValue = 0;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Run the prefill datapath over ids; returns logits of the last (or every) position. */
  prefill(ids: readonly number[], opts: ForwardOptions = {}): Float32Array[] {
    return this.forward(ids, 'prefill', opts);
  }

  /** Run the decode datapath for one token; returns its logits. */
  decode(id: number, opts: ForwardOptions = {}): Float32Array {
    return this.forward([id], 'decode', opts)[0]!;
  }

  private forward(ids: readonly number[], mode: 'prefill' | 'decode', opts: ForwardOptions): Float32Array[] {
    const spec = this.spec;
    const n = ids.length;
    if (n === 0) throw new TellmeError('E_USAGE', 'no tokens to run', 'Pass at least one token id.');
    const start = this.positionValue;
    if (start + n > this.contextLength) {
      throw new TellmeError(
        'E_USAGE',
        `context limit reached: ${start} cached + ${n} new tokens > ${this.contextLength}`,
        'shorten the prompt or the generation, or pass a larger --context (up to max_position_embeddings)',
      );
    }
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= spec.vocabSize) {
        throw new TellmeError('E_USAGE', `token id ${id} is outside the vocabulary (0..${spec.vocabSize - 1})`, `Pass token ids in 0..${spec.vocabSize - 1}.`);
      }
    }
    const h = spec.hiddenSize;
    const d = spec.headDim;
    const qDim = spec.numHeads * d;
    const kvDim = spec.numKvHeads * d;
    const w = this.weights;
    const trace = opts.trace;

    // Embedding lookup: bf16 -> binary32 is exact.
    const x = new Float32Array(n * h);
    for (let t = 0; t < n; t++) {
      const row = ids[t]! * h;
      for (let i = 0; i < h; i++) x[t * h + i] = bf16ToF32(w.embedding[row + i]!);
      trace?.(-1, 'embed', t, x.subarray(t * h, (t + 1) * h));
    }

    const normed = new Float32Array(Math.max(h, spec.intermediateSize, qDim));
    const q = new Float32Array(n * qDim);
    const kNew = new Float32Array(kvDim);
    const vNew = new Float32Array(kvDim);
    const int8 = this.kv.format === 'int8';
    // int8 profile: the queries' int8 heads and their scales (σq), per token.
    const q8 = int8 ? new Int8Array(n * qDim) : null;
    const sq = int8 ? new Float32Array(n * spec.numHeads) : null;
    const attnOut = new Float32Array(n * qDim);
    const ffn = new Float32Array(spec.intermediateSize);

    for (let l = 0; l < spec.numLayers; l++) {
      const layer = w.layers[l]!;
      // --- q, k, v with RoPE; binary16 (fp16 profile) or int8 heads with scales (int8 profile) ---
      for (let t = 0; t < n; t++) {
        const pos = start + t;
        const amax = rmsMax(x, t * h, h, layer.norms.input!, spec.rmsNormEps, normed, 0);
        const acc = this.linear(layer.qkv, normed, amax);
        const [pq, pk, pv] = layer.qkv.parts as [typeof layer.qkv.parts[0], typeof layer.qkv.parts[0], typeof layer.qkv.parts[0]];
        const cq = dequantFactor(amax, pq.scale);
        const ck = dequantFactor(amax, pk.scale);
        const cv = dequantFactor(amax, pv.scale);
        const qo = t * qDim;
        for (let i = 0; i < qDim; i++) q[qo + i] = f32(acc[pq.row0 + i]! * cq);
        for (let i = 0; i < kvDim; i++) {
          kNew[i] = f32(acc[pk.row0 + i]! * ck);
          vNew[i] = f32(acc[pv.row0 + i]! * cv);
        }
        for (let hh = 0; hh < spec.numHeads; hh++) applyRope(q, qo + hh * d, d, pos, w.rope);
        for (let hh = 0; hh < spec.numKvHeads; hh++) applyRope(kNew, hh * d, d, pos, w.rope);
        const ko = pos * kvDim;
        if (this.kv.format === 'int8') {
          const cache = this.kv.layers[l]!;
          for (let hh = 0; hh < spec.numHeads; hh++) sq![t * spec.numHeads + hh] = quantizeAttentionHead(q, qo + hh * d, d, q8!, qo + hh * d);
          for (let g = 0; g < spec.numKvHeads; g++) {
            const s = pos * spec.numKvHeads + g;
            cache.sk[s] = quantizeAttentionHead(kNew, g * d, d, cache.k8, ko + g * d);
            cache.sv[s] = quantizeAttentionHead(vNew, g * d, d, cache.v8, ko + g * d);
          }
        } else {
          const cache = this.kv.layers[l]!;
          for (let i = 0; i < qDim; i++) q[qo + i] = roundToF16(q[qo + i]!);
          for (let i = 0; i < kvDim; i++) {
            cache.k[ko + i] = roundToF16(kNew[i]!);
            cache.v[ko + i] = roundToF16(vNew[i]!);
          }
        }
      }
      // --- attention ---
      for (let t = 0; t < n; t++) {
        const pos = start + t;
        if (this.kv.format === 'int8') int8Attention(this.attn, q8!, t * qDim, sq!, t * spec.numHeads, this.kv.layers[l]!, pos, attnOut, t * qDim);
        else if (mode === 'prefill') prefillAttention(this.attn, q, t * qDim, this.kv.layers[l]!, pos, attnOut, t * qDim);
        else decodeAttention(this.attn, q, t * qDim, this.kv.layers[l]!, pos, attnOut, t * qDim);
      }
      // --- o_proj (+ attention sub-norm) and residual ---
      for (let t = 0; t < n; t++) {
        const src = attnOut.subarray(t * qDim, (t + 1) * qDim);
        const amax = this.subNormOrMax(src, layer.norms.attn_sub, normed);
        const acc = this.linear(layer.o, layer.norms.attn_sub ? normed : src, amax);
        const c = dequantFactor(amax, layer.o.parts[0]!.scale);
        for (let i = 0; i < h; i++) x[t * h + i] = f32(x[t * h + i]! + f32(acc[i]! * c));
      }
      // --- gated FFN (+ FFN sub-norm) and residual ---
      const F = spec.intermediateSize;
      for (let t = 0; t < n; t++) {
        const amax = rmsMax(x, t * h, h, layer.norms.post_attention!, spec.rmsNormEps, normed, 0);
        const acc = this.linear(layer.gateUp, normed, amax);
        const [pg, pu] = layer.gateUp.parts as [typeof layer.gateUp.parts[0], typeof layer.gateUp.parts[0]];
        const cg = dequantFactor(amax, pg.scale);
        const cu = dequantFactor(amax, pu.scale);
        const act = spec.activation === 'relu2' ? relu2Gate : siluGate;
        for (let i = 0; i < F; i++) ffn[i] = act(f32(acc[pg.row0 + i]! * cg), f32(acc[pu.row0 + i]! * cu));
        const amax2 = this.subNormOrMax(ffn, layer.norms.ffn_sub, normed);
        const acc2 = this.linear(layer.down, layer.norms.ffn_sub ? normed : ffn, amax2);
        const c = dequantFactor(amax2, layer.down.parts[0]!.scale);
        for (let i = 0; i < h; i++) x[t * h + i] = f32(x[t * h + i]! + f32(acc2[i]! * c));
        trace?.(l, 'layer_out', t, x.subarray(t * h, (t + 1) * h));
      }
    }
    this.positionValue = start + n;

    // --- final norm and LM head (on the ARM cores in hardware) ---
    const out: Float32Array[] = [];
    for (let t = opts.allLogits ? 0 : n - 1; t < n; t++) {
      const amax = rmsMax(x, t * h, h, w.finalNorm, spec.rmsNormEps, normed, 0);
      trace?.(spec.numLayers, 'final_norm', t, normed.subarray(0, h));
      out.push(this.lmHead(normed, amax));
    }
    return out;
  }

  /** RMS-MAX with the sub-norm when the model has one; otherwise the MAX alone. */
  private subNormOrMax(v: Float32Array, weight: Float32Array | null, normed: Float32Array): number {
    if (weight) return rmsMax(v, 0, v.length, weight, this.spec.rmsNormEps, normed, 0);
    return absMax(v, 0, v.length);
  }

  /** Quantise v (absmax amax), build the TLMM tables, run the lookups; returns the accumulators. */
  private linear(m: FusedLinear, v: Float32Array, amax: number): Int32Array {
    const arena = this.pool.arena;
    const act = arena.i8(this.actOff, m.groups * 3);
    act.fill(0, m.cols);
    quantizeToken(v, 0, m.cols, amax, act, 0);
    this.pool.buildTables(this.actOff, m.groups, this.tablesOff);
    this.pool.tlmm(m.idxOff, m.groups, this.tablesOff, this.accOff, m.blocks);
    return arena.i32(this.accOff, m.rows);
  }

  private lmHead(v: Float32Array, amax: number): Float32Array {
    const head = this.weights.head;
    const arena = this.pool.arena;
    const act = arena.i8(this.actOff, head.cols);
    quantizeToken(v, 0, head.cols, amax, act, 0);
    const x16 = arena.i16(this.x16Off, head.stride);
    x16.fill(0);
    for (let i = 0; i < head.cols; i++) x16[i] = act[i]!;
    this.pool.dotRows(head.off, head.stride, this.x16Off, head.stride, this.headOutOff, head.rows);
    const acc = arena.i32(this.headOutOff, head.rows);
    const logits = new Float32Array(head.rows);
    // |acc| can exceed 2^24 here (127^2 * hidden), so the int -> binary32 conversion rounds: explicit.
    for (let r = 0; r < head.rows; r++) logits[r] = f32(f32(acc[r]!) * headDequantFactor(amax, head.rowAmax[r]!));
    return logits;
  }
}

/** The contract choices this golden model implements; anything else is refused up front. */
function checkNumerics(n: ContractNumerics): void {
  if (n.lm_head !== 'int8') {
    throw new TellmeError('E_USAGE', `the golden model does not implement lm_head ${n.lm_head} yet`, 'use a hardware build with lm_head "int8"');
  }
}

/**
 * Positions allocated when no --context is given: max_position_embeddings, capped, because a
 * config may claim 1e9 positions (the CLI says when the cap applies).
 */
export const DEFAULT_CONTEXT_CAP = 8192;
/** The most memory the KV cache and RoPE table of one golden model may take. */
export const MAX_CONTEXT_BYTES = 8 * 2 ** 30;

/** Bytes of the binary32 KV cache (every layer) and the RoPE table for `positions`. */
export function contextBytes(spec: ModelSpec, positions: number): number {
  return positions * (spec.numLayers * spec.numKvHeads * spec.headDim * 2 * 4 + spec.headDim * 4);
}

export function resolveContext(spec: ModelSpec, requested?: number): number {
  const max = spec.maxPositions;
  if (requested === undefined) return Math.min(max, DEFAULT_CONTEXT_CAP);
  if (!Number.isInteger(requested) || requested < 1 || requested > max) {
    throw new TellmeError('E_USAGE', `--context must be an integer in 1..${max} (max_position_embeddings), got ${requested}`, `Pass --context between 1 and ${max}.`);
  }
  const bytes = contextBytes(spec, requested);
  if (bytes > MAX_CONTEXT_BYTES) {
    const most = Math.floor(MAX_CONTEXT_BYTES / contextBytes(spec, 1));
    throw new TellmeError(
      'E_USAGE',
      `--context ${requested} needs ${(bytes / 2 ** 30).toFixed(1)} GiB for the KV cache and RoPE table, more than the ${MAX_CONTEXT_BYTES / 2 ** 30} GiB the golden model allocates`,
      `Pass --context ${most} or less.`,
    );
  }
  return requested;
}
