/**
 * Finds the targeted vectors of vectors.test.ts: for each wrong form of a primitive
 * (transcription.ts), inputs on which it gives other bits than the documented form.
 *
 *   npx tsx test/numerics/search-vectors.ts [family ...] > test/numerics/vectors.json
 *
 * (families: exp fn scale reduce rms; all by default). Run when a form is added; the output is
 * committed and tests only read it. Deterministic: candidates come in a fixed order (binary32 bit
 * patterns, or a fixed LCG), so the same vectors come out each time. The exp search enumerates
 * every binary32 with 2^-4 <= |x| < ln2/2 and takes minutes.
 */

import { FORMS, fromBits, quantMultiplierT, toBits, ulpStep, type Value } from './transcription.js';

/** A vector: the arguments and the documented result, as binary32 bit patterns. */
export interface Vector {
  in: (number | number[])[];
  out: number | number[];
}

const bitsOf = (v: Value): Value => (Array.isArray(v) ? v.map(toBits) : toBits(v));
const same = (a: Value, b: Value): boolean =>
  Array.isArray(a) ? a.every((v, i) => Object.is(v, (b as number[])[i])) : Object.is(a, b);

const WANT = 2;
const found: Record<string, Vector[]> = {};

interface Hunt {
  name: string;
  doc: (...args: Value[]) => Value;
  wrong: (...args: Value[]) => Value;
}

/** The hunts for every catalogued form whose name starts with prefix. */
function forms(prefix: string): Hunt[] {
  return Object.entries(FORMS)
    .filter(([name]) => name.startsWith(prefix))
    .map(([name, f]) => ({ name, ...f }));
}

/** Feed candidates to every open hunt until each has WANT vectors (or the candidates run out). */
function hunt(hunts: Hunt[], candidates: Iterable<Value[]>): void {
  let open = hunts.filter((h) => (found[h.name]?.length ?? 0) < WANT);
  for (const args of candidates) {
    if (open.length === 0) return;
    for (const h of open) {
      const want = h.doc(...args);
      if (!same(want, h.wrong(...args))) (found[h.name] ??= []).push({ in: args.map(bitsOf), out: bitsOf(want) });
    }
    open = open.filter((h) => (found[h.name]?.length ?? 0) < WANT);
  }
}

/** Every binary32 from |hi| down to |lo|, both signs. */
function* floatsDown(lo: number, hi: number): Generator<number[]> {
  for (let b = toBits(hi); b >= toBits(lo); b--) {
    yield [fromBits(b)];
    yield [-fromBits(b)];
  }
}

/** A fixed LCG in [0, 1) (independent of every other PRNG). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function* randomArgs(seed: number, count: number, make: (rnd: () => number) => Value[]): Generator<Value[]> {
  const rnd = lcg(seed);
  for (let i = 0; i < count; i++) yield make(rnd);
}

function searchExp(): void {
  const hunts = forms('exp: ');
  // The cuts, then large |n| (LN2_LO, r in one rounding), the n boundaries x = (k + 1/2)·ln 2
  // (LOG2E, n unrounded), then n = 0 with the largest |r| first (the Horner coefficients).
  hunt(hunts, [[88], [Math.fround(88 - 2 ** -17)], [-87.33654022216797], [-88.02969360351562], [-87.68311309814453], [-88.37626647949219]]);
  hunt(hunts, floatsDown(80, 87.5));
  const boundaries = function* () {
    for (let k = -126; k <= 126; k++) {
      const b = Math.fround((k + 0.5) * Math.LN2);
      for (let d = -64; d <= 64; d++) yield [ulpStep(Math.abs(b), d) * Math.sign(b)];
    }
  };
  hunt(hunts, boundaries());
  hunt(hunts, floatsDown(0.0625, 0.3465));
}

function searchFunctions(): void {
  hunt(forms('rsqrt: '), randomArgs(7, 1e6, (rnd) => [Math.fround(0.5 + rnd() * 4000)]));
  hunt([...forms('sigmoid: '), ...forms('silu: ')], randomArgs(8, 1e6, (rnd) => [Math.fround((rnd() - 0.5) * 40)]));
  hunt(forms('relu2 gate: '), randomArgs(9, 1e6, (rnd) => [Math.fround(rnd() * 30), Math.fround((rnd() - 0.5) * 30)]));
  hunt(forms('silu gate: '), randomArgs(10, 1e6, (rnd) => [Math.fround((rnd() - 0.5) * 30), Math.fround((rnd() - 0.5) * 30)]));
}

function searchScales(): void {
  const val = (rnd: () => number) => fromBits(0x3c000000 + Math.floor(rnd() * 0x4000000)); // [2^-7, 2^5)
  const pair = (rnd: () => number) => [val(rnd), val(rnd)];
  hunt(forms('dequant factor: '), randomArgs(11, 1e6, pair));
  hunt(forms('head factor: '), randomArgs(12, 1e6, pair));
  hunt(forms('quant multiplier: '), randomArgs(13, 1e6, (rnd) => [val(rnd)]));
  // x·s whose exact product is within half an ulp of a half-integer: rare, hence 10^7 tries.
  hunt(forms('quantise: '), randomArgs(14, 1e7, (rnd) => {
    const m = val(rnd);
    return [Math.fround((rnd() - 0.5) * 2 * m), m];
  }));
}

function searchReductions(): void {
  const vec = (rnd: () => number, len: number) => Array.from({ length: len }, () => Math.fround((rnd() - 0.5) * 2 ** Math.floor(rnd() * 12)));
  const len = (rnd: () => number) => 32 + Math.floor(rnd() * 8);
  hunt(forms('dot16: '), randomArgs(16, 1e5, (rnd) => {
    const k = len(rnd);
    return [vec(rnd, k), vec(rnd, k)];
  }));
  hunt(forms('sumSquares16: '), randomArgs(17, 1e5, (rnd) => [vec(rnd, len(rnd))]));
  hunt(forms('sum16: '), randomArgs(18, 1e5, (rnd) => [vec(rnd, len(rnd))]));
}

function searchRms(): void {
  hunt(forms('rms-max: '), randomArgs(19, 1e5, (rnd) => {
    const k = 24 + Math.floor(rnd() * 8);
    return [Array.from({ length: k }, () => Math.fround((rnd() - 0.5) * 8)), Array.from({ length: k }, () => Math.fround(0.5 + rnd()))];
  }));
}

const FAMILIES: Record<string, () => void> = { exp: searchExp, fn: searchFunctions, scale: searchScales, reduce: searchReductions, rms: searchRms };
const which = process.argv.slice(2);
for (const [name, run] of Object.entries(FAMILIES)) {
  if (which.length === 0 || which.includes(name)) {
    const t0 = performance.now();
    run();
    process.stderr.write(`${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  }
}
process.stdout.write(
  JSON.stringify({ generated_by: 'generated by test/numerics/search-vectors.ts from test/numerics/transcription.ts; do not edit', vectors: found }) + '\n',
);
