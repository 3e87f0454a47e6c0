/** The comparison helpers and default prompts of `tellme eval`. */
import { describe, expect, it } from 'vitest';
import {
  argmax,
  checkPrompts,
  compareVectors,
  cosine,
  defaultPrompts,
  leadingAgreement,
  maxAbsError,
  ordinaryIdRange,
  topTwo,
} from '../../host/src/eval/index.js';
import type { ModelSpec } from '../../host/src/model/spec.js';
import { TellmeError } from '../../host/src/errors.js';

describe('vector comparisons', () => {
  it('cosine: parallel, orthogonal, opposite, zero vectors', () => {
    expect(cosine([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 15);
    expect(cosine([1, 0], [0, 5])).toBe(0);
    expect(cosine([1, -1], [-2, 2])).toBeCloseTo(-1, 15);
    expect(cosine([0, 0], [0, 0])).toBe(1);
    expect(cosine([0, 0], [1, 0])).toBe(0);
    expect(cosine([3, 4], [4, 3])).toBeCloseTo(24 / 25, 15);
    expect(() => cosine([1], [1, 2])).toThrow(RangeError);
  });

  it('max abs error and the reference magnitude', () => {
    expect(maxAbsError([1, 2, 3], [1.5, 2, 1])).toBe(2);
    expect(compareVectors(new Float32Array([1, -4]), new Float32Array([1, -3]))).toEqual({ cosine: cosine([1, -4], [1, -3]), maxAbsErr: 1, refMaxAbs: 3 });
    expect(maxAbsError([NaN], [0])).toBeNaN();
  });

  it('argmax and topTwo break ties toward the lower id', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(topTwo([1, 3, 3, 2])).toEqual({ top1: 1, top2: 2, margin: 0 });
    expect(topTwo([5, 1, 4.5, -1])).toEqual({ top1: 0, top2: 2, margin: 0.5 });
    expect(topTwo([0.25, 9])).toEqual({ top1: 1, top2: 0, margin: 8.75 });
    expect(topTwo([7]).margin).toBe(Infinity);
  });

  it('leading agreement', () => {
    expect(leadingAgreement([1, 2, 3], [1, 2, 4])).toBe(2);
    expect(leadingAgreement([1, 2], [1, 2])).toBe(2);
    expect(leadingAgreement([5], [6])).toBe(0);
    expect(leadingAgreement([], [])).toBe(0);
  });
});

const spec = (over: Partial<ModelSpec>): ModelSpec => ({
  family: 'bitnet',
  architecture: 'BitNetForCausalLM',
  modelType: 'bitnet',
  hiddenSize: 64,
  intermediateSize: 128,
  numLayers: 1,
  numHeads: 4,
  numKvHeads: 2,
  headDim: 16,
  vocabSize: 1000,
  maxPositions: 64,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  activation: 'relu2',
  subNorms: true,
  tiedEmbeddings: true,
  weightStorage: 'packed',
  scaleConvention: 'multiply',
  dtype: 'bfloat16',
  bosTokenId: 990,
  eosTokenIds: [991, 995],
  padTokenId: null,
  ...over,
});

describe('default prompts', () => {
  it('stay below the special-token block and start with BOS', () => {
    const s = spec({});
    expect(ordinaryIdRange(s)).toEqual({ lo: 3, hi: 990 });
    const ps = defaultPrompts(s, null);
    expect(ps.map((p) => p.name)).toEqual(['ids-spread', 'ids-repeat']);
    for (const p of ps) {
      expect(p.ids[0]).toBe(990);
      for (const id of p.ids.slice(1)) {
        expect(id).toBeGreaterThanOrEqual(3);
        expect(id).toBeLessThan(990);
      }
    }
    expect(new Set(ps[0]!.ids).size).toBe(ps[0]!.ids.length);
    const rep = ps[1]!.ids.slice(1);
    expect(rep.slice(0, 4)).toEqual(rep.slice(4, 8));
    expect(rep.slice(0, 4)).toEqual(rep.slice(8, 12));
    // Deterministic.
    expect(defaultPrompts(s, null)).toEqual(ps);
  });

  it('use the whole vocabulary when the specials are at the bottom (llama-style 1, 2)', () => {
    const s = spec({ bosTokenId: 1, eosTokenIds: [2], vocabSize: 500 });
    expect(ordinaryIdRange(s)).toEqual({ lo: 3, hi: 500 });
    expect(defaultPrompts(s, null)[0]!.ids[0]).toBe(1);
  });

  it('add the text prompts when there is a tokenizer', () => {
    const tok = {
      encode: (t: string) => [990, ...Array.from(t.slice(0, 5), (c) => c.charCodeAt(0))],
      decode: () => '',
      applyChatTemplate: () => null,
      bosTokenId: 990,
      eosTokenIds: [991],
      vocabSize: 1000,
    };
    const ps = defaultPrompts(spec({}), tok);
    expect(ps.map((p) => p.name)).toEqual(['ids-spread', 'ids-repeat', 'text-1', 'text-2']);
    expect(ps[2]!.text).toBe('The quick brown fox jumps over the lazy dog.');
  });

  it('checkPrompts returns the context needed and refuses what does not fit', () => {
    const s = spec({});
    expect(checkPrompts(s, [{ name: 'a', ids: [1, 2, 3] }], 8)).toBe(10);
    expect(checkPrompts(s, [{ name: 'a', ids: [1, 2, 3] }], 0)).toBe(3);
    expect(() => checkPrompts(s, [{ name: 'a', ids: [1000] }], 1)).toThrow(/outside the vocabulary/);
    expect(() => checkPrompts(s, [{ name: 'a', ids: new Array(60).fill(5) }], 8)).toThrow(TellmeError);
    expect(() => checkPrompts(s, [], 8)).toThrow(/no prompts/);
  });
});
