/**
 * Multi-token verification (docs/numerics.md §10.1): a verify pass gives every position exactly
 * the logits of one decode step, rollback forgets rejected drafts, and generation with drafts
 * emits exactly the tokens of plain decoding — greedy and seeded sampling, on every test model and
 * the demo model, in both KV formats (a property test with a fixed seed).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/index.js';
import type { Checkpoint } from '../../host/src/checkpoint/types.js';
import { GoldenModel } from '../../host/src/golden/model.js';
import { goldenSession } from '../../host/src/golden/session.js';
import type { ContractNumerics } from '../../host/src/hwconfig/index.js';
import { promptLookupDrafts } from '../../host/src/runtime/drafts.js';
import { generate } from '../../host/src/runtime/generate.js';
import { argmax } from '../../host/src/runtime/sampling.js';
import { writeTestModel, type TestModelInput } from '../../host/src/testmodels/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function makeModel(input: TestModelInput): Checkpoint {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-mtv-'));
  dirs.push(dir);
  writeTestModel(dir, input);
  return openCheckpoint(dir);
}

const PROFILES: [string, ContractNumerics][] = [
  ['fp16 KV, int8 head', { kv_format: 'fp16', lm_head: 'int8', shortlist_k: 256 }],
  ['int8 KV, shortlist of 16', { kv_format: 'int8', lm_head: 'ternary-shortlist', shortlist_k: 16 }],
];
const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('promptLookupDrafts', () => {
  it('proposes what followed the most recent earlier occurrence of the longest tail n-gram', () => {
    expect(promptLookupDrafts([1, 2, 3, 9, 1, 2, 3, 7, 1, 2, 3], 2)).toEqual([7, 1]); // 3-gram 1,2,3: most recent at 4
    expect(promptLookupDrafts([5, 6, 7, 5, 6], 4)).toEqual([7, 5, 6]); // up to the end of the text
    expect(promptLookupDrafts([4, 8, 1, 8], 3)).toEqual([1, 8]); // only the 1-gram 8 matches
    expect(promptLookupDrafts([1, 2, 3], 3)).toEqual([]);
    expect(promptLookupDrafts([1, 1], 0)).toEqual([]);
  });
});

describe('verify pass = decode steps, bit for bit; rollback', () => {
  for (const [profile, numerics] of PROFILES) {
    it(profile, async () => {
      const ckpt = makeModel({ preset: 'bitnet-tiny-master' });
      const m = await GoldenModel.fromCheckpoint(ckpt, { threads: 2, contextLength: 32, numerics });
      try {
        const prompt = [5, 17, 3, 99, 42, 7];
        m.prefill(prompt);
        const L = m.position;
        const tokens = [11, 12, 13, 14];
        const decoded = tokens.map((t) => m.decode(t));
        // Wrong drafts first, rolled back by the next verify's KV offset.
        m.verify([11, 400, 401], L);
        const verified = m.verify(tokens, L);
        expect(m.position).toBe(L + tokens.length);
        tokens.forEach((_, i) => expect(same(verified[i]!, decoded[i]!), `position ${i}`).toBe(true));
        m.setKvLength(L + 2);
        expect(same(m.decode(tokens[2]!), decoded[2]!)).toBe(true);
        expect(() => m.setKvLength(m.position + 1)).toThrow(/outside 0\.\./);
      } finally {
        await m.close();
      }
    });
  }
});

/** The generation-relevant models: every tiny preset and the demo model. */
const MODELS: [string, () => Checkpoint][] = [
  ['bitnet-tiny-packed', () => makeModel({ preset: 'bitnet-tiny-packed' })],
  ['bitnet-tiny-master', () => makeModel({ preset: 'bitnet-tiny-master' })],
  ['1bitllm-tiny', () => makeModel({ preset: '1bitllm-tiny' })],
  ['hf1bitllm-tiny', () => makeModel({ preset: 'hf1bitllm-tiny' })],
  ['tellme-shakespeare-6l', () => openCheckpoint('models/tellme-shakespeare-6l')],
];

describe('generation with drafts = plain decoding (property, fixed seed)', () => {
  for (const [name, open] of MODELS) {
    it(name, async () => {
      const ckpt = open();
      const vocab = ckpt.spec.vocabSize;
      let tokens = 0;
      let passes = 0;
      for (const [, numerics] of PROFILES) {
        const m = await GoldenModel.fromCheckpoint(ckpt, { threads: 2, contextLength: 48, numerics });
        const session = goldenSession(m);
        try {
          await fc.assert(
            fc.asyncProperty(
              // A short pattern repeated (drafts get accepted) with a random head and tail.
              fc.array(fc.integer({ min: 3, max: vocab - 1 }), { minLength: 1, maxLength: 4 }),
              fc.array(fc.integer({ min: 3, max: vocab - 1 }), { minLength: 0, maxLength: 3 }),
              fc.integer({ min: 1, max: 6 }),
              fc.integer({ min: 1, max: 24 }),
              fc.oneof(fc.constant(0), fc.double({ min: 0.3, max: 3, noNaN: true })),
              fc.nat(1000),
              async (pattern, tail, draftTokens, maxNewTokens, temperature, seed) => {
                const prompt = [...pattern, ...pattern, ...pattern, ...tail].slice(0, 20);
                const base = { maxNewTokens, temperature, topK: 0, topP: temperature > 0 ? 0.95 : 1, seed, stopIds: ckpt.spec.eosTokenIds };
                m.reset();
                const plain = await generate(session, prompt, base);
                m.reset();
                const drafted = await generate(session, prompt, { ...base, draftTokens });
                expect(drafted.ids).toEqual(plain.ids);
                expect(drafted.stopReason).toBe(plain.stopReason);
                expect(plain.passes).toBe(Math.max(0, plain.ids.length - 1));
                expect(drafted.passes).toBeLessThanOrEqual(plain.passes);
                tokens += plain.passes;
                passes += drafted.passes;
              },
            ),
            { numRuns: 8, seed: 4242 },
          );
          // A prompt that quotes the model's own continuation: drafts must be accepted.
          const greedy = { maxNewTokens: 8, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: [] };
          const head = [5, 9, 14];
          m.reset();
          const own = (await generate(session, head, greedy)).ids;
          const quoting = [...head, ...own.slice(0, 6), ...head];
          m.reset();
          const plain = await generate(session, quoting, greedy);
          m.reset();
          const drafted = await generate(session, quoting, { ...greedy, draftTokens: 4 });
          expect(drafted.ids).toEqual(plain.ids);
          tokens += plain.passes;
          passes += drafted.passes;
        } finally {
          await m.close();
        }
      }
      // The property is not vacuous: drafts were accepted somewhere.
      expect(passes).toBeLessThan(tokens);
    });
  }

  it('a full context ends the generation the same way (C − n + 1 tokens)', async () => {
    const ckpt = makeModel({ preset: 'hf1bitllm-tiny' });
    const m = await GoldenModel.fromCheckpoint(ckpt, { threads: 2, contextLength: 12 });
    try {
      const prompt = [7, 8, 7, 8, 7];
      const base = { maxNewTokens: 50, temperature: 0, topK: 0, topP: 1, seed: 0, stopIds: [] };
      const plain = await generate(goldenSession(m), prompt, base);
      m.reset();
      const drafted = await generate(goldenSession(m), prompt, { ...base, draftTokens: 5 });
      expect(plain.ids).toHaveLength(12 - 5 + 1);
      expect(plain.stopReason).toBe('context');
      expect(drafted.ids).toEqual(plain.ids);
      expect(drafted.stopReason).toBe('context');
      expect(argmax(m.verify([plain.ids[0]!], 5)[0]!)).toBe(plain.ids[1]);
    } finally {
      await m.close();
    }
  });
});
