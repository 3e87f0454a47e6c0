/**
 * What the known answers cover: every test preset and the demo model, three prompts each
 * (lengths 1, 7 and 43), prefill plus 16 decode steps, and four seeded sampling settings.
 * Changing anything here changes the fixtures: regenerate them with `npm run kat:update`.
 */

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadTokenizer, openCheckpoint } from '../../host/src/checkpoint/index.js';
import type { Checkpoint } from '../../host/src/checkpoint/types.js';
import { TEST_MODEL_PRESET_NAMES, writeTestModel, type TestModelPresetName } from '../../host/src/testmodels/index.js';
import { SPECIAL_BLOCK_SIZE } from '../../host/src/testmodels/bpe.js';

/** Decode steps after the prefill of each prompt (17 next-token decisions in all). */
export const DECODE_STEPS = 16;

export interface SamplingCase {
  temperature: number;
  top_k: number;
  top_p: number;
  seed: number;
}

/** Plain temperature, top-k, top-p, both; seeds include 0 and 2^32 - 1. Temperatures are in the model's temperatureUnit. */
export const SAMPLING: readonly SamplingCase[] = [
  { temperature: 1, top_k: 0, top_p: 1, seed: 0 },
  { temperature: 0.7, top_k: 40, top_p: 1, seed: 4294967295 },
  { temperature: 1.3, top_k: 0, top_p: 0.9, seed: 1 },
  { temperature: 0.9, top_k: 16, top_p: 0.8, seed: 123456789 },
];

export interface PromptCase {
  name: string;
  ids: number[];
}

export interface OpenedModel {
  ckpt: Checkpoint;
  /** The checkpoint directory (its safetensors files are hashed into the record). */
  dir: string;
  prompts: PromptCase[];
  /** Removes what open() wrote (temporary checkpoints). */
  dispose(): void;
}

export interface KatModel {
  name: string;
  /** How to get the same checkpoint by hand. */
  source: string;
  /**
   * Full-size shapes (hundreds of MB to write, minutes to run): recorded and checked by
   * `npm run kat:update -- --heavy` / `npm run kat:check -- --heavy`, not by the CI test.
   */
  heavy: boolean;
  /**
   * The sampling temperatures are multiples of this: the test models' logits spread over very
   * different ranges (a logit std of ~400 for the tied "self" presets, ~6 for the others), and a
   * sampled generation only tests the sampler if it does not simply repeat the greedy one.
   */
  temperatureUnit: number;
  open(): OpenedModel;
}

/** Prompt lengths: one token, a short prompt, and one longer than two 16-lane reduction rounds of keys. */
export const PROMPT_LENGTHS = [1, 7, 43] as const;

/** Deterministic ids below the special-token block (an LCG; independent of every other PRNG). */
export function syntheticPrompt(vocab: number, length: number, salt: number): number[] {
  const range = vocab - SPECIAL_BLOCK_SIZE;
  let s = (0x2545f491 ^ Math.imul(salt + 1, 0x9e3779b9)) >>> 0;
  return Array.from({ length }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 8) % range;
  });
}

const PRESET_TEMPERATURE_UNIT: Record<TestModelPresetName, number> = {
  'bitnet-tiny-packed': 1000,
  'bitnet-tiny-master': 1000,
  '1bitllm-tiny': 10,
  '1bitllm-tiny-tied': 10,
  'hf1bitllm-tiny': 10,
  'bitnet-large-shape': 1,
  '1bitllm-large-shape': 1,
  'bitnet-2b4t-shape': 1,
};

function presetModel(preset: TestModelPresetName): KatModel {
  const heavy = preset.endsWith('-shape');
  return {
    name: preset,
    source: `tellme make-test-model --preset ${preset}`,
    heavy,
    temperatureUnit: PRESET_TEMPERATURE_UNIT[preset],
    open() {
      // The heavy shapes are cached under build/ (like bench/); tiny ones take milliseconds.
      const dir = heavy ? path.join('build', 'kat', preset) : fs.mkdtempSync(path.join(os.tmpdir(), `tellme-kat-${preset}-`));
      if (!heavy || !fs.existsSync(path.join(dir, 'config.json'))) writeTestModel(dir, { preset });
      const ckpt = openCheckpoint(dir);
      const prompts = PROMPT_LENGTHS.map((n, i) => ({ name: `synthetic-${n}`, ids: syntheticPrompt(ckpt.spec.vocabSize, n, i) }));
      return { ckpt, dir, prompts, dispose: () => heavy || fs.rmSync(dir, { recursive: true, force: true }) };
    },
  };
}

const DEMO_DIR = 'models/tellme-shakespeare-6l';
/** Each prompt is the BOS token followed by the text's tokens (1, 7 and 43 ids). */
const DEMO_TEXTS: readonly [string, string][] = [
  ['bos', ''],
  ['romeo', 'ROMEO:\nO, she'],
  [
    'gloucester',
    "GLOUCESTER:\nNow is the winter of our discontent\nMade glorious summer by this sun of York;\nAnd all the clouds that lour'd upon our house",
  ],
];

const demoModel: KatModel = {
  name: 'tellme-shakespeare-6l',
  source: DEMO_DIR,
  heavy: false,
  temperatureUnit: 1,
  open() {
    const ckpt = openCheckpoint(DEMO_DIR);
    const tok = loadTokenizer(DEMO_DIR)!;
    const bos = ckpt.spec.bosTokenId!;
    const prompts = DEMO_TEXTS.map(([name, text]) => ({ name, ids: [bos, ...tok.encode(text, { addSpecialTokens: false })] }));
    return { ckpt, dir: DEMO_DIR, prompts, dispose: () => {} };
  },
};

export const KAT_MODELS: readonly KatModel[] = [...TEST_MODEL_PRESET_NAMES.map(presetModel), demoModel];
