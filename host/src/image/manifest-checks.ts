/**
 * The manifest's model constants checked against the image's own sections (issue 11).
 *
 * The reader proves that the manifest and the sections are the ones written together (checksums)
 * and that the manifest agrees with itself and the planner. A manifest rewritten with fresh
 * checksums can still state an activation, a RoPE base, tied embeddings or an overflow bound that
 * the weights contradict; each is re-derived here from what the sections hold and compared:
 *
 *  - `numerics` (docs/numerics.md §4.4, bounds.ts): every bound recomputed from the norm
 *    sections, the matrices' weight scales, the embedding and the head's row scales. The FFN
 *    activation and the KV format enter the bounds, so a `spec.activation` edited alone
 *    contradicts the recorded ones (and is named as such);
 *  - the `rope` section against `spec.ropeTheta` and `spec.headDim` (numerics/rope.ts);
 *  - `spec.tiedEmbeddings`: a tied head is quantised from the embedding, so each head row's scale
 *    rounds (bfloat16, flushed, monotonic) to the largest |value| of its embedding row. An untied
 *    head's row scales cannot be re-derived (its int8 rows do not keep them), only their maximum
 *    (`numerics.lm_head_row_absmax`); nor can a tied model relabelled untied be told from an
 *    untied one whose head equals its embedding.
 *
 * NaN and infinities met on the way are refused. What only has a range (rms_norm_eps,
 * max_position_embeddings, rope_theta's span, the dimensions) is range-checked by
 * model/spec.ts implausibleSpec before any plan is built (reader.ts checkModel).
 *
 * Runs after the checksums are verified (the sections read here are then the written ones); the
 * embedding is streamed in chunks, so memory stays small whatever the vocabulary.
 */

import * as fs from 'node:fs';
import { TellmeError } from '../errors.js';
import { layerNormRoles, type NormRole } from '../layout/ddr.js';
import { LAYER_NORM_ROLES, type FfnActivation, type LayerNormRole, type LinearName, type ModelSpec } from '../model/spec.js';
import { bf16Flushed, bf16ToF32, f32ToBf16 } from '../numerics/f16.js';
import { ropeTable } from '../numerics/rope.js';
import { layerBounds, layerWorst, logitBound, type Worst } from './bounds.js';
import { normsToF16 } from './elements.js';
import type { LayerBoundRecord, NumericsRecord } from './manifest.js';
import type { ModelImage } from './reader.js';
import { ddrNormRegion, hostNormSection } from './records.js';

const FIX = 'Re-convert the checkpoint (`tellme convert`): the image was edited or damaged after conversion and its checksums rewritten.';
const F32_MAX = 3.4028234663852886e38;
const CHUNK_BYTES = 4 * 1024 * 1024;

function refuse(image: ModelImage, what: string): TellmeError {
  return new TellmeError('E_IMAGE', `${image.path}: ${what}`, FIX);
}

/** Verify every section's checksum, then check what the sections determine about the manifest. */
export function verifyImage(image: ModelImage, onVerify?: (done: number, total: number) => void): void {
  image.verifyChecksums(onVerify);
  checkManifestAgainstSections(image);
}

/** Check everything the sections determine about the manifest (see the file comment). */
export function checkManifestAgainstSections(image: ModelImage): void {
  if (!image.checksumsVerified) throw new TellmeError('E_INTERNAL', 'checkManifestAgainstSections needs verified checksums');
  const values = sectionValues(image);
  checkNumericsRecord(image, values);
  checkRopeTable(image);
}

/** What the bounds are computed from, as the sections hold it. */
export interface SectionValues {
  /** Binary32 weights of every norm of the model, by "role@layer". */
  norms: Map<string, Float32Array>;
  normAbsmax: Record<LayerNormRole, number | null>[];
  finalNormAbsmax: number;
  /** Weight scale of each layer's linears. */
  scales: Record<LinearName, number>[];
  /** The embedding's largest |value| (bfloat16). */
  embeddingAbsmax: number;
  /** The largest head row scale. */
  rowAbsmaxMax: number;
}

/** The binary32 copy of a norm: the DDR region, or the host copy in fp16-activation builds. */
function normSection(image: ModelImage, role: NormRole, layer: number): string {
  return image.hw.config.architecture.activation_format === 'fp16' ? hostNormSection(role, layer) : ddrNormRegion(role, layer);
}

function f32Section(image: ModelImage, name: string): Float32Array {
  const b = image.readSection(name);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/** max |v|, refusing NaN and infinities (names the section and element). */
function finiteAbsmax(image: ModelImage, v: Float32Array, name: string): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]!);
    if (!(a <= F32_MAX)) throw refuse(image, `section ${name} element ${i} is ${v[i]}; weights are finite`);
    if (a > m) m = a;
  }
  return m;
}

/** Call fn on consecutive whole rows of a section (rowBytes each), about chunkBytes at a time. */
function forEachRows(image: ModelImage, name: string, rowBytes: number, chunkBytes: number, fn: (rows: Uint8Array, firstRow: number) => void): void {
  const s = image.section(name);
  const perChunk = Math.max(1, Math.floor(chunkBytes / rowBytes));
  const buf = new Uint8Array(perChunk * rowBytes);
  const fd = fs.openSync(image.path, 'r');
  try {
    for (let row = 0; row * rowBytes < s.size; row += perChunk) {
      const n = Math.min(perChunk * rowBytes, s.size - row * rowBytes);
      const view = buf.subarray(0, n);
      let done = 0;
      while (done < n) {
        const got = fs.readSync(fd, view, done, n - done, s.offset + row * rowBytes + done);
        if (got === 0) throw refuse(image, `unexpected end of file in section ${name}`);
        done += got;
      }
      fn(view, row);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The bound inputs from the sections; refuses non-finite norms, embedding values and head row
 * scales, and (tied embeddings) a head row scale that is not its embedding row's absmax. The
 * embedding is read about chunkBytes at a time (a parameter so that tests can cross chunks).
 */
export function sectionValues(image: ModelImage, chunkBytes = CHUNK_BYTES): SectionValues {
  const spec = image.spec;
  const h = spec.hiddenSize;
  const norms = new Map<string, Float32Array>();
  const normAbsmax: Record<LayerNormRole, number | null>[] = [];
  const roles = new Set<LayerNormRole>(layerNormRoles(spec));
  for (let l = 0; l < spec.numLayers; l++) {
    const rec = {} as Record<LayerNormRole, number | null>;
    for (const role of LAYER_NORM_ROLES) {
      if (!roles.has(role)) {
        rec[role] = null;
        continue;
      }
      const name = normSection(image, role, l);
      const v = f32Section(image, name);
      norms.set(`${role}@${l}`, v);
      rec[role] = finiteAbsmax(image, v, name);
    }
    normAbsmax.push(rec);
  }
  const finalName = normSection(image, 'final', spec.numLayers - 1);
  const finalNorm = f32Section(image, finalName);
  norms.set(`final@${spec.numLayers - 1}`, finalNorm);
  const finalNormAbsmax = finiteAbsmax(image, finalNorm, finalName);

  const scales: Record<LinearName, number>[] = Array.from({ length: spec.numLayers }, () => ({}) as Record<LinearName, number>);
  for (const x of image.manifest.matrices) scales[x.layer]![x.linear] = x.scale;

  const rowAmax = f32Section(image, 'lm_head.scale');
  let rowAbsmaxMax = 0;
  for (let r = 0; r < rowAmax.length; r++) {
    const a = rowAmax[r]!;
    if (!(a >= 0 && a <= F32_MAX)) throw refuse(image, `lm_head.scale[${r}] is ${a}; head row scales are finite and non-negative`);
    if (a > rowAbsmaxMax) rowAbsmaxMax = a;
  }

  let embMaxBits = 0;
  forEachRows(image, 'embedding', 2 * h, chunkBytes, (bytes, row0) => {
    const e = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
    for (let r = 0, i = 0; i < e.length; r++) {
      let rowMax = 0;
      for (const end = i + h; i < end; i++) {
        const m = e[i]! & 0x7fff;
        if (m > rowMax) rowMax = m;
      }
      if (rowMax >= 0x7f80) {
        const c = e.subarray(i - h, i).findIndex((b) => (b & 0x7fff) >= 0x7f80);
        const b = e[i - h + c]!;
        throw refuse(image, `embedding element ${(row0 + r) * h + c} is ${(b & 0x7fff) > 0x7f80 ? 'NaN' : 'infinite'} (bfloat16 0x${b.toString(16)})`);
      }
      if (rowMax > embMaxBits) embMaxBits = rowMax;
      if (spec.tiedEmbeddings) {
        const a = rowAmax[row0 + r]!;
        const want = bf16Flushed(f32ToBf16(a)) & 0x7fff;
        if (want !== rowMax) {
          throw refuse(
            image,
            `LM head row ${row0 + r} (scale ${a}) is not quantised from embedding row ${row0 + r} (largest |value| ${bf16ToF32(rowMax)}), as spec.tiedEmbeddings true requires`,
          );
        }
      }
    }
  });
  return { norms, normAbsmax, finalNormAbsmax, scales, embeddingAbsmax: bf16ToF32(embMaxBits), rowAbsmaxMax };
}

/** The fields of the numerics record that follow from the sections (the reader checks the others). */
export type DerivedNumerics = Pick<NumericsRecord, 'worst' | 'embedding_absmax' | 'final_norm_absmax' | 'lm_head_row_absmax' | 'logit_bound' | 'layers' | 'fp16_norms'>;

/** The numerics record the converter would write for these section values (writer.ts overflowRecord, in its order of operations). */
export function deriveNumerics(image: ModelImage, v: SectionValues, activation: FfnActivation = image.spec.activation): DerivedNumerics {
  const spec: ModelSpec = { ...image.spec, activation };
  const kv = image.hw.config.numerics.kv_format;
  const layers: LayerBoundRecord[] = [];
  let worst: Worst = { bound: 0, log2: -Infinity, where: '' };
  let residual = 0;
  for (let l = 0; l < spec.numLayers; l++) {
    const b = layerBounds(spec, l, v.normAbsmax[l]!, v.scales[l]!, residual, kv);
    residual = b.residual;
    layers.push(b);
    const w = layerWorst(b);
    if (!(w.bound <= worst.bound)) worst = w;
  }
  for (const b of layers) {
    b.residual += v.embeddingAbsmax;
    const w = layerWorst(b);
    if (!(w.bound <= worst.bound)) worst = w;
  }
  const logits = logitBound(spec, v.finalNormAbsmax, v.rowAbsmaxMax);
  if (!(logits <= worst.bound)) worst = { bound: logits, log2: Math.log2(logits), where: 'logits' };
  const fp16 = image.hw.config.architecture.activation_format === 'fp16';
  // Inputs before the bounds derived from them, so that a difference names its root.
  return {
    embedding_absmax: v.embeddingAbsmax,
    final_norm_absmax: v.finalNormAbsmax,
    lm_head_row_absmax: v.rowAbsmaxMax,
    fp16_norms: fp16 ? fp16NormStats(v.norms) : null,
    layers,
    logit_bound: logits,
    worst: { bound: worst.bound, log2: worst.log2, where: worst.where },
  };
}

/** How the binary32 norms fare in binary16 (writer.ts NormsF16, over every norm once). */
function fp16NormStats(norms: Map<string, Float32Array>): NonNullable<NumericsRecord['fp16_norms']> {
  let weights = 0;
  let inexact = 0;
  let maxRel = 0;
  for (const w of norms.values()) {
    const r = normsToF16(w);
    weights += w.length;
    inexact += r.inexact;
    maxRel = Math.max(maxRel, r.maxRelError);
  }
  return { weights, inexact, max_rel_error: maxRel };
}

/** The first leaf where `have` differs from `want` (keys of `want` only), as "a.b[2].c: have vs want". */
function firstDifference(have: unknown, want: unknown, at: string): string | null {
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object') return `${at}: ${JSON.stringify(have)} vs ${JSON.stringify(want)}`;
    if (Array.isArray(want)) {
      if (!Array.isArray(have) || have.length !== want.length) return `${at}: ${Array.isArray(have) ? have.length : 'no'} entries vs ${want.length}`;
      for (let i = 0; i < want.length; i++) {
        const d = firstDifference(have[i], want[i], `${at}[${i}]`);
        if (d) return d;
      }
      return null;
    }
    for (const k of Object.keys(want)) {
      const d = firstDifference((have as Record<string, unknown>)[k], (want as Record<string, unknown>)[k], `${at}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return Object.is(have, want) ? null : `${at}: ${JSON.stringify(have)} vs ${JSON.stringify(want)}`;
}

/** The recorded numerics must be what the sections give (the writer refuses a bound reaching 2^127, so the recorded one is below it). */
export function checkNumericsRecord(image: ModelImage, v: SectionValues): void {
  const recorded = image.manifest.numerics;
  const diff = firstDifference(recorded, deriveNumerics(image, v), 'numerics');
  if (!diff) return;
  const act = image.spec.activation;
  const other: FfnActivation = act === 'relu2' ? 'silu' : 'relu2';
  if (!firstDifference(recorded, deriveNumerics(image, v, other), 'numerics')) {
    throw refuse(image, `spec.activation is "${act}", but the model was converted with "${other}" (the numerics record's bounds are the ones "${other}" gives these weights)`);
  }
  throw refuse(image, `the numerics record does not match the weights it bounds (recorded vs re-derived from the sections: ${diff})`);
}

/** The `rope` section must be the table spec.ropeTheta and spec.headDim give for the image's context. */
export function checkRopeTable(image: ModelImage): void {
  const spec = image.spec;
  const have = f32Section(image, 'rope');
  const want = ropeTable(spec.headDim, spec.ropeTheta, image.context);
  const haveBits = new Uint32Array(have.buffer, have.byteOffset, have.length);
  const wantBits = new Uint32Array(want.buffer);
  if (haveBits.length !== wantBits.length) throw refuse(image, `the rope section holds ${have.length} values, ${want.length} expected`);
  for (let i = 0; i < wantBits.length; i++) {
    if (haveBits[i] !== wantBits[i]) {
      throw refuse(image, `spec.ropeTheta ${spec.ropeTheta} (head_dim ${spec.headDim}) does not give the image's RoPE table (element ${i}: ${have[i]} instead of ${want[i]})`);
    }
  }
}
