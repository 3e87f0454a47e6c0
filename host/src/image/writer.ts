/**
 * The streaming image writer behind `tellme convert` (docs/image-format.md).
 *
 * Every section's size follows from the model spec, the hardware set and the context (the DDR plan
 * of host/src/layout), so all file offsets are fixed before the first byte is written. Sections
 * are then written in place (positioned writes, each section front to back so its sha256 is
 * computed on the fly), one matrix / tile at a time and the embedding and LM head in row chunks
 * straight from the safetensors file: memory stays bounded by the largest matrix, whatever the
 * model size. The manifest goes last, then the header at offset 0. The file is written under a
 * temporary name and renamed when complete, so a failed conversion never leaves a valid-looking
 * image behind.
 */

import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseQuantizationConfig } from '../checkpoint/config.js';
import { EMBED_NAME, LM_HEAD_NAME, linearWeightName, weightScaleName } from '../checkpoint/names.js';
import { forEachF32Chunk, readTensorBytes, readTensorF32 } from '../checkpoint/safetensors.js';
import type { Checkpoint, TensorInfo } from '../checkpoint/types.js';
import { TellmeError } from '../errors.js';
import { quantizeHeadRow } from '../golden/weights.js';
import { ropeTable } from '../golden/rope.js';
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { beatCount } from '../layout/beats.js';
import { checkDdrPlan, defaultContext, layerNormRoles, planDdr, tilePackLayout, type DdrPlan, type DdrRegion, type NormRole } from '../layout/ddr.js';
import { checkUramPlan, planUram, type UramPlan } from '../layout/uram.js';
import { LAYER_NORM_ROLES, LINEAR_NAMES, type LayerNormRole, type LinearName, type ModelSpec } from '../model/spec.js';
import { bf16ToF32, f32ToBf16FlushedBulk } from '../numerics/f16.js';
import { ftz32 } from '../numerics/f32.js';
import { projectRoot } from '../paths.js';
import { maximaProblems } from '../plan/plan.js';
import { weightScaleToMultiplier } from '../quant/ternary.js';
import { checkBound, finiteAbsmax, layerBounds, layerWorst, LIMIT_LOG2, logitBound, type Worst } from './bounds.js';
import { normsToF16 } from './elements.js';
import { alignTo, encodeHeader, FORMAT_NAME, FORMAT_VERSION, HEADER_BYTES, SECTION_ALIGNMENT, sha256Hex } from './format.js';
import {
  IMAGE_DDR_KINDS,
  type DdrRegionRecord,
  type ImageManifest,
  type LayerBoundRecord,
  type MatrixRecord,
  type SectionRecord,
  type TokenizerRecord,
  type UramRecord,
} from './manifest.js';
import { ddrNormRegion, ddrRegionRecord, f32Hex, hostNormSection, TOKENIZER_CONFIG_SECTION, TOKENIZER_JSON_SECTION, uramRecord } from './records.js';
import { encodePackedRows, encodeTernaryRows, laneOf, packStream, rowMap } from './pack.js';

export type ConvertProgress = (done: number, total: number, what: string) => void;

export interface ConvertOptions {
  hw: LoadedHwConfig;
  /** Positions of the RoPE table and KV cache; default min(max_position_embeddings, the board's maximum). */
  context?: number;
  /**
   * Write the image even when the model does not fit the board (synthesised maxima, URAM or DDR
   * capacity): the problems are recorded in the manifest (fit.problems). For simulation.
   */
  force?: boolean;
  progress?: ConvertProgress;
  /** Rows of the embedding / LM head converted per chunk (default: about 2^20 elements). */
  chunkRows?: number;
}

export interface ConvertResult {
  path: string;
  manifest: ImageManifest;
  fileBytes: number;
  seconds: number;
}

export function converterVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A section being written: positioned writes at its offset, hashed as they go. */
class SectionSink {
  private readonly hash: Hash = createHash('sha256');
  private written = 0;
  constructor(
    readonly rec: SectionRecord,
    private readonly fd: number,
  ) {}

  write(bytes: Uint8Array): void {
    if (this.written + bytes.length > this.rec.size) {
      throw new TellmeError('E_INTERNAL', `section ${this.rec.name}: ${this.written + bytes.length} bytes written, planned ${this.rec.size}`);
    }
    writeAt(this.fd, bytes, this.rec.offset + this.written);
    this.hash.update(bytes);
    this.written += bytes.length;
  }

  finish(): void {
    if (this.written !== this.rec.size) {
      throw new TellmeError('E_INTERNAL', `section ${this.rec.name}: ${this.written} bytes written, planned ${this.rec.size}`);
    }
    this.rec.sha256 = this.hash.digest('hex');
  }
}

function writeAt(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done, position + done);
}

function asBytes(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** tokenizer_config.json's chat template (a string, a named list, or chat_template.jinja), as loadTokenizer reads it. */
function chatTemplate(dir: string, tokConfig: Record<string, unknown> | null): string | null {
  const t = tokConfig?.['chat_template'];
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = (t as { name?: unknown; template?: unknown }[]).find((x) => x && x.name === 'default') ?? t[0];
    if (named && typeof named.template === 'string') return named.template;
    return null;
  }
  const jinja = path.join(dir, 'chat_template.jinja');
  return fs.existsSync(jinja) ? fs.readFileSync(jinja, 'utf8') : null;
}

function readOptional(file: string): Uint8Array | null {
  return fs.existsSync(file) ? new Uint8Array(fs.readFileSync(file)) : null;
}

/** Everything the plan says, before any weight is read: context, fit problems, URAM and DDR plans. */
export function planImage(spec: ModelSpec, hw: LoadedHwConfig, context?: number): { context: number; uram: UramPlan; ddr: DdrPlan; problems: string[] } {
  const capacity = defaultContext(spec, hw);
  const ctx = context ?? capacity;
  if (!Number.isSafeInteger(ctx) || ctx < 1 || ctx > spec.maxPositions) {
    throw new TellmeError('E_USAGE', `--context must be an integer in 1..${spec.maxPositions} (max_position_embeddings), got ${ctx}`);
  }
  const problems = [...maximaProblems(spec, hw)];
  if (ctx > hw.config.maxima.context) problems.push(`context ${ctx} exceeds the ${hw.config.maxima.context} positions ${hw.config.name} is built for`);
  const uram = planUram(spec, hw);
  checkUramPlan(uram);
  problems.push(...uram.problems);
  const ddr = planDdr(spec, hw, uram, { context: ctx });
  checkDdrPlan(ddr);
  problems.push(...ddr.problems);
  return { context: ctx, uram, ddr, problems };
}

interface NormSet {
  layers: Record<LayerNormRole, Float32Array | null>[];
  final: Float32Array;
}

function readNorms(ckpt: Checkpoint): NormSet {
  const spec = ckpt.spec;
  const flush = (v: Float32Array) => {
    for (let i = 0; i < v.length; i++) v[i] = ftz32(v[i]!);
    return v;
  };
  const layers: Record<LayerNormRole, Float32Array | null>[] = [];
  for (let l = 0; l < spec.numLayers; l++) {
    const rec = {} as Record<LayerNormRole, Float32Array | null>;
    for (const role of LAYER_NORM_ROLES) {
      const w = ckpt.layerNorm(l, role);
      rec[role] = w ? flush(w) : null;
    }
    layers.push(rec);
  }
  return { layers, final: flush(ckpt.finalNorm()) };
}

function normOf(norms: NormSet, role: NormRole, layer: number): Float32Array {
  const v = role === 'final' ? norms.final : norms.layers[layer]![role];
  if (!v) throw new TellmeError('E_INTERNAL', `no ${role} norm in layer ${layer}`);
  return v;
}

/**
 * Convert a checkpoint into a model image at outPath for the hardware set opts.hw.
 * Throws E_FIT (does not fit, unless force), E_NUMERICS (overflow bound), or checkpoint errors.
 */
export async function convertCheckpoint(ckpt: Checkpoint, outPath: string, opts: ConvertOptions): Promise<ConvertResult> {
  const t0 = performance.now();
  const spec = ckpt.spec;
  const hw = opts.hw;
  const { context, uram, ddr, problems } = planImage(spec, hw, opts.context);
  if (problems.length > 0 && !opts.force) {
    throw new TellmeError(
      'E_FIT',
      `the model does not fit ${hw.config.name}: ${problems.join('; ')}`,
      'Use a board whose synthesised maxima and memory hold this model (`tellme plan` shows why), or pass --force to write the image anyway (for simulation; the problems are recorded in the image).',
    );
  }
  const fp16 = hw.config.architecture.activation_format === 'fp16';
  const outAbs = path.resolve(outPath);
  const outDir = path.dirname(outAbs);
  if (!fs.existsSync(outDir) || !fs.statSync(outDir).isDirectory()) {
    throw new TellmeError('E_NOT_FOUND', `output directory ${outDir} does not exist`, 'Create the directory first, or pass another -o path.');
  }
  if (fs.existsSync(outAbs) && fs.statSync(outAbs).isDirectory()) {
    throw new TellmeError('E_USAGE', `${outAbs} is a directory; the image is one file`, 'Pass a file name, e.g. -o model.tlm.');
  }

  // ---- small inputs: norms, tokenizer files, source description ----
  const norms = readNorms(ckpt);
  const normAbsmax: Record<LayerNormRole, number | null>[] = norms.layers.map((rec, l) => {
    const out = {} as Record<LayerNormRole, number | null>;
    for (const role of LAYER_NORM_ROLES) out[role] = rec[role] ? finiteAbsmax(rec[role]!, `norm ${role} of layer ${l}`) : null;
    return out;
  });
  const finalNormAbsmax = finiteAbsmax(norms.final, 'model.norm.weight');
  const tokenizerJson = readOptional(path.join(ckpt.dir, 'tokenizer.json'));
  const tokenizerConfigBytes = readOptional(path.join(ckpt.dir, 'tokenizer_config.json'));
  let tokConfig: Record<string, unknown> | null = null;
  if (tokenizerConfigBytes) {
    try {
      tokConfig = JSON.parse(Buffer.from(tokenizerConfigBytes).toString('utf8')) as Record<string, unknown>;
    } catch {
      tokConfig = null;
    }
  }
  const configFile = path.join(ckpt.dir, 'config.json');
  const files = [...new Set([...ckpt.tensors.values()].map((t) => t.file))].sort();

  // ---- the section table: sizes from the plan, offsets fixed now ----
  const sections: SectionRecord[] = [];
  const byName = new Map<string, SectionRecord>();
  const addSection = (s: Omit<SectionRecord, 'offset' | 'sha256'>) => {
    const rec: SectionRecord = { ...s, offset: 0, sha256: '' };
    sections.push(rec);
    byName.set(rec.name, rec);
  };
  const imageRegions = new Set<string>();
  for (const r of ddr.regions) {
    if (!IMAGE_DDR_KINDS.includes(r.kind)) continue;
    imageRegions.add(r.name);
    addSection({ name: r.name, kind: r.kind as SectionRecord['kind'], size: r.size, dtype: r.dtype, shape: r.shape.slice(), ddr_offset: r.offset });
  }
  const allNorms: { role: NormRole; layer: number }[] = [];
  for (let l = 0; l < spec.numLayers; l++) for (const role of layerNormRoles(spec)) allNorms.push({ role, layer: l });
  allNorms.push({ role: 'final', layer: spec.numLayers - 1 });
  if (fp16) {
    for (const n of allNorms) {
      const len = normOf(norms, n.role, n.layer).length;
      addSection({ name: hostNormSection(n.role, n.layer), kind: 'host_norms', size: 4 * len, dtype: 'fp32', shape: [len], ddr_offset: null });
    }
  }
  if (tokenizerJson) addSection({ name: TOKENIZER_JSON_SECTION, kind: 'tokenizer', size: tokenizerJson.length, dtype: 'bytes', shape: [tokenizerJson.length], ddr_offset: null });
  if (tokenizerConfigBytes) {
    addSection({ name: TOKENIZER_CONFIG_SECTION, kind: 'tokenizer', size: tokenizerConfigBytes.length, dtype: 'bytes', shape: [tokenizerConfigBytes.length], ddr_offset: null });
  }
  let cursor = SECTION_ALIGNMENT;
  for (const s of sections) {
    s.offset = alignTo(cursor);
    cursor = s.offset + s.size;
  }
  const manifestOffset = alignTo(cursor);

  const tmp = path.join(outDir, `.${path.basename(outAbs)}.partial-${process.pid}`);
  const fd = fs.openSync(tmp, 'w');
  let ok = false;
  try {
    const sink = (name: string) => {
      const rec = byName.get(name);
      if (!rec) throw new TellmeError('E_INTERNAL', `no section ${name} planned`);
      return new SectionSink(rec, fd);
    };
    const writeWhole = (name: string, bytes: Uint8Array) => {
      const s = sink(name);
      s.write(bytes);
      s.finish();
    };

    const embInfo = ckpt.tensors.get(EMBED_NAME);
    const headInfo = ckpt.tensors.get(spec.tiedEmbeddings ? EMBED_NAME : LM_HEAD_NAME);
    if (!embInfo || !headInfo) throw new TellmeError('E_CHECKPOINT', `${ckpt.dir}: no ${!embInfo ? EMBED_NAME : LM_HEAD_NAME}`);
    const chunkRows = Math.max(1, opts.chunkRows ?? Math.floor((1 << 20) / spec.hiddenSize));
    const embChunks = Math.ceil(spec.vocabSize / chunkRows);
    const total = spec.numLayers * LINEAR_NAMES.length + embChunks * (spec.tiedEmbeddings ? 1 : 2) + 1;
    let done = 0;
    const progress = (what: string) => opts.progress?.(++done, total, what);

    // ---- norms (binary32 or binary16 by the build's activation format) and RoPE ----
    let fp16Weights = 0;
    let fp16Inexact = 0;
    let fp16MaxRel = 0;
    const f16Cache = new Map<string, Uint16Array>();
    const normF16 = (role: NormRole, layer: number): Uint16Array => {
      const key = `${role}@${layer}`;
      let bits = f16Cache.get(key);
      if (!bits) {
        const r = normsToF16(normOf(norms, role, layer));
        bits = r.bits;
        fp16Weights += bits.length;
        fp16Inexact += r.inexact;
        fp16MaxRel = Math.max(fp16MaxRel, r.maxRelError);
        f16Cache.set(key, bits);
      }
      return bits;
    };
    for (const n of allNorms) {
      const v = normOf(norms, n.role, n.layer);
      if (fp16) {
        const bits = normF16(n.role, n.layer);
        writeWhole(hostNormSection(n.role, n.layer), asBytes(v));
        const region = ddrNormRegion(n.role, n.layer);
        if (byName.has(region)) writeWhole(region, asBytes(bits));
      } else {
        writeWhole(ddrNormRegion(n.role, n.layer), asBytes(v));
      }
    }
    writeWhole('rope', asBytes(ropeTable(spec.headDim, spec.ropeTheta, context)));
    if (tokenizerJson) writeWhole(TOKENIZER_JSON_SECTION, tokenizerJson);
    if (tokenizerConfigBytes) writeWhole(TOKENIZER_CONFIG_SECTION, tokenizerConfigBytes);
    progress('norms, RoPE table');

    // ---- ternary weights: one matrix at a time, tile by tile, lane by lane ----
    const linearClass = parseQuantizationConfig(ckpt.config, configFile)?.linearClass ?? null;
    const carried = new Map(ddr.carriedNorms.map((c) => [`${c.layer}.${c.linear}`, c]));
    const matrices: MatrixRecord[] = [];
    const layerRecords: LayerBoundRecord[] = [];
    const T = hw.derived.tables;
    const lanes = hw.config.memory.weight_ports;
    const beatBytes = hw.derived.beatBytes;
    let worst: Worst = { bound: 0, log2: -Infinity, where: '' };
    const residualStart = 0; // the embedding's absmax is added once it is known (end of conversion)
    let residual = residualStart;
    for (let l = 0; l < spec.numLayers; l++) {
      const scales = {} as Record<LinearName, number>;
      for (const lp of uram.linears) {
        const name = lp.linear;
        const groups = lp.chunks * T;
        const rope = name === 'q_proj' || name === 'k_proj';
        const map = rowMap(lp.rows, rope ? spec.headDim : null);
        const indices = new Uint8Array(lp.rows * groups);
        const wInfo = ckpt.tensors.get(linearWeightName(l, name));
        let scale: number;
        if (spec.weightStorage === 'packed' && wInfo && wInfo.dtype === 'U8') {
          encodePackedRows(readTensorBytes(wInfo), lp.rows, lp.cols, groups, map, indices, `${wInfo.file}: tensor '${wInfo.name}'`);
          scale = packedScale(ckpt, l, name, linearClass, configFile);
        } else {
          const m = ckpt.linear(l, name);
          encodeTernaryRows(m.values, m.rows, m.cols, groups, map, indices);
          scale = m.scale;
        }
        scale = ftz32(scale);
        if (!(scale > 0 && Number.isFinite(scale))) {
          throw new TellmeError('E_NUMERICS', `layer ${l} ${name}: weight scale ${scale} is not a positive finite binary32 number`, 'The checkpoint is corrupt; re-download it.');
        }
        scales[name] = scale;
        const c = carried.get(`${l}.${name}`);
        const normBits = c ? normF16(c.role, c.normLayer) : null;
        let beat0 = 0;
        for (const tile of lp.tiles) {
          const layout = tilePackLayout(tile, hw);
          const stream = packStream(indices, lp.rows, groups, layout, normBits, beat0);
          beat0 += beatCount(layout);
          for (let p = 0; p < lanes; p++) writeWhole(`weights.L${l}.${name}.t${tile.tile}.p${p}`, laneOf(stream, beatBytes, lanes, p));
        }
        matrices.push({ layer: l, linear: name, rows: lp.rows, cols: lp.cols, chunks: lp.chunks, tiles: lp.tiles.length, scale, scale_bits: f32Hex(scale), rope_permuted: rope });
        progress(`layer ${l} ${name}`);
        await tick();
      }
      const b = layerBounds(spec, l, normAbsmax[l]!, scales, residual);
      residual = b.residual;
      layerRecords.push(b);
      const w = layerWorst(b);
      checkBound(w, `Layer ${l}: weight scales ${LINEAR_NAMES.map((n) => `${n} ${scales[n]}`).join(', ')}; max |norm weight| ${JSON.stringify(normAbsmax[l])}.`);
      if (!(w.bound <= worst.bound)) worst = w;
    }
    // Order matrices as the manifest documents them: layer-major, then LINEAR_NAMES order.
    matrices.sort((a, b) => a.layer - b.layer || LINEAR_NAMES.indexOf(a.linear) - LINEAR_NAMES.indexOf(b.linear));

    // ---- embedding (bf16, flushed) and LM head (int8 rows + binary32 row absmax), in row chunks ----
    const h = spec.hiddenSize;
    const embSink = sink('embedding');
    const headSink = sink('lm_head.weight');
    const scaleSink = sink('lm_head.scale');
    let embMaxBits = 0;
    let rowAbsmaxMax = 0;
    const bf16 = new Uint16Array(chunkRows * h);
    const q8 = new Int8Array(chunkRows * h);
    const rowAmax = new Float32Array(chunkRows);
    const headRows = (chunk: Float32Array, checkNaN: boolean) => {
      const rows = chunk.length / h;
      for (let r = 0; r < rows; r++) {
        const a = quantizeHeadRow(chunk, r * h, h, q8, r * h);
        if (!(a <= 3.4028234663852886e38)) throw new TellmeError('E_NUMERICS', `LM head row has absmax ${a}; the head must be finite`, 'The checkpoint is corrupt; re-download it.');
        rowAmax[r] = a;
        if (a > rowAbsmaxMax) rowAbsmaxMax = a;
      }
      if (checkNaN) {
        for (let i = 0; i < chunk.length; i++) {
          if (chunk[i] !== chunk[i]) throw new TellmeError('E_NUMERICS', `${LM_HEAD_NAME}: element ${i} of a chunk is NaN; the head must be finite`, 'The checkpoint is corrupt; re-download it.');
        }
      }
      headSink.write(asBytes(q8.subarray(0, rows * h)));
      scaleSink.write(asBytes(rowAmax.subarray(0, rows)));
    };
    forEachF32Chunk(
      embInfo,
      (chunk, start) => {
        const m = f32ToBf16FlushedBulk(chunk, bf16.subarray(0, chunk.length));
        if (m > embMaxBits) embMaxBits = m;
        embSink.write(asBytes(bf16.subarray(0, chunk.length)));
        if (spec.tiedEmbeddings) headRows(chunk, false);
        progress(`embedding rows ${start / h}..${(start + chunk.length) / h - 1}`);
      },
      chunkRows * h,
    );
    if (embMaxBits >= 0x7f80) {
      throw new TellmeError('E_NUMERICS', `${EMBED_NAME}: holds an infinity or NaN in bfloat16 (or a value that rounds to one)`, 'The checkpoint is corrupt; re-download it.');
    }
    embSink.finish();
    if (!spec.tiedEmbeddings) {
      forEachF32Chunk(
        headInfo as TensorInfo,
        (chunk, start) => {
          headRows(chunk, true);
          progress(`LM head rows ${start / h}..${(start + chunk.length) / h - 1}`);
        },
        chunkRows * h,
      );
    }
    headSink.finish();
    scaleSink.finish();

    // ---- the overflow check with the residual stream and the logits ----
    const embeddingAbsmax = bf16ToF32(embMaxBits);
    for (const b of layerRecords) {
      b.residual += embeddingAbsmax;
      const w = layerWorst(b);
      checkBound(w, `The embedding's max |value| is ${embeddingAbsmax}.`);
      if (!(w.bound <= worst.bound)) worst = w;
    }
    const logits = logitBound(spec, finalNormAbsmax, rowAbsmaxMax);
    const wl: Worst = { bound: logits, log2: Math.log2(logits), where: 'logits' };
    checkBound(wl, `max |final norm weight| ${finalNormAbsmax}, max LM head row absmax ${rowAbsmaxMax}.`);
    if (!(wl.bound <= worst.bound)) worst = wl;

    // ---- manifest, then the header ----
    const tokenizer: TokenizerRecord = {
      tokenizer_json: tokenizerJson ? TOKENIZER_JSON_SECTION : null,
      tokenizer_config: tokenizerConfigBytes ? TOKENIZER_CONFIG_SECTION : null,
      chat_template: chatTemplate(ckpt.dir, tokConfig),
      bos_token_id: spec.bosTokenId,
      eos_token_ids: spec.eosTokenIds.slice(),
      pad_token_id: spec.padTokenId,
    };
    const manifest: ImageManifest = {
      format: FORMAT_NAME,
      format_version: FORMAT_VERSION,
      converter: { name: 'tellme convert', version: converterVersion() },
      source: {
        kind: 'hf-checkpoint',
        path: ckpt.dir,
        family: spec.family,
        weight_storage: spec.weightStorage,
        scale_convention: spec.scaleConvention,
        dtype: spec.dtype,
        config_sha256: sha256Hex(fs.readFileSync(configFile)),
        files: files.map((f) => ({ name: path.relative(ckpt.dir, f), bytes: fs.statSync(f).size })),
      },
      spec: { ...spec, eosTokenIds: spec.eosTokenIds.slice() },
      context,
      hardware: { name: hw.config.name, hash: hw.hash, config: hw.config },
      fit: { fits: problems.length === 0, problems },
      numerics: {
        activation_format: hw.config.architecture.activation_format,
        limit_log2: LIMIT_LOG2,
        worst: { bound: worst.bound, log2: worst.log2, where: worst.where },
        embedding_absmax: embeddingAbsmax,
        final_norm_absmax: finalNormAbsmax,
        lm_head_row_absmax: rowAbsmaxMax,
        logit_bound: logits,
        layers: layerRecords,
        fp16_norms: fp16 ? { weights: fp16Weights, inexact: fp16Inexact, max_rel_error: fp16MaxRel } : null,
      },
      uram: uramRecord(uram),
      matrices,
      ddr: {
        alignment: ddr.alignment,
        context: ddr.context,
        total_bytes: ddr.totalBytes,
        usable_bytes: ddr.usableBytes,
        regions: ddr.regions.map((r) => ddrRegionRecord(r, imageRegions.has(r.name))),
        carried_norms: ddr.carriedNorms.map((c) => ({ layer: c.layer, linear: c.linear, role: c.role, norm_layer: c.normLayer, length: c.length })),
      },
      sections,
      tokenizer,
    };
    for (const s of sections) if (!s.sha256) throw new TellmeError('E_INTERNAL', `section ${s.name} was never written`);
    const manifestBytes = new Uint8Array(Buffer.from(JSON.stringify(manifest), 'utf8'));
    writeAt(fd, manifestBytes, manifestOffset);
    const fileLength = manifestOffset + manifestBytes.length;
    const header = encodeHeader({ manifestOffset, manifestLength: manifestBytes.length, manifestSha256: sha256Hex(manifestBytes), fileLength });
    if (header.length !== HEADER_BYTES) throw new TellmeError('E_INTERNAL', 'header size');
    writeAt(fd, header, 0);
    fs.closeSync(fd);
    fs.renameSync(tmp, outAbs);
    ok = true;
    return { path: outAbs, manifest, fileBytes: fileLength, seconds: (performance.now() - t0) / 1000 };
  } finally {
    if (!ok) {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
      fs.rmSync(tmp, { force: true });
    }
  }
}

/** The multiplicative scale of a packed linear, exactly as the checkpoint loader computes it (checkpoint/open.ts). */
function packedScale(ckpt: Checkpoint, layer: number, name: LinearName, linearClass: string | null, configFile: string): number {
  const s = ckpt.tensors.get(weightScaleName(layer, name));
  if (!s) throw new TellmeError('E_NOT_FOUND', `${ckpt.dir}: no tensor '${weightScaleName(layer, name)}' in this checkpoint`);
  const raw = readTensorF32(s)[0]!;
  return weightScaleToMultiplier(raw, ckpt.spec.scaleConvention!, { tensor: s.name, file: s.file, linearClass, configFile });
}
