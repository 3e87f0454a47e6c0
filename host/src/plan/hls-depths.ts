/**
 * The pipeline depths that this project's HLS units (hls/src) assume and that their C simulation's
 * cycle report counts (docs/measurements.md §9.1). They are the depths each loop's pragma asks
 * for, to be checked by csynth (not runnable here). The planner's formulas for those units (the
 * int8 attention unit and its head quantisers, RMS-MAX on chip, the int8 LM head on the fabric)
 * count the same loops with the same depths, so that the planner models what the code does;
 * test/plan/hls-depths.test.ts reads each one out of hls/src and fails when they differ.
 */
export const HLS_DEPTHS = {
  /** norm_pass.cpp and linear.cpp MEM_DEPTH: a burst loop's DDR read or write. */
  memory: 4,
  /** rmsmax.hpp RMSMAX_READ_DEPTH, RMSMAX_SUM_DEPTH, RMSMAX_NORMALISE_DEPTH: its three passes. */
  rmsmaxRead: 3,
  rmsmaxSum: 12,
  rmsmaxNormalise: 12,
  /** head_quant.cpp HEAD_MAX_DEPTH, HEAD_QUANT_DEPTH: a head's absmax pass and its quantise pass. */
  headQuantMax: 4,
  headQuantQuantize: 10,
  /** attention.cpp: the query load (its TL_PIPELINE depth), PASS1_DEPTH, PASS2_DEPTH, OUT_DEPTH. */
  attentionLoadQ: 4,
  attentionPass1: 16,
  attentionPass2: 48,
  attentionOut: 12,
  /** lm_head.cpp HEAD_QUANT_DEPTH, HEAD_ROW_DEPTH: the head's input quantiser and its row loop. */
  lmHeadQuantize: 8,
  lmHeadRow: 24,
} as const;
