/**
 * The GGUF block packers against hand-computed bytes (known answers) and against decoders written
 * from ggml's dequantisation loops (test/gguf/ggml-decode.ts). llama.cpp itself reading the blocks
 * is checked end to end in llama-cpp.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { GGML_TYPES, packFloatRows, packTernaryRows, rowBytes } from '../../host/src/gguf/blocks.js';
import { f16IeeeToF32, f32ToF16Ieee } from '../../host/src/gguf/half.js';
import { Rng } from '../../host/src/testmodels/index.js';
import { decodeF16, decodeQ6K, decodeQ8, decodeTq1, decodeTq2 } from './ggml-decode.js';

function randomTernary(n: number, seed: number): Int8Array {
  const r = Rng.forTensor(seed, 'ternary');
  const t = new Int8Array(n);
  for (let i = 0; i < n; i++) t[i] = Math.min(1, Math.floor(r.uniform() * 3) - 1);
  return t;
}

function gaussian(n: number, seed: number, std = 1): Float32Array {
  const r = Rng.forTensor(seed, 'gauss');
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = std * r.gaussianish();
  return x;
}

describe('binary16 (ggml_half)', () => {
  it('rounds to nearest even with subnormals and overflow to infinity (known answers)', () => {
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [65504, 0x7bff],
      [65519, 0x7bff],
      [65520, 0x7c00], // the tie between 65504 and 2^16 goes to the even encoding: infinity
      [2 ** -14, 0x0400],
      [2 ** -14 - 2 ** -25, 0x0400], // 1023.5 subnormal units: tie, to even (1024)
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000], // half the smallest subnormal: tie, to even (0)
      [1.5 * 2 ** -25, 0x0001],
      [3 * 2 ** -25, 0x0002], // 1.5 units: tie, to even (2)
      [-0, 0x8000],
      [Infinity, 0x7c00],
    ];
    for (const [x, h] of cases) expect(f32ToF16Ieee(x), String(x)).toBe(h);
    expect(f32ToF16Ieee(NaN) & 0x7e00).toBe(0x7e00);
  });

  it('every binary16 value converts back to itself', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaNs
      expect(f32ToF16Ieee(f16IeeeToF32(h))).toBe(h);
    }
  });
});

describe('TQ2_0 and TQ1_0 blocks', () => {
  it('TQ2_0: one block by hand', () => {
    const t = new Int8Array(256);
    t[0] = 1; // half 0, lane 0, byte 0 bits 1:0 -> code 2
    t[32] = -1; // half 0, lane 1, byte 0 bits 3:2 -> code 0
    t[255] = 1; // half 1, lane 3, byte 63 bits 7:6 -> code 2
    const b = packTernaryRows('TQ2_0', t, 1, 256, 1.5, 'kat');
    const expected = new Uint8Array(66).fill(0x55); // four zero codes (1) per byte
    expected[0] = 0b01_01_00_10;
    expected[63] = 0b10_01_01_01;
    expected[64] = 0x00; // 1.5 = 0x3e00
    expected[65] = 0x3e;
    expect([...b]).toEqual([...expected]);
  });

  it('TQ1_0: one block by hand', () => {
    const t = new Int8Array(256);
    t[0] = 1; // qs[0], most significant trit: 21111 (base 3) = 202 -> ceil(202 * 256 / 243) = 213
    t[255] = -1; // element 240 + 4*3 + 3: qh[3], fourth of its four trits
    const b = packTernaryRows('TQ1_0', t, 1, 256, 0.25, 'kat');
    const expected = new Uint8Array(54);
    expected.fill(128, 0, 48); // 11111 (base 3) = 121 -> ceil(121 * 256 / 243) = 128
    expected.fill(127, 48, 52); // 1111 (base 3) * 3 = 120 -> ceil(120 * 256 / 243) = 127
    expected[0] = 213;
    expected[51] = 124; // (1*27 + 1*9 + 1*3 + 0) * 3 = 117 -> ceil(117 * 256 / 243) = 124
    expected[52] = 0x00; // 0.25 = 0x3400
    expected[53] = 0x34;
    expect([...b]).toEqual([...expected]);
  });

  it('decode back to the same ternaries and the scale as binary16, for both types, on random rows', () => {
    for (const seed of [1, 2, 3]) {
      const rows = 3;
      const cols = 512;
      const t = randomTernary(rows * cols, seed);
      const scale = 0.123456789 * seed;
      const stored = f16IeeeToF32(f32ToF16Ieee(scale));
      const two = decodeTq2(packTernaryRows('TQ2_0', t, rows, cols, scale, 'r'), (rows * cols) / 256);
      const one = decodeTq1(packTernaryRows('TQ1_0', t, rows, cols, scale, 'r'), (rows * cols) / 256);
      expect(two.t).toEqual(t);
      expect(one.t).toEqual(t);
      expect(new Set([...two.d, ...one.d])).toEqual(new Set([stored]));
    }
    // All zeros and all +-1 (the extremes of the base-3 digits).
    for (const v of [-1, 0, 1]) {
      const t = new Int8Array(256).fill(v);
      expect(decodeTq1(packTernaryRows('TQ1_0', t, 1, 256, 1, 'c'), 1).t).toEqual(t);
      expect(decodeTq2(packTernaryRows('TQ2_0', t, 1, 256, 1, 'c'), 1).t).toEqual(t);
    }
  });

  it('a planted one-bit change in a packed block changes what the decoder reads', () => {
    const t = randomTernary(256, 7);
    const two = packTernaryRows('TQ2_0', t, 1, 256, 1, 'p');
    const one = packTernaryRows('TQ1_0', t, 1, 256, 1, 'p');
    // A TQ1_0 byte holds 243 values in 256 codes, so +-1 (bit 0) can land on a code that decodes
    // the same; +-8 and +-64 always move it to another value.
    for (const [bytes, decode, n, bits] of [
      [two, decodeTq2, 64, [0, 1, 3, 6, 7]],
      [one, decodeTq1, 52, [3, 6]],
    ] as const) {
      for (let i = 0; i < n; i += 3) {
        for (const bit of bits) {
          const flipped = bytes.slice();
          flipped[i]! ^= 1 << bit;
          expect(decode(flipped, 1).t, `byte ${i} bit ${bit}`).not.toEqual(t);
        }
      }
    }
  });

  it('refuses rows that are not whole blocks, naming the tensor', () => {
    expect(() => packTernaryRows('TQ2_0', new Int8Array(96), 1, 96, 1, 'blk.0.attn_q.weight')).toThrow(/blk\.0\.attn_q\.weight: rows of 96 elements cannot be stored as TQ2_0, whose blocks hold 256/);
    expect(rowBytes(GGML_TYPES.TQ1_0, 1536, 'x')).toBe(6 * 54);
    expect(rowBytes(GGML_TYPES.TQ2_0, 4096, 'x')).toBe(16 * 66);
  });
});

describe('embedding types', () => {
  it('Q8_0: one block by hand', () => {
    const x = new Float32Array(32);
    x[0] = 1.27; // amax: d = f16(1.27 / 127) = 0x211f = 0.010002136..., 1.27 / d = 126.97 -> 127
    x[1] = -0.635; // -63.486 -> -63 (0xc1)
    x[2] = 0.00501; // 0.5009 -> 1
    x[3] = -0.00500; // -0.49989 -> 0
    const b = packFloatRows('Q8_0', x, 1, 32, 'kat');
    expect([...b.slice(0, 6)]).toEqual([0x1f, 0x21, 127, 0xc1, 1, 0]);
    expect([...b.slice(6)]).toEqual(new Array(28).fill(0));
  });

  it('Q8_0 and Q6_K decode to within their step; F16 exactly to binary16', () => {
    for (const seed of [1, 2]) {
      const rows = 4;
      const cols = 512;
      const x = gaussian(rows * cols, seed, 0.05);
      x[7] = 0; // zeros and a lone large value stay representable
      x[300] = 0.9;
      const q8 = decodeQ8(packFloatRows('Q8_0', x, rows, cols, 'q8'), (rows * cols) / 32);
      const q6 = decodeQ6K(packFloatRows('Q6_K', x, rows, cols, 'q6'), (rows * cols) / 256);
      const h = decodeF16(packFloatRows('F16', x, rows, cols, 'f16'));
      for (let i = 0; i < x.length; i++) {
        const b32 = Math.floor(i / 32) * 32;
        const amax32 = Math.max(...Array.from(x.subarray(b32, b32 + 32), Math.abs));
        expect(Math.abs(q8[i]! - x[i]!), `q8 ${i}`).toBeLessThanOrEqual((amax32 / 127) * 0.5 * 1.01 + 1e-7);
        const b16 = Math.floor(i / 16) * 16;
        const amax16 = Math.max(...Array.from(x.subarray(b16, b16 + 16), Math.abs));
        const b256 = Math.floor(i / 256) * 256;
        const amax256 = Math.max(...Array.from(x.subarray(b256, b256 + 256), Math.abs));
        // step = d * ceil(amax16 / 31 / d) <= amax16 / 31 + d, with d = amax256 / 31 / 127.
        expect(Math.abs(q6[i]! - x[i]!), `q6 ${i}`).toBeLessThanOrEqual(0.5 * (amax16 / 31 + (amax256 / 31 / 127) * 1.01) + 1e-7);
        expect(h[i]).toBe(f16IeeeToF32(f32ToF16Ieee(x[i]!)));
      }
    }
  });

  it('F16 refuses a value beyond 65504 and any format refuses non-finite weights', () => {
    const x = new Float32Array(32);
    x[5] = 70000;
    expect(() => packFloatRows('F16', x, 1, 32, 'model.embed_tokens.weight')).toThrow(/model\.embed_tokens\.weight: element 5 \(row 0\) is 70000, beyond binary16's range/);
    x[5] = NaN;
    expect(() => packFloatRows('Q8_0', x, 1, 32, 'emb')).toThrow(/emb: element 5 \(row 0\) is NaN/);
  });
});
