/**
 * The committed transformers oracle (test/fixtures/hf-oracle, made by tools/hf-oracle on the lent
 * GPU machine with transformers 5.17.0 / torch 2.11): for each model, the checkpoint directory
 * and HF's outputs on CPU in float32 (eager attention). A missing file is a failure, not a skip.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface OraclePrompt {
  ids: number[];
  last_logits: number[];
  argmax: number[];
  argmax_margin: number[];
  greedy: number[];
  greedy_margin: number[];
}

export interface OracleModel {
  name: string;
  /** Checkpoint directory the oracle ran on. */
  dir: string;
  prompts: OraclePrompt[];
  transformers: string;
}

export const ORACLE_ROOT = 'test/fixtures/hf-oracle';

/** The models and where their checkpoints are (the demo model lives in models/). */
export const ORACLE_MODELS: { name: string; dir: string }[] = [
  { name: 'tiny-h64-packed', dir: `${ORACLE_ROOT}/tiny-h64-packed` },
  { name: 'tiny-h64-master', dir: `${ORACLE_ROOT}/tiny-h64-master` },
  { name: 'small-h128-packed', dir: `${ORACLE_ROOT}/small-h128-packed` },
  { name: 'tellme-shakespeare-6l', dir: 'models/tellme-shakespeare-6l' },
];

export function loadOracle(m: { name: string; dir: string }): OracleModel {
  const file = path.join(ORACLE_ROOT, m.name, 'oracle.json');
  if (!fs.existsSync(file)) throw new Error(`oracle fixture ${file} is missing (regenerate with tools/hf-oracle)`);
  if (!fs.existsSync(path.join(m.dir, 'config.json'))) throw new Error(`checkpoint ${m.dir} of oracle ${m.name} is missing`);
  const j = JSON.parse(fs.readFileSync(file, 'utf8')) as { prompts: OraclePrompt[]; transformers_version: string; device: string; dtype: string };
  if (j.device !== 'cpu' || j.dtype !== 'float32') throw new Error(`${file}: expected the CPU float32 oracle, got ${j.device} ${j.dtype}`);
  if (j.prompts.length === 0) throw new Error(`${file} holds no prompts`);
  return { name: m.name, dir: m.dir, prompts: j.prompts, transformers: j.transformers_version };
}

/**
 * Below this top-1/top-2 gap an argmax or greedy step can go either way between valid fp32
 * implementations (one int8 rounding flip at a .5 tie moves the demo model's logits by ~0.08).
 */
export const DECISIVE_MARGIN = 0.1;

/** Greedy steps up to the first one whose transformers margin is not decisive. */
export function decisiveSteps(p: OraclePrompt): number {
  const i = p.greedy_margin.findIndex((m) => m < DECISIVE_MARGIN);
  return i < 0 ? p.greedy.length : i;
}
