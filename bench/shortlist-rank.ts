/**
 * How deep in the ternary head's ranking the int8 head's choice sits (docs/numerics.md §9.2): for
 * every position of several prompt sets (prompt positions and greedy-generated ones) on every test
 * preset, the transformers-oracle models and the demo model, the rank of the int8 argmax in the
 * order (ternary score descending, id ascending). A shortlist of K rows contains the int8 argmax
 * exactly when that rank is below K. Not a test; run directly:
 *
 *   npx tsx bench/shortlist-rank.ts [--seeds 1,2,3] [--steps 32] [--kv int8|fp16] [--big | --big-only] [--big-steps 16] [--json]
 *
 * The golden model runs with lm_head ternary-shortlist and shortlist_k = vocab, so it rescores
 * every row: its rescored logits are the int8 head's, and the observer gives the whole ternary
 * order. --big adds the 0.73B and 2B-4T shapes (random weights, few layers: the head is what is
 * measured). Figures: docs/measurements.md §13.2.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadTokenizer, openCheckpoint } from '../host/src/checkpoint/index.js';
import type { Checkpoint } from '../host/src/checkpoint/types.js';
import { defaultPrompts } from '../host/src/eval/index.js';
import { GoldenModel } from '../host/src/golden/model.js';
import type { KvFormat } from '../host/src/hwconfig/index.js';
import { argmax, Xoshiro128 } from '../host/src/runtime/sampling.js';
import { writeTestModel, type TestModelInput } from '../host/src/testmodels/index.js';
import { loadOracle, ORACLE_MODELS } from '../test/helpers/hf-oracle.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const seeds = (arg('--seeds') ?? '1,2,3').split(',').map(Number);
const steps = Number(arg('--steps') ?? 32);
const bigSteps = Number(arg('--big-steps') ?? 16);
const kvFormat = (arg('--kv') ?? 'int8') as KvFormat;
const big = process.argv.includes('--big') || process.argv.includes('--big-only');
const bigOnly = process.argv.includes('--big-only');
const json = process.argv.includes('--json');

const CASES: [string, TestModelInput][] = [
  ['bitnet-tiny-packed (tied)', { preset: 'bitnet-tiny-packed' }],
  ['bitnet-tiny-master (tied)', { preset: 'bitnet-tiny-master' }],
  ['bitnet-tiny-packed, untied', { preset: 'bitnet-tiny-packed', tied: false, kvHeads: 6, successor: 0.9 }],
  ['1bitllm-tiny (untied)', { preset: '1bitllm-tiny' }],
  ['hf1bitllm-tiny (untied)', { preset: 'hf1bitllm-tiny' }],
];
const BIG: [string, TestModelInput][] = [
  ['bitnet-large-shape, 2 layers', { preset: 'bitnet-large-shape', layers: 2, maxPositions: 256 }],
  ['bitnet-2b4t-shape, 1 layer', { preset: 'bitnet-2b4t-shape', layers: 1, maxPositions: 256 }],
];

interface Row {
  model: string;
  vocab: number;
  prompts: number;
  positions: number;
  ranks: number[];
  /** At positions whose rank is ≥ 256: int8 logit of the argmax minus the best int8 logit of the first 256. */
  gaps: number[];
}

/** Prompt sets: the eval defaults, random ids, and extra sets the caller gives. */
function promptSets(ckpt: Checkpoint, extra: number[][]): number[][] {
  const spec = ckpt.spec;
  const tok = loadTokenizer(ckpt.dir);
  const sets = defaultPrompts(spec, tok).map((p) => p.ids);
  const rng = new Xoshiro128(12345);
  for (let i = 0; i < 2; i++) sets.push(Array.from({ length: 12 }, () => 3 + (rng.next() % Math.max(1, Math.min(spec.vocabSize - 3, 1000)))));
  return [...sets, ...extra];
}

async function measure(name: string, ckpt: Checkpoint, extra: number[][] = [], genSteps = steps): Promise<Row> {
  const spec = ckpt.spec;
  const sets = promptSets(ckpt, extra);
  const longest = Math.max(...sets.map((s) => s.length));
  const golden = await GoldenModel.fromCheckpoint(ckpt, {
    threads: 2,
    contextLength: Math.min(spec.maxPositions, longest + genSteps + 1),
    numerics: { kv_format: kvFormat, lm_head: 'ternary-shortlist', shortlist_k: spec.vocabSize },
  });
  const ranks: number[] = [];
  const gaps: number[] = [];
  // The observer sees the ternary order of every head evaluation, in position order.
  const orders: Int32Array[] = [];
  golden.observer = (t) => {
    if (t.name === 'head.shortlist') orders.push(Int32Array.from(t.data as Int32Array));
  };
  const rankOf = (logits: Float32Array) => {
    const best = argmax(logits);
    const order = orders.shift()!;
    const rank = order.indexOf(best);
    ranks.push(rank);
    // How much the int8 head prefers its argmax over the best of the first 256 ternary rows.
    if (rank >= 256) {
      let inS = -Infinity;
      for (let i = 0; i < 256; i++) inS = Math.max(inS, logits[order[i]!]!);
      gaps.push(logits[best]! - inS);
    }
    return best;
  };
  try {
    for (const ids of sets) {
      golden.reset();
      const n = Math.min(ids.length, golden.contextLength - 1);
      let next = 0;
      for (const l of golden.prefill(ids.slice(0, n), { allLogits: true })) next = rankOf(l);
      for (let s = 0; s < genSteps && golden.position < golden.contextLength; s++) next = rankOf(golden.decode(next));
    }
  } finally {
    await golden.close();
  }
  return { model: name, vocab: spec.vocabSize, prompts: sets.length, positions: ranks.length, ranks, gaps };
}

const rows: Row[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-shortlist-'));
try {
  for (const [label, input] of [...(bigOnly ? [] : CASES), ...(big ? BIG : [])]) {
    for (const seed of seeds) {
      const dir = path.join(tmp, `${rows.length}`);
      fs.mkdirSync(dir);
      writeTestModel(dir, { ...input, seed });
      rows.push(await measure(`${label} seed ${seed}`, openCheckpoint(dir), [], input.preset?.endsWith('shape') ? bigSteps : steps));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
for (const spec of bigOnly ? [] : ORACLE_MODELS) {
  const o = loadOracle(spec);
  rows.push(await measure(`oracle ${o.name}`, openCheckpoint(o.dir), o.prompts.map((p) => p.ids)));
}

const f = (xs: number[], k: number) => xs.filter((r) => r >= k).length;
if (json) {
  console.log(JSON.stringify(rows.map((r) => ({ ...r, maxRank: Math.max(...r.ranks) }))));
} else {
  console.log(`kv_format ${kvFormat}; rank 0 = the int8 argmax is the ternary head's first choice\n`);
  console.log('| model | vocab | prompt sets | positions | worst rank | ranks ≥ 16 / 64 / 256 | median rank |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const sorted = [...r.ranks].sort((a, b) => a - b);
    console.log(`| ${r.model} | ${r.vocab} | ${r.prompts} | ${r.positions} | ${sorted.at(-1)} | ${f(r.ranks, 16)} / ${f(r.ranks, 64)} / ${f(r.ranks, 256)} | ${sorted[sorted.length >> 1]} |`);
  }
  const all = rows.flatMap((r) => r.ranks);
  console.log(`\nall: ${all.length} positions, worst rank ${Math.max(...all)}, ranks >= 256: ${f(all, 256)}`);
  const gaps = rows.flatMap((r) => r.gaps);
  if (gaps.length) console.log(`int8 logit gap lost at those positions (argmax minus best of the first 256): ${gaps.map((g) => g.toPrecision(3)).join(', ')}`);
}
