export { makePlan, planToJson, DEFAULT_PROMPTS, DEFAULT_DECODE_CONTEXT, type Plan, type PlanOptions, type LayerRow } from './plan.js';
export { planToText } from './report.js';
export { planToHtml } from './html.js';
export { BUILTIN_SHAPES, builtinShape, specFromConfigJson, modelSpecFromPath } from './shapes.js';
export {
  tlmmCycles,
  activationBytes,
  normCycles,
  decodeAttention,
  prefillAttention,
  rpaPairs,
  buildSteps,
  schedule,
  runPass,
  decodePass,
  prefillPass,
  armLmHeadSeconds,
  embeddingSeconds,
  bytesPerCycle,
  tileLoadBytes,
  type ModelStep,
  type TimedStep,
  type PassResult,
  type PassSpec,
  type StepKind,
} from './perf.js';
export { estimateResources, COSTS, type ResourceEstimate, type ModuleEstimate, type Cost } from './resources.js';
export { KV260_ABLATION, ablationConfigs, deepMerge, type AblationStep } from './ablation.js';
