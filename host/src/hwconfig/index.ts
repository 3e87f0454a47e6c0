export type { HwConfig, HwDerived, LoadedHwConfig, BeatPacking, WeightLayout, LmHeadPlacement, HostLink, ActivationRead, TableBuffering, ActivationFormat, ContractNumerics, KvFormat, LmHeadMode } from './types.js';
export { loadHwConfig, listBoards, DEFAULT_BOARD, boardNumerics, validateHwConfig, hwConfigFromObject, boardsDir, schemaPath } from './load.js';
export { deriveHw, memoryBandwidth, checkConsistency, accumulatorBitsFor, paddedReduction, PAPER_NORM_BITS } from './derive.js';
export { canonicalJson, hwConfigHash, HASH_EXCLUDED_FIELDS } from './hash.js';
export { maximaProblems } from './maxima.js';
