/**
 * The float reference against Hugging Face transformers itself (tools/hf-oracle: BitNetForCausalLM,
 * fp32, eager attention, on CPU). Opt-in, because the oracle needs torch + transformers to
 * produce: point TELLME_HF_ORACLE_DIR at an oracle output folder (the one holding
 * oracle_summary.json); every model in it whose checkpoint directory still exists is checked.
 *
 *   python3 tools/hf-oracle/hf_oracle.py --out /tmp/oracle
 *   TELLME_HF_ORACLE_DIR=/tmp/oracle npx vitest run test/reference/hf-oracle.test.ts
 *
 * Expected: the last-position logits agree to binary32 rounding (cosine > 1 - 1e-9) on at least
 * a third of the prompts (all of them on the random fixtures); every argmax and greedy step whose
 * transformers margin is decisive agrees (greedy: transformers with its KV cache, the reference
 * recomputing the whole sequence). A prompt may differ more when an int8 activation rounding sits
 * within a few ulps of a .5 tie: equally valid operation orders round it differently and the flip
 * cascades. transformers' own alternative operation order (oracle.json alt_order) shows the same
 * effect. Seen: 0.23 of 23 on one random-fixture prompt (it vanishes when the weight scales move
 * by one ulp), and 0.05 to 0.08 on half of the demo model's prompts (cosine >= 0.9988). Every
 * prompt must still have cosine > 0.995.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/index.js';
import { argmax, cosine, maxAbs, maxAbsError } from '../../host/src/eval/index.js';
import { FloatReference } from '../../host/src/reference/index.js';

interface OraclePrompt {
  ids: number[];
  last_logits: number[];
  argmax: number[];
  argmax_margin: number[];
  greedy: number[];
  greedy_margin: number[];
}

/**
 * Below this top-1/top-2 gap an argmax or greedy step can go either way between valid fp32
 * implementations (one int8 rounding flip moves the demo model's logits by up to ~0.08).
 */
const DECISIVE = 0.1;

const root = process.env['TELLME_HF_ORACLE_DIR'];
const models: { name: string; dir: string; oracle: string }[] = [];
if (root) {
  const summary = JSON.parse(fs.readFileSync(path.join(root, 'oracle_summary.json'), 'utf8')) as { models: Record<string, { dir: string }> };
  for (const [name, m] of Object.entries(summary.models)) {
    const oracle = path.join(root, name, 'oracle.json');
    if (fs.existsSync(oracle) && fs.existsSync(path.join(m.dir, 'config.json'))) models.push({ name, dir: m.dir, oracle });
  }
}

describe.skipIf(!root)('float reference vs transformers (TELLME_HF_ORACLE_DIR)', () => {
  it('finds at least one model', () => {
    expect(models.length).toBeGreaterThan(0);
  });
  for (const m of models) {
    it(m.name, async () => {
      const oracle = JSON.parse(fs.readFileSync(m.oracle, 'utf8')) as { prompts: OraclePrompt[] };
      const ckpt = openCheckpoint(m.dir);
      const ref = await FloatReference.fromCheckpoint(ckpt);
      try {
        let exact = 0;
        let minCos = 1;
        let maxErr = 0;
        let maxLogit = 0;
        let greedyCompared = 0;
        for (const p of oracle.prompts) {
          const logits = await ref.forward(p.ids);
          const hf = Float32Array.from(p.last_logits);
          const last = logits[logits.length - 1]!;
          expect(cosine(last, hf)).toBeGreaterThan(0.995);
          if (cosine(last, hf) > 1 - 1e-9 && maxAbsError(last, hf) < 1e-5 * Math.max(1, maxAbs(hf))) exact++;
          minCos = Math.min(minCos, cosine(last, hf));
          maxErr = Math.max(maxErr, maxAbsError(last, hf));
          maxLogit = Math.max(maxLogit, maxAbs(hf));
          // Positions whose margin is below DECISIVE could go either way.
          logits.forEach((l, t) => {
            if (p.argmax_margin[t]! >= DECISIVE) expect(argmax(l), `position ${t}`).toBe(p.argmax[t]);
          });
          // Greedy tokens up to the first step where transformers' own margin is not decisive.
          let steps = p.greedy_margin.findIndex((m) => m < DECISIVE);
          if (steps < 0) steps = p.greedy.length;
          const seq = [...p.ids];
          const tokens: number[] = [];
          while (tokens.length < steps && seq.length < ckpt.spec.maxPositions) {
            const t = argmax((await ref.forward(seq, { logits: 'last' }))[0]!);
            tokens.push(t);
            seq.push(t);
          }
          expect(tokens).toEqual(p.greedy.slice(0, tokens.length));
          greedyCompared += tokens.length;
        }
        console.log(
          `${m.name}: ${oracle.prompts.length} prompts, last-position logits: ${exact} at binary32 rounding, ` +
            `min cosine ${minCos.toFixed(9)}, max abs err ${maxErr.toExponential(2)} (max |logit| ${maxLogit.toFixed(2)}); ` +
            `${greedyCompared} decisive greedy tokens identical`,
        );
        expect(exact).toBeGreaterThanOrEqual(Math.ceil(oracle.prompts.length / 3));
      } finally {
        ref.dispose();
      }
    });
  }
});
