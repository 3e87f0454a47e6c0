/** Deterministic test checkpoints (tiny models for tests, full shapes for benchmarks). */

export { writeTestModel, type TestModelResult, type WriteTestModelHooks } from './write.js';
export {
  TEST_MODEL_PRESETS,
  TEST_MODEL_PRESET_NAMES,
  resolveTestModelOptions,
  type TestModelDtype,
  type TestModelInput,
  type TestModelOptions,
  type TestModelPresetName,
} from './options.js';
export { buildTokenizer, specialIds, CHAT_TEMPLATE, type SpecialIds } from './bpe.js';
export { Rng } from './prng.js';
