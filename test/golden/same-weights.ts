/**
 * Two GoldenWeights compared in full (test/golden/weights-image*.test.ts: weights read from an
 * image against those the golden model builds from the source checkpoint): structure, values and
 * the arena bytes behind them, each side in its own pool.
 */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { GoldenWeights } from '../../host/src/golden/weights.js';
import type { KernelPool } from '../../host/src/kernels/pool.js';

const hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
export const u32 = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));

/** Everything of two GoldenWeights, each in its own pool: structure, values and the arena bytes behind them. */
export function expectSameWeights(a: GoldenWeights, pa: KernelPool, b: GoldenWeights, pb: KernelPool): void {
  expect(a.layers.length).toBe(b.layers.length);
  a.layers.forEach((la, l) => {
    const lb = b.layers[l]!;
    for (const k of ['qkv', 'o', 'gateUp', 'down'] as const) {
      const [ma, mb] = [la[k], lb[k]];
      expect([mb.name, mb.rows, mb.blocks, mb.cols, mb.groups], `layer ${l} ${k}`).toEqual([ma.name, ma.rows, ma.blocks, ma.cols, ma.groups]);
      expect(mb.parts.map((p) => [p.name, p.row0, p.rows, u32(Float32Array.of(p.scale))[0]])).toEqual(ma.parts.map((p) => [p.name, p.row0, p.rows, u32(Float32Array.of(p.scale))[0]]));
      const n = ma.blocks * 16 * ma.groups;
      expect(hex(pb.arena.u8(mb.idxOff, n)), `layer ${l} ${k} indices`).toBe(hex(pa.arena.u8(ma.idxOff, n)));
    }
    for (const role of ['input', 'post_attention', 'attn_sub', 'ffn_sub'] as const) {
      const [na, nb] = [la.norms[role], lb.norms[role]];
      expect(nb === null, `layer ${l} ${role}`).toBe(na === null);
      if (na && nb) expect(u32(nb)).toEqual(u32(na));
    }
  });
  expect(u32(b.finalNorm)).toEqual(u32(a.finalNorm));
  expect(Array.from(b.embedding)).toEqual(Array.from(a.embedding));
  expect([b.head.rows, b.head.cols, b.head.stride]).toEqual([a.head.rows, a.head.cols, a.head.stride]);
  expect(u32(b.head.rowAmax)).toEqual(u32(a.head.rowAmax));
  expect(hex(pb.arena.u8(b.head.off, b.head.rows * b.head.stride))).toBe(hex(pa.arena.u8(a.head.off, a.head.rows * a.head.stride)));
  expect(b.ternaryHead === null).toBe(a.ternaryHead === null);
  if (a.ternaryHead && b.ternaryHead) {
    const [ta, tb] = [a.ternaryHead, b.ternaryHead];
    expect([tb.rows, tb.blocks, tb.cols, tb.groups]).toEqual([ta.rows, ta.blocks, ta.cols, ta.groups]);
    expect(u32(tb.scale)).toEqual(u32(ta.scale));
    expect(hex(pb.arena.u8(tb.idxOff, tb.blocks * 16 * tb.groups))).toBe(hex(pa.arena.u8(ta.idxOff, ta.blocks * 16 * ta.groups)));
  }
  expect(b.ropePositions).toBe(a.ropePositions);
  expect(u32(b.rope)).toEqual(u32(a.rope));
}
