import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TellmeError } from '../../host/src/errors.js';
import { loadHwConfig } from '../../host/src/hwconfig/index.js';
import {
  beatCount,
  joinLanes,
  makePackLayout,
  packedBytes,
  packingStats,
  packLayout,
  packWeights,
  planUram,
  splitLanes,
  unpackWeights,
  type WeightBlock,
} from '../../host/src/layout/index.js';
import { ZERO_INDEX, type TlmmMatrix } from '../../host/src/tlmm/encoding.js';
import { builtinShape } from '../../host/src/plan/shapes.js';

/** Independent reference: build each beat as a BigInt, then write it little-endian. */
function referencePack(m: TlmmMatrix, mode: 'paper' | 'dense', beatBits: number, T: number, blocks: WeightBlock[], norms: number[] = []): Uint8Array {
  const vb = 5 * T;
  const vector = (row: number, chunk: number): bigint => {
    let v = 0n;
    for (let j = 0; j < T; j++) {
      const g = chunk * T + j;
      const idx = row >= 0 && row < m.rows && g < m.groups ? m.indices[row * m.groups + g]! : ZERO_INDEX;
      v |= BigInt(idx) << BigInt(5 * j);
    }
    return v;
  };
  const beats: bigint[] = [];
  if (mode === 'paper') {
    const V = Math.floor((beatBits - 16) / vb);
    for (const b of blocks) {
      for (let y = 0; y < b.chunks; y++) {
        for (let z0 = 0; z0 < b.rows; z0 += V) {
          let beat = 0n;
          for (let s = 0; s < V; s++) {
            const z = z0 + s;
            beat |= vector(z < b.rows ? b.rowStart + z : -1, b.chunkStart + y) << BigInt(s * vb);
          }
          const n = norms[beats.length] ?? 0;
          beat |= BigInt(n) << BigInt(V * vb);
          beats.push(beat);
        }
      }
    }
  } else {
    let stream = 0n;
    let pos = 0n;
    for (const b of blocks) {
      for (let y = 0; y < b.chunks; y++) {
        for (let z = 0; z < b.rows; z++) {
          stream |= vector(b.rowStart + z, b.chunkStart + y) << pos;
          pos += BigInt(vb);
        }
      }
    }
    const n = Math.ceil(Number(pos) / beatBits);
    for (let i = 0; i < n; i++) beats.push((stream >> BigInt(i * beatBits)) & ((1n << BigInt(beatBits)) - 1n));
  }
  const out = new Uint8Array((beats.length * beatBits) / 8);
  beats.forEach((beat, i) => {
    for (let k = 0; k < beatBits / 8; k++) out[(i * beatBits) / 8 + k] = Number((beat >> BigInt(8 * k)) & 0xffn);
  });
  return out;
}

function matrix(rows: number, groups: number, seed: number): TlmmMatrix {
  const indices = new Uint8Array(rows * groups);
  let s = seed >>> 0;
  for (let i = 0; i < indices.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    indices[i] = s % 27;
  }
  return { rows, cols: groups * 3, groups, indices };
}

describe('paper beats (768 bits = 5 x 140-bit vectors + 1 fp16 norm + 52 unused)', () => {
  const hw = loadHwConfig('kv260-paper');

  it('packs one region of 1536 rows x 19 chunks into 19 x 308 = 5852 beats of 96 bytes', () => {
    const layout = packLayout(hw, [{ rowStart: 0, rows: 1536, chunkStart: 0, chunks: 19 }]);
    expect(layout.vectorsPerBeat).toBe(5);
    expect(layout.normBitOffset).toBe(700);
    expect(beatCount(layout)).toBe(5852);
    expect(packedBytes(layout)).toBe(5852 * 96);
  });

  it('streams 175,279,104 bytes per token for bitnet_b1_58-large (24 layers x 13 regions x 19 x 308 x 96)', () => {
    const spec = builtinShape('bitnet-large');
    const stats = packingStats(spec, hw, planUram(spec, hw));
    expect(stats.bytesPerToken).toBe(24 * 13 * 19 * 308 * 96);
    expect(stats.bytesPerToken).toBe(175_279_104);
    expect(stats.unusedBitsPerBeat).toBe(52);
  });

  it('worked example (docs/layout.md): the first beat of a known matrix', () => {
    // 7 rows x 28 groups (one chunk), index of (r, j) = (r + j) % 27; one block of 7 rows -> 2 beats.
    const m: TlmmMatrix = { rows: 7, cols: 84, groups: 28, indices: new Uint8Array(7 * 28) };
    for (let r = 0; r < 7; r++) for (let j = 0; j < 28; j++) m.indices[r * 28 + j] = (r + j) % 27;
    const layout = packLayout(hw, [{ rowStart: 0, rows: 7, chunkStart: 0, chunks: 1 }]);
    const bytes = packWeights(m, layout, { bits: Uint16Array.of(0x3c00, 0x4000) });
    expect(bytes.length).toBe(2 * 96);
    // Row 0: indices 0,1,2,... at bits 0,5,10,...: byte0 = 0 | 1<<5 = 0x20; byte1 = (1>>3) | 2<<2 | 3<<7 = 0x88.
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x20, 0x88, 0x41, 0x8a]);
    // Norm weight 1.0 (0x3c00) at bits 700..715 = bytes 87.5..89.5: byte 87 high nibble = 0, byte 88 = 0xc0, byte 89 low nibble = 3.
    expect(bytes[87]! >> 4).toBe(0x0);
    expect(bytes[88]).toBe(0xc0);
    expect(bytes[89]! & 0x0f).toBe(0x3);
    // Bits 716..767 (bytes 89.5..95) are zero.
    expect(bytes[89]! >> 4).toBe(0);
    expect(Array.from(bytes.subarray(90, 96)).every((x) => x === 0)).toBe(true);
    // Beat 1 carries rows 5, 6 and three padding vectors of index 13 (0b01101).
    const padStart = 96 * 8 + 2 * 140;
    const bit = (i: number) => (bytes[i >> 3]! >> (i & 7)) & 1;
    const idxAt = (p: number) => bit(p) | (bit(p + 1) << 1) | (bit(p + 2) << 2) | (bit(p + 3) << 3) | (bit(p + 4) << 4);
    for (let j = 0; j < 3 * 28; j++) expect(idxAt(padStart + 5 * j)).toBe(13);
    expect(bytes).toEqual(referencePack(m, 'paper', 768, 28, layout.blocks, [0x3c00, 0x4000]));
  });
});

describe('dense beats', () => {
  it('packs vectors back to back: 0.73B streams 97 % useful bits vs 81 % for paper beats', () => {
    const spec = builtinShape('bitnet-large');
    const hw = loadHwConfig('kv260');
    const stats = packingStats(spec, hw, planUram(spec, hw));
    // 347,648 index vectors per layer x 140 bits, plus at most one partial beat per tile.
    const vectors = 4 * 1536 * 19 + 2 * 4096 * 19 + 1536 * 49;
    expect(vectors).toBe(347_648);
    const exact = (24 * vectors * 140) / 8;
    expect(stats.bytesPerToken).toBeGreaterThanOrEqual(exact);
    expect(stats.bytesPerToken).toBeLessThan(exact + 24 * 13 * 64);
    expect(stats.share.useful).toBeGreaterThan(0.96);
    expect(stats.share.unused).toBeLessThan(0.001);
    const paper = packingStats(spec, loadHwConfig('kv260-paper'), planUram(spec, loadHwConfig('kv260-paper')));
    expect(paper.share.useful).toBeGreaterThan(0.8);
    expect(paper.share.useful).toBeLessThan(0.82);
  });

  it('matches the BigInt reference on a small example', () => {
    const m = matrix(10, 9, 7);
    const layout = makePackLayout('dense', 128, 5, 4, [{ rowStart: 0, rows: 10, chunkStart: 0, chunks: 3 }]);
    expect(packWeights(m, layout)).toEqual(referencePack(m, 'dense', 128, 4, layout.blocks));
  });
});

const arbCase = fc
  .record({
    mode: fc.constantFrom('paper' as const, 'dense' as const),
    T: fc.integer({ min: 1, max: 30 }),
    beatWords: fc.integer({ min: 1, max: 12 }),
    rows: fc.integer({ min: 1, max: 40 }),
    groups: fc.integer({ min: 1, max: 90 }),
    seed: fc.integer(),
    cuts: fc.integer({ min: 1, max: 4 }),
    pad: fc.integer({ min: 0, max: 3 }),
  })
  .map((c) => ({ ...c, beatBits: Math.max(c.beatWords * 64, c.mode === 'paper' ? Math.ceil((5 * c.T + 16) / 64) * 64 : 64) }));

function blocksFor(rows: number, chunks: number, cuts: number, pad: number): WeightBlock[] {
  // Row tiles plus padding rows/chunks at the end (like paper regions).
  const per = Math.ceil(rows / cuts);
  const out: WeightBlock[] = [];
  for (let r = 0; r < rows; r += per) out.push({ rowStart: r, rows: Math.min(per, rows - r) + (r + per >= rows ? pad : 0), chunkStart: 0, chunks: chunks + pad });
  return out;
}

describe('round trip (property)', () => {
  it('unpack(pack(m)) == m for random shapes, modes and block layouts; bytes match the reference', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const m = matrix(c.rows, c.groups, c.seed);
        const chunks = Math.ceil(c.groups / c.T);
        const blocks = blocksFor(c.rows, chunks, c.cuts, c.pad);
        const layout = makePackLayout(c.mode, c.beatBits, 5, c.T, blocks);
        const norms = c.mode === 'paper' ? Uint16Array.from({ length: beatCount(layout) }, (_, i) => (i * 2654435761) & 0xffff) : undefined;
        const bytes = packWeights(m, layout, norms ? { bits: norms } : undefined);
        expect(bytes.length).toBe(packedBytes(layout));
        expect(bytes).toEqual(referencePack(m, c.mode, c.beatBits, c.T, blocks, norms ? Array.from(norms) : []));
        const back = unpackWeights(bytes, layout, { rows: m.rows, cols: m.cols, groups: m.groups });
        expect(back.matrix.indices).toEqual(m.indices);
        if (norms) expect(back.beatNorms).toEqual(norms);
        else expect(back.beatNorms).toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  it('a tile packs and unpacks only its rows', () => {
    const m = matrix(50, 40, 3);
    const layout = makePackLayout('dense', 512, 5, 28, [{ rowStart: 16, rows: 16, chunkStart: 0, chunks: 2 }]);
    const back = unpackWeights(packWeights(m, layout), layout, m);
    for (let r = 0; r < 50; r++) {
      const row = Array.from(back.matrix.indices.subarray(r * 40, r * 40 + 40));
      if (r >= 16 && r < 32) expect(row).toEqual(Array.from(m.indices.subarray(r * 40, r * 40 + 40)));
      else expect(row.every((x) => x === ZERO_INDEX)).toBe(true);
    }
  });
});

describe('corrupt streams are rejected', () => {
  const m = matrix(6, 28, 1);
  const paper = makePackLayout('paper', 768, 5, 28, [{ rowStart: 0, rows: 6, chunkStart: 0, chunks: 1 }]);
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return (e as TellmeError).code + ': ' + (e as Error).message;
    }
    return 'no error';
  };
  it('rejects set unused bits, invalid codes, non-zero padding and wrong lengths', () => {
    const good = packWeights(m, paper);
    const unused = good.slice();
    unused[95] = 0x80;
    expect(code(() => unpackWeights(unused, paper, m))).toMatch(/E_IMAGE: weight stream byte 95 has bits set outside any index vector/);
    // The stream's very last byte (the top bit of the last beat) is checked too.
    const last = good.slice();
    last[last.length - 1] = 0x80;
    expect(code(() => unpackWeights(last, paper, m))).toMatch(/E_IMAGE: weight stream byte 191 has bits set outside any index vector/);
    const invalid = good.slice();
    invalid[0] = invalid[0]! | 0x1f; // index 31
    expect(code(() => unpackWeights(invalid, paper, m))).toMatch(/E_IMAGE: invalid TLMM index 31/);
    const pad = good.slice();
    // Beat 1 slot 1 is a padding vector (row 6 does not exist): set its first index to 0.
    const p = 96 * 8 + 140;
    pad[p >> 3] = pad[p >> 3]! & ~(0x1f << (p & 7));
    expect(code(() => unpackWeights(pad, paper, m))).toMatch(/E_IMAGE: padding vector/);
    expect(code(() => unpackWeights(good.subarray(1), paper, m))).toMatch(/E_IMAGE: weight stream is 191 bytes/);
    const bad: TlmmMatrix = { ...m, indices: m.indices.slice() };
    bad.indices[3] = 27;
    expect(code(() => packWeights(bad, paper))).toMatch(/E_INTERNAL/);
  });
});

describe('lanes', () => {
  it('lane p holds bytes [32p, 32p+32) of every 96-byte beat; join inverts split', () => {
    const stream = Uint8Array.from({ length: 96 * 3 }, (_, i) => (i * 7) & 0xff);
    const lanes = splitLanes(stream, 96, 3);
    expect(lanes.map((l) => l.length)).toEqual([96, 96, 96]);
    expect(Array.from(lanes[1]!.subarray(0, 32))).toEqual(Array.from(stream.subarray(32, 64)));
    expect(Array.from(lanes[2]!.subarray(32, 64))).toEqual(Array.from(stream.subarray(96 + 64, 96 + 96)));
    expect(joinLanes(lanes, 96)).toEqual(stream);
  });
});
