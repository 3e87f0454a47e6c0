/**
 * Benchmark: golden-model decode speed on a random checkpoint with bitnet_b1_58-large shapes
 * (24 layers, hidden 1536, FFN 4096, vocab 32002), plus load time and peak memory.
 *
 *   npx tsx bench/golden-decode.ts [--tokens 64] [--threads N] [--preset bitnet-large-shape] [--json]
 *
 * The checkpoint is generated once into build/bench/<preset> (deterministic, seed 1).
 * The golden model's speed as a ratio of llama.cpp's TQ2_0 kernels, measured in the same run on
 * the same model, is bench/cpu-anchor.ts's job.
 */

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { openCheckpoint } from '../host/src/checkpoint/open.js';
import { GoldenModel } from '../host/src/golden/model.js';
import { argmax } from '../host/src/runtime/sampling.js';
import { writeTestModel, type TestModelPresetName } from '../host/src/testmodels/index.js';

const { values } = parseArgs({
  options: {
    tokens: { type: 'string', default: '64' },
    threads: { type: 'string' },
    preset: { type: 'string', default: 'bitnet-large-shape' },
    prompt: { type: 'string', default: '16' },
    json: { type: 'boolean', default: false },
  },
});
const tokens = Number(values.tokens);
const threads = values.threads ? Number(values.threads) : availableParallelism();
const preset = values.preset as TestModelPresetName;
const promptLen = Number(values.prompt);

const dir = `build/bench/${preset}`;
if (!existsSync(`${dir}/config.json`)) {
  process.stderr.write(`generating ${dir} ...\n`);
  writeTestModel(dir, { preset });
}

const t0 = performance.now();
const ckpt = openCheckpoint(dir);
const model = await GoldenModel.fromCheckpoint(ckpt, { threads, contextLength: promptLen + tokens + 1 });
const loadSeconds = (performance.now() - t0) / 1000;

const prompt = Array.from({ length: promptLen }, (_, i) => (i * 7919 + 1) % ckpt.spec.vocabSize);
const t1 = performance.now();
let logits = model.prefill(prompt)[0]!;
const prefillSeconds = (performance.now() - t1) / 1000;
const t2 = performance.now();
for (let i = 0; i < tokens; i++) logits = model.decode(argmax(logits));
const decodeSeconds = (performance.now() - t2) / 1000;
await model.close();

const result = {
  preset,
  threads,
  load_seconds: +loadSeconds.toFixed(2),
  prompt_tokens: promptLen,
  prefill_tokens_per_s: +(promptLen / prefillSeconds).toFixed(2),
  decode_tokens: tokens,
  decode_tokens_per_s: +(tokens / decodeSeconds).toFixed(2),
  ms_per_token: +((decodeSeconds / tokens) * 1000).toFixed(1),
  peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
};
if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
else {
  process.stdout.write(
    `${preset}: load ${result.load_seconds} s, prefill ${result.prefill_tokens_per_s} tok/s, ` +
      `decode ${result.decode_tokens_per_s} tok/s (${result.ms_per_token} ms/token, ${threads} threads), ` +
      `peak RSS ${result.peak_rss_mib} MiB\n`,
  );
}
