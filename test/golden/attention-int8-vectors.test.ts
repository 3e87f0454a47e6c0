/**
 * Targeted vectors for int8 attention (docs/numerics.md §8.3): a GQA case (4 query heads on 2 KV
 * heads, d = 8, 24 positions) with binary32 q, k, v of varied magnitude per position, so scores
 * and the value fixed point round differently under each plausible wrong order or rounding. The
 * head quantiser and int8Attention must equal a second transcription of §8.3 written here from the
 * document (its primitives from test/numerics/transcription.ts, not host/src) and the committed
 * hash of their bits; each wrong form of the transcription must differ from them, which shows
 * these inputs kill it. (attention-int8.test.ts has the hand-worked cases where every rounding is
 * exact; they cannot tell rounding orders apart.)
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attentionScale, type AttentionShape } from '../../host/src/golden/attention.js';
import { int8Attention, int8KvLayerCache, quantizeAttentionHead } from '../../host/src/golden/attention-int8.js';
import { expT, FLOOR, nearestEven, R } from '../numerics/transcription.js';

const H = 4;
const HKV = 2;
const D = 8; // 1/√8 is inexact, as 1/√128 is for 2B-4T: the score scale's association matters
const P = 24;
const QUERY_POSITIONS = [0, 1, 5, 13, 23];

/** binary32 values: a per-vector magnitude 2^(−3 … 3) times a uniform in (−1, 1), seeded. */
function lcgVectors(seed: number, vectors: number): Float32Array {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out = new Float32Array(vectors * D);
  for (let v = 0; v < vectors; v++) {
    const mag = 2 ** Math.floor(next() * 7 - 3);
    for (let t = 0; t < D; t++) out[v * D + t] = Math.fround(mag * (2 * next() - 1));
  }
  return out;
}

const qF = lcgVectors(3, P * H);
const kF = lcgVectors(1, P * HKV);
const vF = lcgVectors(2, P * HKV);

interface Int8Form {
  /** σ = f32(1 ÷ s) instead of f32(amax_c ÷ 127). */
  sigmaViaMultiplier?: boolean;
  /** s_j = f32(f32(acc) × f32(σq × f32(scale × σk))): the query scale not folded first. */
  scoreReassociated?: boolean;
  /** s_j = f32(acc × σq' × σk): the scale product not rounded. */
  scoreFused?: boolean;
  /** exp of (s_j − m) without rounding the difference to binary32. */
  expArgUnrounded?: boolean;
  /** l summed from the last key down to key 0. */
  lDescending?: boolean;
  /** V over every cached key, not the prefix 0 … i. */
  vAllKeys?: boolean;
  /** ρ = 2^24 ÷ V not rounded to binary32. */
  rhoUnrounded?: boolean;
  /** u_j = ⌊f32(e_j × σv_j × ρ)⌉: one rounding instead of two. */
  uOneRounding?: boolean;
  /** u_j truncated instead of rounded to nearest even. */
  uTruncated?: boolean;
  /** out_t = f32(f32(f32(A_t) × V·2^-24) ÷ l) instead of f32(f32(A_t) × f32(V·2^-24 ÷ l)). */
  outTwoSteps?: boolean;
  /** GQA head h mapped to KV head h mod Hkv instead of ⌊h / (H/Hkv)⌋. */
  gqaModulo?: boolean;
}

/** §8.3 head quantiser: int8 values and σ. */
function quantizeHeadT(x: ArrayLike<number>, f: Int8Form): { x8: number[]; sigma: number } {
  let amax = 0;
  for (let t = 0; t < D; t++) amax = Math.max(amax, Math.abs(x[t]!));
  const a = Math.max(amax, FLOOR);
  const s = R(127 / a);
  const x8 = Array.from({ length: D }, (_, t) => Math.min(127, Math.max(-127, nearestEven(R(x[t]! * s)))));
  return { x8, sigma: f.sigmaViaMultiplier ? R(1 / s) : R(a / 127) };
}

function quantizedCache(f: Int8Form) {
  const at = (arr: Float32Array, i: number) => quantizeHeadT(arr.subarray(i * D, (i + 1) * D), f);
  return {
    q: Array.from({ length: P * H }, (_, i) => at(qF, i)),
    k: Array.from({ length: P * HKV }, (_, i) => at(kF, i)),
    v: Array.from({ length: P * HKV }, (_, i) => at(vF, i)),
  };
}

/** §8.3 attention of the query at `pos`, all heads, binary32 outputs. */
function attentionT(pos: number, f: Int8Form = {}): number[] {
  const c = quantizedCache(f);
  const scale = R(1 / R(Math.sqrt(D)));
  const out: number[] = [];
  for (let h = 0; h < H; h++) {
    const g = f.gqaModulo ? h % HKV : Math.floor(h / (H / HKV));
    const q = c.q[pos * H + h]!;
    const sqs = R(q.sigma * scale);
    const keys = Array.from({ length: pos + 1 }, (_, j) => j);
    const scores = keys.map((j) => {
      const k = c.k[j * HKV + g]!;
      let acc = 0;
      for (let t = 0; t < D; t++) acc += q.x8[t]! * k.x8[t]!;
      if (f.scoreFused) return R(acc * sqs * k.sigma);
      if (f.scoreReassociated) return R(R(acc) * R(q.sigma * R(scale * k.sigma)));
      return R(R(acc) * R(sqs * k.sigma));
    });
    const m = Math.max(...scores);
    let V = 0;
    for (const j of f.vAllKeys ? Array.from({ length: P }, (_, i) => i) : keys) V = Math.max(V, c.v[j * HKV + g]!.sigma);
    const rho = f.rhoUnrounded ? 2 ** 24 / V : R(2 ** 24 / V);
    const e = scores.map((s) => expT(f.expArgUnrounded ? s - m : R(s - m)));
    let l = 0;
    for (const j of f.lDescending ? [...keys].reverse() : keys) l = R(l + e[j]!);
    const A = new Array<number>(D).fill(0);
    for (const j of keys) {
      const sv = c.v[j * HKV + g]!.sigma;
      const x = f.uOneRounding ? R(e[j]! * sv * rho) : R(R(e[j]! * sv) * rho);
      const u = f.uTruncated ? Math.floor(x) : nearestEven(x);
      for (let t = 0; t < D; t++) A[t] += u * c.v[j * HKV + g]!.x8[t]!;
    }
    const step = V * 2 ** -24;
    for (let t = 0; t < D; t++) out.push(f.outTwoSteps ? R(R(R(A[t]!) * step) / l) : R(R(A[t]!) * R(step / l)));
  }
  return out;
}

const shape: AttentionShape = { numHeads: H, numKvHeads: HKV, headDim: D, scale: attentionScale(D) };

/** The golden model's quantiser and attention on the same binary32 inputs. */
function golden(pos: number): number[] {
  const cache = int8KvLayerCache(P, HKV, D);
  for (let i = 0; i < P * HKV; i++) {
    cache.sk[i] = quantizeAttentionHead(kF, i * D, D, cache.k8, i * D);
    cache.sv[i] = quantizeAttentionHead(vF, i * D, D, cache.v8, i * D);
  }
  const q8 = new Int8Array(H * D);
  const sq = new Float32Array(H);
  for (let h = 0; h < H; h++) sq[h] = quantizeAttentionHead(qF, (pos * H + h) * D, D, q8, h * D);
  const out = new Float32Array(H * D);
  int8Attention(shape, q8, 0, sq, 0, cache, pos, out, 0);
  return Array.from(out);
}

function hash(vs: number[][]): string {
  return createHash('sha256').update(new Uint8Array(Float32Array.from(vs.flat()).buffer)).digest('hex').slice(0, 16);
}

/** Known answer: hash of the binary32 bits of every head's output at QUERY_POSITIONS. */
const KNOWN = '62e5aa2c39822612';

describe('int8 attention: targeted vectors (docs/numerics.md §8.3)', () => {
  it('the head quantiser equals the transcription on every q, k and v vector', () => {
    const c = quantizedCache({});
    const out8 = new Int8Array(D);
    const check = (arr: Float32Array, want: { x8: number[]; sigma: number }[]) =>
      want.every((w, i) => Object.is(quantizeAttentionHead(arr, i * D, D, out8, 0), w.sigma) && Array.from(out8).every((x, t) => x === w.x8[t]));
    expect(check(qF, c.q) && check(kF, c.k) && check(vF, c.v)).toBe(true);
  });

  it('equals the §8.3 transcription bit for bit and the committed known answer', () => {
    const got = QUERY_POSITIONS.map((p) => golden(p));
    QUERY_POSITIONS.forEach((p, i) => expect(got[i], `position ${p}`).toEqual(attentionT(p)));
    expect(hash(got)).toBe(KNOWN);
  });

  // Each wrong form, on these inputs, changes at least one bit of the documented result.
  const killers: [string, Int8Form][] = [
    ['σ = f32(1 ÷ s) instead of f32(amax_c ÷ 127)', { sigmaViaMultiplier: true }],
    ['the score scale σq × scale × σk associated differently', { scoreReassociated: true }],
    ['the score scale product not rounded', { scoreFused: true }],
    ['exp of s_j − m without rounding the difference', { expArgUnrounded: true }],
    ['l summed in descending key order', { lDescending: true }],
    ['V over every cached key instead of the prefix', { vAllKeys: true }],
    ['ρ = 2^24 ÷ V not rounded to binary32', { rhoUnrounded: true }],
    ['u_j with one rounding instead of two', { uOneRounding: true }],
    ['u_j truncated instead of rounded to nearest even', { uTruncated: true }],
    ['the output scaled in two steps instead of by f32(V·2^-24 ÷ l)', { outTwoSteps: true }],
    ['GQA head h mapped to KV head h mod Hkv', { gqaModulo: true }],
  ];
  for (const [what, form] of killers) {
    it(`kills: ${what}`, () => {
      const doc = QUERY_POSITIONS.map((p) => attentionT(p));
      const wrong = QUERY_POSITIONS.map((p) => attentionT(p, form));
      expect(hash(wrong), 'the wrong form gives the same bits').not.toBe(hash(doc));
    });
  }
});
