/**
 * bfloat16 conversions (docs/numerics.md §2.3; the embedding's format) as known answers: round to
 * nearest even at the exact halfway point in both directions, overflow to infinity, NaN kept NaN
 * (quiet, sign kept), subnormals flushed to a signed zero, and the bulk converter equal to the
 * scalar one on every bf16 pattern with halfway, below- and above-halfway low halves.
 */
import { describe, expect, it } from 'vitest';
import { bf16Flushed, bf16ToF32, f32ToBf16, f32ToBf16FlushedBulk } from '../../host/src/numerics/f16.js';
import { bitsToF32, frexpExponent, ldexp32 } from '../../host/src/numerics/f32.js';

const bits = (b: number) => bitsToF32(b);

describe('binary32 -> bfloat16', () => {
  it('rounds to nearest, ties to even, at the exact halfway point', () => {
    expect(f32ToBf16(bits(0x3f808000))).toBe(0x3f80); // halfway, even below: down
    expect(f32ToBf16(bits(0x3f818000))).toBe(0x3f82); // halfway, odd below: up
    expect(f32ToBf16(bits(0x3f807fff))).toBe(0x3f80); // just below halfway
    expect(f32ToBf16(bits(0x3f808001))).toBe(0x3f81); // just above halfway
    expect(f32ToBf16(bits(0xbf818000))).toBe(0xbf82); // negative: the magnitude rounds
    expect(f32ToBf16(-0)).toBe(0x8000);
  });

  it('overflows to infinity; NaN stays NaN with its sign, quieted', () => {
    expect(f32ToBf16(bits(0x7f7fffff))).toBe(0x7f80);
    expect(f32ToBf16(bits(0x7f7f7fff))).toBe(0x7f7f);
    expect(f32ToBf16(Infinity)).toBe(0x7f80);
    expect(f32ToBf16(bits(0x7f800001))).toBe(0x7fc0); // a NaN whose payload is only in the low half
    expect(f32ToBf16(bits(0xff810000))).toBe(0xffc1);
  });

  it('bf16ToF32 is the top half; bf16Flushed zeroes exponent-0 patterns and keeps the sign', () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0x1c0de)).toBe(bf16ToF32(0xc0de)); // only 16 bits count
    expect(bf16Flushed(0x0001)).toBe(0);
    expect(bf16Flushed(0x807f)).toBe(0x8000);
    expect(bf16Flushed(0x0080)).toBe(0x0080); // the smallest normal stays
    expect(bf16Flushed(0x7fc0)).toBe(0x7fc0);
  });
});

describe('f32ToBf16FlushedBulk', () => {
  it('equals bf16Flushed(f32ToBf16(x)) on every bf16 pattern with four low halves, from an offset view', () => {
    const lows = [0x0000, 0x7fff, 0x8000, 0x8001];
    const all = new Uint32Array(1 + 65536 * lows.length);
    let i = 1;
    for (let hi = 0; hi < 65536; hi++) for (const lo of lows) all[i++] = ((hi << 16) | lo) >>> 0;
    const src = new Float32Array(all.buffer, 4); // byteOffset 4: the bulk path must honour it
    const out = new Uint16Array(src.length);
    const max = f32ToBf16FlushedBulk(src, out);
    const want = new Uint16Array(src.length);
    const srcBits = new Uint32Array(all.buffer, 4);
    for (let k = 0; k < src.length; k++) want[k] = bf16Flushed(f32ToBf16(bitsToF32(srcBits[k]!)));
    expect(out).toEqual(want);
    expect(max).toBe(0x7fff); // a NaN pattern is the largest magnitude
  });

  it('returns the largest magnitude bits of finite values', () => {
    const out = new Uint16Array(3);
    expect(f32ToBf16FlushedBulk(Float32Array.of(1, -3, 2), out)).toBe(0x4040);
    expect(Array.from(out)).toEqual([0x3f80, 0xc040, 0x4000]);
    expect(f32ToBf16FlushedBulk(new Float32Array(0), new Uint16Array(0))).toBe(0);
  });
});

describe('exponent helpers at the subnormal edge', () => {
  it('frexpExponent of a subnormal is 0; ldexp32 flushes a result below 2^-126', () => {
    expect(frexpExponent(bits(0x00000001))).toBe(0);
    expect(frexpExponent(bits(0x00800000))).toBe(-125);
    expect(frexpExponent(-0)).toBe(0);
    expect(ldexp32(1, -126)).toBe(2 ** -126);
    expect(Object.is(ldexp32(-1, -127), -0)).toBe(true);
    expect(ldexp32(3, 4)).toBe(48);
  });
});
