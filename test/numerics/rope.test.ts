/**
 * RoPE (docs/numerics.md §7) against a transcription written here from the document and
 * committed hashes: the table (inv_i, angle, binary64 cos/sin rounded to binary32, layout
 * [p][i][cos, sin]), the rotation of consecutive pairs, and the offline row permutation. Each
 * wrong form below changes bits on these inputs.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { applyRope, permuteRopeRows, ropeInvFreq, ropeTable } from '../../host/src/numerics/rope.js';
import { R } from './transcription.js';

interface TableForm {
  exponentUnrounded?: boolean;
  powerUnrounded?: boolean;
  angleUnrounded?: boolean;
  negativePower?: boolean;
}

function tableT(d: number, theta: number, positions: number, f: TableForm = {}): Float32Array {
  const out = new Float32Array(positions * d);
  for (let i = 0; i < d / 2; i++) {
    const e = f.exponentUnrounded ? (2 * i) / d : R((2 * i) / d);
    const inv = f.negativePower ? R(theta ** -e) : R(1 / (f.powerUnrounded ? theta ** e : R(theta ** e)));
    for (let p = 0; p < positions; p++) {
      const angle = f.angleUnrounded ? p * inv : R(p * inv);
      out[p * d + 2 * i] = Math.cos(angle);
      out[p * d + 2 * i + 1] = Math.sin(angle);
    }
  }
  return out;
}

type RotForm = 'doc' | 'fused' | 'halfPairs' | 'signSwapped';

function rotateT(x: Float32Array, d: number, pos: number, table: Float32Array, form: RotForm = 'doc'): Float32Array {
  const y = x.slice();
  for (let i = 0; i < d / 2; i++) {
    const [ia, ib] = form === 'halfPairs' ? [i, i + d / 2] : [2 * i, 2 * i + 1];
    const c = table[pos * d + 2 * i]!;
    const s = table[pos * d + 2 * i + 1]!;
    const a = x[ia]!;
    const b = x[ib]!;
    if (form === 'fused') {
      y[ia] = R(a * c - b * s);
      y[ib] = R(b * c + a * s);
    } else if (form === 'signSwapped') {
      y[ia] = R(R(a * c) + R(b * s));
      y[ib] = R(R(b * c) - R(a * s));
    } else {
      y[ia] = R(R(a * c) - R(b * s));
      y[ib] = R(R(b * c) + R(a * s));
    }
  }
  return y;
}

const hash = (v: Float32Array) => createHash('sha256').update(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)).digest('hex').slice(0, 16);

const TABLES: [number, number, number, string][] = [
  [64, 500000, 64, '9e17868f80133b03'],
  [100, 10000, 48, '9700d90d9a481818'], // bitnet_b1_58-3B's head dimension: 2i/d is not exact in binary32
];

describe('RoPE table (§7.2)', () => {
  for (const [d, theta, positions, known] of TABLES) {
    it(`d = ${d}, theta = ${theta}: equals the transcription and the committed hash`, () => {
      const t = ropeTable(d, theta, positions);
      expect(t.length).toBe(positions * d);
      expect(Array.from(t)).toEqual(Array.from(tableT(d, theta, positions)));
      expect(hash(t)).toBe(known);
      expect(Array.from(ropeInvFreq(d, theta))).toEqual(Array.from({ length: d / 2 }, (_, i) => R(1 / R(theta ** R((2 * i) / d)))));
    });
  }

  const wrong: [string, TableForm][] = [
    ['the exponent 2i/d not rounded to binary32', { exponentUnrounded: true }],
    ['theta^e not rounded before the reciprocal', { powerUnrounded: true }],
    ['the angle p·inv not rounded', { angleUnrounded: true }],
    ['inv as theta^-e instead of 1 / theta^e', { negativePower: true }],
  ];
  for (const [what, form] of wrong) {
    it(`kills: ${what}`, () => {
      const differs = TABLES.some(([d, theta, positions]) => hash(tableT(d, theta, positions, form)) !== hash(tableT(d, theta, positions)));
      expect(differs).toBe(true);
    });
  }
});

describe('RoPE rotation of consecutive pairs (§7.1)', () => {
  const d = 64;
  const table = ropeTable(d, 500000, 64);
  /** binary16-representable inputs (multiples of 2^-8 in (-8, 8)). */
  const x = Float32Array.from({ length: d }, (_, i) => (((i * 2654435761) >>> 20) % 4096 - 2048) / 256);
  const POSITIONS = [0, 1, 5, 33, 63];

  it('equals the transcription and the committed hash at several positions', () => {
    const out: number[] = [];
    for (const p of POSITIONS) {
      const y = Float64Array.from(x);
      applyRope(y, 0, d, p, table);
      expect(Array.from(y), `position ${p}`).toEqual(Array.from(rotateT(x, d, p, table)));
      out.push(...y);
    }
    expect(hash(Float32Array.from(out))).toBe(ROTATION_KNOWN);
    // Position 0 is the identity (cos 1, sin 0).
    const y0 = Float32Array.from(x);
    applyRope(y0, 0, d, 0, table);
    expect(Array.from(y0)).toEqual(Array.from(x));
  });

  for (const form of ['fused', 'halfPairs', 'signSwapped'] as const) {
    it(`kills: rotation ${form}`, () => {
      const differs = POSITIONS.some((p) => hash(rotateT(x, d, p, table, form)) !== hash(rotateT(x, d, p, table)));
      expect(differs).toBe(true);
    });
  }

  it('rotates each head at its own offset', () => {
    const two = new Float32Array(2 * d);
    two.set(x, d);
    applyRope(two, d, d, 5, table);
    expect(Array.from(two.subarray(0, d)).every((v) => v === 0)).toBe(true);
    expect(Array.from(two.subarray(d))).toEqual(Array.from(rotateT(x, d, 5, table)));
  });

  it('touches only its own head: the next head in the buffer keeps its values', () => {
    // Heads are rotated one after the other in one buffer: a rotation that wrote one pair past
    // its head would change the next head before its own rotation.
    const two = new Float32Array(2 * d);
    two.set(x, 0);
    two.set(x.map((v) => -v), d);
    applyRope(two, 0, d, 7, table);
    expect(Array.from(two.subarray(0, d))).toEqual(Array.from(rotateT(x, d, 7, table)));
    expect(Array.from(two.subarray(d))).toEqual(Array.from(x, (v) => -v));
  });
});

describe('the offline row permutation (§7.1)', () => {
  it('new row 2i <- old row i, new row 2i+1 <- old row i + d/2, inside each head', () => {
    // 2 heads of d = 4, 3 columns; row r holds r*10 + c.
    const rows = 8;
    const cols = 3;
    const m = Int8Array.from({ length: rows * cols }, (_, k) => Math.floor(k / cols) * 10 + (k % cols));
    const p = permuteRopeRows(m, rows, cols, 4);
    const rowOf = (r: number) => Math.floor(p[r * cols]! / 10);
    expect(Array.from({ length: rows }, (_, r) => rowOf(r))).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
    expect(Array.from(p.subarray(cols, 2 * cols))).toEqual([20, 21, 22]);
  });
});

const ROTATION_KNOWN = 'f67039b37ee1346a';
