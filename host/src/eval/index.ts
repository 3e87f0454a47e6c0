/** Golden model vs float reference: comparison logic behind `tellme eval`. */
export { argmax, compareVectors, cosine, leadingAgreement, maxAbs, maxAbsError, topTwo, type TopTwo, type VectorComparison } from './compare.js';
export { checkPrompts, defaultPrompts, DEFAULT_TEXT_PROMPTS, ordinaryIdRange, type EvalPrompt } from './prompts.js';
export {
  ABLATIONS,
  DEFAULT_EVAL_STEPS,
  evaluate,
  thresholdFailures,
  type AblationResult,
  type EvalOptions,
  type EvalReport,
  type EvalSummary,
  type EvalThresholds,
  type GreedyComparison,
  type GreedyDivergence,
  type LogitsComparison,
  type PromptReport,
  type StageComparison,
} from './run.js';
export { formatReport } from './format.js';
export { evaluateCheckpoint, type EvaluateCheckpointOptions } from './checkpoint.js';
