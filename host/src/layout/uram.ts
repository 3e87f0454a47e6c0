/**
 * URAM weight-buffer planning (docs/layout.md §2).
 *
 * The weight buffer is Q/2 banks (cyclic partitioning of the output rows: row r of a block lives
 * in bank r mod Q/2), each bank `cascade` URAMs wide (one 72*c-bit word = one index vector) and
 * `bankDepthUrams` URAMs deep. Q consecutive rows are read per cycle, two per bank (both URAM
 * ports). Every linear [rows x cols] is rows x ceil(cols/(T*G)) index vectors ("chunks" of T
 * groups along the reduction dimension).
 *
 * Two layouts:
 *  - paper-regions (the paper's eq. 10): one whole linear per step, reshaped into blocks of
 *    d_model rows x ceil(d_model/(T*G)) chunks: up/gate split by rows, down split by chunks.
 *  - tiled (ours): a linear is cut by output rows into tiles that fit one buffer; with double
 *    buffering the two buffers are the lower and upper halves of every bank's URAM column (whole
 *    URAMs, so the loading half has its own ports), and consecutive steps alternate halves.
 *
 * Word address of vector (row, chunk) of a block:  bufferBase + block.wordBase
 *     + (chunk - block.chunkStart) * block.rowsPerBank + floor((row - block.rowStart) / banks)
 * bank = (row - block.rowStart) mod banks.
 */
import { TellmeError } from '../errors.js';
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { linearShape, type LinearName, type ModelSpec } from '../model/spec.js';

/** Order in which a layer computes its linears (the paper's top_bitnet order: up before gate). */
export const COMPUTE_ORDER: readonly LinearName[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'up_proj', 'gate_proj', 'down_proj'];

/** A rectangle of index vectors of one linear, loaded as a unit (rows/chunks may run past the matrix: padding). */
export interface WeightBlock {
  rowStart: number;
  rows: number;
  chunkStart: number;
  chunks: number;
}

export interface UramBlock extends WeightBlock {
  /** First word (per bank) of this block inside its buffer. */
  wordBase: number;
  /** ceil(rows / banks): words per chunk per bank. */
  rowsPerBank: number;
}

/** What a tile belongs to: a layer's linear, or the ternary LM head (docs/numerics.md §9.2). */
export type PlacedLinear = LinearName | 'head';

export interface UramTile<N extends PlacedLinear = LinearName> {
  linear: N;
  tile: number;
  tiles: number;
  /** Matrix rows this tile computes: [rowStart, rowStart + rows). */
  rowStart: number;
  rows: number;
  /** Blocks in load (and DDR stream) order. */
  blocks: UramBlock[];
  /** Words used per bank (max over banks). */
  wordsPerBank: number;
  /** Real index vectors (inside the matrix). */
  vectors: number;
  /** Index vectors stored including padding rows/chunks. */
  storedVectors: number;
}

export interface LinearPlacement<N extends PlacedLinear = LinearName> {
  linear: N;
  rows: number;
  cols: number;
  /** ceil(cols / (T*G)) */
  chunks: number;
  tiles: UramTile<N>[];
}

/** One step of a layer: a tile resident in one buffer. */
export interface UramStep {
  /** Position within the layer's steps. */
  index: number;
  linear: LinearName;
  tile: number;
  /** Buffer (0 or 1) for layer 0; the parity flips every layer when stepsPerLayer is odd. */
  buffer: number;
  /** Word range used in every bank, absolute: [wordStart, wordEnd). */
  wordStart: number;
  wordEnd: number;
  /** Depth levels (URAM rows of the bank column) touched. */
  depthLevels: number[];
  /** Banks holding at least one vector of the step (all of them unless the tile has fewer rows). */
  banksUsed: number;
  /** Physical URAMs touched: banks * cascade * depthLevels.length. */
  urams: number;
}

export interface UramPlan {
  layout: 'paper-regions' | 'tiled';
  banks: number;
  cascade: number;
  bankDepthUrams: number;
  wordsPerBank: number;
  buffers: number;
  wordsPerBuffer: number;
  weightBufferUrams: number;
  linears: LinearPlacement[];
  /** The ternary head's placement (lm_head ternary-shortlist builds), else null. */
  head: LinearPlacement<'head'> | null;
  steps: UramStep[];
  stepsPerLayer: number;
  /** Highest words-per-bank any step needs, and the share of a buffer it is. */
  peakWordsPerBank: number;
  /** URAMs the paper's eq. 9 gives for this model (for comparison; not what we allocate). */
  eq9Urams: number;
  fits: boolean;
  problems: string[];
}

export function chunksOf(cols: number, hw: LoadedHwConfig): number {
  return Math.ceil(cols / hw.derived.chunkElements);
}

function block(b: WeightBlock, wordBase: number, banks: number): UramBlock {
  return { ...b, wordBase, rowsPerBank: Math.ceil(b.rows / banks) };
}

function finishTile<N extends PlacedLinear>(linear: N, tile: number, tiles: number, rowStart: number, rows: number, blocks: UramBlock[], R: number, C: number): UramTile<N> {
  let words = 0;
  let stored = 0;
  let real = 0;
  for (const b of blocks) {
    words = Math.max(words, b.wordBase + b.chunks * b.rowsPerBank);
    stored += b.rows * b.chunks;
    const rr = Math.max(0, Math.min(b.rowStart + b.rows, R) - b.rowStart);
    const cc = Math.max(0, Math.min(b.chunkStart + b.chunks, C) - b.chunkStart);
    real += rr * cc;
  }
  return { linear, tile, tiles, rowStart, rows, blocks, wordsPerBank: words, vectors: real, storedVectors: stored };
}

/** Row tiles of a linear for the tiled layout (equal sizes, multiples of Q, last one smaller). */
export function tileRows(rows: number, chunks: number, hw: LoadedHwConfig): { rowStart: number; rows: number }[] {
  const d = hw.derived;
  const Q = d.parallelVectors;
  const maxRowsPerBank = Math.floor(d.wordsPerBankPerBuffer / chunks);
  const maxRows = Math.floor((maxRowsPerBank * d.banks) / Q) * Q;
  if (maxRows < Q) {
    throw new TellmeError(
      'E_FIT',
      `a linear with ${chunks} chunks (reduction ${chunks * d.chunkElements}) does not fit even ${Q} rows into one weight buffer of ${d.wordsPerBankPerBuffer} words per bank`,
      'Use a larger weight buffer (uram.weight_buffer_urams) for this model.',
    );
  }
  const n = Math.ceil(rows / maxRows);
  const per = Math.min(maxRows, Math.ceil(Math.ceil(rows / n) / Q) * Q);
  const out: { rowStart: number; rows: number }[] = [];
  for (let r = 0; r < rows; r += per) out.push({ rowStart: r, rows: Math.min(per, rows - r) });
  return out;
}

/** The paper's region decomposition of one linear (eq. 10): blocks of regionRows x regionChunks. */
export function paperRegions(rows: number, chunks: number, spec: ModelSpec, hw: LoadedHwConfig): WeightBlock[] {
  const regionRows = spec.hiddenSize;
  const regionChunks = chunksOf(spec.hiddenSize, hw);
  const rowRegions = Math.ceil(rows / regionRows);
  const chunkRegions = Math.ceil(chunks / regionChunks);
  const out: WeightBlock[] = [];
  for (let x = 0; x < rowRegions; x++) {
    for (let y = 0; y < chunkRegions; y++) {
      out.push({ rowStart: x * regionRows, rows: regionRows, chunkStart: y * regionChunks, chunks: regionChunks });
    }
  }
  return out;
}

/**
 * The ternary LM head (vocab × hidden) as one more tiled linear, streamed once per head
 * evaluation (docs/numerics.md §9.2, docs/layout.md §4): row tiles like any linear of the tiled
 * layout; it has no paper-regions form.
 */
export function placeHead(spec: ModelSpec, hw: LoadedHwConfig): LinearPlacement<'head'> {
  const rows = spec.vocabSize;
  const cols = spec.hiddenSize;
  const C = chunksOf(cols, hw);
  const banks = hw.derived.banks;
  const parts = tileRows(rows, C, hw);
  const tiles = parts.map((p, t) => finishTile('head' as const, t, parts.length, p.rowStart, p.rows, [block({ rowStart: p.rowStart, rows: p.rows, chunkStart: 0, chunks: C }, 0, banks)], rows, C));
  return { linear: 'head', rows, cols, chunks: C, tiles };
}

export function placeLinear(spec: ModelSpec, hw: LoadedHwConfig, linear: LinearName): LinearPlacement {
  const { rows, cols } = linearShape(spec, linear);
  const C = chunksOf(cols, hw);
  const banks = hw.derived.banks;
  const tiles: UramTile[] = [];
  if (hw.config.architecture.weight_layout === 'paper-regions') {
    const regions = paperRegions(rows, C, spec, hw);
    let base = 0;
    const blocks = regions.map((r) => {
      const b = block(r, base, banks);
      base += b.chunks * b.rowsPerBank;
      return b;
    });
    tiles.push(finishTile(linear, 0, 1, 0, rows, blocks, rows, C));
  } else {
    const parts = tileRows(rows, C, hw);
    parts.forEach((p, t) => {
      tiles.push(finishTile(linear, t, parts.length, p.rowStart, p.rows, [block({ rowStart: p.rowStart, rows: p.rows, chunkStart: 0, chunks: C }, 0, banks)], rows, C));
    });
  }
  return { linear, rows, cols, chunks: C, tiles };
}

/** Bank and absolute word of vector (row, chunk) of a tile placed in `buffer`. */
export function uramAddress(tile: UramTile<PlacedLinear>, row: number, chunk: number, buffer: number, hw: LoadedHwConfig): { bank: number; word: number } {
  const banks = hw.derived.banks;
  for (const b of tile.blocks) {
    if (row >= b.rowStart && row < b.rowStart + b.rows && chunk >= b.chunkStart && chunk < b.chunkStart + b.chunks) {
      const z = row - b.rowStart;
      return {
        bank: z % banks,
        word: buffer * hw.derived.wordsPerBankPerBuffer + b.wordBase + (chunk - b.chunkStart) * b.rowsPerBank + Math.floor(z / banks),
      };
    }
  }
  throw new TellmeError('E_INTERNAL', `vector (${row}, ${chunk}) is not in tile ${tile.linear}#${tile.tile}`);
}

/** URAM count of the paper's eq. 9 for this model: ceil((Y/Q) * ceil(X/(G*T)) / 4096) * c * Q/2. */
export function eq9Urams(spec: ModelSpec, hw: LoadedHwConfig): number {
  const d = hw.derived;
  const X = Math.ceil(spec.intermediateSize / d.chunkElements) * d.chunkElements; // d'_ffn
  const Y = Math.ceil(spec.hiddenSize / d.chunkElements) * d.chunkElements; // d'_model
  return Math.ceil(((Y / d.parallelVectors) * Math.ceil(X / d.chunkElements)) / hw.config.uram.depth_words) * hw.config.uram.cascade * d.banks;
}

export function planUram(spec: ModelSpec, hw: LoadedHwConfig): UramPlan {
  const d = hw.derived;
  const problems: string[] = [];
  const linears = COMPUTE_ORDER.map((n) => placeLinear(spec, hw, n));
  const steps: UramStep[] = [];
  let peak = 0;
  for (const lp of linears) {
    for (const t of lp.tiles) {
      const index = steps.length;
      const buffer = d.buffers === 2 ? index % 2 : 0;
      const wordStart = buffer * d.wordsPerBankPerBuffer;
      const wordEnd = wordStart + t.wordsPerBank;
      peak = Math.max(peak, t.wordsPerBank);
      if (t.wordsPerBank > d.wordsPerBankPerBuffer) {
        const need = Math.ceil(t.wordsPerBank / hw.config.uram.depth_words) * hw.config.uram.cascade * d.banks;
        problems.push(
          `${lp.linear} (${lp.rows} x ${lp.cols}) needs ${t.wordsPerBank} words per bank (${need} URAMs) but the weight buffer has ${d.wordsPerBankPerBuffer} (${hw.config.uram.weight_buffer_urams} URAMs)` +
            (hw.config.architecture.weight_layout === 'paper-regions' ? '; the paper layout cannot tile a linear' : ''),
        );
      }
      const levels: number[] = [];
      const depth = hw.config.uram.depth_words;
      for (let l = Math.floor(wordStart / depth); l <= Math.floor((Math.max(wordEnd, wordStart + 1) - 1) / depth); l++) levels.push(l);
      const banksUsed = Math.min(d.banks, Math.max(...t.blocks.map((b) => b.rows)));
      steps.push({ index, linear: lp.linear, tile: t.tile, buffer, wordStart, wordEnd, depthLevels: levels, banksUsed, urams: levels.length * banksUsed * hw.config.uram.cascade });
    }
  }
  return {
    layout: hw.config.architecture.weight_layout,
    banks: d.banks,
    cascade: hw.config.uram.cascade,
    bankDepthUrams: d.bankDepthUrams,
    wordsPerBank: d.wordsPerBank,
    buffers: d.buffers,
    wordsPerBuffer: d.wordsPerBankPerBuffer,
    weightBufferUrams: hw.config.uram.weight_buffer_urams,
    linears,
    head: hw.config.numerics.lm_head === 'ternary-shortlist' ? placeHead(spec, hw) : null,
    steps,
    stepsPerLayer: steps.length,
    peakWordsPerBank: peak,
    eq9Urams: eq9Urams(spec, hw),
    fits: problems.length === 0,
    problems,
  };
}

/**
 * Check a URAM plan: every step inside its buffer; with double buffering, consecutive steps (which
 * are resident at the same time) in different buffers, and each buffer on its own URAMs (depth
 * levels [0, D/2) and [D/2, D) of every bank column) so the loading half never competes for the
 * ports of the computing half. Layer l places step i in buffer (steps[i].buffer + l*stepsPerLayer)
 * mod 2, i.e. globally alternating; both buffers have the same geometry, so checking layer 0 and
 * the parity rule suffices. Throws E_INTERNAL on a violation.
 */
export function checkUramPlan(plan: UramPlan): void {
  const depth = 4096;
  for (const s of plan.steps) {
    const lo = s.buffer * plan.wordsPerBuffer;
    if (plan.fits && (s.wordStart < lo || s.wordEnd > lo + plan.wordsPerBuffer || s.wordEnd <= s.wordStart)) {
      throw new TellmeError('E_INTERNAL', `URAM step ${s.index} (${s.linear}#${s.tile}) words [${s.wordStart}, ${s.wordEnd}) leave buffer ${s.buffer}`);
    }
  }
  if (plan.buffers !== 2) {
    for (const s of plan.steps) if (s.buffer !== 0) throw new TellmeError('E_INTERNAL', `single-buffered plan uses buffer ${s.buffer}`);
    return;
  }
  if (plan.wordsPerBuffer % depth !== 0) throw new TellmeError('E_INTERNAL', 'double-buffer halves do not fall on URAM boundaries');
  const levelsPerBuffer = plan.wordsPerBuffer / depth;
  for (let i = 0; i + 1 < plan.steps.length; i++) {
    if (plan.steps[i]!.buffer === plan.steps[i + 1]!.buffer) {
      throw new TellmeError('E_INTERNAL', `URAM steps ${i} and ${i + 1} are both in buffer ${plan.steps[i]!.buffer}`);
    }
  }
  for (const s of plan.steps) {
    if (!plan.fits) continue;
    for (const l of s.depthLevels) {
      if (Math.floor(l / levelsPerBuffer) !== s.buffer) {
        throw new TellmeError('E_INTERNAL', `URAM step ${s.index} touches depth level ${l}, which belongs to the other buffer`);
      }
    }
  }
}
