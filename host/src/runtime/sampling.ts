/**
 * Token selection (docs/numerics.md §10): greedy, temperature, top-k and top-p with a seeded
 * PRNG. The firmware implements the same algorithm, so a seed reproduces a generation on the
 * board bit for bit.
 */

import { f32 } from '../numerics/f32.js';
import { exp32 } from '../numerics/functions.js';
import { TellmeError } from '../errors.js';

/** murmur3's 32-bit finaliser: spreads a seed over the state words. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/**
 * xoshiro128** (Blackman & Vigna). State word i = fmix32(seed + (i+1) * 0x9E3779B9 mod 2^32),
 * seed taken modulo 2^32.
 */
export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    const base = Number(BigInt.asUintN(32, BigInt(Math.trunc(seed))));
    const w = (i: number) => fmix32((base + Math.imul(i + 1, 0x9e3779b9)) >>> 0);
    this.s0 = w(0);
    this.s1 = w(1);
    this.s2 = w(2);
    this.s3 = w(3);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next 32-bit output. */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform binary32 in [0, 1): the top 24 bits of next() times 2^-24 (exact). */
  uniform(): number {
    return (this.next() >>> 8) * 2 ** -24;
  }
}

export interface SamplingOptions {
  /** 0 = greedy. */
  temperature: number;
  /** 0 = no top-k cut. */
  topK: number;
  /** 1 = no nucleus cut. */
  topP: number;
}

export function validateSampling(o: SamplingOptions): void {
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature)) {
    throw new TellmeError('E_USAGE', `temperature must be a finite number >= 0 (got ${o.temperature})`, 'Pass --temperature 0 (greedy) or a positive number.');
  }
  if (!Number.isInteger(o.topK) || o.topK < 0) throw new TellmeError('E_USAGE', `top-k must be an integer >= 0 (got ${o.topK})`, 'Pass --top-k 0 (off) or a positive whole number.');
  if (!(o.topP > 0 && o.topP <= 1)) throw new TellmeError('E_USAGE', `top-p must be in (0, 1] (got ${o.topP})`, 'Pass --top-p in (0, 1]; 1 turns it off.');
}

/** Index of the largest logit; ties go to the lowest index. */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  let bv = logits[0]!;
  for (let i = 1; i < logits.length; i++) {
    const v = logits[i]!;
    if (v > bv) {
      bv = v;
      best = i;
    }
  }
  return best;
}

/**
 * Pick the next token. Candidates are the ids whose logit is not −∞: every id for the int8 head,
 * the shortlist for the ternary-shortlist head (docs/numerics.md §9.2, which marks every other id
 * with −∞). Greedy is the plain argmax: −∞ never wins.
 *  1. candidates by logit descending (ties: lower id first); keep the first topK if set (a topK
 *     larger than the candidates keeps them all);
 *  2. invT = f32(1/T); e_i = exp32(f32(f32(l_i - l_max) * invT)); total = Σ e_i (sequential, in order);
 *  3. if topP < 1: keep the shortest prefix whose running sum c reaches f32(topP * total); total = c;
 *  4. target = f32(rng.uniform() * total); the first candidate whose running sum c > target.
 */
export function sample(logits: ArrayLike<number>, o: SamplingOptions, rng: Xoshiro128): number {
  if (o.temperature === 0) return argmax(logits);
  const ids: number[] = [];
  for (let i = 0; i < logits.length; i++) if (logits[i]! !== -Infinity) ids.push(i);
  ids.sort((a, b) => logits[b]! - logits[a]! || a - b);
  const n = ids.length;
  const k = o.topK > 0 ? Math.min(o.topK, n) : n;
  const invT = f32(1 / o.temperature);
  const lmax = logits[ids[0]!]!;
  const e = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < k; i++) {
    e[i] = exp32(f32(f32(logits[ids[i]!]! - lmax) * invT));
    total = f32(total + e[i]!);
  }
  let kept = k;
  if (o.topP < 1) {
    const threshold = f32(o.topP * total);
    let c = 0;
    for (let i = 0; i < k; i++) {
      c = f32(c + e[i]!);
      if (c >= threshold) {
        kept = i + 1;
        total = c;
        break;
      }
    }
  }
  const target = f32(rng.uniform() * total);
  let c = 0;
  for (let i = 0; i < kept; i++) {
    c = f32(c + e[i]!);
    if (c > target) return ids[i]!;
  }
  return ids[kept - 1]!;
}
