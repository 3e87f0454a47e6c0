/**
 * The converter's fast paths against the reference implementations they replace:
 *  - packStream / laneOf vs layout/beats.ts packWeights / splitLanes (random shapes, block
 *    layouts, both beat modes, with and without paper norms);
 *  - encodePackedRows (HF block-packed bytes -> indices, RoPE row map folded in) and
 *    encodeTernaryRows vs encodeTernary(permuteRopeRows(unpackTernary(...)));
 *  - the bulk bf16 and binary16 conversions vs the scalar ones.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { permuteRopeRows } from '../../host/src/numerics/rope.js';
import { normsToF16 } from '../../host/src/image/elements.js';
import { encodePackedRows, encodeTernaryRows, laneOf, packStream, rowMap } from '../../host/src/image/pack.js';
import { makePackLayout, packWeights, splitLanes, type WeightBlock } from '../../host/src/layout/index.js';
import { bf16Flushed, f16ToF32, f32ToBf16, f32ToBf16FlushedBulk, f32ToF16Sat } from '../../host/src/numerics/f16.js';
import { bitsToF32 } from '../../host/src/numerics/f32.js';
import { packTernary, unpackTernary } from '../../host/src/quant/ternary.js';
import { encodeTernary, paddedGroups, type TlmmMatrix } from '../../host/src/tlmm/encoding.js';
import { expectTellme } from './helpers.js';

function randomIndices(rows: number, groups: number, seed: number): Uint8Array {
  const out = new Uint8Array(rows * groups);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) % 27;
  }
  return out;
}

const blocksArb = (rows: number, chunks: number) =>
  fc.array(
    fc.record({
      rowStart: fc.integer({ min: 0, max: rows + 3 }),
      rows: fc.integer({ min: 1, max: rows + 6 }),
      chunkStart: fc.integer({ min: 0, max: chunks + 1 }),
      chunks: fc.integer({ min: 1, max: chunks + 2 }),
    }),
    { minLength: 1, maxLength: 3 },
  );

describe('packStream', () => {
  it('writes the bytes of packWeights, and laneOf the lanes of splitLanes, on random layouts', () => {
    fc.assert(
      fc.property(
        fc.record({
          rows: fc.integer({ min: 1, max: 40 }),
          T: fc.integer({ min: 1, max: 30 }),
          chunks: fc.integer({ min: 1, max: 4 }),
          seed: fc.integer(),
          mode: fc.constantFrom('paper' as const, 'dense' as const),
          beatBytes: fc.constantFrom(48, 64, 96, 128),
          lanes: fc.constantFrom(1, 2, 4),
          withNorms: fc.boolean(),
          normStart: fc.integer({ min: 0, max: 5 }),
        }).chain((p) => fc.tuple(fc.constant(p), blocksArb(p.rows, p.chunks))),
        ([p, blocks]) => {
          const beatBits = p.beatBytes * 8;
          if (p.mode === 'paper' && beatBits < 5 * p.T + 16) return;
          const groups = p.chunks * p.T - (p.seed & 1 ? Math.min(p.T - 1, 2) : 0);
          const m: TlmmMatrix = { rows: p.rows, cols: groups * 3, groups, indices: randomIndices(p.rows, groups, p.seed) };
          const layout = makePackLayout(p.mode, beatBits, 5, p.T, blocks as WeightBlock[]);
          const normBits = p.withNorms && p.mode === 'paper' ? Uint16Array.from({ length: 50 }, (_, i) => (i * 7919 + p.seed) & 0xffff) : null;
          const want = packWeights(m, layout, normBits ? { bits: normBits, start: p.normStart } : undefined);
          const got = packStream(m.indices, m.rows, m.groups, layout, normBits, p.normStart);
          expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
          const lanes = splitLanes(want, p.beatBytes, p.lanes);
          for (let k = 0; k < p.lanes; k++) expect(Buffer.from(laneOf(got, p.beatBytes, p.lanes, k)).equals(Buffer.from(lanes[k]!))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('handles the real kv260 and paper beat geometries with unaligned lane views', () => {
    const m: TlmmMatrix = { rows: 37, cols: 3 * 56, groups: 56, indices: randomIndices(37, 56, 9) };
    for (const [mode, beatBytes, lanes] of [['dense', 64, 4], ['paper', 96, 3]] as const) {
      const layout = makePackLayout(mode, beatBytes * 8, 5, 28, [{ rowStart: 0, rows: 37, chunkStart: 0, chunks: 2 }]);
      const s = packStream(m.indices, m.rows, m.groups, layout);
      const shifted = new Uint8Array(s.length + 1).subarray(1);
      shifted.set(s);
      const ref = splitLanes(packWeights(m, layout), beatBytes, lanes);
      for (let k = 0; k < lanes; k++) expect(Buffer.from(laneOf(shifted, beatBytes, lanes, k)).equals(Buffer.from(ref[k]!))).toBe(true);
    }
  });
});

function randomTernary(rows: number, cols: number, seed: number): Int8Array {
  const v = new Int8Array(rows * cols);
  const r = randomIndices(rows, cols, seed);
  for (let i = 0; i < v.length; i++) v[i] = (r[i]! % 3) - 1;
  return v;
}

describe('encoders', () => {
  it('encodePackedRows equals unpackTernary -> permuteRopeRows -> encodeTernary', () => {
    fc.assert(
      fc.property(
        fc.record({
          heads: fc.integer({ min: 1, max: 4 }),
          halfHeadDim: fc.integer({ min: 1, max: 6 }),
          extraRows: fc.integer({ min: 0, max: 3 }),
          cols: fc.integer({ min: 1, max: 40 }),
          chunkT: fc.integer({ min: 1, max: 9 }),
          rope: fc.boolean(),
          seed: fc.integer(),
        }),
        (p) => {
          const d = 2 * p.halfHeadDim;
          const rows = p.rope ? p.heads * d : p.heads * d + p.extraRows;
          const values = randomTernary(rows, p.cols, p.seed);
          const groups = paddedGroups(p.cols, p.chunkT);
          const ref = encodeTernary(p.rope ? permuteRopeRows(values, rows, p.cols, d) : values, rows, p.cols, p.chunkT);
          const map = rowMap(rows, p.rope ? d : null);
          const a = new Uint8Array(rows * groups);
          encodePackedRows(packTernary(values, rows, p.cols), rows, p.cols, groups, map, a, 'test');
          expect(Buffer.from(a).equals(Buffer.from(ref.indices))).toBe(true);
          const b = new Uint8Array(rows * groups);
          encodeTernaryRows(values, rows, p.cols, groups, map, b);
          expect(Buffer.from(b).equals(Buffer.from(ref.indices))).toBe(true);
          // and the packed bytes unpack to the same values the loader sees
          expect(Buffer.from(unpackTernary(packTernary(values, rows, p.cols), rows, p.cols, 't')).equals(Buffer.from(values))).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a packed code 3 naming the tensor, row and column, and a non-ternary value', async () => {
    const rows = 9;
    const cols = 7;
    const packed = packTernary(randomTernary(rows, cols, 3), rows, cols);
    const R = Math.ceil(rows / 4);
    packed[1 * cols + 5] = packed[1 * cols + 5]! | (3 << 4); // sub-row 2 of packed row 1: weight row 2R+1
    await expectTellme(
      () => encodePackedRows(packed, rows, cols, 3, rowMap(rows, null), new Uint8Array(rows * 3), 'file.safetensors: tensor x'),
      'E_CHECKPOINT',
      'tensor x',
      `weight row ${2 * R + 1}, column 5`,
    );
    const v = randomTernary(rows, cols, 4);
    v[17] = 2;
    await expectTellme(() => encodeTernaryRows(v, rows, cols, 3, rowMap(rows, null), new Uint8Array(rows * 3)), 'E_INTERNAL', 'non-ternary');
  });
});

describe('element conversions', () => {
  it('f32ToBf16FlushedBulk equals bf16Flushed(f32ToBf16(x)) on special and random values', () => {
    const specials = [0, -0, 1, -1, 1e-39, -1e-39, 1.17e-38, 3.4028234663852886e38, -3.4e38, Infinity, -Infinity, NaN, 1.00390625, 1.01171875, 65504, 2 ** -126, -(2 ** -126)];
    const bits = [0x7f7fffff, 0x7f7f8000, 0x7fc00001, 0xff800001, 0x00800000, 0x007fffff, 0x80008000, 0x3f808000, 0x3f818000];
    const vals = new Float32Array(specials.length + bits.length + 20000);
    specials.forEach((v, i) => (vals[i] = v));
    bits.forEach((b, i) => (vals[specials.length + i] = bitsToF32(b)));
    const u = new Uint32Array(vals.buffer);
    let s = 12345;
    for (let i = specials.length + bits.length; i < vals.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      u[i] = (s ^ (s << 7)) >>> 0;
    }
    const out = new Uint16Array(vals.length);
    const max = f32ToBf16FlushedBulk(vals, out);
    let want = 0;
    for (let i = 0; i < vals.length; i++) {
      const w = bf16Flushed(f32ToBf16(vals[i]!));
      expect(out[i], `element ${i} bits ${u[i]!.toString(16)}`).toBe(w);
      want = Math.max(want, w & 0x7fff);
    }
    expect(max).toBe(want);
  });

  it('normsToF16 rounds like f32ToF16Sat and counts inexact weights', () => {
    const v = Float32Array.of(1, 0.5, 1.2, 70000, 1e-9, -0.75);
    const r = normsToF16(v);
    expect(Array.from(r.bits)).toEqual(Array.from(v, (x) => f32ToF16Sat(x)));
    expect(r.inexact).toBe(3); // 1.2, 70000 (saturates), 1e-9 (flushed)
    expect(f16ToF32(r.bits[3]!)).toBe(65504);
    expect(r.maxRelError).toBe(1);
  });
});
