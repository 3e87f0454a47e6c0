import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ABSMEAN_FLOOR,
  DIVIDE_SCALE_MIN,
  MULTIPLY_SCALE_MAX,
  absmeanTernarize,
  packTernary,
  packedRows,
  unpackTernary,
  weightScaleToMultiplier,
} from '../../host/src/quant/ternary.js';
import { roundHalfEven } from '../../host/src/numerics/f32.js';
import { expectTellme } from '../checkpoint/helpers.js';

describe('HF block packing', () => {
  it("decodes the docstring example 0b10100001 -> 0,-1,+1,+1 at rows 0, R, 2R, 3R", () => {
    // rows = 4 -> R = 1: one byte holds the whole column.
    expect(Array.from(unpackTernary(Uint8Array.of(0b10100001), 4, 1, 't'))).toEqual([0, -1, 1, 1]);
    // rows = 8 -> R = 2: byte [0,0] holds rows 0,2,4,6; byte [1,0] = 0 holds rows 1,3,5,7 (all code 0 = -1).
    const v = unpackTernary(Uint8Array.of(0b10100001, 0), 8, 1, 't');
    expect([v[0], v[2], v[4], v[6]]).toEqual([0, -1, 1, 1]);
    expect([v[1], v[3], v[5], v[7]]).toEqual([-1, -1, -1, -1]);
  });

  it('lays out [R, cols] row-major with the row block in the bit position', () => {
    // rows 4, cols 2: column 1 holds +1 at row 3 only (code 2 at bits 7:6), everything else 0 (code 1).
    const zero = 0b01010101;
    const packed = Uint8Array.of(zero, (zero & 0x3f) | (2 << 6));
    const v = unpackTernary(packed, 4, 2, 't');
    expect(Array.from(v)).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('rejects code 3 and names the tensor and the first bad position', () => {
    const packed = new Uint8Array(2 * 3).fill(0b01010101);
    packed[1 * 3 + 2] = 0b01011101; // packed [1, 2], bits 3:2 = 3 -> row R + 1 = 3
    const e = expectTellme(() => unpackTernary(packed, 8, 3, "m.safetensors: tensor 'q'"), 'E_CHECKPOINT', "tensor 'q'", 'code 3', '[1, 2]', 'bits 3:2', 'row 3', 'column 2');
    expect(e.fix).toContain('re-download');
  });

  it('names the bit field of a code 3 in the upper half of a byte (bits 5:4 -> row 2R + r)', () => {
    // Kills a field search or shift written as 2 / i (it agrees with 2 * i only for i = 1).
    const packed = new Uint8Array(2 * 3).fill(0b01010101);
    packed[0 * 3 + 1] = 0b01110101; // packed [0, 1], bits 5:4 = 3 -> row 2R + 0 = 4
    expectTellme(() => unpackTernary(packed, 8, 3, 't'), 'E_CHECKPOINT', '[0, 1] bits 5:4', 'row 4', 'column 1');
  });

  it('refuses a packed tensor of the wrong length, naming rows and the expected shape, with a fix line', () => {
    const err = expectTellme(() => unpackTernary(new Uint8Array(5), 8, 3, "m.safetensors: tensor 'q'"), 'E_CHECKPOINT', "tensor 'q'", '5 packed bytes', 'expected 2 x 3', '8 rows');
    expect(err.fix).toBe('The checkpoint is damaged or its config.json does not match its weights; re-download it.');
    expectTellme(() => unpackTernary(new Uint8Array(7), 8, 3, 't'), 'E_CHECKPOINT', '7 packed bytes');
  });

  it('packTernary refuses a wrong value count and a non-ternary value on either side', () => {
    expectTellme(() => packTernary(new Int8Array(5), 2, 3), 'E_INTERNAL', '5 values for 2 x 3');
    expectTellme(() => packTernary(Int8Array.of(0, 1, 2), 1, 3), 'E_INTERNAL', 'value 2 at [0, 2]', 'not ternary');
    expectTellme(() => packTernary(Int8Array.of(0, -2, 1), 3, 1), 'E_INTERNAL', 'value -2 at [1, 0]', 'not ternary');
  });

  it('ignores padding slots when rows is not a multiple of 4', () => {
    // rows 5 -> R 2; slots i*2 + r >= 5 (row 5, 6, 7) are padding.
    const values = Int8Array.of(1, -1, 0, 1, -1);
    const packed = packTernary(values, 5, 1);
    expect(packed.length).toBe(packedRows(5));
    expect(Array.from(unpackTernary(packed, 5, 1, 't'))).toEqual(Array.from(values));
  });

  it('pack and unpack are inverse (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 13 }), fc.integer({ min: 1, max: 9 }), fc.infiniteStream(fc.integer({ min: -1, max: 1 })), (rows, cols, s) => {
        const values = Int8Array.from(s.take(rows * cols));
        const packed = packTernary(values, rows, cols);
        expect(packed.length).toBe(Math.ceil(rows / 4) * cols);
        expect(unpackTernary(packed, rows, cols, 't')).toEqual(values);
      }),
      { numRuns: 200 },
    );
  });

  it('unpack then pack reproduces every valid byte (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...validBytes()), { minLength: 3, maxLength: 3 * 5 }).filter((a) => a.length % 3 === 0), (bytes) => {
        const packed = Uint8Array.from(bytes);
        const rows = (packed.length / 3) * 4;
        expect(packTernary(unpackTernary(packed, rows, 3, 't'), rows, 3)).toEqual(packed);
      }),
    );
  });
});

function validBytes(): number[] {
  const out: number[] = [];
  for (let b = 0; b < 256; b++) if ([0, 2, 4, 6].every((s) => ((b >> s) & 3) !== 3)) out.push(b);
  return out;
}

describe('absmean ternarisation', () => {
  it('quantises known values with exact .5 ties to even', () => {
    // sum|W| = 12 over 6 -> gamma 2, s 0.5: W*s = 0.5, 1.5, -0.5, -1.5, 2, 0 -> 0, 2->1, 0, -2->-1, 1, 0
    const exact = absmeanTernarize(Float32Array.of(1, 3, -1, -3, 4, 0), 2, 3);
    expect(exact.gamma).toBe(2);
    expect(exact.s).toBe(0.5);
    expect(Array.from(exact.values)).toEqual([0, 1, 0, -1, 1, 0]);
    expect(exact.scale).toBe(2);
  });

  it('rounds 0.5 down and 1.5 up (then clamps), matching roundHalfEven', () => {
    const r = absmeanTernarize(Float32Array.of(0.5, -1.5, 0, 2), 1, 4); // mean 1 -> s 1
    expect(r.gamma).toBe(1);
    expect(Array.from(r.values)).toEqual([0, -1, 0, 1]);
  });

  it('floors gamma at f32(1e-5) for an all-zero matrix', () => {
    const r = absmeanTernarize(new Float32Array(12), 3, 4);
    expect(r.gamma).toBe(ABSMEAN_FLOOR);
    expect(r.s).toBe(Math.fround(1 / ABSMEAN_FLOOR));
    expect(r.scale).toBe(Math.fround(1 / r.s));
    expect(Array.from(r.values).every((v) => v === 0)).toBe(true);
  });

  it('computes gamma in binary64 then rounds once to binary32', () => {
    const w = Float32Array.of(0.1, 0.2, 0.3);
    const r = absmeanTernarize(w, 1, 3);
    expect(r.gamma).toBe(Math.fround((w[0]! + w[1]! + w[2]!) / 3));
    expect(r.s).toBe(Math.fround(1 / r.gamma));
    expect(r.scale).toBe(Math.fround(1 / r.s));
  });

  it('equals the literal formula on random matrices, also when streamed in chunks (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 7 }), fc.infiniteStream(fc.float({ min: -4, max: 4, noNaN: true })), (rows, cols, chunk, s) => {
        const w = Float32Array.from(s.take(rows * cols));
        const whole = absmeanTernarize(w, rows, cols);
        let sum = 0;
        for (const x of w) sum += Math.abs(x);
        const mean = Math.fround(sum / w.length);
        const gamma = mean > ABSMEAN_FLOOR ? mean : ABSMEAN_FLOOR;
        const sc = Math.fround(1 / gamma);
        const want = Int8Array.from(w, (x) => Math.max(-1, Math.min(1, roundHalfEven(Math.fround(x * sc)))));
        expect(whole.values).toEqual(want);
        const chunked = absmeanTernarize((cb) => {
          for (let i = 0; i < w.length; i += chunk) cb(w.subarray(i, i + chunk), i);
        }, rows, cols);
        expect(chunked).toEqual(whole);
      }),
      { numRuns: 200 },
    );
  });

  it('writes each chunk at its own start, whatever order the chunks come in', () => {
    // A loop reading one past a chunk's end would write values[start + length], i.e. clobber the
    // first value of a chunk delivered earlier.
    const w = Float32Array.of(3, -3, 3, 3, -3, 3);
    const whole = absmeanTernarize(w, 2, 3);
    expect(Array.from(whole.values)).toEqual([1, -1, 1, 1, -1, 1]);
    const reversed = absmeanTernarize((cb) => {
      for (let i = 4; i >= 0; i -= 2) cb(w.subarray(i, i + 2), i);
    }, 2, 3);
    expect(reversed).toEqual(whole);
  });

  it('rejects a source with the wrong number of values', () => {
    expectTellme(() => absmeanTernarize(new Float32Array(5), 2, 3), 'E_INTERNAL', '5 values');
  });
});

describe('weight_scale conventions', () => {
  const ctx = (linearClass: string | null) => ({ tensor: 'model.layers.0.self_attn.q_proj.weight_scale', file: '/m/model.safetensors', linearClass, configFile: '/m/config.json' });

  it('multiply: w_s = f32(weight_scale); divide: w_s = f32(1 / weight_scale)', () => {
    expect(weightScaleToMultiplier(1.5546875, 'multiply', ctx('autobitlinear'))).toBe(1.5546875);
    expect(weightScaleToMultiplier(50, 'divide', ctx('bitlinear'))).toBe(Math.fround(1 / 50));
    expect(weightScaleToMultiplier(3, 'divide', ctx(null))).toBe(Math.fround(1 / 3));
    // The inverted-scale lower bound applies to the divide convention only.
    expect(weightScaleToMultiplier(0.05, 'multiply', ctx('autobitlinear'))).toBe(Math.fround(0.05));
  });

  it('accepts the thresholds themselves', () => {
    expect(weightScaleToMultiplier(MULTIPLY_SCALE_MAX, 'multiply', ctx('autobitlinear'))).toBe(20);
    expect(weightScaleToMultiplier(DIVIDE_SCALE_MIN, 'divide', ctx('bitlinear'))).toBe(Math.fround(1 / 0.1));
  });

  it('refuses an inverted-looking scale under autobitlinear, explaining both conventions', () => {
    const e = expectTellme(
      () => weightScaleToMultiplier(52, 'multiply', ctx('autobitlinear')),
      'E_CONFIG',
      'q_proj.weight_scale',
      '/m/model.safetensors',
      'linear_class "autobitlinear"',
      '/m/config.json',
      'W = t * weight_scale',
      'W = t / weight_scale',
    );
    expect(e.fix).toContain('"bitlinear"');
  });

  it('refuses a multiplicative-looking scale under bitlinear (or no linear_class)', () => {
    const e = expectTellme(() => weightScaleToMultiplier(0.05, 'divide', ctx(null)), 'E_CONFIG', 'too small', 'no linear_class');
    expect(e.fix).toContain('"autobitlinear"');
  });

  it('refuses non-positive or non-finite scales', () => {
    const e = expectTellme(() => weightScaleToMultiplier(0, 'multiply', ctx('autobitlinear')), 'E_CHECKPOINT', "tensor 'model.layers.0.self_attn.q_proj.weight_scale' is 0", 'positive finite');
    expect(e.fix).toContain('re-download');
    expectTellme(() => weightScaleToMultiplier(NaN, 'divide', ctx('bitlinear')), 'E_CHECKPOINT', 'positive');
  });
});
