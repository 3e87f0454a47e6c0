/**
 * The element-wise kernels of the linear path in C simulation, bit for bit against the golden
 * model's pieces (host/src/numerics): RMS-MAX chained into the quantiser (rmsMax / absMax,
 * quantizeToken), and the dequantiser with each fused operation (dequantFactor; RoPE and binary16
 * rounding of q/k/v; the residual add; ReLU²·up and SiLU·up) on tiles as kv260 cuts the linears.
 * Five seeds plus edge cases: all-zero input, inputs of 2^100 and 2^-120, lengths that are not
 * whole beats or chunks, K = 8640, accumulators at ±127·8652, absmax below the floor. Planted
 * one-bit changes in each kernel must fail.
 */
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHwConfig } from '../../host/src/hwconfig/load.js';
import { tileRows } from '../../host/src/layout/uram.js';
import { roundToF16 } from '../../host/src/numerics/f16.js';
import { bitsToF32, f32 } from '../../host/src/numerics/f32.js';
import { relu2Gate, siluGate } from '../../host/src/numerics/functions.js';
import { dequantFactor, quantizeToken } from '../../host/src/numerics/quant.js';
import { absMax } from '../../host/src/numerics/reduce.js';
import { rmsMax } from '../../host/src/numerics/rmsmax.js';
import { applyRope, ropeTable } from '../../host/src/numerics/rope.js';
import { Rng } from '../../host/src/testmodels/prng.js';
import { buildDriver, buildMutant, runDriver, tempDir } from './build.js';
import { VectorWriter } from './vectors.js';

const hw = loadHwConfig('kv260');
const CHUNK = hw.derived.chunkElements;

/** A binary32 value log-uniform in [2^lo, 2^hi) with a random sign (normal, as every producer's output is). */
function value(rng: Rng, lo: number, hi: number): number {
  const e = lo + Math.floor(rng.uniform() * (hi - lo));
  const bits = ((rng.nextU32() & 0x80000000) | ((e + 127) << 23) | (rng.nextU32() & 0x7fffff)) >>> 0;
  return bitsToF32(bits);
}

interface NormCase {
  name: string;
  n: number;
  tokens: number;
  withNorm: boolean;
  x: (rng: Rng) => number;
}

function writeNormCase(dir: string, c: NormCase, seed: number): string {
  const rng = new Rng(seed, 0x726d73);
  const { n, tokens } = c;
  const chunks = Math.ceil(n / CHUNK);
  const w = Float32Array.from({ length: n }, () => value(rng, -3, 2));
  const x = Float32Array.from({ length: n * tokens }, () => c.x(rng));
  const eps = [1e-5, 1e-6][rng.nextU32() % 2]!;
  const y = new Float32Array(n * tokens);
  const amax = new Float32Array(tokens);
  const act = new Int8Array(tokens * chunks * CHUNK);
  for (let t = 0; t < tokens; t++) {
    if (c.withNorm) amax[t] = rmsMax(x, t * n, n, w, eps, y, t * n);
    else {
      y.set(x.subarray(t * n, (t + 1) * n), t * n);
      amax[t] = absMax(x, t * n, n);
    }
    quantizeToken(y, t * n, n, amax[t]!, act, t * chunks * CHUNK);
  }
  const v = new VectorWriter().u32('n', n).u32('tokens', tokens).u32('with_norm', c.withNorm ? 1 : 0).f32('eps', eps);
  v.add('w', 'f32', w).add('x', 'f32', x).add('y', 'f32', y).add('amax', 'f32', amax).add('act', 'i8', act);
  return v.write(path.join(dir, `${c.name}-s${seed}.tlvf`));
}

const DQ = { plain: 0, f16: 1, ropeF16: 2, residual: 3, gate: 4 } as const;

interface DequantCase {
  name: string;
  /** The whole linear's rows; the case is one of its kv260 tiles. */
  linearRows: number;
  cols: number;
  tile: number;
  headDim: number;
  tokens: number;
  mode: number;
  activation: 0 | 1;
  acc: (rng: Rng) => number;
  amax: (rng: Rng) => number;
}

function writeDequantCase(dir: string, c: DequantCase, seed: number): string {
  const rng = new Rng(seed, 0x6471);
  const tiles = tileRows(c.linearRows, Math.ceil(c.cols / CHUNK), hw);
  const tile = tiles[Math.min(c.tile, tiles.length - 1)]!;
  const R = c.linearRows;
  const positions = 64;
  const rope = ropeTable(c.headDim, 10000, positions);
  const ws = Math.abs(value(rng, -4, 1));
  const acc = new Int32Array(c.tokens * tile.rows);
  const side = new Float32Array(c.tokens * tile.rows);
  const y = new Float32Array(c.tokens * tile.rows);
  const amax = new Float32Array(c.tokens);
  const pos = new Uint32Array(c.tokens);
  for (let t = 0; t < c.tokens; t++) {
    amax[t] = c.amax(rng);
    pos[t] = rng.nextU32() % positions;
    const cf = dequantFactor(amax[t]!, ws);
    // The whole linear's output for this token, then the fused operation, then the tile's slice.
    const full = new Float32Array(R);
    const fullAcc = new Int32Array(R);
    for (let r = 0; r < R; r++) {
      fullAcc[r] = c.acc(rng);
      full[r] = f32(fullAcc[r]! * cf);
    }
    if (c.mode === DQ.ropeF16) for (let h = 0; h < R / c.headDim; h++) applyRope(full, h * c.headDim, c.headDim, pos[t]!, rope);
    for (let i = 0; i < tile.rows; i++) {
      const r = tile.rowStart + i;
      const s = value(rng, -6, 6);
      const k = t * tile.rows + i;
      acc[k] = fullAcc[r]!;
      side[k] = s;
      const v = full[r]!;
      switch (c.mode) {
        case DQ.plain: y[k] = v; break;
        case DQ.f16:
        case DQ.ropeF16: y[k] = roundToF16(v); break;
        case DQ.residual: y[k] = f32(s + v); break;
        case DQ.gate: y[k] = c.activation === 1 ? siluGate(v, s) : relu2Gate(v, s); break;
      }
    }
  }
  const v = new VectorWriter().u32('rows', tile.rows).u32('row_start', tile.rowStart).u32('head_dim', c.headDim).u32('tokens', c.tokens);
  v.u32('mode', c.mode).u32('activation', c.activation).f32('w_s', ws);
  v.add('acc', 'i32', acc).add('amax', 'f32', amax).add('pos', 'u32', pos).add('rope', 'f32', rope).add('side', 'f32', side).add('y', 'f32', y);
  return v.write(path.join(dir, `${c.name}-s${seed}.tlvf`));
}

const accUniform = (rng: Rng) => (rng.nextU32() % (2 * 127 * 8652 + 1)) - 127 * 8652;
const accSmall = (rng: Rng) => (rng.nextU32() % 20001) - 10000;
const amaxNormal = (rng: Rng) => Math.abs(value(rng, -4, 6));

function normCases(rng: Rng, seed: number): NormCase[] {
  const n = 16 * (1 + (rng.nextU32() % 200)) + (seed % 2 === 0 ? 7 : 0);
  return [
    { name: `norm-random${seed}`, n, tokens: 1 + (rng.nextU32() % 3), withNorm: true, x: (r) => value(r, -8, 8) },
    { name: `max-random${seed}`, n, tokens: 2, withNorm: false, x: (r) => value(r, -8, 8) },
  ];
}

const NORM_EDGES: NormCase[] = [
  { name: 'norm-zeros', n: 96, tokens: 1, withNorm: true, x: () => 0 },
  { name: 'norm-huge', n: 1536, tokens: 1, withNorm: true, x: (r) => value(r, 99, 101) },
  { name: 'norm-tiny', n: 240, tokens: 1, withNorm: true, x: (r) => value(r, -126, -118) },
  { name: 'norm-k8640', n: 8640, tokens: 1, withNorm: true, x: (r) => value(r, -10, 12) },
  { name: 'norm-odd', n: 37, tokens: 3, withNorm: true, x: (r) => value(r, -2, 2) },
  { name: 'max-below-floor', n: 100, tokens: 1, withNorm: false, x: (r) => value(r, -30, -20) },
];

function dequantCases(rng: Rng, seed: number): DequantCase[] {
  const act = (seed % 2) as 0 | 1;
  const base = { cols: 1536, tokens: 1 + (rng.nextU32() % 2), acc: accSmall, amax: amaxNormal, activation: act };
  return [
    { ...base, name: `plain${seed}`, linearRows: 4096, tile: 1, headDim: 128, mode: DQ.plain },
    { ...base, name: `v-f16-${seed}`, linearRows: 640, tile: 0, headDim: 128, mode: DQ.f16 },
    { ...base, name: `q-rope${seed}`, linearRows: 2560, cols: 2560, tile: 1, headDim: 128, mode: DQ.ropeF16 },
    { ...base, name: `k-rope-small${seed}`, linearRows: 96, tile: 0, headDim: 16, mode: DQ.ropeF16 },
    { ...base, name: `residual${seed}`, linearRows: 1536, cols: 4096, tile: 2, headDim: 128, mode: DQ.residual },
    { ...base, name: `gate${seed}`, linearRows: 4096, tile: 2, headDim: 128, mode: DQ.gate },
  ];
}

const DEQUANT_EDGES: DequantCase[] = [
  { name: 'gate-relu2-wide', linearRows: 336, cols: 128, tile: 0, headDim: 32, tokens: 2, mode: DQ.gate, activation: 0, acc: accUniform, amax: amaxNormal },
  { name: 'gate-silu-wide', linearRows: 336, cols: 128, tile: 0, headDim: 32, tokens: 2, mode: DQ.gate, activation: 1, acc: accUniform, amax: (r) => Math.abs(value(r, 0, 12)) },
  { name: 'rope-saturating', linearRows: 512, cols: 1536, tile: 0, headDim: 64, tokens: 2, mode: DQ.ropeF16, activation: 0, acc: accUniform, amax: (r) => Math.abs(value(r, 10, 14)) },
  { name: 'amax-below-floor', linearRows: 37, cols: 100, tile: 0, headDim: 2, tokens: 1, mode: DQ.plain, activation: 0, acc: accUniform, amax: () => 1e-7 },
  { name: 'zeros', linearRows: 48, cols: 100, tile: 0, headDim: 16, tokens: 1, mode: DQ.residual, activation: 0, acc: () => 0, amax: () => 0 },
];

describe('RMS-MAX and the quantiser (C simulation) vs the golden numerics', () => {
  let exe: string;
  let files: string[];
  beforeAll(async () => {
    exe = await buildDriver('rmsmax_tb');
    const dir = tempDir('rmsmax');
    files = [];
    for (const seed of [1, 2, 3, 4, 5]) for (const c of normCases(new Rng(seed, 2), seed)) files.push(writeNormCase(dir, c, seed));
    for (const c of NORM_EDGES) files.push(writeNormCase(dir, c, 11));
  });

  it('equal bit for bit: y, amax and the int8 chunks', async () => {
    const r = await runDriver(exe, files);
    expect(r.summary, r.stderr.slice(0, 2000)).toMatchObject({ mismatches: 0, pass: true, cases: files.length });
    expect(r.exitCode).toBe(0);
  });

  it('catches a planted change: the quantiser clamps at 126', async () => {
    const mutant = await buildMutant('rmsmax_tb', 'include/tl_quant.h', '#define TL_INT8_MAX 127', '#define TL_INT8_MAX 126');
    const r = await runDriver(mutant, files);
    expect(r.summary!.mismatches).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/q\[\d+\]: got 0x/);
  });

  it('catches a planted change: the reduction tree pairs lanes i and i+8 first, not neighbours', async () => {
    const mutant = await buildMutant(
      'rmsmax_tb',
      'include/tl_reduce.h',
      'for (int width = TL_REDUCTION_LANES; width > 1; width >>= 1) {',
      'for (int i = 0; i < TL_REDUCTION_LANES / 2; i++) t[i] = tl_add(t[i], t[i + TL_REDUCTION_LANES / 2]);\n  for (int width = TL_REDUCTION_LANES / 2; width > 1; width >>= 1) {',
    );
    const r = await runDriver(mutant, files);
    expect(r.summary!.mismatches).toBeGreaterThan(0);
  });
});

describe('dequantiser with fused RoPE / binary16 / residual / gate (C simulation) vs the golden pieces', () => {
  let exe: string;
  let files: string[];
  beforeAll(async () => {
    exe = await buildDriver('dequant_tb');
    const dir = tempDir('dequant');
    files = [];
    for (const seed of [1, 2, 3, 4, 5]) for (const c of dequantCases(new Rng(seed, 3), seed)) files.push(writeDequantCase(dir, c, seed));
    for (const c of DEQUANT_EDGES) files.push(writeDequantCase(dir, c, 12));
  });

  it('equal bit for bit in every mode', async () => {
    const r = await runDriver(exe, files);
    expect(r.summary, r.stderr.slice(0, 2000)).toMatchObject({ mismatches: 0, pass: true, cases: files.length });
    expect(r.exitCode).toBe(0);
  });

  it('catches a planted change: RoPE adds where it subtracts', async () => {
    const mutant = await buildMutant('dequant_tb', 'include/tl_functions.h', '*a_out = tl_sub(tl_mul(a, c), tl_mul(b, s));', '*a_out = tl_add(tl_mul(a, c), tl_mul(b, s));');
    const r = await runDriver(mutant, files.filter((f) => /rope/.test(f)));
    expect(r.summary!.mismatches).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/token \d+ row \d+: got 0x/);
  });
});
