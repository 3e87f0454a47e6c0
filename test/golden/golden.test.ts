/**
 * The golden model end to end on the generated test models:
 *  - equality with an independent scalar re-computation that uses plain integer dot products
 *    instead of TLMM tables, blocked SIMD kernels, fused matrices and worker threads (so the
 *    table-lookup plumbing is checked at model level, bit for bit);
 *  - determinism across thread counts and runs; the generation loop's contract.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/index.js';
import type { Checkpoint } from '../../host/src/checkpoint/types.js';
import { attentionScale, decodeAttention, prefillAttention, type KvLayerCache } from '../../host/src/golden/attention.js';
import { GoldenModel } from '../../host/src/golden/model.js';
import { applyRope, permuteRopeRows, ropeTable } from '../../host/src/numerics/rope.js';
import { argmax } from '../../host/src/runtime/sampling.js';
import { goldenSession } from '../../host/src/golden/session.js';
import { isTellmeError } from '../../host/src/errors.js';
import { generate } from '../../host/src/runtime/generate.js';
import { bf16Flushed, bf16ToF32, f32ToBf16, roundToF16 } from '../../host/src/numerics/f16.js';
import { f32, ftz32, roundHalfEven } from '../../host/src/numerics/f32.js';
import { exp32, relu2Gate, siluGate } from '../../host/src/numerics/functions.js';
import { ABSMAX_FLOOR, dequantFactor, headDequantFactor, quantMultiplier, quantizeToken, quantizeValue } from '../../host/src/numerics/quant.js';
import type { ContractNumerics } from '../../host/src/hwconfig/index.js';
import { absMax } from '../../host/src/numerics/reduce.js';
import { rmsMax } from '../../host/src/numerics/rmsmax.js';
import { dotProductRows } from '../../host/src/tlmm/tables.js';
import { LINEAR_NAMES, type LinearName } from '../../host/src/model/spec.js';
import { writeTestModel, type TestModelInput } from '../../host/src/testmodels/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function makeModel(input: TestModelInput): Checkpoint {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-golden-'));
  dirs.push(dir);
  writeTestModel(dir, input);
  return openCheckpoint(dir);
}

/** The int8 KV cache of the scalar model: per position and KV head, the int8 vector and its scale. */
interface ScalarInt8Kv {
  k: Int8Array[][];
  v: Int8Array[][];
  sk: number[][];
  sv: number[][];
}

/** §8.3 head quantiser, written out: int8 values and σ = f32(max(amax, FLOOR) / 127). */
function headQuant(x: Float32Array, off: number, d: number): { x8: Int8Array; sigma: number } {
  let amax = 0;
  for (let t = 0; t < d; t++) amax = Math.max(amax, Math.abs(x[off + t]!));
  const amaxC = Math.max(amax, ABSMAX_FLOOR);
  const s = f32(127 / amaxC);
  const x8 = new Int8Array(d);
  for (let t = 0; t < d; t++) x8[t] = Math.min(127, Math.max(-127, roundHalfEven(f32(x[off + t]! * s))));
  return { x8, sigma: f32(amaxC / 127) };
}

/** §8.3 attention, written out per query head from the document (independent of golden/attention-int8.ts). */
function scalarInt8Attention(q: { x8: Int8Array; sigma: number }[], kv: ScalarInt8Kv, pos: number, H: number, Hkv: number, d: number): Float32Array {
  const out = new Float32Array(H * d);
  const scale = f32(1 / f32(Math.sqrt(d)));
  for (let h = 0; h < H; h++) {
    const g = Math.floor(h / (H / Hkv));
    const sqs = f32(q[h]!.sigma * scale);
    const s: number[] = [];
    for (let j = 0; j <= pos; j++) {
      let acc = 0;
      for (let t = 0; t < d; t++) acc += q[h]!.x8[t]! * kv.k[j]![g]![t]!;
      s.push(f32(f32(acc) * f32(sqs * kv.sk[j]![g]!)));
    }
    const m = Math.max(...s);
    let V = 0;
    for (let j = 0; j <= pos; j++) V = Math.max(V, kv.sv[j]![g]!);
    const rho = f32(2 ** 24 / V);
    let l = 0;
    const A = new Array<bigint>(d).fill(0n);
    for (let j = 0; j <= pos; j++) {
      const e = exp32(f32(s[j]! - m));
      l = f32(l + e);
      const u = roundHalfEven(f32(f32(e * kv.sv[j]![g]!) * rho));
      expect(u >= 0 && u <= 2 ** 24).toBe(true);
      for (let t = 0; t < d; t++) A[t] = A[t]! + BigInt(u) * BigInt(kv.v[j]![g]![t]!);
    }
    const c = f32((V * 2 ** -24) / l);
    for (let t = 0; t < d; t++) out[h * d + t] = f32(f32(Number(A[t]!)) * c);
  }
  return out;
}

/** A direct, scalar transcription of docs/numerics.md §11 with integer dot products. */
class ScalarModel {
  private readonly lin: Map<string, { t: Int8Array; rows: number; cols: number; scale: number }>;
  private readonly kv: KvLayerCache[];
  private readonly kv8: ScalarInt8Kv[];
  private readonly rope: Float32Array;
  private readonly headQ: Int8Array;
  private readonly headAmax: Float32Array;
  /** §9.2: the ternary head rows and their w_r (written out, not quant/head.ts). */
  private readonly headT: Int8Array;
  private readonly headW: Float32Array;
  private readonly emb: Float32Array;
  pos = 0;

  constructor(
    private readonly ckpt: Checkpoint,
    private readonly ctx: number,
    private readonly numerics: ContractNumerics,
  ) {
    const s = ckpt.spec;
    this.lin = new Map();
    for (let l = 0; l < s.numLayers; l++) {
      for (const n of LINEAR_NAMES) {
        const m = ckpt.linear(l, n);
        const t = n === 'q_proj' || n === 'k_proj' ? permuteRopeRows(m.values, m.rows, m.cols, s.headDim) : m.values;
        this.lin.set(`${l}.${n}`, { t, rows: m.rows, cols: m.cols, scale: ftz32(m.scale) });
      }
    }
    const kvDim = s.numKvHeads * s.headDim;
    this.kv = Array.from({ length: s.numLayers }, () => ({ k: new Float32Array(ctx * kvDim), v: new Float32Array(ctx * kvDim) }));
    this.kv8 = Array.from({ length: s.numLayers }, () => ({ k: [], v: [], sk: [], sv: [] }));
    this.rope = ropeTable(s.headDim, s.ropeTheta, ctx);
    const e = ckpt.embedding();
    this.emb = e.data.map((v) => bf16ToF32(bf16Flushed(f32ToBf16(v))));
    const head = s.tiedEmbeddings ? e : ckpt.lmHead();
    this.headQ = new Int8Array(head.rows * head.cols);
    this.headAmax = new Float32Array(head.rows);
    for (let r = 0; r < head.rows; r++) {
      const a = absMax(head.data, r * head.cols, head.cols);
      this.headAmax[r] = a;
      const m = quantMultiplier(a);
      for (let c = 0; c < head.cols; c++) this.headQ[r * head.cols + c] = quantizeValue(head.data[r * head.cols + c]!, m);
    }
    this.headT = new Int8Array(head.rows * head.cols);
    this.headW = new Float32Array(head.rows);
    for (let r = 0; r < head.rows; r++) {
      let sum = 0; // binary64 over the binary32 values, rounded once
      for (let c = 0; c < head.cols; c++) sum += Math.abs(head.data[r * head.cols + c]!);
      const gamma = Math.max(f32(sum / head.cols), ABSMAX_FLOOR);
      const sr = f32(1 / gamma);
      for (let c = 0; c < head.cols; c++) this.headT[r * head.cols + c] = Math.max(-1, Math.min(1, roundHalfEven(f32(head.data[r * head.cols + c]! * sr))));
      this.headW[r] = f32(1 / sr);
    }
  }

  private linear(l: number, n: LinearName, v: Float32Array, amax: number): Float32Array {
    const m = this.lin.get(`${l}.${n}`)!;
    const q = new Int8Array(m.cols);
    quantizeToken(v, 0, m.cols, amax, q, 0);
    const acc = new Int32Array(m.rows);
    dotProductRows(m.t, m.rows, m.cols, q, 0, acc);
    const c = dequantFactor(amax, m.scale);
    return Float32Array.from(acc, (a) => f32(a * c));
  }

  private norm(v: Float32Array, w: Float32Array | null): { y: Float32Array; amax: number } {
    if (!w) return { y: v, amax: absMax(v, 0, v.length) };
    const y = new Float32Array(v.length);
    const amax = rmsMax(v, 0, v.length, w.map(ftz32), this.ckpt.spec.rmsNormEps, y, 0);
    return { y, amax };
  }

  step(id: number, mode: 'prefill' | 'decode'): Float32Array {
    const s = this.ckpt.spec;
    const h = s.hiddenSize;
    const d = s.headDim;
    const x = this.emb.slice(id * h, (id + 1) * h);
    const shape = { numHeads: s.numHeads, numKvHeads: s.numKvHeads, headDim: d, scale: attentionScale(d) };
    const kvDim = s.numKvHeads * d;
    for (let l = 0; l < s.numLayers; l++) {
      let n = this.norm(x, this.ckpt.layerNorm(l, 'input'));
      const q = this.linear(l, 'q_proj', n.y, n.amax);
      const k = this.linear(l, 'k_proj', n.y, n.amax);
      const v = this.linear(l, 'v_proj', n.y, n.amax);
      for (let hh = 0; hh < s.numHeads; hh++) applyRope(q, hh * d, d, this.pos, this.rope);
      for (let hh = 0; hh < s.numKvHeads; hh++) applyRope(k, hh * d, d, this.pos, this.rope);
      let o: Float32Array = new Float32Array(s.numHeads * d);
      if (this.numerics.kv_format === 'int8') {
        const c8 = this.kv8[l]!;
        const kq = Array.from({ length: s.numKvHeads }, (_, g) => headQuant(k, g * d, d));
        const vq = Array.from({ length: s.numKvHeads }, (_, g) => headQuant(v, g * d, d));
        c8.k[this.pos] = kq.map((x) => x.x8);
        c8.sk[this.pos] = kq.map((x) => x.sigma);
        c8.v[this.pos] = vq.map((x) => x.x8);
        c8.sv[this.pos] = vq.map((x) => x.sigma);
        const qq = Array.from({ length: s.numHeads }, (_, hh) => headQuant(q, hh * d, d));
        o = scalarInt8Attention(qq, c8, this.pos, s.numHeads, s.numKvHeads, d);
      } else {
        const cache = this.kv[l]!;
        cache.k.set(k.map(roundToF16), this.pos * kvDim);
        cache.v.set(v.map(roundToF16), this.pos * kvDim);
        const q16 = q.map(roundToF16);
        (mode === 'prefill' ? prefillAttention : decodeAttention)(shape, q16, 0, cache, this.pos, o, 0);
      }
      n = this.norm(o, this.ckpt.layerNorm(l, 'attn_sub'));
      const y = this.linear(l, 'o_proj', n.y, n.amax);
      for (let i = 0; i < h; i++) x[i] = f32(x[i]! + y[i]!);
      n = this.norm(x, this.ckpt.layerNorm(l, 'post_attention'));
      const g = this.linear(l, 'gate_proj', n.y, n.amax);
      const u = this.linear(l, 'up_proj', n.y, n.amax);
      const act = s.activation === 'relu2' ? relu2Gate : siluGate;
      const f = g.map((gv, i) => act(gv, u[i]!));
      n = this.norm(f, this.ckpt.layerNorm(l, 'ffn_sub'));
      const y2 = this.linear(l, 'down_proj', n.y, n.amax);
      for (let i = 0; i < h; i++) x[i] = f32(x[i]! + y2[i]!);
    }
    this.pos++;
    const n = this.norm(x, this.ckpt.finalNorm());
    const qx = new Int8Array(h);
    quantizeToken(n.y, 0, h, n.amax, qx, 0);
    const acc = new Int32Array(s.vocabSize);
    dotProductRows(this.headQ, s.vocabSize, h, qx, 0, acc);
    const int8Logits = Float32Array.from(acc, (a, r) => f32(f32(a) * headDequantFactor(n.amax, this.headAmax[r]!)));
    if (this.numerics.lm_head === 'int8') return int8Logits;
    // §9.2: ternary scores, the K best by (score desc, id asc) from a full sort, exact int8 logits
    // for those, −∞ for the rest.
    const a = new Int32Array(s.vocabSize);
    dotProductRows(this.headT, s.vocabSize, h, qx, 0, a);
    const score = Float32Array.from(a, (v, r) => f32(f32(v) * this.headW[r]!));
    const ids = Array.from({ length: s.vocabSize }, (_, r) => r).sort((x, y) => (score[y]! - score[x]!) || x - y);
    const out = new Float32Array(s.vocabSize).fill(-Infinity);
    for (const r of ids.slice(0, Math.min(this.numerics.shortlist_k, s.vocabSize))) out[r] = int8Logits[r]!;
    return out;
  }
}

const PRESETS: [string, TestModelInput][] = [
  ['bitnet-tiny-packed', { preset: 'bitnet-tiny-packed', tied: false, successor: 0.9 }],
  ['bitnet-tiny-master', { preset: 'bitnet-tiny-master' }],
  ['1bitllm-tiny', { preset: '1bitllm-tiny' }],
  ['hf1bitllm-tiny', { preset: 'hf1bitllm-tiny' }],
];

/** The contract profiles the transcription covers (hw/boards/*.json `numerics`). */
const PROFILES: [string, ContractNumerics][] = [
  ['fp16 KV, int8 head (v1)', { kv_format: 'fp16', lm_head: 'int8', shortlist_k: 256 }],
  ['int8 KV, int8 head', { kv_format: 'int8', lm_head: 'int8', shortlist_k: 256 }],
  // A small K, so that the selection (and its order) matters on these vocabularies.
  ['int8 KV, ternary shortlist of 8', { kv_format: 'int8', lm_head: 'ternary-shortlist', shortlist_k: 8 }],
  ['fp16 KV, ternary shortlist of 3', { kv_format: 'fp16', lm_head: 'ternary-shortlist', shortlist_k: 3 }],
];

describe('golden model = scalar dot-product transcription of docs/numerics.md, bit for bit', () => {
  for (const [profile, numerics] of PROFILES) {
    for (const [name, input] of PRESETS) {
      it(`${profile}: ${name}`, async () => {
        const ckpt = makeModel(input);
        const golden = await GoldenModel.fromCheckpoint(ckpt, { threads: 2, contextLength: 32, numerics });
        const scalar = new ScalarModel(ckpt, 32, numerics);
        const prompt = [5, 17, 3, 99, 42, 7];
        // Prefill: the golden model runs all prompt positions at once; the scalar model token by token.
        const g = golden.prefill(prompt, { allLogits: true });
        for (let t = 0; t < prompt.length; t++) {
          const s = scalar.step(prompt[t]!, 'prefill');
          expect(Buffer.from(g[t]!.buffer).equals(Buffer.from(s.buffer))).toBe(true);
        }
        let next = argmax(g[g.length - 1]!);
        for (let i = 0; i < 6; i++) {
          const gl = golden.decode(next);
          const sl = scalar.step(next, 'decode');
          expect(Buffer.from(gl.buffer).equals(Buffer.from(sl.buffer))).toBe(true);
          next = argmax(gl);
        }
        await golden.close();
      });
    }
  }
});

describe('golden model behaviour', () => {
  it('gives identical bits with 1 and 2 threads and across runs', async () => {
    const ckpt = makeModel({ preset: 'bitnet-tiny-packed', tied: false, successor: 0.9 });
    const runs: Float32Array[][] = [];
    for (const threads of [1, 2, 2]) {
      const m = await GoldenModel.fromCheckpoint(ckpt, { threads, contextLength: 64 });
      const out = m.prefill([1, 2, 3, 4, 5, 6, 7, 8], { allLogits: true });
      for (let i = 0; i < 4; i++) out.push(m.decode(argmax(out[out.length - 1]!)));
      runs.push(out);
      await m.close();
    }
    for (const r of runs.slice(1)) {
      r.forEach((l, i) => expect(Buffer.from(l.buffer).equals(Buffer.from(runs[0]![i]!.buffer))).toBe(true));
    }
  });

  it('reset forgets the KV cache; the context limit is enforced with a clear error', async () => {
    const ckpt = makeModel({ preset: 'hf1bitllm-tiny' });
    const m = await GoldenModel.fromCheckpoint(ckpt, { threads: 1, contextLength: 8 });
    const a = m.prefill([1, 2, 3])[0]!;
    m.reset();
    const b = m.prefill([1, 2, 3])[0]!;
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    let err: unknown;
    try {
      m.prefill([1, 2, 3, 4, 5, 6]);
    } catch (e) {
      err = e;
    }
    expect(isTellmeError(err) && /context limit reached: 3 cached \+ 6 new tokens > 8/.test(err.message)).toBe(true);
    expect(() => m.prefill([ckpt.spec.vocabSize])).toThrow(/outside the vocabulary/);
    await m.close();
  });

  it('generation: greedy = argmax loop, seeded sampling reproducible, top-k 1 = greedy, stop ids, context stop', async () => {
    const ckpt = makeModel({ preset: 'bitnet-tiny-packed', tied: false, successor: 0.9 });
    const m = await GoldenModel.fromCheckpoint(ckpt, { threads: 2, contextLength: 24 });
    const s = goldenSession(m);
    const base = { maxNewTokens: 10, seed: 7, stopIds: [] as number[], topK: 0, topP: 1 };
    const greedy = await generate(s, [3, 4, 5], { ...base, temperature: 0 });
    m.reset();
    const out = m.prefill([3, 4, 5]);
    const manual = [argmax(out[0]!)];
    while (manual.length < 10) manual.push(argmax(m.decode(manual[manual.length - 1]!)));
    expect(greedy.ids).toEqual(manual);
    m.reset();
    const topk1 = await generate(s, [3, 4, 5], { ...base, temperature: 0.8, topK: 1 });
    expect(topk1.ids).toEqual(greedy.ids);
    m.reset();
    const a = await generate(s, [3, 4, 5], { ...base, temperature: 40 });
    m.reset();
    const b = await generate(s, [3, 4, 5], { ...base, temperature: 40 });
    expect(a.ids).toEqual(b.ids);
    m.reset();
    const c = await generate(s, [3, 4, 5], { ...base, temperature: 40, seed: 8 });
    expect(c.ids).not.toEqual(a.ids);
    m.reset();
    const stopped = await generate(s, [3, 4, 5], { ...base, temperature: 0, stopIds: [greedy.ids[2]!] });
    expect(stopped.ids).toEqual(greedy.ids.slice(0, greedy.ids.indexOf(greedy.ids[2]!) + 1));
    expect(stopped.stopReason).toBe('eos');
    m.reset();
    const long = await generate(s, [3, 4, 5], { ...base, temperature: 0, maxNewTokens: 100 });
    expect(long.stopReason).toBe('context');
    expect(long.ids.length).toBe(24 - 3 + 1);
    await m.close();
  });
});
