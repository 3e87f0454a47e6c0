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
import { bf16ToF32, f32ToF16Sat, roundToF16 } from '../numerics/f16.js';
import { f32 } from '../numerics/f32.js';
import { relu2Gate, siluGate } from '../numerics/functions.js';
import { dequantFactor, headDequantFactor, quantizeToken } from '../numerics/quant.js';
import { absMax } from '../numerics/reduce.js';
import { rmsMax } from '../numerics/rmsmax.js';
import { attentionScale, decodeAttention, prefillAttention, type AttentionShape, type KvLayerCache } from './attention.js';
import { int8Attention, int8KvLayerCache, quantizeAttentionHead, type Int8KvLayerCache } from './attention-int8.js';
import { applyRope } from '../numerics/rope.js';
import type { Observer } from './observer.js';
import { selectShortlist } from './shortlist.js';
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
  /** Passes run since creation or the last reset (each prefill, decode or verify call is one). */
  private passes = 0;
  /** Sees every tensor of docs/numerics.md §11 (golden/observer.ts); null: no tracing. */
  observer: Observer | null = null;
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
    if (numerics.lm_head === 'ternary-shortlist' && !weights.ternaryHead) {
      throw new TellmeError('E_INTERNAL', 'the build runs the ternary shortlist head but the weights hold no ternary head');
    }
    let maxGroups = 0;
    let maxRows = 0;
    for (const m of [...weights.layers.flatMap((l) => [l.qkv, l.o, l.gateUp, l.down]), ...(weights.ternaryHead ? [weights.ternaryHead] : [])]) {
      maxGroups = Math.max(maxGroups, m.groups);
      maxRows = Math.max(maxRows, m.blocks * 16);
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
      ternaryHead: numerics.lm_head === 'ternary-shortlist',
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
    this.passes = 0;
  }

  /**
   * Set the KV length to `length` ≤ the current one (the accelerator's "set KV length": a rollback
   * of rejected draft tokens; the positions past it are overwritten by later passes).
   */
  setKvLength(length: number): void {
    if (!Number.isInteger(length) || length < 0 || length > this.positionValue) {
      throw new TellmeError('E_USAGE', `KV length ${length} is outside 0..${this.positionValue} (the tokens cached)`, 'a KV length can only roll back over cached tokens');
    }
    this.positionValue = length;
  }

  /**
   * A verify pass (docs/numerics.md §10.1): set the KV length to kvOffset, run ids at positions
   * kvOffset … with the decode datapath (fp16 profile) or the one int8 algorithm, and return every
   * position's logits — bit for bit what one decode step per token gives.
   */
  verify(ids: readonly number[], kvOffset: number, opts: Omit<ForwardOptions, 'allLogits'> = {}): Float32Array[] {
    this.setKvLength(kvOffset);
    return this.forward(ids, 'decode', { ...opts, allLogits: true });
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
    const pass = this.passes;
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
    // The observer (golden/observer.ts); `see?.(…)` evaluates nothing when there is none.
    const see = this.observer ? this.emitter(this.observer, pass) : null;

    // Embedding lookup: bf16 -> binary32 is exact.
    const x = new Float32Array(n * h);
    for (let t = 0; t < n; t++) {
      const row = ids[t]! * h;
      for (let i = 0; i < h; i++) x[t * h + i] = bf16ToF32(w.embedding[row + i]!);
      trace?.(-1, 'embed', t, x.subarray(t * h, (t + 1) * h));
      see?.('embed', null, start + t, x.subarray(t * h, (t + 1) * h));
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
        if (see) {
          see('input_norm.out', l, pos, normed.subarray(0, h));
          this.seeLinearInput(see, 'qkv', l, pos, layer.qkv, amax);
          see('q_proj.acc', l, pos, acc.subarray(pq.row0, pq.row0 + qDim));
          see('k_proj.acc', l, pos, acc.subarray(pk.row0, pk.row0 + kvDim));
          see('v_proj.acc', l, pos, acc.subarray(pv.row0, pv.row0 + kvDim));
          see('q_proj.out', l, pos, q.subarray(qo, qo + qDim));
          see('k_proj.out', l, pos, kNew);
          see('v_proj.out', l, pos, vNew);
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
          if (see) {
            const H = spec.numHeads;
            const G = spec.numKvHeads;
            see('attn.q8', l, pos, q8!.subarray(qo, qo + qDim));
            see('attn.q_scale', l, pos, sq!.subarray(t * H, (t + 1) * H));
            see('attn.k8', l, pos, cache.k8.subarray(ko, ko + kvDim));
            see('attn.k_scale', l, pos, cache.sk.subarray(pos * G, (pos + 1) * G));
            see('attn.v8', l, pos, cache.v8.subarray(ko, ko + kvDim));
            see('attn.v_scale', l, pos, cache.sv.subarray(pos * G, (pos + 1) * G));
          }
        } else {
          const cache = this.kv.layers[l]!;
          for (let i = 0; i < qDim; i++) q[qo + i] = roundToF16(q[qo + i]!);
          for (let i = 0; i < kvDim; i++) {
            cache.k[ko + i] = roundToF16(kNew[i]!);
            cache.v[ko + i] = roundToF16(vNew[i]!);
          }
          if (see) {
            see('attn.q', l, pos, f16Bits(q.subarray(qo, qo + qDim)));
            see('attn.k', l, pos, f16Bits(cache.k.subarray(ko, ko + kvDim)));
            see('attn.v', l, pos, f16Bits(cache.v.subarray(ko, ko + kvDim)));
          }
        }
      }
      // --- attention ---
      for (let t = 0; t < n; t++) {
        const pos = start + t;
        if (this.kv.format === 'int8') int8Attention(this.attn, q8!, t * qDim, sq!, t * spec.numHeads, this.kv.layers[l]!, pos, attnOut, t * qDim);
        else if (mode === 'prefill') prefillAttention(this.attn, q, t * qDim, this.kv.layers[l]!, pos, attnOut, t * qDim);
        else decodeAttention(this.attn, q, t * qDim, this.kv.layers[l]!, pos, attnOut, t * qDim);
        see?.('attn.out', l, pos, attnOut.subarray(t * qDim, (t + 1) * qDim));
      }
      // --- o_proj (+ attention sub-norm) and residual ---
      for (let t = 0; t < n; t++) {
        const src = attnOut.subarray(t * qDim, (t + 1) * qDim);
        const amax = this.subNormOrMax(src, layer.norms.attn_sub, normed);
        const acc = this.linear(layer.o, layer.norms.attn_sub ? normed : src, amax);
        const c = dequantFactor(amax, layer.o.parts[0]!.scale);
        if (see) {
          const pos = start + t;
          if (layer.norms.attn_sub) see('attn_sub_norm.out', l, pos, normed.subarray(0, qDim));
          this.seeLinearInput(see, 'o_proj', l, pos, layer.o, amax);
          see('o_proj.acc', l, pos, acc.subarray(0, h));
          see('o_proj.out', l, pos, Float32Array.from(acc.subarray(0, h), (a) => f32(a * c)));
        }
        for (let i = 0; i < h; i++) x[t * h + i] = f32(x[t * h + i]! + f32(acc[i]! * c));
        see?.('residual.attn', l, start + t, x.subarray(t * h, (t + 1) * h));
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
        const pos = start + t;
        if (see) {
          see('post_attention_norm.out', l, pos, normed.subarray(0, h));
          this.seeLinearInput(see, 'gate_up', l, pos, layer.gateUp, amax);
          see('gate_proj.acc', l, pos, acc.subarray(pg.row0, pg.row0 + F));
          see('up_proj.acc', l, pos, acc.subarray(pu.row0, pu.row0 + F));
          see('gate_proj.out', l, pos, Float32Array.from(acc.subarray(pg.row0, pg.row0 + F), (a) => f32(a * cg)));
          see('up_proj.out', l, pos, Float32Array.from(acc.subarray(pu.row0, pu.row0 + F), (a) => f32(a * cu)));
          see('ffn.act', l, pos, ffn);
        }
        const amax2 = this.subNormOrMax(ffn, layer.norms.ffn_sub, normed);
        const acc2 = this.linear(layer.down, layer.norms.ffn_sub ? normed : ffn, amax2);
        const c = dequantFactor(amax2, layer.down.parts[0]!.scale);
        if (see) {
          if (layer.norms.ffn_sub) see('ffn_sub_norm.out', l, pos, normed.subarray(0, F));
          this.seeLinearInput(see, 'down_proj', l, pos, layer.down, amax2);
          see('down_proj.acc', l, pos, acc2.subarray(0, h));
          see('down_proj.out', l, pos, Float32Array.from(acc2.subarray(0, h), (a) => f32(a * c)));
        }
        for (let i = 0; i < h; i++) x[t * h + i] = f32(x[t * h + i]! + f32(acc2[i]! * c));
        see?.('residual.ffn', l, pos, x.subarray(t * h, (t + 1) * h));
        trace?.(l, 'layer_out', t, x.subarray(t * h, (t + 1) * h));
      }
    }
    this.positionValue = start + n;
    this.passes++;

    // --- final norm and LM head (on the ARM cores in hardware) ---
    const out: Float32Array[] = [];
    for (let t = opts.allLogits ? 0 : n - 1; t < n; t++) {
      const amax = rmsMax(x, t * h, h, w.finalNorm, spec.rmsNormEps, normed, 0);
      trace?.(spec.numLayers, 'final_norm', t, normed.subarray(0, h));
      if (see) {
        see('final_norm.out', null, start + t, normed.subarray(0, h));
        see('head.amax', null, start + t, Float32Array.of(amax));
      }
      out.push(this.lmHead(normed, amax, start + t, see));
    }
    return out;
  }

  /** An emitter for one pass: the tensor's format follows from its array type. */
  private emitter(observer: Observer, pass: number): Emit {
    return (name, layer, position, data) => {
      const dtype = data instanceof Float32Array ? 'f32' : data instanceof Uint16Array ? 'f16' : data instanceof Int8Array ? 'i8' : 'i32';
      observer({ name, layer, position, pass, dtype, shape: [data.length], data });
    };
  }

  /** A linear's quantised input (int8, still in the arena after the lookups) and the amax it used. */
  private seeLinearInput(see: Emit, name: string, layer: number, position: number, m: FusedLinear, amax: number): void {
    see(`${name}.amax`, layer, position, Float32Array.of(amax));
    see(`${name}.in`, layer, position, this.pool.arena.i8(this.actOff, m.cols));
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

  /**
   * The LM head of the build: every logit from the int8 head (§9), or the ternary shortlist with
   * its rows rescored exactly (§9.2), returned with −∞ for every id outside the shortlist.
   */
  private lmHead(v: Float32Array, amax: number, position: number, see: Emit | null): Float32Array {
    return this.numerics.lm_head === 'ternary-shortlist' ? this.shortlistHead(v, amax, position, see) : this.int8Head(v, amax, position, see);
  }

  /** Quantise the final norm output into the arena's activation buffer (q_x of §9); returns it. */
  private quantizeHeadInput(v: Float32Array, amax: number, cols: number): Int8Array {
    const act = this.pool.arena.i8(this.actOff, cols);
    quantizeToken(v, 0, cols, amax, act, 0);
    return act;
  }

  private shortlistHead(v: Float32Array, amax: number, position: number, see: Emit | null): Float32Array {
    const th = this.weights.ternaryHead!;
    const head = this.weights.head;
    const arena = this.pool.arena;
    // a_r = Σ q_x,c · t_rc through the TLMM tables, exactly like a linear.
    arena.i8(this.actOff, th.groups * 3).fill(0);
    const qx = this.quantizeHeadInput(v, amax, th.cols);
    this.pool.buildTables(this.actOff, th.groups, this.tablesOff);
    this.pool.tlmm(th.idxOff, th.groups, this.tablesOff, this.accOff, th.blocks);
    const a = arena.i32(this.accOff, th.rows);
    // score_r = f32(f32(a_r) × w_r); f32(a_r) is exact (|a_r| ≤ 127·hidden < 2^24).
    const scores = new Float32Array(th.rows);
    for (let r = 0; r < th.rows; r++) scores[r] = f32(a[r]! * th.scale[r]!);
    const ids = selectShortlist(scores, this.numerics.shortlist_k);
    // Rescoring: the int8 rows of the shortlist, exactly as §9.
    const rows = arena.i8(head.off, head.rows * head.stride);
    const rescored = new Float32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const r = ids[i]!;
      let acc = 0;
      for (let c = 0; c < head.cols; c++) acc += qx[c]! * rows[r * head.stride + c]!;
      rescored[i] = f32(f32(acc) * headDequantFactor(amax, head.rowAmax[r]!));
    }
    if (see) {
      see('head.in', null, position, qx.subarray(0, th.cols));
      see('head.ternary_acc', null, position, a);
      see('head.scores', null, position, scores);
      see('head.shortlist', null, position, ids);
      see('head.rescored', null, position, rescored);
    }
    const logits = new Float32Array(head.rows).fill(-Infinity);
    for (let i = 0; i < ids.length; i++) logits[ids[i]!] = rescored[i]!;
    return logits;
  }

  private int8Head(v: Float32Array, amax: number, position: number, see: Emit | null): Float32Array {
    const head = this.weights.head;
    const arena = this.pool.arena;
    const act = this.quantizeHeadInput(v, amax, head.cols);
    const x16 = arena.i16(this.x16Off, head.stride);
    x16.fill(0);
    for (let i = 0; i < head.cols; i++) x16[i] = act[i]!;
    this.pool.dotRows(head.off, head.stride, this.x16Off, head.stride, this.headOutOff, head.rows);
    const acc = arena.i32(this.headOutOff, head.rows);
    const logits = new Float32Array(head.rows);
    // |acc| can exceed 2^24 here (127^2 * hidden), so the int -> binary32 conversion rounds: explicit.
    for (let r = 0; r < head.rows; r++) logits[r] = f32(f32(acc[r]!) * headDequantFactor(amax, head.rowAmax[r]!));
    if (see) {
      see('head.in', null, position, act.subarray(0, head.cols));
      see('head.acc', null, position, acc);
      see('head.logits', null, position, logits);
    }
    return logits;
  }
}

/** Emits one observed tensor (see GoldenModel.emitter). */
type Emit = (name: string, layer: number | null, position: number, data: Float32Array | Uint16Array | Int8Array | Int32Array) => void;

/** binary16 bit patterns of values that are exactly representable in binary16 (rounded already). */
function f16Bits(v: Float32Array): Uint16Array {
  return Uint16Array.from(v, (x) => f32ToF16Sat(x));
}

/** A contract choice the golden model does not know is refused up front (a newer hardware description). */
function checkNumerics(n: ContractNumerics): void {
  if (n.kv_format !== 'fp16' && n.kv_format !== 'int8') throw new TellmeError('E_USAGE', `unknown kv_format ${String(n.kv_format)}`, 'use fp16 or int8');
  if (n.lm_head !== 'int8' && n.lm_head !== 'ternary-shortlist') throw new TellmeError('E_USAGE', `unknown lm_head ${String(n.lm_head)}`, 'use int8 or ternary-shortlist');
  if (!Number.isInteger(n.shortlist_k) || n.shortlist_k < 1) throw new TellmeError('E_USAGE', `shortlist_k must be a positive integer, got ${n.shortlist_k}`, 'set numerics.shortlist_k of the hardware description to a positive integer');
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
