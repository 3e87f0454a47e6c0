/**
 * Benchmark: the CPU anchor. In one process, the golden model (loaded as `tellme generate` loads a
 * checkpoint by default) and llama.cpp's TQ2_0 kernels (the build node-llama-cpp ships, through
 * the GGUF that `tellme export-gguf` writes) decode the same random model with the
 * bitnet_b1_58-large shape (24 layers, hidden 1536, FFN 4096, 16 heads, vocab 32002), in
 * alternating runs; it prints decode and prefill tokens/s of each (min / median / max over runs)
 * and the golden model's speed as a ratio of llama.cpp's, run by run.
 *
 *   npx tsx bench/cpu-anchor.ts [--runs 5] [--tokens 64] [--prompt 16] [--threads 2] [--embedding-type q6_k] [--json]
 *
 * The model is the preset 1bitllm-large-shape (SwiGLU, bf16 masters, tied: the semantics
 * llama.cpp's bitnet architecture computes), generated once into build/bench/, and exported once
 * to build/bench/1bitllm-large-shape.tq2_0.<embedding type>.gguf. The embedding (llama.cpp's
 * output head too) defaults to Q6_K, as in the earlier hand-made anchor measurement.
 *
 * Each contender is one entry of CONTENDERS; a third (the virtual board) joins the same table by
 * adding an entry.
 */

import { existsSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { openCheckpoint } from '../host/src/checkpoint/open.js';
import { loadGolden, openModel } from '../host/src/cli/model-source.js';
import type { GoldenModel } from '../host/src/golden/model.js';
import { EMBEDDING_TYPES, exportGguf, type GgufEmbeddingType } from '../host/src/gguf/export.js';
import { argmax } from '../host/src/runtime/sampling.js';
import { writeTestModel } from '../host/src/testmodels/index.js';
import { llamaCpp, loadGguf, newContext } from '../test/helpers/llama-cpp.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    tokens: { type: 'string', default: '64' },
    prompt: { type: 'string', default: '16' },
    threads: { type: 'string', default: '2' },
    'embedding-type': { type: 'string', default: 'q6_k' },
    json: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const tokens = Number(values.tokens);
const promptLen = Number(values.prompt);
const threads = Number(values.threads);
const embeddingType = values['embedding-type'] as GgufEmbeddingType;
if (!EMBEDDING_TYPES.includes(embeddingType)) throw new Error(`--embedding-type must be one of ${EMBEDDING_TYPES.join(', ')}`);

const PRESET = '1bitllm-large-shape';
const dir = `build/bench/${PRESET}`;
const gguf = `build/bench/${PRESET}.tq2_0.${embeddingType}.gguf`;

const log = (s: string) => process.stderr.write(s + '\n');
if (!existsSync(`${dir}/config.json`)) {
  log(`generating ${dir} ...`);
  writeTestModel(dir, { preset: PRESET });
}
if (!existsSync(gguf) || statSync(gguf).mtimeMs < statSync(`${dir}/config.json`).mtimeMs) {
  log(`exporting ${gguf} ...`);
  await exportGguf(openCheckpoint(dir), gguf, { type: 'tq2_0', embeddingType });
}

interface RunTimes {
  prefillSeconds: number;
  decodeSeconds: number;
}

/** One engine that decodes the benchmark model: a column of the table. */
interface Contender {
  name: string;
  what: string;
  /** Load the model; returns seconds. */
  load(): Promise<number>;
  /** Prefill `prompt`, then decode `tokens` greedy tokens (the KV cache from empty). */
  run(prompt: number[], tokens: number): Promise<RunTimes>;
  close(): Promise<void>;
}

function goldenContender(): Contender {
  let model: GoldenModel;
  return {
    name: 'golden',
    what: `golden model (WebAssembly TLMM kernels, default numerics), ${threads} threads`,
    async load() {
      const t = performance.now();
      model = await loadGolden(openModel(dir), { threads, context: promptLen + tokens + 1 });
      return (performance.now() - t) / 1000;
    },
    async run(prompt, n) {
      model.reset();
      const t0 = performance.now();
      let logits = model.prefill(prompt)[0]!;
      const t1 = performance.now();
      for (let i = 0; i < n; i++) logits = model.decode(argmax(logits));
      return { prefillSeconds: (t1 - t0) / 1000, decodeSeconds: (performance.now() - t1) / 1000 };
    },
    close: () => model.close(),
  };
}

function llamaCppContender(): Contender {
  let model: Awaited<ReturnType<typeof loadGguf>>;
  let ctx: Awaited<ReturnType<typeof newContext>>;
  return {
    name: 'llama.cpp',
    what: `llama.cpp TQ2_0 (${embeddingType.toUpperCase()} embedding/head), ${threads} threads`,
    async load() {
      const t = performance.now();
      model = await loadGguf(gguf);
      ctx = await newContext(model, promptLen + tokens + 8, threads);
      return (performance.now() - t) / 1000;
    },
    async run(prompt, n) {
      const seq = ctx.getSequence();
      try {
        // The generator evaluates the prompt and yields the first (greedy) token, then each
        // further step evaluates the previous token and yields the next.
        const it = seq.evaluate(prompt as Parameters<typeof seq.evaluate>[0], { temperature: 0 })[Symbol.asyncIterator]();
        const t0 = performance.now();
        await it.next();
        const t1 = performance.now();
        for (let i = 0; i < n; i++) await it.next();
        const t2 = performance.now();
        await it.return?.();
        return { prefillSeconds: (t1 - t0) / 1000, decodeSeconds: (t2 - t1) / 1000 };
      } finally {
        seq.dispose();
      }
    },
    async close() {
      await ctx.dispose();
      await model.dispose();
    },
  };
}

const CONTENDERS: Contender[] = [goldenContender(), llamaCppContender()];
const REFERENCE = 'llama.cpp';

const vocab = openCheckpoint(dir).spec.vocabSize;
const prompt = Array.from({ length: promptLen }, (_, i) => (i * 7919 + 1) % (vocab - 16));
const loadSeconds: Record<string, number> = {};
for (const c of CONTENDERS) {
  log(`loading ${c.name} ...`);
  loadSeconds[c.name] = await c.load();
  await c.run(prompt.slice(0, 4), 4); // warm-up: page in the weights, compile, allocate
}

const decode: Record<string, number[]> = Object.fromEntries(CONTENDERS.map((c) => [c.name, []]));
const prefill: Record<string, number[]> = Object.fromEntries(CONTENDERS.map((c) => [c.name, []]));
for (let r = 0; r < runs; r++) {
  // Alternate the order, so neither engine always runs on a machine the other just warmed.
  const order = r % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse();
  for (const c of order) {
    const t = await c.run(prompt, tokens);
    decode[c.name]!.push(tokens / t.decodeSeconds);
    prefill[c.name]!.push(promptLen / t.prefillSeconds);
    log(`run ${r + 1}/${runs} ${c.name}: decode ${(tokens / t.decodeSeconds).toFixed(2)} tok/s, prefill ${(promptLen / t.prefillSeconds).toFixed(2)} tok/s`);
  }
}
for (const c of CONTENDERS) await c.close();

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  return { min: +s[0]!.toFixed(3), median: +mid.toFixed(3), max: +s[s.length - 1]!.toFixed(3) };
};
const llama = await llamaCpp();
const result = {
  model: `${PRESET} (random, ${dir})`,
  gguf,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  llama_cpp: `${llama.llamaCppRelease.repo} ${llama.llamaCppRelease.release} (node-llama-cpp prebuilt, ${llama.buildType})`,
  runs,
  prompt_tokens: promptLen,
  decode_tokens: tokens,
  threads,
  contenders: Object.fromEntries(
    CONTENDERS.map((c) => [
      c.name,
      {
        what: c.what,
        load_seconds: +loadSeconds[c.name]!.toFixed(2),
        decode_tokens_per_s: stats(decode[c.name]!),
        prefill_tokens_per_s: stats(prefill[c.name]!),
        ...(c.name === REFERENCE ? {} : { decode_vs_llama_cpp: stats(decode[c.name]!.map((v, i) => v / decode[REFERENCE]![i]!)) }),
      },
    ]),
  ),
};

if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
else {
  const fmt = (s: { min: number; median: number; max: number }, d = 2) => `${s.min.toFixed(d)} / ${s.median.toFixed(d)} / ${s.max.toFixed(d)}`;
  const lines = [
    `${result.model}; ${runs} alternating runs of ${promptLen} prompt + ${tokens} decode tokens, ${threads} threads; ${result.cpu} x ${result.cores}; ${result.llama_cpp}`,
    '| engine | decode tok/s (min / median / max) | prefill tok/s | decode vs llama.cpp (per run) | load s |',
    '|---|---|---|---|---|',
    ...CONTENDERS.map((c) => {
      const r = result.contenders[c.name] as { what: string; load_seconds: number; decode_tokens_per_s: ReturnType<typeof stats>; prefill_tokens_per_s: ReturnType<typeof stats>; decode_vs_llama_cpp?: ReturnType<typeof stats> };
      return `| ${r.what} | ${fmt(r.decode_tokens_per_s)} | ${fmt(r.prefill_tokens_per_s)} | ${r.decode_vs_llama_cpp ? fmt(r.decode_vs_llama_cpp, 3) + '×' : '1 (reference)'} | ${r.load_seconds} |`;
    }),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
process.exit(0);
