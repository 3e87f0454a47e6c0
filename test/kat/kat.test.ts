/**
 * Known answers of the golden model (docs/numerics.md), per numerics profile: every tiny test
 * preset and the demo model, three prompts, prefill and 16 decode steps, compared bit for bit
 * with test/kat/fixtures/<profile>/<model>.json (README.md there).
 *
 * The answers were produced by the golden model and matched bit for bit by an implementation
 * written independently from the docs (issue 12), so they do not share code with what they
 * check. A change here is a change of the arithmetic contract: regenerate with
 * `npm run kat:update` only together with the docs/numerics.md change that explains it, and
 * use `npm run kat:diff` to see which element changed and by how many ulps.
 */
import { describe, expect, it } from 'vitest';
import { KAT_MODELS, PROMPT_LENGTHS, SAMPLING, DECODE_STEPS } from './cases.js';
import { diffRecords, fixturePath, readFixture } from './fixtures.js';
import { PROFILES, profileId } from './profiles.js';
import { GENERATED_BY, recordModel, type KatRecord } from './record.js';

const HOW_TO =
  'The golden model no longer reproduces its known answers. If the change is intended, it changes the arithmetic ' +
  'contract: describe it in docs/numerics.md, then run `npm run kat:update`; `npm run kat:diff` shows the first differing ' +
  'element of each changed logit vector.';

function fixtureOrFail(profile: (typeof PROFILES)[number], name: string): KatRecord {
  const expected = readFixture(profile, name);
  // A missing file is a failure, not a skip.
  expect(expected, `${fixturePath(profile, name)} is missing: run \`npm run kat:update\``).not.toBeNull();
  return expected!;
}

for (const profile of PROFILES) {
  describe(`known answers, numerics ${profileId(profile)}`, () => {
    for (const m of KAT_MODELS) {
      if (m.heavy) {
        // Full-size shapes take minutes: `npm run kat:check -- --heavy` runs them (docs/measurements.md).
        it(`${m.name}: the fixture exists and covers the cases`, () => {
          const f = fixtureOrFail(profile, m.name);
          expect(f.numerics).toEqual(profile);
          expect(f.prompts.map((p) => p.ids.length)).toEqual([...PROMPT_LENGTHS]);
        });
        continue;
      }
      it(`${m.name}: same bits as the fixture`, async () => {
        const expected = fixtureOrFail(profile, m.name);
        const actual = await recordModel(m, profile);
        expect(actual.model.weights, `the ${m.source} checkpoint itself changed (not the numerics); regenerate`).toBe(expected.model.weights);
        expect(diffRecords(expected, actual), HOW_TO).toEqual([]);
      });
    }

    it('the fixtures cover what they should: prompt lengths, decode steps, sampling that differs from greedy', () => {
      for (const m of KAT_MODELS) {
        const f = fixtureOrFail(profile, m.name);
        expect(f.generated_by).toBe(GENERATED_BY);
        expect(f.numerics).toEqual(profile);
        expect(f.prompts.map((p) => p.ids.length)).toEqual([...PROMPT_LENGTHS]);
        for (const p of f.prompts) {
          expect(p.prefill.argmax).toHaveLength(p.ids.length);
          expect(p.greedy.ids).toHaveLength(DECODE_STEPS + 1);
          expect(p.greedy.logits).toHaveLength(DECODE_STEPS);
          expect(p.sampled).toHaveLength(SAMPLING.length);
          // A sampled run that repeats the greedy one would not test the sampler.
          const differing = p.sampled.filter((s) => s.ids.join() !== p.greedy.ids.join()).length;
          expect(differing, `${m.name} ${p.name}: sampled runs that differ from greedy`).toBeGreaterThanOrEqual(3);
        }
      }
    });
  });
}

describe('the comparison notices a one-bit change', () => {
  it('a planted flip of the lowest bit of one logit changes exactly that vector hash', async () => {
    const [profile] = PROFILES;
    const m = KAT_MODELS.find((k) => k.name === 'hf1bitllm-tiny')!;
    const expected = readFixture(profile!, m.name)!;
    const planted = await recordModel(m, profile!, (path, v) => {
      if (path === 'synthetic-43/greedy/9') {
        const bits = new Uint32Array(v.buffer, v.byteOffset, v.length);
        bits[v.length - 1]! ^= 1;
      }
    });
    const diffs = diffRecords(expected, planted);
    expect(diffs).toHaveLength(1);
    expect(diffs[0]).toMatch(/^prompts\[2\]\.greedy\.logits\[8\]: /);
  });
});
