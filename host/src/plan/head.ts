/**
 * Cost of the LM head (docs/performance-model.md §1.1), for `positions` query positions of a pass
 * (decode 1, prefill 1 (the last prompt token), verify N+1).
 *
 *  - ARM (the paper): an int8 head streamed by the A53 cores; the stream is read once for all
 *    positions, the MACs are per position.
 *  - fabric int8: the int8 head streamed from DDR through fabric_macs_per_cycle int8 MACs.
 *  - ternary shortlist (numerics.lm_head ternary-shortlist): a ternary copy of the head is one more
 *    TLMM linear (vocab x hidden, tiled and dense-packed like the others, so it runs on the
 *    engine and its loads are prefetched like any tile); a top-K unit keeps the K best scores as
 *    the rows drain; then K int8 rows per position are read (random rows, one port) and rescored
 *    exactly on the int8 engine. Host sampling then looks at K candidates, not the vocabulary.
 */
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { beatCount, packLayout } from '../layout/beats.js';
import { chunksOf, tileRows } from '../layout/uram.js';
import type { ModelSpec } from '../model/spec.js';
import { int8RowCycles } from './attention.js';
import { HLS_DEPTHS } from './hls-depths.js';

export interface HeadTile {
  tile: number;
  rows: number;
  /** Bytes of the tile's packed stream. */
  bytes: number;
}

/** The ternary head as a tiled TLMM linear: its chunks and tiles (layout.md §2-3 rules). */
export function ternaryHeadTiles(spec: ModelSpec, hw: LoadedHwConfig): { chunks: number; tiles: HeadTile[] } {
  const chunks = chunksOf(spec.hiddenSize, hw);
  const tiles = tileRows(spec.vocabSize, chunks, hw).map((t, i) => ({
    tile: i,
    rows: t.rows,
    bytes: beatCount(packLayout(hw, [{ rowStart: t.rowStart, rows: t.rows, chunkStart: 0, chunks }])) * hw.derived.beatBytes,
  }));
  return { chunks, tiles };
}

/** Shortlist size actually used: min(shortlist_k, vocab). */
export function shortlistK(spec: ModelSpec, hw: LoadedHwConfig): number {
  return Math.min(hw.config.numerics.shortlist_k, spec.vocabSize);
}

/** Candidates the host samples from per position. */
export function sampledLogits(spec: ModelSpec, hw: LoadedHwConfig): number {
  return hw.config.numerics.lm_head === 'ternary-shortlist' ? shortlistK(spec, hw) : spec.vocabSize;
}

/** Bytes of the int8 head: rows of hidden int8 plus a binary32 scale. */
export function int8HeadBytes(spec: ModelSpec): number {
  return spec.vocabSize * (spec.hiddenSize + 4);
}

/**
 * Fabric int8 head over all rows: cycles and DDR bytes (the stream is shared by the positions). It
 * counts the loops of hls/src/lm_head.cpp: each position's input quantised an element a cycle, then
 * every row once, as long as the longer of its MACs for all positions (fabric_macs_per_cycle) and
 * its int8 row through the weight lanes (the KV rows' path, attention.ts int8RowCycles).
 */
export function fabricInt8Head(spec: ModelSpec, hw: LoadedHwConfig, positions: number): { cycles: number; bytes: number } {
  const h = spec.hiddenSize;
  const perRow = Math.max(Math.ceil((positions * h) / hw.config.lm_head.fabric_macs_per_cycle), int8RowCycles(h, hw));
  const quantise = positions * (h + HLS_DEPTHS.lmHeadQuantize);
  return { cycles: hw.config.timing.attention_call_overhead_cycles + quantise + spec.vocabSize * perRow + HLS_DEPTHS.lmHeadRow, bytes: int8HeadBytes(spec) };
}

/**
 * After the ternary scores: drain the heap in order (K x log2 K), then per position read K int8
 * rows through one port and rescore them. Cycles include the port time at `clockHz`. The bytes
 * also count the binary32 row scales w_r of the ternary scores (vocab x 4, read once while the
 * head's tiles drain).
 */
export function shortlistRescore(spec: ModelSpec, hw: LoadedHwConfig, positions: number, clockHz: number): { cycles: number; bytes: number } {
  const k = shortlistK(spec, hw);
  const drain = k * Math.ceil(Math.log2(Math.max(2, k)));
  const rowBytes = positions * k * (spec.hiddenSize + 4);
  const portCycles = hw.config.timing.ddr_first_beat_cycles + rowBytes / (hw.derived.laneBandwidthBps / clockHz);
  const macCycles = Math.ceil((positions * k * spec.hiddenSize) / hw.config.lm_head.fabric_macs_per_cycle);
  return { cycles: hw.config.timing.attention_call_overhead_cycles + positions * drain + Math.max(portCycles, macCycles), bytes: rowBytes + spec.vocabSize * 4 };
}

/** The int8 head on the ARM cores: one stream for all positions, the MACs per position. */
export function armLmHeadSeconds(spec: ModelSpec, hw: LoadedHwConfig, positions = 1): number {
  const lm = hw.config.lm_head;
  const macs = spec.vocabSize * spec.hiddenSize * positions;
  return Math.max(int8HeadBytes(spec) / (lm.arm_bandwidth_gb_s * 1e9), macs / (lm.arm_int8_gmac_s * 1e9));
}
