/**
 * The image manifest: its TypeScript shape and its validation against
 * host/src/image/manifest.schema.json (JSON Schema draft 2020-12, ajv). The schema checks types
 * and shapes; the reader (reader.ts) checks everything that relates fields to each other and to
 * the file (section bounds, checksums, the DDR map against the planner, the hardware hash).
 */

import { describeSchemaError, schemaValidator } from '../json-schema.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TellmeError } from '../errors.js';
import type { HwConfig } from '../hwconfig/types.js';
import type { DdrDtype, DdrKind, DdrRegion, NormRole } from '../layout/ddr.js';
import type { LayerNormRole, LinearName, ModelFamily, ModelSpec, WeightStorage, ScaleConvention } from '../model/spec.js';
import { projectRoot } from '../paths.js';

/** Sections that are DDR regions (same name as the region) and the host-only ones. */
export type SectionKind = 'weights' | 'norms' | 'rope' | 'embedding' | 'lm_head' | 'lm_head_scale' | 'lm_head_ternary' | 'lm_head_ternary_scale' | 'tokenizer' | 'host_norms';
/** DDR region kinds whose contents the image carries (the others are run-time buffers). */
export const IMAGE_DDR_KINDS: readonly DdrKind[] = ['weights', 'norms', 'rope', 'embedding', 'lm_head', 'lm_head_scale', 'lm_head_ternary', 'lm_head_ternary_scale'];

export interface SectionRecord {
  name: string;
  kind: SectionKind;
  /** Byte offset in the image file (a multiple of 4096). */
  offset: number;
  size: number;
  /** Lower-case hex sha256 of the section's bytes. */
  sha256: string;
  dtype: DdrDtype | 'bytes';
  shape: number[];
  /** Where the firmware loads it: the offset of the DDR region of the same name; null for host sections. */
  ddr_offset: number | null;
}

export interface DdrRegionRecord extends DdrRegion {
  /** True when the image holds its contents (a section of the same name). */
  in_image: boolean;
}

export interface CarriedNormRecord {
  layer: number;
  linear: LinearName;
  role: NormRole;
  norm_layer: number;
  length: number;
}

export interface MatrixRecord {
  layer: number;
  linear: LinearName;
  rows: number;
  cols: number;
  /** ceil(cols / (T*G)) index vectors per row. */
  chunks: number;
  tiles: number;
  /** Multiplicative weight scale w_s (binary32, subnormals flushed). */
  scale: number;
  /** The same value as binary32 bits, "0x3fc00000". */
  scale_bits: string;
  /** q_proj / k_proj rows are permuted for consecutive-pair RoPE before encoding. */
  rope_permuted: boolean;
}

export interface UramBlockRecord {
  row_start: number;
  rows: number;
  chunk_start: number;
  chunks: number;
  word_base: number;
  rows_per_bank: number;
}

export interface UramLinearRecord<N extends string = LinearName> {
  linear: N;
  rows: number;
  cols: number;
  chunks: number;
  tiles: { tile: number; row_start: number; rows: number; words_per_bank: number; blocks: UramBlockRecord[] }[];
}

export interface UramRecord {
  layout: 'paper-regions' | 'tiled';
  weight_buffer_urams: number;
  banks: number;
  buffers: number;
  words_per_buffer: number;
  steps_per_layer: number;
  peak_words_per_bank: number;
  eq9_urams: number;
  /** URAMs the steps touch at most (max over steps). */
  urams_used: number;
  linears: UramLinearRecord[];
  /** The ternary LM head's row tiles (lm_head ternary-shortlist builds), else null. */
  head: UramLinearRecord<'head'> | null;
}

export interface LayerBoundRecord {
  layer: number;
  norm_absmax: Record<LayerNormRole, number | null>;
  /** Bounds on |value| (binary64, see docs/numerics.md §4.4). */
  qkv_in: number;
  q_out: number;
  k_out: number;
  v_out: number;
  o_in: number;
  o_out: number;
  ffn_in: number;
  gate_out: number;
  up_out: number;
  gate_activation: number;
  down_in: number;
  down_out: number;
  /** The residual stream after this layer. */
  residual: number;
  /** |attention score| (docs/numerics.md §4.4). */
  attn_score: number;
}

export interface NumericsRecord {
  activation_format: 'fp16' | 'fp32';
  /** Every bound must stay below 2^limit_log2. */
  limit_log2: number;
  worst: { bound: number; log2: number; where: string };
  embedding_absmax: number;
  final_norm_absmax: number;
  lm_head_row_absmax: number;
  logit_bound: number;
  layers: LayerBoundRecord[];
  /** fp16-activation builds: how the norm weights fared in the DDR copies (binary16). */
  fp16_norms: { weights: number; inexact: number; max_rel_error: number } | null;
  /** binary32 bits of f32(rms_norm_eps), "0x3727c5ac": the eps the firmware programs. */
  rms_norm_eps_bits: string;
}

export interface SourceRecord {
  kind: 'hf-checkpoint';
  path: string;
  family: ModelFamily;
  weight_storage: WeightStorage;
  scale_convention: ScaleConvention | null;
  dtype: string | null;
  config_sha256: string;
  files: { name: string; bytes: number }[];
}

export interface TokenizerRecord {
  /** Section names, or null when the checkpoint had no such file. */
  tokenizer_json: string | null;
  tokenizer_config: string | null;
  chat_template: string | null;
  bos_token_id: number | null;
  eos_token_ids: number[];
  pad_token_id: number | null;
}

export interface ImageManifest {
  format: 'tellme-image';
  format_version: number;
  converter: { name: string; version: string };
  source: SourceRecord;
  spec: ModelSpec;
  /** Positions of the RoPE table and the KV cache. */
  context: number;
  hardware: { name: string; hash: string; config: HwConfig };
  fit: { fits: boolean; problems: string[] };
  numerics: NumericsRecord;
  uram: UramRecord;
  matrices: MatrixRecord[];
  ddr: {
    alignment: number;
    context: number;
    total_bytes: number;
    usable_bytes: number;
    regions: DdrRegionRecord[];
    carried_norms: CarriedNormRecord[];
  };
  sections: SectionRecord[];
  tokenizer: TokenizerRecord;
}

export function manifestSchemaPath(): string {
  return path.join(projectRoot(), 'host', 'src', 'image', 'manifest.schema.json');
}

/** Validate a parsed manifest against the schema; throws E_IMAGE listing (at most 10) problems. */
export function validateManifest(obj: unknown, file: string): ImageManifest {
  const validate = schemaValidator(manifestSchemaPath());
  if (!validate(obj)) {
    const errs = (validate.errors ?? []).map(describeSchemaError);
    const shown = errs.slice(0, 10);
    if (errs.length > shown.length) shown.push(`... and ${errs.length - shown.length} more`);
    throw new TellmeError(
      'E_IMAGE',
      `${file}: the image manifest does not match its schema:\n  ${shown.join('\n  ')}`,
      `The image was not written by this version of \`tellme convert\` or was edited; re-convert the model (schema: host/src/image/manifest.schema.json).`,
    );
  }
  return obj as ImageManifest;
}
