/**
 * Token selection (docs/numerics.md §10) against known answers and at its exact boundaries:
 * the PRNG's first outputs for several seeds (computed here by a BigInt transcription of §10,
 * and committed), argmax and candidate ties, top-k, top-p exactly at its threshold.
 */
import { describe, expect, it } from 'vitest';
import { argmax, sample, validateSampling, Xoshiro128 } from '../../host/src/runtime/sampling.js';
import { isTellmeError } from '../../host/src/errors.js';

/** xoshiro128** seeded as §10 says, in BigInt arithmetic (shares nothing with the sampler). */
function xoshiroT(seed: bigint, count: number): number[] {
  const M = (1n << 32n) - 1n;
  const mul = (a: bigint, b: bigint) => (a * b) & M;
  const fmix = (h: bigint) => {
    h ^= h >> 16n;
    h = mul(h, 0x85ebca6bn);
    h ^= h >> 13n;
    h = mul(h, 0xc2b2ae35n);
    return h ^ (h >> 16n);
  };
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & M;
  const S = seed & M;
  const s = [0n, 1n, 2n, 3n].map((i) => fmix((S + (i + 1n) * 0x9e3779b9n) & M));
  const out: number[] = [];
  for (let n = 0; n < count; n++) {
    out.push(Number(mul(rotl(mul(s[1]!, 5n), 7n), 9n)));
    const t = (s[1]! << 9n) & M;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11n);
  }
  return out;
}

/** First four outputs per seed: the known answers a C or RTL PRNG must reproduce. */
const PRNG_KNOWN: [number, number[]][] = [
  [0, [3809008728, 1133695204, 53579671, 2891528803]],
  [1, [2442144158, 3238099751, 3819917871, 2104621829]],
  [42, [2837322924, 544945897, 479756282, 3500138142]],
  [0x9e3779b9, [1292791899, 1284423797, 2013314966, 3703690653]],
  [2 ** 32 - 1, [835879718, 1921286648, 2356205009, 1885780724]],
];

describe('PRNG (xoshiro128**, seeded by fmix32(S + (i+1)·0x9E3779B9))', () => {
  it('matches the committed outputs and a BigInt transcription for seeds 0, 1, 42, φ, 2^32 − 1', () => {
    for (const [seed, known] of PRNG_KNOWN) {
      const r = new Xoshiro128(seed);
      const got = Array.from({ length: 4 }, () => r.next());
      expect(got, `seed ${seed}`).toEqual(xoshiroT(BigInt(seed), 4));
      expect(got, `seed ${seed}`).toEqual(known);
    }
  });

  it('takes the seed modulo 2^32 (2^32 + 5 ≡ 5, −1 ≡ 2^32 − 1)', () => {
    const first = (s: number) => new Xoshiro128(s).next();
    expect(first(2 ** 32 + 5)).toBe(first(5));
    expect(first(-1)).toBe(first(2 ** 32 - 1));
  });

  it('uniform() is the top 24 bits times 2^-24', () => {
    const a = new Xoshiro128(7);
    const b = new Xoshiro128(7);
    for (let i = 0; i < 8; i++) expect(a.uniform()).toBe((b.next() >>> 8) / 2 ** 24);
  });
});

describe('token selection at its boundaries', () => {
  it('argmax: ties go to the lowest index', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(argmax([5, 5, 5])).toBe(0);
    expect(argmax([-1, -0.5, -0.5])).toBe(1);
    expect(argmax([2])).toBe(0);
  });

  it('temperature 0 is greedy whatever the seed', () => {
    for (let seed = 0; seed < 4; seed++) expect(sample([0, 4, 4, 1], { temperature: 0, topK: 0, topP: 1 }, new Xoshiro128(seed))).toBe(1);
  });

  it('candidates with equal logits are ordered by lower id (top-k keeps the lowest ids)', () => {
    const logits = [0, 2, 1, 2, 2, 0];
    const seen = new Set<number>();
    for (let seed = 0; seed < 64; seed++) seen.add(sample(logits, { temperature: 1, topK: 2, topP: 1 }, new Xoshiro128(seed)));
    expect([...seen].sort()).toEqual([1, 3]);
    for (let seed = 0; seed < 16; seed++) expect(sample(logits, { temperature: 1, topK: 1, topP: 1 }, new Xoshiro128(seed))).toBe(1);
  });

  it('top-p stops at the first candidate whose running sum reaches the threshold (c >= P·total, not >)', () => {
    // Two candidates with exp(0) = 1 each, the rest exp(-1000) = 0: total = 2, P = 0.5 → threshold 1,
    // reached exactly by the first candidate, so only id 2 (the lower of the tie) can be drawn.
    const logits = [-1000, -1000, 0, 0, -1000];
    for (let seed = 0; seed < 32; seed++) expect(sample(logits, { temperature: 1, topK: 0, topP: 0.5 }, new Xoshiro128(seed))).toBe(2);
    // One ulp above the threshold the second candidate is kept, and some seed draws it.
    const seen = new Set<number>();
    for (let seed = 0; seed < 32; seed++) seen.add(sample(logits, { temperature: 1, topK: 0, topP: Math.fround(0.5 + 2 ** -24) }, new Xoshiro128(seed)));
    expect([...seen].sort()).toEqual([2, 3]);
  });

  it('draws the first candidate whose running sum exceeds u·total (known ids for fixed logits and seeds)', () => {
    const logits = [0.5, 2, -1, 1.25, 2, 0, 3, -0.75];
    const ids = (o: { temperature: number; topK: number; topP: number }) =>
      Array.from({ length: 12 }, (_, seed) => sample(logits, o, new Xoshiro128(seed)));
    expect(ids({ temperature: 1, topK: 0, topP: 1 })).toEqual(SAMPLED_KNOWN.plain);
    expect(ids({ temperature: 0.5, topK: 3, topP: 1 })).toEqual(SAMPLED_KNOWN.topK);
    expect(ids({ temperature: 1.5, topK: 0, topP: 0.6 })).toEqual(SAMPLED_KNOWN.topP);
  });

  it('many equal logits: top-k keeps exactly the lowest ids', () => {
    const logits = new Array<number>(40).fill(1.5);
    const seen = new Set<number>();
    for (let seed = 0; seed < 64; seed++) seen.add(sample(logits, { temperature: 1, topK: 3, topP: 1 }, new Xoshiro128(seed)));
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2]);
  });

  it('subtracts the largest logit before exp (logits near 100 neither overflow nor collapse onto one id)', () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 32; seed++) seen.add(sample([100, 99.5, 99], { temperature: 1, topK: 0, topP: 1 }, new Xoshiro128(seed)));
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });

  it('a draw exactly on a running sum goes to the next candidate (c > u·total, not >=)', () => {
    // 256 equal logits: e_i = 1, total = 256. Seed 102052's first draw has u = 121/256 exactly,
    // so target = 121 = the running sum after candidate 120: the pick is candidate 121.
    expect((new Xoshiro128(102052).next() >>> 8) / 2 ** 24).toBe(121 / 256);
    expect(sample(new Array<number>(256).fill(0), { temperature: 1, topK: 0, topP: 1 }, new Xoshiro128(102052))).toBe(121);
  });

  it('refuses bad options with a clear error', () => {
    for (const [o, words, fix] of [
      [{ temperature: -1, topK: 0, topP: 1 }, 'temperature must be a finite number >= 0 (got -1)', '--temperature 0'],
      [{ temperature: Infinity, topK: 0, topP: 1 }, 'temperature', '--temperature'],
      [{ temperature: 1, topK: -1, topP: 1 }, 'top-k must be an integer >= 0 (got -1)', '--top-k 0'],
      [{ temperature: 1, topK: 1.5, topP: 1 }, 'top-k', '--top-k'],
      [{ temperature: 1, topK: 0, topP: 0 }, 'top-p must be in (0, 1] (got 0)', '--top-p in (0, 1]'],
      [{ temperature: 1, topK: 0, topP: 1.0000001 }, 'top-p', '--top-p'],
    ] as const) {
      let err: unknown;
      try {
        validateSampling(o);
      } catch (e) {
        err = e;
      }
      expect(isTellmeError(err) && err.code === 'E_USAGE', JSON.stringify(o)).toBe(true);
      expect((err as Error).message).toContain(words);
      expect(isTellmeError(err) && err.fix, 'the fix line names the option').toContain(fix);
    }
    expect(() => validateSampling({ temperature: 0, topK: 0, topP: 1 })).not.toThrow();
  });
});

const SAMPLED_KNOWN = { plain: [3, 1, 1, 4, 6, 3, 4, 6, 6, 6, 6, 6], topK: [1, 6, 6, 6, 6, 1, 6, 6, 6, 6, 6, 6], topP: [4, 1, 6, 1, 6, 4, 4, 6, 6, 6, 6, 6] };
