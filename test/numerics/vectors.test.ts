/**
 * Targeted vectors for the scalar primitives of docs/numerics.md (issue 12): inputs chosen so
 * that each plausible wrong implementation gives a different bit — a constant one ulp off, a
 * rounding left out, a scale product reassociated, a reduction reordered.
 *
 * vectors.json (found by search-vectors.ts) holds, per wrong form, inputs and the documented
 * result's bits. For each form, the test checks that
 *   1. host/src/numerics gives exactly those bits (a known answer: it does not depend on any code);
 *   2. the second transcription (transcription.ts) gives them too (the document says so);
 *   3. the wrong form does not (so the vectors really tell the two apart).
 * Dense sweeps of exp, rsqrt, sigmoid and SiLU over their used input ranges are compared with
 * committed hashes and with the transcription.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { f32ToBits } from '../../host/src/numerics/f32.js';
import { exp32, relu2Gate, rsqrt32, sigmoid32, silu32, siluGate } from '../../host/src/numerics/functions.js';
import { dequantFactor, headDequantFactor, quantMultiplier, quantizeValue } from '../../host/src/numerics/quant.js';
import { dot16, sum16, sumSquares16 } from '../../host/src/numerics/reduce.js';
import { rmsMax } from '../../host/src/numerics/rmsmax.js';
import { expT, FORMS, fromBits, rsqrtT, sigmoidT, siluT, toBits, type Value } from './transcription.js';

interface Vector {
  in: (number | number[])[];
  out: number | number[];
}
const FILE = 'test/numerics/vectors.json';
const VECTORS = (JSON.parse(fs.readFileSync(FILE, 'utf8')) as { vectors: Record<string, Vector[]> }).vectors;

const n = (v: Value) => v as number;
const arr = (v: Value) => v as number[];

/** host/src/numerics for each primitive (the part of a form's name before the colon). */
const HOST: Record<string, (...args: Value[]) => Value> = {
  exp: (x) => exp32(n(x)),
  rsqrt: (x) => rsqrt32(n(x)),
  sigmoid: (x) => sigmoid32(n(x)),
  silu: (x) => silu32(n(x)),
  'relu2 gate': (g, u) => relu2Gate(n(g), n(u)),
  'silu gate': (g, u) => siluGate(n(g), n(u)),
  'dequant factor': (a, w) => dequantFactor(n(a), n(w)),
  'head factor': (a, r) => headDequantFactor(n(a), n(r)),
  'quant multiplier': (a) => quantMultiplier(n(a)),
  quantise: (x, a) => quantizeValue(n(x), quantMultiplier(n(a))),
  dot16: (a, b) => dot16(arr(a), 0, arr(b), 0, arr(a).length),
  sumSquares16: (a) => sumSquares16(arr(a), 0, arr(a).length),
  sum16: (a) => sum16(arr(a), 0, arr(a).length),
  'rms-max': (x, w) => {
    const y = new Float32Array(arr(x).length);
    rmsMax(arr(x), 0, y.length, arr(w), 1e-5, y, 0);
    return Array.from(y);
  },
};

const valueBits = (v: Value): Value => (Array.isArray(v) ? v.map(toBits) : toBits(v));
const args = (vec: Vector): Value[] => vec.in.map((v) => (Array.isArray(v) ? v.map(fromBits) : fromBits(v)));

describe('targeted vectors: each wrong form of a primitive changes a bit', () => {
  it('every catalogued wrong form has vectors (a missing one is a failure: rerun search-vectors.ts)', () => {
    const missing = Object.keys(FORMS).filter((name) => !(VECTORS[name]?.length));
    expect(missing, `${FILE} lacks vectors for`).toEqual(KNOWN_EQUIVALENT_OR_UNFOUND);
  });

  for (const [name, vectors] of Object.entries(VECTORS)) {
    const primitive = name.slice(0, name.indexOf(':'));
    it(`kills ${name}`, () => {
      const host = HOST[primitive];
      const form = FORMS[name];
      expect(host, `no host function for ${primitive}`).toBeDefined();
      expect(form, `${name} is not in transcription.ts`).toBeDefined();
      let told = 0;
      for (const vec of vectors) {
        const x = args(vec);
        expect(valueBits(host!(...x)), `host/src on ${JSON.stringify(vec.in)}`).toEqual(vec.out);
        expect(valueBits(form!.doc(...x)), `transcription on ${JSON.stringify(vec.in)}`).toEqual(vec.out);
        if (JSON.stringify(valueBits(form!.wrong(...x))) !== JSON.stringify(vec.out)) told++;
      }
      expect(told, 'vectors on which the wrong form differs').toBeGreaterThan(0);
    });
  }
});

/**
 * Wrong forms the search finds no vector for: C7 one ulp off changes p by at most
 * 2^-36 · 0.35^7 ≈ 10^-14, and no binary32 with 2^-4 <= |r| <= 0.3465 (every one was tried)
 * lands close enough to a rounding boundary for it to show (docs/measurements.md).
 */
const KNOWN_EQUIVALENT_OR_UNFOUND: string[] = ['exp: C7 (1/5040) +1 ulp', 'exp: C7 (1/5040) -1 ulp'];

function hashF32(v: Float32Array): string {
  return createHash('sha256').update(new Uint8Array(v.buffer)).digest('hex').slice(0, 16);
}

/** A uniform grid of 2^15 + 1 points over [lo, hi] plus every 32749th binary32 bit pattern in it. */
function sweep(lo: number, hi: number): Float32Array {
  const xs: number[] = [];
  for (let i = 0; i <= 1 << 15; i++) xs.push(Math.fround(lo + ((hi - lo) * i) / (1 << 15)));
  for (const sign of [1, -1]) {
    for (let b = 0; b < 0x7f800000; b += 32749) {
      const x = sign * fromBits(b);
      if (x >= lo && x <= hi) xs.push(x);
    }
  }
  return Float32Array.from(xs);
}

describe('dense sweeps against committed hashes and the transcription', () => {
  const cases: [string, (x: number) => number, (x: number) => number, number, number, string][] = [
    ['exp over [-104, 89]', exp32, expT, -104, 89, '56b5ab7ea50e4a41'],
    ['rsqrt over [2^-20, 2^20]', rsqrt32, rsqrtT, 2 ** -20, 2 ** 20, '852aa8586016dd4c'],
    ['sigmoid over [-100, 100]', sigmoid32, sigmoidT, -100, 100, '0f20f1f27d581e56'],
    ['SiLU over [-100, 100]', silu32, siluT, -100, 100, '882e1dc03b3576ad'],
  ];
  for (const [what, host, doc, lo, hi, hash] of cases) {
    it(what, () => {
      const xs = sweep(lo, hi);
      const got = Float32Array.from(xs, host);
      xs.forEach((x, i) => Object.is(got[i], doc(x)) || expect(f32ToBits(got[i]!), `at x = ${x}`).toBe(toBits(doc(x))));
      expect(hashF32(got)).toBe(hash);
    });
  }
});
