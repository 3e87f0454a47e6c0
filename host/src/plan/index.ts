export { makePlan, planToJson, DEFAULT_PROMPTS, DEFAULT_DECODE_CONTEXT, DEFAULT_DRAFT_TOKENS, MEASURED_ACCEPTED_PER_PASS, ACCEPTED_PER_PASS_SOURCE, defaultAcceptedPerPass, type Plan, type PlanOptions, type LayerRow } from './plan.js';
export { planToText } from './report.js';
export { planToHtml } from './html.js';
export { BUILTIN_SHAPES, builtinShape, specFromConfigJson, modelSpecFromPath } from './shapes.js';
export {
  tlmmCycles,
  activationBytes,
  normCycles,
  attentionCost,
  layerTokens,
  headPositions,
  buildSteps,
  schedule,
  runPass,
  decodePass,
  prefillPass,
  verifyPass,
  embeddingSeconds,
  hostSeconds,
  tileLoadBytes,
  type ModelStep,
  type TimedStep,
  type PassResult,
  type PassSpec,
  type PassKind,
  type StepKind,
  type StepLinear,
} from './perf.js';
export { decodeAttention, prefillAttention, int8Attention, headQuantCycles, int8RowCycles, rpaPairs, type AttentionCost } from './attention.js';
export { HLS_DEPTHS } from './hls-depths.js';
export { armLmHeadSeconds, fabricInt8Head, shortlistRescore, ternaryHeadTiles, shortlistK, sampledLogits, int8HeadBytes, type HeadTile } from './head.js';
export { achievableClockMhz, achievedFor, type Achieved } from './clock.js';
export { estimateResources, bram18For, bram36Banks, COSTS, type ResourceEstimate, type ModuleEstimate, type Cost, type Basis } from './resources.js';
export { KV260_ABLATION, ablationConfigs, deepMerge, type AblationStep } from './ablation.js';
export { KV260_CONTRACT_STEPS, pendingContractSteps, withContractChoices, kv260Chain, settingsFor, type Kv260Chain } from './ablation.js';
export { stepFigures, cumulativeAblation, leaveOneOut, type StepFigures, type FigureOptions } from './ablation-table.js';
export { parseSetting, applySettings } from './variant.js';
