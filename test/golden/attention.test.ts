/**
 * Targeted vectors for attention (docs/numerics.md §8): a small GQA case (4 query heads on 2 KV
 * heads, d = 16, 24 cached positions) whose outputs change bits under each plausible wrong
 * order or rounding. The golden model's prefillAttention / decodeAttention must equal a second
 * transcription of §8 written here from the document (its primitives from
 * test/numerics/transcription.ts, not host/src), and the committed hash of their bits; each
 * wrong form of the transcription must differ from them, which shows these inputs kill it.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { attentionScale, decodeAttention, prefillAttention, type AttentionShape, type KvLayerCache } from '../../host/src/golden/attention.js';
import { expT, R, sum16T } from '../numerics/transcription.js';

const H = 4;
const HKV = 2;
const D = 16;
const P = 24;
const QUERY_POSITIONS = [0, 1, 7, 16, 23];

/** Values exactly representable in binary16: multiples of 2^-8 in (-2, 2). */
function lcgF16(seed: number, n: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s >>> 20) - 2048) / 1024;
  });
}

const shape: AttentionShape = { numHeads: H, numKvHeads: HKV, headDim: D, scale: attentionScale(D) };
const cache: KvLayerCache = { k: lcgF16(1, P * HKV * D), v: lcgF16(2, P * HKV * D) };
const q = lcgF16(3, P * H * D);

interface AttnForm {
  keysUpward?: boolean;
  divideByL?: boolean;
  gqaModulo?: boolean;
  /** Prefill with decode's two-pass datapath (and decode with prefill's online softmax). */
  swapDatapaths?: boolean;
  decodeReverse?: boolean;
  /** o accumulated without rounding the product b·v first. */
  fuseOutput?: boolean;
}

function scoreT(qh: ArrayLike<number>, j: number, kvh: number): number {
  const scale = R(1 / R(Math.sqrt(D)));
  const k = cache.k.subarray((j * HKV + kvh) * D, (j * HKV + kvh + 1) * D);
  return R(sum16T(qh, k) * scale);
}

function finish(o: number[], l: number, f: AttnForm): number[] {
  return f.divideByL ? o.map((v) => R(v / l)) : o.map((v) => R(v * R(1 / l)));
}

/** §8.1 for one head. */
function prefillHeadT(qh: ArrayLike<number>, pos: number, kvh: number, f: AttnForm): number[] {
  let m = -Infinity;
  let l = 0;
  let o = new Array<number>(D).fill(0);
  const order = Array.from({ length: pos + 1 }, (_, i) => (f.keysUpward ? i : pos - i));
  for (const j of order) {
    const s = scoreT(qh, j, kvh);
    const m2 = Math.max(m, s);
    const a = expT(R(m - m2));
    const b = expT(R(s - m2));
    l = R(R(l * a) + b);
    const v = cache.v.subarray((j * HKV + kvh) * D);
    o = o.map((ot, t) => R(R(ot * a) + (f.fuseOutput ? b * v[t]! : R(b * v[t]!))));
    m = m2;
  }
  return finish(o, l, f);
}

/** §8.2 for one head. */
function decodeHeadT(qh: ArrayLike<number>, pos: number, kvh: number, f: AttnForm): number[] {
  const s = Array.from({ length: pos + 1 }, (_, j) => scoreT(qh, j, kvh));
  const m = Math.max(...s);
  let l = 0;
  let o = new Array<number>(D).fill(0);
  const order = Array.from({ length: pos + 1 }, (_, i) => (f.decodeReverse ? pos - i : i));
  for (const j of order) {
    const e = expT(R(s[j]! - m));
    l = R(l + e);
    const v = cache.v.subarray((j * HKV + kvh) * D);
    o = o.map((ot, t) => R(ot + (f.fuseOutput ? e * v[t]! : R(e * v[t]!))));
  }
  return finish(o, l, f);
}

function attentionT(mode: 'prefill' | 'decode', pos: number, f: AttnForm = {}): number[] {
  const out: number[] = [];
  for (let h = 0; h < H; h++) {
    const kvh = f.gqaModulo ? h % HKV : Math.floor(h / (H / HKV));
    const qh = q.subarray((pos * H + h) * D, (pos * H + h + 1) * D);
    const prefill = (mode === 'prefill') !== (f.swapDatapaths ?? false);
    out.push(...(prefill ? prefillHeadT(qh, pos, kvh, f) : decodeHeadT(qh, pos, kvh, f)));
  }
  return out;
}

function golden(mode: 'prefill' | 'decode', pos: number): number[] {
  const out = new Float32Array(H * D);
  (mode === 'prefill' ? prefillAttention : decodeAttention)(shape, q, pos * H * D, cache, pos, out, 0);
  return Array.from(out);
}

function hash(vs: number[][]): string {
  return createHash('sha256').update(new Uint8Array(Float32Array.from(vs.flat()).buffer)).digest('hex').slice(0, 16);
}

/** Known answers (hash of the binary32 bits of every head's output at QUERY_POSITIONS). */
const KNOWN = { prefill: '3b050e2e2cce2345', decode: 'a76211e3017db2c0' };

describe('attention: targeted vectors (docs/numerics.md §8)', () => {
  for (const mode of ['prefill', 'decode'] as const) {
    it(`${mode}: equals the §8 transcription bit for bit and the committed known answer`, () => {
      const got = QUERY_POSITIONS.map((p) => golden(mode, p));
      QUERY_POSITIONS.forEach((p, i) => expect(got[i], `${mode} at position ${p}`).toEqual(attentionT(mode, p)));
      expect(hash(got)).toBe(KNOWN[mode]);
    });
  }

  // Each wrong form, on these inputs, changes at least one bit of the documented result.
  const killers: [string, 'prefill' | 'decode' | 'both', AttnForm][] = [
    ['prefill visiting keys upward (0 … i) instead of from i down to 0', 'prefill', { keysUpward: true }],
    ['the output divided by l instead of multiplied by f32(1/l)', 'both', { divideByL: true }],
    ['GQA head h mapped to KV head h mod Hkv instead of ⌊h / (H/Hkv)⌋', 'both', { gqaModulo: true }],
    ['prefill and decode datapaths swapped', 'both', { swapDatapaths: true }],
    ['decode pass 2 in reverse position order', 'decode', { decodeReverse: true }],
    ['the b·v / e·v product not rounded before the add', 'both', { fuseOutput: true }],
  ];
  for (const [what, modes, form] of killers) {
    it(`kills: ${what}`, () => {
      for (const mode of modes === 'both' ? (['prefill', 'decode'] as const) : [modes]) {
        const doc = QUERY_POSITIONS.map((p) => attentionT(mode, p));
        const wrong = QUERY_POSITIONS.map((p) => attentionT(mode, p, form));
        expect(hash(wrong), `${mode}: the wrong form gives the same bits`).not.toBe(hash(doc));
      }
    });
  }
});
