/**
 * Names and manifest records shared by the image writer and reader.
 */

import type { DdrRegion, NormRole } from '../layout/ddr.js';
import type { LinearPlacement, PlacedLinear, UramPlan } from '../layout/uram.js';
import type { ModelSpec } from '../model/spec.js';
import { f32ToBits } from '../numerics/f32.js';
import type { DdrRegionRecord, UramLinearRecord, UramRecord } from './manifest.js';

/** Host-only section names. */
export const TOKENIZER_JSON_SECTION = 'host.tokenizer.json';
export const TOKENIZER_CONFIG_SECTION = 'host.tokenizer_config.json';
export function hostNormSection(role: NormRole, layer: number): string {
  return role === 'final' ? 'host.norms.final' : `host.norms.L${layer}.${role}`;
}
export function ddrNormRegion(role: NormRole, layer: number): string {
  return role === 'final' ? 'norms.final' : `norms.L${layer}.${role}`;
}

/** binary32 bits of a value as "0x3fc00000". */
export function f32Hex(x: number): string {
  return `0x${f32ToBits(x).toString(16).padStart(8, '0')}`;
}

/** The eps RMS-MAX uses, binary32 rms_norm_eps rounded to nearest (docs/numerics.md §5), as the bits the firmware programs. */
export function rmsNormEpsBits(spec: ModelSpec): string {
  return f32Hex(spec.rmsNormEps);
}

function linearRecord<N extends PlacedLinear>(lp: LinearPlacement<N>): UramLinearRecord<N> {
  return {
    linear: lp.linear,
    rows: lp.rows,
    cols: lp.cols,
    chunks: lp.chunks,
    tiles: lp.tiles.map((t) => ({
      tile: t.tile,
      row_start: t.rowStart,
      rows: t.rows,
      words_per_bank: t.wordsPerBank,
      blocks: t.blocks.map((b) => ({
        row_start: b.rowStart,
        rows: b.rows,
        chunk_start: b.chunkStart,
        chunks: b.chunks,
        word_base: b.wordBase,
        rows_per_bank: b.rowsPerBank,
      })),
    })),
  };
}

export function uramRecord(uram: UramPlan): UramRecord {
  return {
    layout: uram.layout,
    weight_buffer_urams: uram.weightBufferUrams,
    banks: uram.banks,
    buffers: uram.buffers,
    words_per_buffer: uram.wordsPerBuffer,
    steps_per_layer: uram.stepsPerLayer,
    peak_words_per_bank: uram.peakWordsPerBank,
    eq9_urams: uram.eq9Urams,
    urams_used: Math.max(0, ...uram.steps.map((s) => s.urams)) * uram.buffers,
    linears: uram.linears.map(linearRecord),
    head: uram.head ? linearRecord(uram.head) : null,
  };
}

export function ddrRegionRecord(r: DdrRegion, inImage: boolean): DdrRegionRecord {
  return { ...r, in_image: inImage };
}

