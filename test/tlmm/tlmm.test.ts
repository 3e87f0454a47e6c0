import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelPool } from '../../host/src/kernels/pool.js';
import {
  decodeTernary,
  encodeTernary,
  indexToTriple,
  tripleToIndex,
  ZERO_INDEX,
} from '../../host/src/tlmm/encoding.js';
import { accumulatorBits, buildTables, dotProductRows, lookupRows } from '../../host/src/tlmm/tables.js';
import { BLOCK_ROWS, blockCount, blockIndices } from '../../host/src/tlmm/blocked.js';

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function randomTernary(n: number, rnd: () => number, pZero = 0.4): Int8Array {
  const t = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    const u = rnd();
    t[i] = u < pZero ? 0 : u < pZero + (1 - pZero) / 2 ? 1 : -1;
  }
  return t;
}

function randomInt8(n: number, rnd: () => number): Int8Array {
  const a = new Int8Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.floor(rnd() * 255) - 127;
  return a;
}

describe('5-bit index mapping', () => {
  it('is balanced ternary offset by 13, with the all-zero group at 13', () => {
    expect(tripleToIndex(0, 0, 0)).toBe(ZERO_INDEX);
    expect(tripleToIndex(-1, -1, -1)).toBe(0);
    expect(tripleToIndex(1, 1, 1)).toBe(26);
    expect(tripleToIndex(1, 0, -1)).toBe(21);
    for (let i = 0; i < 27; i++) {
      const [a, b, c] = indexToTriple(i);
      expect(tripleToIndex(a, b, c)).toBe(i);
      // sign symmetry used by the table precompute unit
      expect(indexToTriple(26 - i)).toEqual([-a || 0, -b || 0, -c || 0]);
    }
    expect(() => indexToTriple(27)).toThrow(/not a valid code/);
  });

  it('round-trips random matrices with zero padding (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 30 }), fc.integer(), (rows, cols, mult, seed) => {
        const t = randomTernary(rows * cols, lcg(seed));
        const m = encodeTernary(t, rows, cols, mult);
        expect(m.groups % mult).toBe(0);
        expect(m.groups).toBeGreaterThanOrEqual(Math.ceil(cols / 3));
        expect(decodeTernary(m)).toEqual(t);
      }),
    );
  });

  it('rejects invalid codes and non-zero padding on decode', () => {
    const m = encodeTernary(new Int8Array([1, 0, -1, 1]), 1, 4, 1);
    const bad = { ...m, indices: Uint8Array.from(m.indices) };
    bad.indices[0] = 27;
    expect(() => decodeTernary(bad)).toThrow(/invalid TLMM index 27/);
    const pad = { ...m, indices: Uint8Array.from(m.indices) };
    pad.indices[1] = 26; // group 1 covers column 3 and padding columns 4, 5
    expect(() => decodeTernary(pad)).toThrow(/padding/);
  });
});

describe('TLMM lookups equal the integer dot product', () => {
  let pool: KernelPool;
  beforeAll(async () => {
    pool = await KernelPool.create(2);
  });
  afterAll(async () => {
    await pool.close();
  });

  function check(rows: number, cols: number, t: Int8Array, a: Int8Array, mult = 1) {
    const m = encodeTernary(t, rows, cols, mult);
    const tables = new Int32Array(m.groups * 27);
    buildTables(a, 0, cols, m.groups, tables);
    // One assertion per array, not per element: the same checks, fast enough for mutation runs.
    let maxAbs = 0;
    for (let i = 0; i < tables.length; i++) maxAbs = Math.max(maxAbs, Math.abs(tables[i]!));
    expect(maxAbs).toBeLessThanOrEqual(381);
    const viaJs = new Int32Array(rows);
    lookupRows(m, tables, viaJs, 0, rows);
    const oracle = new Int32Array(rows);
    dotProductRows(t, rows, cols, a, 0, oracle);
    expect(viaJs).toEqual(oracle);
    // the WebAssembly kernels (table builder + 16-row SIMD lookups) on the worker pool
    const arena = pool.arena;
    const blocks = blockCount(rows);
    const idxOff = arena.alloc(blocks * BLOCK_ROWS * m.groups, 64);
    blockIndices(m, arena.u8(idxOff, blocks * BLOCK_ROWS * m.groups));
    const actOff = arena.alloc(m.groups * 3, 64);
    const act = arena.i8(actOff, m.groups * 3);
    act.fill(0);
    act.set(a.subarray(0, cols));
    const tOff = arena.alloc(KernelPool.tableBytes(m.groups), 64);
    pool.buildTables(actOff, m.groups, tOff);
    // the wasm tables hold the same int16 entries as the JS tables, in two byte planes
    const planes = arena.u8(tOff, KernelPool.tableBytes(m.groups));
    const fromPlanes = new Int32Array(m.groups * 27);
    for (let g = 0; g < m.groups; g++) {
      for (let i = 0; i < 27; i++) fromPlanes[g * 27 + i] = (planes[g * 64 + i]! | (planes[g * 64 + 32 + i]! << 8)) << 16 >> 16;
    }
    expect(fromPlanes).toEqual(tables);
    const accOff = arena.alloc(blocks * BLOCK_ROWS * 4, 64);
    pool.tlmm(idxOff, m.groups, tOff, accOff, blocks);
    expect(Array.from(arena.i32(accOff, rows))).toEqual(Array.from(oracle));
    // padding rows accumulate nothing
    expect(Array.from(arena.i32(accOff + rows * 4, blocks * BLOCK_ROWS - rows)).every((v) => v === 0)).toBe(true);
    return oracle;
  }

  it('random matrices and activations, several seeds and shapes', () => {
    for (const [seed, rows, cols, mult] of [
      [1, 7, 10, 1],
      [2, 64, 96, 28],
      [3, 200, 257, 1],
      [4, 130, 1536, 28],
      [5, 3, 2, 1],
    ] as const) {
      const rnd = lcg(seed);
      check(rows, cols, randomTernary(rows * cols, rnd), randomInt8(cols, rnd), mult);
    }
  });

  it('edge cases: all zero, all +1, all -1, saturated activations', () => {
    const rows = 80;
    const cols = 300;
    const sat = new Int8Array(cols).fill(127);
    const satNeg = new Int8Array(cols).fill(-127);
    const acts = [new Int8Array(cols), sat, satNeg, randomInt8(cols, lcg(9))];
    for (const a of acts) {
      expect(Array.from(check(rows, cols, new Int8Array(rows * cols), a))).toEqual(new Array(rows).fill(0));
      const plus = check(rows, cols, new Int8Array(rows * cols).fill(1), a);
      const minus = check(rows, cols, new Int8Array(rows * cols).fill(-1), a);
      const s = a.reduce((x, v) => x + v, 0);
      expect(plus[0]).toBe(s);
      expect(minus[0]! + s).toBe(0);
    }
  });

  it('long reductions reach the accumulator bound without overflow (K = 8640)', () => {
    const cols = 8640;
    const rows = 66; // 5 blocks: over the pool's split threshold, so both threads work
    const t = new Int8Array(rows * cols).fill(1);
    for (let c = 0; c < cols; c++) t[cols + c] = -1; // row 1 all -1
    const a = new Int8Array(cols).fill(127);
    const acc = check(rows, cols, t, a, 28);
    expect(acc[0]).toBe(127 * 8640);
    expect(acc[1]).toBe(-127 * 8640);
    expect(Math.abs(acc[0]!)).toBeLessThan(2 ** (accumulatorBits(8652) - 1));
    expect(accumulatorBits(8652)).toBe(22);
  });
});
