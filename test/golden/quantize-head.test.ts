/**
 * quantizeHead (host/src/golden/weights.ts): an output head quantised row by row into the pool's
 * arena (docs/numerics.md §9: s = f32(127 / amax), q = clamp(roundHalfEven(f32(x·s)), ±127), the
 * row's absmax kept as its scale), each row at a 16-byte stride with zero padding. Known answers
 * worked out by hand: rows with amax 1, 4 and 127/64 (s = 64 exactly: ties 2.5 → 2, −2.5 → −2 and
 * 1.5 → 2 round to even),
 * and an all-zero row (absmax 0, all codes 0). allocHead zero-fills the rows it reserves, so the
 * padding is zero whatever the arena's memory held before (the tests dirty it first).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GoldenModel } from '../../host/src/golden/model.js';
import { allocHead, quantizeHead } from '../../host/src/golden/weights.js';
import type { KernelPool } from '../../host/src/kernels/pool.js';

const pools: KernelPool[] = [];
afterAll(async () => {
  for (const p of pools.splice(0)) await p.close();
});

/** A pool whose free arena memory (past what is reserved) holds 0xa5 bytes, not fresh zeros. */
async function dirtyPool(): Promise<KernelPool> {
  const pool = await GoldenModel.createPool(1);
  pools.push(pool);
  const top = pool.arena.bytesUsed;
  pool.arena.u8(top, pool.arena.buffer.byteLength - top).fill(0xa5);
  return pool;
}

describe('quantizeHead: int8 rows at a 16-byte stride and their absmax', () => {
  it('four rows of five columns against codes worked out by hand', async () => {
    const pool = await dirtyPool();
    const data = Float32Array.from([
      ...[1, -0.25, 0.1, 0, -1], // s = 127: 127, −31.75 → −32, 12.7 → 13, 0, −127
      ...[4, 1, -3, 0.5, 2.2], // s = 31.75: 127, 31.75 → 32, −95.25 → −95, 15.875 → 16, 69.85 → 70
      ...[1.984375, 0.0390625, -0.0390625, 0.0234375, 0], // s = 64: 127, 2.5 → 2, −2.5 → −2, 1.5 → 2, 0
      ...[0, 0, 0, 0, 0], // absmax 0: every code 0
    ]);
    const head = quantizeHead(pool, data, 4, 5);
    expect([head.rows, head.cols, head.stride]).toEqual([4, 5, 16]);
    expect(Array.from(head.rowAmax)).toEqual([1, 4, 1.984375, 0]);
    const pad = new Array<number>(11).fill(0);
    expect(Array.from(pool.arena.i8(head.off, 4 * 16))).toEqual([
      ...[127, -32, 13, 0, -127, ...pad],
      ...[127, 32, -95, 16, 70, ...pad],
      ...[127, 2, -2, 2, 0, ...pad],
      ...[0, 0, 0, 0, 0, ...pad],
    ]);
  });

  it('allocHead reserves rows × 16-byte stride, all zero over memory that held other bytes', async () => {
    const pool = await dirtyPool();
    const head = allocHead(pool, 3, 20);
    expect([head.rows, head.cols, head.stride, head.rowAmax.length]).toEqual([3, 20, 32, 3]);
    expect(pool.arena.bytesUsed).toBe(head.off + 3 * 32);
    expect(pool.arena.u8(head.off, 3 * 32).every((b) => b === 0)).toBe(true);
    expect(pool.arena.u8(head.off + 3 * 32, 1)[0]).toBe(0xa5); // the fill stops at the reservation
  });
});
