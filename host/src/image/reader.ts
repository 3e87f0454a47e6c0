/**
 * Reading and validating a model image (docs/image-format.md). openImage checks, in order:
 * the header (magic, version, its own checksum, the file length), the manifest (checksum, format
 * version, schema), the hardware set (the stored description hashes to the stored hash; the
 * caller's board, when given, is the same build), the model (the DDR map and URAM tiling the
 * planner derives from the spec, hardware set and context are the ones recorded; every section has
 * the size they imply; the per-matrix records are consistent), the section table (aligned, inside
 * the file, no overlaps) and finally every section's sha256 and the zero padding between
 * sections, streamed, and what the sections say about the manifest's model constants
 * (manifest-checks.ts). Every failure is an E_IMAGE error naming the file and what is wrong.
 */

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TellmeError } from '../errors.js';
import { loadHwConfig } from '../hwconfig/load.js';
import { hwConfigFromObject } from '../hwconfig/load.js';
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { layerNormRoles, normLength, planDdr, type NormRole } from '../layout/ddr.js';
import { planUram, type UramPlan } from '../layout/uram.js';
import { implausibleSpec, LINEAR_NAMES, linearShape, type ModelSpec } from '../model/spec.js';
import { ftz32 } from '../numerics/f32.js';
import { decodeHeader, FORMAT_NAME, HEADER_BYTES, SECTION_ALIGNMENT, SUPPORTED_VERSIONS, hasImageMagic, sha256Hex, type ImageHeader } from './format.js';
import { IMAGE_DDR_KINDS, validateManifest, type ImageManifest, type SectionRecord } from './manifest.js';
import { LIMIT } from './bounds.js';
import { verifyImage } from './manifest-checks.js';
import { ddrNormRegion, f32Hex, hostNormSection, rmsNormEpsBits, TOKENIZER_CONFIG_SECTION, TOKENIZER_JSON_SECTION, uramRecord } from './records.js';

export interface OpenImageOptions {
  /**
   * The hardware set the image will run on (a board name, a hardware description file, or a
   * loaded one). An image built for another set is refused, naming both.
   */
  hw?: LoadedHwConfig | string;
  /**
   * Stream every section through sha256 at open, then check the manifest's model constants against
   * the sections (manifest-checks.ts) (default true). When false only the header and manifest are
   * checked (enough to read the spec) and readSection checks each section it reads.
   */
  verifyChecksums?: boolean;
  /** Called while checksums are verified: bytes done, bytes total. */
  onVerify?: (done: number, total: number) => void;
}

const READ_CHUNK = 8 * 1024 * 1024;

function bad(file: string, what: string, fix = 'The image is damaged or was edited: copy it again or re-run `tellme convert`.'): TellmeError {
  return new TellmeError('E_IMAGE', `${file}: ${what}`, fix);
}

function readFully(fd: number, target: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < target.length) {
    const n = fs.readSync(fd, target, done, target.length - done, position + done);
    if (n === 0) throw bad(file, `unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

/** Whether `p` is a file that starts with the model image magic. */
export function isModelImage(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) return false;
    const fd = fs.openSync(p, 'r');
    try {
      const b = new Uint8Array(8);
      const n = fs.readSync(fd, b, 0, 8, 0);
      return n === 8 && hasImageMagic(b);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Leaves where two JSON values differ ("a.b.c: x vs y"), at most `max`. */
function jsonDiff(a: unknown, b: unknown, prefix = '', out: string[] = [], max = 6): string[] {
  if (out.length >= max) return out;
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
    for (const k of keys) {
      if (['$schema', 'description', 'notes', 'sources'].includes(k) && prefix === '') continue;
      jsonDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k, out, max);
    }
    return out;
  }
  if (JSON.stringify(a) !== JSON.stringify(b) && out.length < max) out.push(`${prefix}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  return out;
}

export class ModelImage {
  readonly path: string;
  readonly header: ImageHeader;
  readonly manifest: ImageManifest;
  readonly spec: ModelSpec;
  readonly hw: LoadedHwConfig;
  readonly context: number;
  /** The URAM plan the weights were packed with (re-derived and checked against the manifest). */
  readonly uram: UramPlan;
  private checksumsVerifiedValue = false;
  private readonly sectionsByName: Map<string, SectionRecord>;

  /** Use openImage(). */
  constructor(file: string, header: ImageHeader, manifest: ImageManifest, hw: LoadedHwConfig, uram: UramPlan) {
    this.path = file;
    this.header = header;
    this.manifest = manifest;
    this.spec = manifest.spec;
    this.hw = hw;
    this.context = manifest.context;
    this.uram = uram;
    this.sectionsByName = new Map(manifest.sections.map((s) => [s.name, s]));
  }

  get checksumsVerified(): boolean {
    return this.checksumsVerifiedValue;
  }

  has(name: string): boolean {
    return this.sectionsByName.has(name);
  }

  section(name: string): SectionRecord {
    const s = this.sectionsByName.get(name);
    if (!s) throw bad(this.path, `no section "${name}" in this image`, 'The image was written for another model or hardware set, or by another version of tellme; re-run `tellme convert`.');
    return s;
  }

  /** A section's bytes in a fresh (8-byte aligned) buffer; checked against its sha256 unless already verified at open. */
  readSection(name: string): Uint8Array {
    const s = this.section(name);
    const out = new Uint8Array(s.size);
    this.readSectionInto(name, out);
    return out;
  }

  /** Read a whole section into `target` (exactly its size); checks the sha256 unless verified at open. */
  readSectionInto(name: string, target: Uint8Array): void {
    const s = this.section(name);
    if (target.length !== s.size) throw new TellmeError('E_INTERNAL', `readSectionInto ${name}: target ${target.length} bytes, section ${s.size}`);
    const fd = fs.openSync(this.path, 'r');
    try {
      readFully(fd, target, s.offset, this.path);
    } finally {
      fs.closeSync(fd);
    }
    if (!this.checksumsVerifiedValue) {
      const got = sha256Hex(target);
      if (got !== s.sha256) throw checksumError(this.path, s, got);
    }
  }

  /**
   * Stream every section through sha256 and check the padding between sections is zero, reading
   * `chunkBytes` at a time (a parameter so that tests can cross chunk boundaries on small images).
   */
  verifyChecksums(onVerify?: (done: number, total: number) => void, chunkBytes = READ_CHUNK): void {
    const total = this.manifest.sections.reduce((a, s) => a + s.size, 0);
    let done = 0;
    const fd = fs.openSync(this.path, 'r');
    try {
      const buf = new Uint8Array(chunkBytes);
      const checkZero = (from: number, to: number, what: string) => {
        for (let pos = from; pos < to; pos += chunkBytes) {
          const n = Math.min(chunkBytes, to - pos);
          const view = buf.subarray(0, n);
          readFully(fd, view, pos, this.path);
          for (let i = 0; i < n; i++) if (view[i] !== 0) throw bad(this.path, `byte ${pos + i} (padding ${what}) is ${view[i]}, expected 0`);
        }
      };
      const sorted = [...this.manifest.sections].sort((a, b) => a.offset - b.offset);
      let end = HEADER_BYTES;
      for (const s of sorted) {
        checkZero(end, s.offset, `before section ${s.name}`);
        const hash = createHash('sha256');
        for (let pos = 0; pos < s.size; pos += chunkBytes) {
          const n = Math.min(chunkBytes, s.size - pos);
          const view = buf.subarray(0, n);
          readFully(fd, view, s.offset + pos, this.path);
          hash.update(view);
          done += n;
          onVerify?.(done, total);
        }
        const got = hash.digest('hex');
        if (got !== s.sha256) throw checksumError(this.path, s, got);
        end = s.offset + s.size;
      }
      checkZero(end, this.header.manifestOffset, 'before the manifest');
    } finally {
      fs.closeSync(fd);
    }
    this.checksumsVerifiedValue = true;
  }
}

function checksumError(file: string, s: SectionRecord, got: string): TellmeError {
  return bad(
    file,
    `section ${s.name} (bytes ${s.offset}..${s.offset + s.size - 1}) fails its checksum: sha256 ${got.slice(0, 16)}… but the manifest records ${s.sha256.slice(0, 16)}…`,
  );
}

function resolveHw(hw: LoadedHwConfig | string): LoadedHwConfig {
  return typeof hw === 'string' ? loadHwConfig(hw) : hw;
}

/** Open, validate and (by default) checksum a model image. */
export function openImage(fileArg: string, opts: OpenImageOptions = {}): ModelImage {
  const file = path.resolve(fileArg);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new TellmeError('E_NOT_FOUND', `${file}: no such file`, 'Pass the path of a model image written by `tellme convert`.');
  }
  if (!stat.isFile()) throw new TellmeError('E_USAGE', `${file} is not a file; a model image is one file`, 'Pass the image file (a checkpoint directory is converted with `tellme convert`).');
  const fd = fs.openSync(file, 'r');
  let header: ImageHeader;
  let manifestBytes: Uint8Array;
  try {
    const hb = new Uint8Array(Math.min(HEADER_BYTES, stat.size));
    readFully(fd, hb, 0, file);
    header = decodeHeader(hb, stat.size, file);
    manifestBytes = new Uint8Array(header.manifestLength);
    readFully(fd, manifestBytes, header.manifestOffset, file);
  } finally {
    fs.closeSync(fd);
  }
  const got = sha256Hex(manifestBytes);
  if (got !== header.manifestSha256) {
    throw bad(file, `the manifest (bytes ${header.manifestOffset}..${header.fileLength - 1}) fails its checksum: sha256 ${got.slice(0, 16)}… but the header records ${header.manifestSha256.slice(0, 16)}…`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(manifestBytes));
  } catch (e) {
    throw bad(file, `the manifest is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw bad(file, 'the manifest is not a JSON object');
  const o = obj as Record<string, unknown>;
  if (o['format'] !== FORMAT_NAME) throw bad(file, `the manifest's format is ${JSON.stringify(o['format'])}, expected "${FORMAT_NAME}"`);
  const v = o['format_version'];
  if (typeof v !== 'number' || !SUPPORTED_VERSIONS.includes(v)) {
    throw new TellmeError(
      'E_IMAGE',
      `${file}: unknown image manifest format version ${JSON.stringify(v)}; this tellme reads version ${SUPPORTED_VERSIONS.join(', ')}`,
      typeof v === 'number' && v > Math.max(...SUPPORTED_VERSIONS)
        ? 'Upgrade tellme to a version that reads this image, or re-convert the model with this version (`tellme convert`).'
        : 'Re-convert the model with this version of tellme (`tellme convert`).',
    );
  }
  if (v !== header.version) throw bad(file, `the header says format version ${header.version} but the manifest says ${v}`);
  const manifest = validateManifest(obj, file);

  // ---- hardware ----
  let hw: LoadedHwConfig;
  try {
    hw = hwConfigFromObject(manifest.hardware.config, `${file} (hardware description)`);
  } catch (e) {
    throw bad(file, `the hardware description stored in the image is invalid: ${(e as Error).message}`);
  }
  if (hw.hash !== manifest.hardware.hash || hw.config.name !== manifest.hardware.name) {
    throw bad(file, `the stored hardware description (name ${hw.config.name}, hash ${hw.hash.slice(0, 12)}…) does not match the recorded ${manifest.hardware.name} (hash ${manifest.hardware.hash.slice(0, 12)}…)`);
  }
  if (opts.hw !== undefined) {
    const want = resolveHw(opts.hw);
    if (want.hash !== hw.hash) {
      const diff = jsonDiff(hw.config, want.config);
      throw new TellmeError(
        'E_IMAGE',
        `${file}: image built for ${hw.config.name} (hash ${hw.hash.slice(0, 12)}…) but the bitstream/board is ${want.config.name} (hash ${want.hash.slice(0, 12)}…)` +
          (diff.length ? `; they differ in ${diff.join('; ')}` : ''),
        `Convert the model for this board: tellme convert --model <checkpoint> --board ${want.config.name === hw.config.name ? want.file : want.config.name} -o <image>.`,
      );
    }
  }

  // ---- the model: plans, sections, matrices ----
  const uram = checkModel(file, manifest, hw, header);
  const image = new ModelImage(file, header, manifest, hw, uram);
  if (opts.verifyChecksums ?? true) verifyImage(image, opts.onVerify);
  return image;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Everything that relates the manifest's fields to each other, to the planner and to the file. */
function checkModel(file: string, m: ImageManifest, hw: LoadedHwConfig, header: ImageHeader): UramPlan {
  const spec = m.spec;
  const fail = (what: string) => bad(file, what);
  // Before any plan is built from it: 1e6 layers would otherwise hang the reader.
  const implausible = implausibleSpec(spec);
  // implausibleSpec also refuses heads that are not a multiple of the KV heads and an odd head_dim.
  if (implausible.length > 0) throw fail(`the model spec is implausible: ${implausible.join('; ')}`);
  if (m.context > spec.maxPositions || m.ddr.context !== m.context) {
    throw fail(`context ${m.context} (DDR map: ${m.ddr.context}) is not within the model's ${spec.maxPositions} positions`);
  }
  let uram: UramPlan;
  let ddr: ReturnType<typeof planDdr>;
  try {
    uram = planUram(spec, hw);
    ddr = planDdr(spec, hw, uram, { context: m.context });
  } catch (e) {
    throw fail(`the planner cannot place this model on ${hw.config.name}: ${(e as Error).message}`);
  }
  if (!sameJson(uramRecord(uram), m.uram)) throw fail(`the URAM tiling recorded in the manifest is not the one ${hw.config.name} gives this model`);
  if (m.ddr.alignment !== ddr.alignment || m.ddr.total_bytes !== ddr.totalBytes || m.ddr.regions.length !== ddr.regions.length) {
    throw fail(`the DDR map recorded in the manifest (${m.ddr.regions.length} regions, ${m.ddr.total_bytes} bytes) is not the one the model spec, ${hw.config.name} and context ${m.context} imply (${ddr.regions.length} regions, ${ddr.totalBytes} bytes)`);
  }
  for (let i = 0; i < ddr.regions.length; i++) {
    const want = ddr.regions[i]!;
    const { in_image: _ignored, ...have } = m.ddr.regions[i]!;
    if (!sameJson(want, have)) {
      throw fail(`DDR region ${i} is ${JSON.stringify(have)} but the model spec, ${hw.config.name} and context ${m.context} imply ${JSON.stringify(want)}`);
    }
  }
  const carried = ddr.carriedNorms.map((c) => ({ layer: c.layer, linear: c.linear, role: c.role, norm_layer: c.normLayer, length: c.length }));
  if (!sameJson(carried, m.ddr.carried_norms)) throw fail('the norms carried in weight beats are not the ones the layout implies');

  // Sections: in the file, aligned, disjoint.
  const names = new Set<string>();
  for (const s of m.sections) {
    if (names.has(s.name)) throw fail(`section ${s.name} appears twice`);
    names.add(s.name);
    if (s.offset % SECTION_ALIGNMENT !== 0) throw fail(`section ${s.name} starts at ${s.offset}, not a multiple of ${SECTION_ALIGNMENT}`);
    if (s.offset < SECTION_ALIGNMENT || s.offset + s.size > header.manifestOffset) {
      throw fail(`section ${s.name} [${s.offset}, ${s.offset + s.size}) lies outside the data area [${SECTION_ALIGNMENT}, ${header.manifestOffset})`);
    }
  }
  const sorted = [...m.sections].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (b.offset < a.offset + a.size) throw fail(`section ${b.name} [${b.offset}, ${b.offset + b.size}) overlaps section ${a.name} [${a.offset}, ${a.offset + a.size})`);
  }
  // Sections <-> DDR regions: exactly the data regions, with their sizes.
  const byName = new Map(m.sections.map((s) => [s.name, s]));
  const expected = new Set<string>();
  for (let i = 0; i < ddr.regions.length; i++) {
    const r = ddr.regions[i]!;
    const inImage = IMAGE_DDR_KINDS.includes(r.kind);
    if (m.ddr.regions[i]!.in_image !== inImage) throw fail(`DDR region ${r.name}: in_image is ${m.ddr.regions[i]!.in_image}, expected ${inImage}`);
    if (!inImage) continue;
    expected.add(r.name);
    const s = byName.get(r.name);
    if (!s) throw fail(`no section for DDR region ${r.name} (${r.size} bytes)`);
    if (s.kind !== r.kind || s.size !== r.size || s.dtype !== r.dtype || !sameJson(s.shape, r.shape) || s.ddr_offset !== r.offset) {
      throw fail(`section ${s.name} is ${s.size} bytes of ${s.dtype} ${JSON.stringify(s.shape)} for DDR offset ${s.ddr_offset}, but the model implies ${r.size} bytes of ${r.dtype} ${JSON.stringify(r.shape)} at ${r.offset}`);
    }
  }
  const fp16 = hw.config.architecture.activation_format === 'fp16';
  if (fp16) {
    const norms: { role: NormRole; layer: number }[] = [];
    for (let l = 0; l < spec.numLayers; l++) for (const role of layerNormRoles(spec)) norms.push({ role, layer: l });
    norms.push({ role: 'final', layer: spec.numLayers - 1 });
    for (const n of norms) {
      const name = hostNormSection(n.role, n.layer);
      const s = byName.get(name);
      const len = normLength(spec, n.role);
      if (!s || s.kind !== 'host_norms' || s.size !== 4 * len) throw fail(`section ${name} (binary32 norm weights, ${4 * len} bytes) is missing or has the wrong size`);
      expected.add(name);
    }
  }
  const tk = m.tokenizer;
  for (const [field, name] of [['tokenizer_json', TOKENIZER_JSON_SECTION], ['tokenizer_config', TOKENIZER_CONFIG_SECTION]] as const) {
    const v = tk[field];
    if (v === null) continue;
    if (v !== name || byName.get(v)?.kind !== 'tokenizer') throw fail(`tokenizer.${field} names section ${JSON.stringify(v)}, which is not a tokenizer section`);
    expected.add(v);
  }
  for (const s of m.sections) if (!expected.has(s.name)) throw fail(`section ${s.name} (${s.kind}) does not belong to this model and hardware set`);
  if (!sameJson(tk.eos_token_ids, spec.eosTokenIds) || tk.bos_token_id !== spec.bosTokenId || tk.pad_token_id !== spec.padTokenId) {
    throw fail('the tokenizer record\'s special ids disagree with the model spec');
  }

  // Matrices: one per layer and linear, shapes and tiles as planned, scales exact binary32.
  if (m.matrices.length !== spec.numLayers * LINEAR_NAMES.length) throw fail(`${m.matrices.length} matrix records, expected ${spec.numLayers} layers x ${LINEAR_NAMES.length}`);
  const seen = new Set<string>();
  for (const x of m.matrices) {
    const key = `${x.layer}.${x.linear}`;
    if (x.layer >= spec.numLayers || seen.has(key)) throw fail(`matrix record layer ${x.layer} ${x.linear} is out of range or repeated`);
    seen.add(key);
    const shape = linearShape(spec, x.linear);
    const lp = uram.linears.find((p) => p.linear === x.linear)!;
    if (x.rows !== shape.rows || x.cols !== shape.cols || x.chunks !== lp.chunks || x.tiles !== lp.tiles.length) {
      throw fail(`matrix layer ${x.layer} ${x.linear} is recorded as ${x.rows} x ${x.cols} (${x.chunks} chunks, ${x.tiles} tiles), expected ${shape.rows} x ${shape.cols} (${lp.chunks} chunks, ${lp.tiles.length} tiles)`);
    }
    if (Math.fround(x.scale) !== x.scale || ftz32(x.scale) !== x.scale || !(x.scale > 0) || !Number.isFinite(x.scale) || f32Hex(x.scale) !== x.scale_bits) {
      throw fail(`matrix layer ${x.layer} ${x.linear}: scale ${x.scale} (${x.scale_bits}) is not a positive normal binary32 value matching its bits`);
    }
    if (x.rope_permuted !== (x.linear === 'q_proj' || x.linear === 'k_proj')) throw fail(`matrix layer ${x.layer} ${x.linear}: rope_permuted is ${x.rope_permuted}`);
  }
  // Numerics: the recorded worst case is below the limit the converter enforces.
  if (m.numerics.limit_log2 !== 127 || !(m.numerics.worst.bound < LIMIT) || m.numerics.layers.length !== spec.numLayers) {
    throw fail(`the numerics record is inconsistent (worst-case bound ${m.numerics.worst.bound} must be below 2^127, one entry per layer)`);
  }
  if (m.numerics.activation_format !== hw.config.architecture.activation_format || (m.numerics.fp16_norms !== null) !== fp16) {
    throw fail('the numerics record does not match the hardware set\'s activation format');
  }
  if (m.numerics.rms_norm_eps_bits !== rmsNormEpsBits(spec)) {
    throw fail(`numerics.rms_norm_eps_bits is ${m.numerics.rms_norm_eps_bits}, but spec.rmsNormEps ${spec.rmsNormEps} is ${rmsNormEpsBits(spec)} in binary32`);
  }
  return uram;
}

