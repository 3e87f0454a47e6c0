/**
 * Vector files for hls/csim/numerics_check.c, computed by the golden model's numerics
 * (host/src/numerics): one file per operation, inputs and expected output bits
 * (format in numerics_check.c). Dense sweeps cover exp, rsqrt, sigmoid, SiLU and the binary16
 * conversion bit pattern by bit pattern; the rest are seeded random records plus edge cases.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { bf16ToF32, f16ToF32, f32ToF16Sat, roundToF16 } from '../../host/src/numerics/f16.js';
import { bitsToF32, f32, f32ToBits, frexpExponent, ldexp32, roundHalfEven } from '../../host/src/numerics/f32.js';
import { exp32, relu2Gate, rsqrt32, sigmoid32, silu32, siluGate } from '../../host/src/numerics/functions.js';
import { dequantFactor, headDequantFactor, quantMultiplier, quantizeValue } from '../../host/src/numerics/quant.js';
import { dot16, sumSquares16 } from '../../host/src/numerics/reduce.js';
import { invLength, rmsMax } from '../../host/src/numerics/rmsmax.js';
import { Rng } from '../../host/src/testmodels/prng.js';

type Words = number[];

class VectorFile {
  private words = new Uint32Array(1 << 16);
  private n = 0;
  records = 0;
  constructor(readonly op: string) {}
  /** A plain record: the inputs and the expected outputs. */
  record(inputs: Words, outputs: Words): void {
    this.push(0, inputs, outputs);
  }
  /** A sweep of a unary operation: (start bits, stride, count) and the count expected results. */
  sweepRecord(start: number, stride: number, outputs: Words): void {
    this.push(1, [start >>> 0, stride, outputs.length], outputs);
  }
  private push(kind: number, inputs: Words, outputs: Words): void {
    const need = this.n + 3 + inputs.length + outputs.length;
    if (need > this.words.length) {
      const grown = new Uint32Array(Math.max(need, 2 * this.words.length));
      grown.set(this.words.subarray(0, this.n));
      this.words = grown;
    }
    const w = this.words;
    w[this.n++] = kind;
    w[this.n++] = inputs.length;
    for (const x of inputs) w[this.n++] = x;
    w[this.n++] = outputs.length;
    for (const x of outputs) w[this.n++] = x;
    this.records++;
  }
  write(dir: string): string {
    const head = new Uint32Array(7);
    const name = Buffer.alloc(16);
    name.write(this.op, 'latin1');
    for (let i = 0; i < 4; i++) head[2 + i] = name.readUInt32LE(4 * i);
    head[0] = 0x564e4c54; // 'TLNV' little-endian
    head[1] = 1;
    head[6] = this.records;
    const body = this.words.subarray(0, this.n);
    const file = path.join(dir, `${this.op}.bin`);
    fs.writeFileSync(file, Buffer.concat([Buffer.from(head.buffer), Buffer.from(body.buffer, body.byteOffset, body.byteLength)]));
    return file;
  }
}

const F = bitsToF32;
const U = (x: number): number => f32ToBits(x);
const isNaNBits = (u: number): boolean => (u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0;

/** A sweep record: every stride-th bit pattern from start (count values) of a unary op. */
function sweep(v: VectorFile, start: number, stride: number, count: number, fn: (bits: number) => number): void {
  const out: number[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = fn((start + i * stride) >>> 0) >>> 0;
  v.sweepRecord(start, stride, out);
}

/** Sweep [lo, hi] (bit patterns, same sign) with about n points, then every pattern within ±k of each anchor. */
function denseSweep(v: VectorFile, lo: number, hi: number, n: number, anchors: number[], k: number, fn: (bits: number) => number): void {
  const stride = Math.max(1, Math.floor((hi - lo) / n));
  sweep(v, lo, stride, Math.floor((hi - lo) / stride) + 1, fn);
  for (const a of anchors) {
    const start = Math.max(0, U(a) - k);
    if ((start & 0x80000000) !== (U(a) & 0x80000000) && a !== 0) continue;
    sweep(v, start, 1, 2 * k + 1, fn);
  }
}

/** A random binary32 that is zero or normal (every producer flushes), log-uniform in [2^lo, 2^hi). */
function randomF32(rng: Rng, lo = -126, hi = 127): number {
  const r = rng.nextU32();
  if ((r & 0xff) === 0) return (r & 0x100) ? -0 : 0;
  const e = lo + Math.floor(rng.uniform() * (hi - lo));
  const man = rng.nextU32() & 0x7fffff;
  const sign = r & 0x200 ? 0x80000000 : 0;
  return F((sign | ((e + 127) << 23) | man) >>> 0);
}

function unaryRecords(v: VectorFile, xs: number[], fn: (x: number) => number): void {
  for (const x of xs) v.record([U(x)], [U(fn(x))]);
}

/** Special values every unary function is checked on. */
const SPECIALS = [0, -0, 1, -1, 0.5, -0.5, Infinity, -Infinity, 2 ** -126, -(2 ** -126), 3.4028234663852886e38, -3.4028234663852886e38];

/** Write every vector file into dir; returns their paths. `scale` shrinks the sweeps (1 = full). */
export function writeNumericsVectors(dir: string, seed: number, scale = 1): string[] {
  const files: string[] = [];
  const rng = new Rng(seed, 0x6e756d);
  const N = Math.max(1000, Math.round(400_000 * scale));

  // --- dense sweeps ---
  const expV = new VectorFile('exp');
  const expFn = (b: number) => (isNaNBits(b) ? 0x7fc00000 : U(exp32(F(b))));
  denseSweep(expV, U(0), U(89), N, [0, 2 ** -126, Math.LN2 / 2, 1, 88], 2048, expFn);
  denseSweep(expV, U(-0), U(-105), N, [-(2 ** -126), -Math.LN2 / 2, -1, -87.3365, -87.68, -103.3], 2048, expFn);
  files.push(expV.write(dir));

  const rsqrtV = new VectorFile('rsqrt');
  denseSweep(rsqrtV, U(2 ** -126), U(3.4e38), N, [1, 2, 4, 2 ** -126, 2 ** 126], 1024, (b) => U(rsqrt32(F(b))));
  unaryRecords(rsqrtV, [0, -0, Infinity], rsqrt32);
  files.push(rsqrtV.write(dir));

  for (const [name, fn] of [
    ['sigmoid', sigmoid32],
    ['silu', silu32],
  ] as const) {
    const v = new VectorFile(name);
    const f = (b: number) => U(fn(F(b)));
    denseSweep(v, U(0), U(100), N, [0, 1, 88, 16.6], 1024, f);
    denseSweep(v, U(-0), U(-100), N, [-1, -88, -87.9, -16.6], 1024, f);
    files.push(v.write(dir));
  }

  const f16V = new VectorFile('f32_to_f16');
  const f16Stride = Math.floor(0xffffffff / (4 * N)) | 1;
  sweep(f16V, 0, f16Stride, Math.floor(0xffffffff / f16Stride), (b) => f32ToF16Sat(F(b)));
  for (const a of [65504, 65520, 2 ** -14, 2 ** -15, 1 + 2 ** -11]) {
    sweep(f16V, U(a) - 8192, 1, 16385, (b) => f32ToF16Sat(F(b)));
    sweep(f16V, (U(-a) - 8192) >>> 0, 1, 16385, (b) => f32ToF16Sat(F(b)));
  }
  files.push(f16V.write(dir));

  const roundV = new VectorFile('round_even');
  const roundStride = Math.floor(U(2 ** 31) / N) | 1;
  sweep(roundV, U(0), roundStride, Math.floor(U(2 ** 31) / roundStride), (b) => roundHalfEven(F(b)));
  sweep(roundV, U(-0), roundStride, Math.floor(U(2 ** 31) / roundStride), (b) => roundHalfEven(F(b)));
  for (const a of [0.5, 1.5, 2.5, 126.5, 127.5, 8388607.5]) {
    sweep(roundV, U(a) - 64, 1, 129, (b) => roundHalfEven(F(b)));
    sweep(roundV, (U(-a) - 64) >>> 0, 1, 129, (b) => roundHalfEven(F(b)));
  }
  files.push(roundV.write(dir));

  // --- exhaustive small domains ---
  // Every binary16 and bfloat16 pattern except NaN encodings, whose payloads never occur in the datapath.
  const h2f = new VectorFile('f16_to_f32');
  const bf = new VectorFile('bf16_to_f32');
  for (let h = 0; h < 65536; h++) {
    if (!Number.isNaN(f16ToF32(h))) h2f.record([h], [U(f16ToF32(h))]);
    // A bfloat16 subnormal reads as a signed zero (numerics.md §2.3); the image stores them flushed.
    const b = (h & 0x7f80) === 0 ? h & 0x8000 : h;
    if (!Number.isNaN(bf16ToF32(b))) bf.record([h], [U(bf16ToF32(b))]);
  }
  files.push(h2f.write(dir), bf.write(dir));

  // --- random records ---
  const binary = (name: string, fn: (a: number, b: number) => number, gen: () => [number, number], extra: [number, number][] = []) => {
    const v = new VectorFile(name);
    for (const [a, b] of extra) v.record([U(a), U(b)], [U(fn(a, b))]);
    for (let i = 0; i < N / 4; i++) {
      const [a, b] = gen();
      v.record([U(a), U(b)], [U(fn(a, b))]);
    }
    files.push(v.write(dir));
  };
  const pair = (): [number, number] => [randomF32(rng), randomF32(rng)];
  const near = (): [number, number] => [randomF32(rng, -70, -56), randomF32(rng, -70, -56)]; // products near 2^-126
  binary('add', (a, b) => f32(a + b), pair, [[2 ** -125, -(2 ** -125) + 2 ** -148], [1, -1], [-0, 0]]);
  binary('sub', (a, b) => f32(a - b), pair, [[2 ** -125, 2 ** -125 - 2 ** -148]]);
  binary('mul', (a, b) => f32(a * b), () => (rng.nextU32() & 1 ? pair() : near()));
  binary('div', (a, b) => f32(a / b), pair, [[1, 0], [-1, 0], [0, 0], [2 ** -100, 2 ** 30]]);
  binary('silu_gate', siluGate, () => [randomF32(rng, -10, 8), randomF32(rng, -10, 8)], [[-100, 3], [100, -2], [0, 5]]);
  binary('relu2_gate', relu2Gate, () => [randomF32(rng, -10, 20), randomF32(rng, -10, 20)], [[-0, 1], [-1, 2], [1e19, 1e19]]);
  {
    // The output is an integer (int8 sign-extended to a word), not binary32 bits.
    const v = new VectorFile('quantize');
    const cases: [number, number][] = [[0.5, 1], [1.5, 1], [2.5, 1], [-2.5, 1], [126.5, 1], [127.5, 1], [-127.5, 1], [200, 1], [-0, 3]];
    for (let i = 0; i < N / 4; i++) {
      const s = quantMultiplier(randomF32(rng, -20, 20));
      cases.push([f32((rng.uniform() * 2 - 1) * (127 / s) * 1.01), s]);
    }
    for (const [x, s] of cases) v.record([U(x), U(s)], [quantizeValue(x, s) >>> 0]);
    files.push(v.write(dir));
  }
  binary('dequant_factor', dequantFactor, () => [Math.abs(randomF32(rng, -30, 30)), Math.abs(randomF32(rng, -20, 10))], [[0, 1], [1e-6, 0.5]]);
  binary('head_dequant', headDequantFactor, () => [Math.abs(randomF32(rng, -30, 30)), Math.abs(randomF32(rng, -30, 10))], [[0, 0]]);
  {
    const v = new VectorFile('dequantize');
    const accs = [0, 1, -1, 2 ** 22, -(2 ** 22), 2 ** 24 + 1, -(2 ** 31), 2 ** 31 - 1];
    for (let i = 0; i < N / 4; i++) accs.push((rng.nextU32() | 0) >> (rng.nextU32() % 31));
    for (const acc of accs) {
      const c = Math.abs(randomF32(rng, -40, 0));
      v.record([acc >>> 0, U(c)], [U(f32(f32(acc) * c))]);
    }
    files.push(v.write(dir));
  }
  {
    const v = new VectorFile('ldexp');
    const cases: [number, number][] = [[F(0x00ffffff), -1], [F(0x00fffffe), -1], [1, -150], [1, -149], [1.5, -149], [3.4e38, 1], [1, 127], [1, 128], [-0, 5], [Infinity, -3]];
    for (let i = 0; i < N / 4; i++) cases.push([randomF32(rng), (rng.nextU32() % 601) - 300]);
    for (const [x, e] of cases) v.record([U(x), e >>> 0], [U(ldexp32(x, e))]);
    files.push(v.write(dir));
  }
  {
    const v = new VectorFile('frexp_exponent');
    for (const x of [...SPECIALS.filter(Number.isFinite), ...Array.from({ length: 2000 }, () => randomF32(rng))]) {
      v.record([U(x)], [frexpExponent(x) >>> 0]);
    }
    files.push(v.write(dir));
  }
  {
    const v = new VectorFile('sqrt');
    unaryRecords(v, [...SPECIALS.filter((x) => !(x < 0)), ...Array.from({ length: N / 8 }, () => Math.abs(randomF32(rng)))], (x) => f32(Math.sqrt(x)));
    files.push(v.write(dir));
  }
  {
    const v = new VectorFile('round_f16');
    unaryRecords(v, Array.from({ length: N / 8 }, () => randomF32(rng, -30, 20)), roundToF16);
    files.push(v.write(dir));
  }
  {
    const v = new VectorFile('quant_multiplier');
    unaryRecords(v, [0, 1e-5, 1e-6, ...Array.from({ length: N / 8 }, () => Math.abs(randomF32(rng, -30, 40)))], quantMultiplier);
    files.push(v.write(dir));
  }
  {
    const v = new VectorFile('inv_length');
    for (const n of [1, 3, 1536, 2560, 3200, 4096, 6912, 8640, 8652]) v.record([n], [U(invLength(n))]);
    files.push(v.write(dir));
  }
  {
    const v = new VectorFile('rope_pair');
    for (let i = 0; i < N / 8; i++) {
      const a = randomF32(rng, -20, 16);
      const b = randomF32(rng, -20, 16);
      const angle = rng.uniform() * 100;
      const c = Math.fround(Math.cos(angle));
      const s = Math.fround(Math.sin(angle));
      v.record([U(a), U(b), U(c), U(s)], [U(f32(f32(a * c) - f32(b * s))), U(f32(f32(b * c) + f32(a * s)))]);
    }
    files.push(v.write(dir));
  }
  // --- reductions and RMS-MAX ---
  {
    const dot = new VectorFile('dot16');
    const ssq = new VectorFile('sum_squares16');
    const lengths = [0, 1, 15, 16, 17, 31, 32, 33, 96, 128, 1536];
    for (let i = 0; i < 40 * scale + 8; i++) lengths.push(rng.nextU32() % 600);
    for (const n of lengths) {
      const a = Array.from({ length: n }, () => randomF32(rng, -20, 20));
      const b = Array.from({ length: n }, () => randomF32(rng, -20, 20));
      dot.record([n, ...a.map(U), ...b.map(U)], [U(dot16(a, 0, b, 0, n))]);
      ssq.record([n, ...a.map(U)], [U(sumSquares16(a, 0, n))]);
    }
    const big = [1e8, ...new Array(31).fill(1)];
    dot.record([32, ...big.map(U), ...new Array(32).fill(U(1))], [U(dot16(big, 0, new Array(32).fill(1), 0, 32))]);
    files.push(dot.write(dir), ssq.write(dir));
  }
  {
    const v = new VectorFile('rmsmax');
    const cases: { n: number; gen: () => number }[] = [
      { n: 16, gen: () => 0 },
      { n: 1536, gen: () => randomF32(rng, -8, 4) },
      { n: 2560, gen: () => randomF32(rng, -30, 30) },
      { n: 100, gen: () => F((U(2 ** 100) | (rng.nextU32() & 0x7fffff)) >>> 0) * (rng.nextU32() & 1 ? 1 : -1) },
      { n: 33, gen: () => randomF32(rng, -126, -100) },
      { n: 8640, gen: () => randomF32(rng, -4, 12) },
    ];
    for (let i = 0; i < 6; i++) cases.push({ n: 1 + (rng.nextU32() % 3000), gen: () => randomF32(rng, -20, 20) });
    for (const { n, gen } of cases) {
      const x = Float32Array.from({ length: n }, gen);
      const w = Float32Array.from({ length: n }, () => randomF32(rng, -4, 2));
      const eps = [1e-5, 1e-6, 1e-8][rng.nextU32() % 3]!;
      const y = new Float32Array(n);
      const amax = rmsMax(x, 0, n, w, eps, y, 0);
      v.record([n, U(Math.fround(eps)), ...Array.from(x, U), ...Array.from(w, U)], [U(amax), ...Array.from(y, U)]);
    }
    files.push(v.write(dir));
  }
  return files;
}
