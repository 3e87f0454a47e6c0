/**
 * The accuracy gates of a contract profile (docs/numerics.md; `numerics` of hw/boards/*.json),
 * measured before a profile is adopted for a build. Not a test (no assertions); run directly:
 *
 *   npx tsx bench/numerics-profiles.ts [--profiles v1,int8-kv] [--seeds 1,2,3] [--steps 16] [--json]
 *
 * For each profile, the gates of the project's accuracy tests, with the margins they leave:
 *  - golden vs float on the generated test models (test/reference/eval.test.ts: every prompt
 *    position's logit cosine >= 0.99, first 8 greedy tokens identical), per seed;
 *  - the demo model (test/models/demo-model.test.ts: 32 greedy tokens identical on three prompts,
 *    logit cosine >= 0.99);
 *  - golden vs transformers (test/golden/hf-oracle.test.ts: final-logit cosine >= 0.99 on every
 *    prompt, the last-position argmax equal wherever transformers' margin makes it provable).
 * The figures go to docs/measurements.md (section 13).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadTokenizer, openCheckpoint } from '../host/src/checkpoint/index.js';
import { argmax, cosine, evaluateCheckpoint, maxAbsError } from '../host/src/eval/index.js';
import { GoldenModel } from '../host/src/golden/model.js';
import type { ContractNumerics } from '../host/src/hwconfig/index.js';
import { writeTestModel, type TestModelInput } from '../host/src/testmodels/index.js';
import { loadOracle, ORACLE_MODELS } from '../test/helpers/hf-oracle.js';

export const PROFILES: Record<string, ContractNumerics> = {
  v1: { kv_format: 'fp16', lm_head: 'int8', shortlist_k: 256 },
  'int8-kv': { kv_format: 'int8', lm_head: 'int8', shortlist_k: 256 },
};

/** The cases of test/reference/eval.test.ts. */
const CASES: [string, TestModelInput][] = [
  ['bitnet-tiny-packed (tied, GQA)', { preset: 'bitnet-tiny-packed' }],
  ['bitnet-tiny-master (tied, GQA)', { preset: 'bitnet-tiny-master' }],
  ['bitnet-tiny-master, MHA', { preset: 'bitnet-tiny-master', kvHeads: 6 }],
  ['bitnet-tiny-packed, untied MHA', { preset: 'bitnet-tiny-packed', tied: false, kvHeads: 6, successor: 0.9 }],
  ['1bitllm-tiny (untied, MHA)', { preset: '1bitllm-tiny' }],
  ['hf1bitllm-tiny (untied, GQA)', { preset: 'hf1bitllm-tiny' }],
];
const DEMO = 'models/tellme-shakespeare-6l';
const DEMO_PROMPTS = ['ROMEO:', 'KING HENRY', 'JULIET:'];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const profiles = (arg('--profiles') ?? 'v1,int8-kv').split(',');
const seeds = (arg('--seeds') ?? '1,2,3').split(',').map(Number);
const steps = Number(arg('--steps') ?? 16);
const json = process.argv.includes('--json');
for (const p of profiles) if (!PROFILES[p]) throw new Error(`unknown profile ${p}; known: ${Object.keys(PROFILES).join(', ')}`);

const f = (x: number | null, d = 6) => (x === null ? 'n/a' : x.toFixed(d));
const out: Record<string, unknown> = {};
const log = (s: string) => {
  if (!json) console.log(s);
};

for (const name of profiles) {
  const numerics = PROFILES[name]!;
  const result: Record<string, unknown> = { numerics };
  log(`\n### profile ${name}: ${JSON.stringify(numerics)}\n`);
  log(`| test model | seed | min logit cosine | greedy tokens agreed (min, of ${steps}) | smallest margin |`);
  log('|---|---|---|---|---|');
  const rows: unknown[] = [];
  for (const [label, input] of CASES) {
    for (const seed of seeds) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-profile-'));
      try {
        writeTestModel(dir, { ...input, seed });
        const r = await evaluateCheckpoint(openCheckpoint(dir), { steps, tokenizer: loadTokenizer(dir), numerics, threads: 2 });
        rows.push({ label, seed, summary: r.summary });
        log(`| ${label} | ${seed} | ${f(r.summary.minLogitCosine)} | ${r.summary.minAgreed} | ${f(r.summary.minMargin, 4)} |`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  result['testModels'] = rows;

  const tok = loadTokenizer(DEMO)!;
  const demo = await evaluateCheckpoint(openCheckpoint(DEMO), {
    steps: 32,
    threads: 2,
    numerics,
    prompts: DEMO_PROMPTS.map((text, i) => ({ name: `text-${i + 1}`, text, ids: tok.encode(text, { addSpecialTokens: true }) })),
  });
  result['demo'] = demo.prompts.map((p) => ({ text: p.text, minCosine: p.logits.minCosine, agreed: p.greedy.agreed, minMargin: p.greedy.minMargin }));
  log(`\ndemo model, 32 greedy steps: ` + demo.prompts.map((p) => `${JSON.stringify(p.text)} ${p.greedy.agreed}/32 (cosine >= ${f(p.logits.minCosine)}, margin ${f(p.greedy.minMargin, 4)})`).join('; '));

  const oracle: unknown[] = [];
  for (const spec of ORACLE_MODELS) {
    const o = loadOracle(spec);
    const golden = await GoldenModel.fromCheckpoint(openCheckpoint(o.dir), { threads: 2, numerics });
    let minCos = 1;
    let maxErr = 0;
    let provable = 0;
    let provableEqual = 0;
    try {
      for (const p of o.prompts) {
        golden.reset();
        const last = golden.prefill(p.ids)[0]!;
        const hf = Float32Array.from(p.last_logits);
        const e = maxAbsError(last, hf);
        minCos = Math.min(minCos, cosine(last, hf));
        maxErr = Math.max(maxErr, e);
        if (p.argmax_margin[p.ids.length - 1]! > 2 * e) {
          provable++;
          if (argmax(last) === p.argmax[p.ids.length - 1]) provableEqual++;
        }
      }
    } finally {
      await golden.close();
    }
    oracle.push({ model: o.name, prompts: o.prompts.length, minCosine: minCos, maxAbsErr: maxErr, provable, provableEqual });
    log(`transformers oracle ${o.name}: ${o.prompts.length} prompts, final-logit cosine >= ${f(minCos)}, max abs err ${maxErr.toFixed(4)}, provable argmax equal ${provableEqual}/${provable}`);
  }
  result['oracle'] = oracle;
  out[name] = result;
}
if (json) console.log(JSON.stringify(out));
