/**
 * Each attention routine writes the output of its query, all heads, to out[outOff, outOff + H·d)
 * and nothing else (a port that writes one element past a head, or one head too many, corrupts the
 * next token's output). Checked with sentinels around the slot, for prefill, decode and int8
 * attention, with GQA (4 query heads on 2 KV heads).
 */
import { describe, expect, it } from 'vitest';
import { attentionScale, decodeAttention, prefillAttention, type AttentionShape, type KvLayerCache } from '../../host/src/golden/attention.js';
import { int8Attention, int8KvLayerCache, quantizeAttentionHead } from '../../host/src/golden/attention-int8.js';

const H = 4;
const HKV = 2;
const D = 8;
const P = 6;
const SENTINEL = -12345;
const shape: AttentionShape = { numHeads: H, numKvHeads: HKV, headDim: D, scale: attentionScale(D) };

/** Multiples of 2^-6 in (-2, 2): exact in binary16. */
function values(seed: number, n: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s >>> 25) - 64) / 32;
  });
}

/** out with the slot [off, off + H·d) in the middle of sentinels; returns what was written outside it. */
function outside(run: (out: Float32Array, off: number) => void): number[] {
  const off = H * D;
  const out = new Float32Array(3 * H * D).fill(SENTINEL);
  run(out, off);
  const inside = out.subarray(off, off + H * D);
  expect(inside.every((v) => v !== SENTINEL && Number.isFinite(v))).toBe(true);
  return [...out.subarray(0, off), ...out.subarray(off + H * D)].filter((v) => v !== SENTINEL);
}

describe('attention writes exactly its query\'s slot', () => {
  const cache: KvLayerCache = { k: values(1, P * HKV * D), v: values(2, P * HKV * D) };
  // Queries for two tokens back to back, so that the one read past the first is a real one.
  const q = values(3, 2 * H * D);

  it('prefill and decode (binary16 KV)', () => {
    for (const pos of [0, P - 1]) {
      expect(outside((out, off) => prefillAttention(shape, q, 0, cache, pos, out, off))).toEqual([]);
      expect(outside((out, off) => decodeAttention(shape, q, 0, cache, pos, out, off))).toEqual([]);
    }
  });

  it('int8 attention', () => {
    const c = int8KvLayerCache(P, HKV, D);
    const k = values(4, P * HKV * D);
    const v = values(5, P * HKV * D);
    for (let s = 0; s < P * HKV; s++) {
      c.sk[s] = quantizeAttentionHead(k, s * D, D, c.k8, s * D);
      c.sv[s] = quantizeAttentionHead(v, s * D, D, c.v8, s * D);
    }
    const q8 = new Int8Array(2 * H * D);
    const sq = new Float32Array(2 * H);
    for (let h = 0; h < 2 * H; h++) sq[h] = quantizeAttentionHead(q, h * D, D, q8, h * D);
    for (const pos of [0, P - 1]) {
      expect(outside((out, off) => int8Attention(shape, q8, 0, sq, 0, c, pos, out, off))).toEqual([]);
    }
  });
});
