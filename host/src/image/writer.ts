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

import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkpointInputFiles } from '../checkpoint/files.js';
import type { Checkpoint } from '../checkpoint/types.js';
import { TellmeError } from '../errors.js';
import { checkOutputFile } from '../files/output.js';
import { maximaProblems } from '../hwconfig/maxima.js';
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { checkDdrPlan, defaultContext, planDdr, type DdrPlan, type NormRole } from '../layout/ddr.js';
import { checkUramPlan, planUram, type UramPlan } from '../layout/uram.js';
import { LINEAR_NAMES, type ModelSpec } from '../model/spec.js';
import { ropeTable } from '../numerics/rope.js';
import { projectRoot } from '../paths.js';
import { checkBound, layerWorst, LIMIT_LOG2, logitBound, type Worst } from './bounds.js';
import { normOf, readConvertInputs, type ConvertInputs } from './convert-inputs.js';
import { normsToF16 } from './elements.js';
import { FORMAT_NAME, FORMAT_VERSION } from './format.js';
import { asBytes, ImageFile } from './image-file.js';
import type { ImageManifest, NumericsRecord, TokenizerRecord } from './manifest.js';
import { ddrNormRegion, ddrRegionRecord, hostNormSection, rmsNormEpsBits, TOKENIZER_CONFIG_SECTION, TOKENIZER_JSON_SECTION, uramRecord } from './records.js';
import { sectionTable, type SectionTable } from './section-table.js';
import { writeEmbeddingAndHead, type EmbeddingWritten } from './write-embedding.js';
import { TernaryHeadWriter } from './write-ternary-head.js';
import { writeWeights, type WeightsWritten } from './write-weights.js';

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

export interface ImagePlan {
  context: number;
  uram: UramPlan;
  ddr: DdrPlan;
  problems: string[];
}

/** Everything the plan says, before any weight is read: context, fit problems, URAM and DDR plans. */
export function planImage(spec: ModelSpec, hw: LoadedHwConfig, context?: number): ImagePlan {
  const capacity = defaultContext(spec, hw);
  const ctx = context ?? capacity;
  if (!Number.isSafeInteger(ctx) || ctx < 1 || ctx > spec.maxPositions) {
    throw new TellmeError('E_USAGE', `--context must be an integer in 1..${spec.maxPositions} (max_position_embeddings), got ${ctx}`, `Pass --context between 1 and ${spec.maxPositions}.`);
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

/**
 * Convert a checkpoint into a model image at outPath for the hardware set opts.hw, in the steps of
 * docs/image-format.md: plan (§6), small inputs, section table (§1-2), then into a temporary file
 * the norms and RoPE table, the ternary weights, the embedding and LM head, the overflow bound
 * (§3.1), the manifest (§3) and the header (§1.1), renamed onto outPath when complete.
 * Throws E_FIT (does not fit, unless force), E_NUMERICS (overflow bound), or checkpoint errors.
 */
export async function convertCheckpoint(ckpt: Checkpoint, outPath: string, opts: ConvertOptions): Promise<ConvertResult> {
  const t0 = performance.now();
  const spec = ckpt.spec;
  const hw = opts.hw;
  const plan = planImage(spec, hw, opts.context);
  refuseUnfit(plan, hw, opts.force);
  const target = checkOutputFile(outPath, { inputs: checkpointInputFiles(ckpt), what: 'the image' });
  const inputs = readConvertInputs(ckpt);
  const fp16 = hw.config.architecture.activation_format === 'fp16';
  const table = sectionTable(spec, plan.ddr, fp16, inputs);

  const chunkRows = Math.max(1, opts.chunkRows ?? Math.floor((1 << 20) / spec.hiddenSize));
  const embChunks = Math.ceil(spec.vocabSize / chunkRows);
  const total = spec.numLayers * LINEAR_NAMES.length + embChunks * (spec.tiedEmbeddings ? 1 : 2) + 1;
  let done = 0;
  const progress = (what: string) => opts.progress?.(++done, total, what);

  const { manifest, fileBytes } = await ImageFile.write(target, table.sections, table.manifestOffset, async (file) => {
    const normsF16 = new NormsF16(inputs);
    writeNormsAndRope(file, table, inputs, fp16 ? normsF16 : null, spec, plan.context);
    progress('norms, RoPE table');
    const weights = await writeWeights(ckpt, hw, plan, inputs, file, (role, layer) => normsF16.bits(role, layer), progress);
    const ternaryHead = plan.uram.head ? new TernaryHeadWriter(plan.uram.head, hw, file) : null;
    const embedding = writeEmbeddingAndHead(ckpt, file, chunkRows, ternaryHead, progress);
    const numerics = overflowRecord(spec, hw, inputs, weights, embedding, fp16 ? normsF16 : null);
    return buildManifest(spec, hw, plan, inputs, table, weights, numerics);
  });
  return { path: target, manifest, fileBytes, seconds: (performance.now() - t0) / 1000 };
}

function refuseUnfit(plan: ImagePlan, hw: LoadedHwConfig, force: boolean | undefined): void {
  if (plan.problems.length === 0 || force) return;
  throw new TellmeError(
    'E_FIT',
    `the model does not fit ${hw.config.name}: ${plan.problems.join('; ')}`,
    'Use a board whose synthesised maxima and memory hold this model (`tellme plan` shows why), or pass --force to write the image anyway (for simulation; the problems are recorded in the image).',
  );
}

/** Binary16 copies of the norm weights (fp16 builds, and norms carried in paper beats), computed once each, with their statistics. */
class NormsF16 {
  private readonly cache = new Map<string, Uint16Array>();
  weights = 0;
  inexact = 0;
  maxRelError = 0;
  constructor(private readonly inputs: ConvertInputs) {}

  bits(role: NormRole, layer: number): Uint16Array {
    const key = `${role}@${layer}`;
    let bits = this.cache.get(key);
    if (!bits) {
      const r = normsToF16(normOf(this.inputs.norms, role, layer));
      bits = r.bits;
      this.weights += bits.length;
      this.inexact += r.inexact;
      this.maxRelError = Math.max(this.maxRelError, r.maxRelError);
      this.cache.set(key, bits);
    }
    return bits;
  }
}

/**
 * Norm sections in the build's activation format (binary32; fp16 builds: binary16 DDR copies plus
 * the binary32 host copies), the RoPE table, and the tokenizer files byte for byte.
 */
function writeNormsAndRope(file: ImageFile, table: SectionTable, inputs: ConvertInputs, normsF16: NormsF16 | null, spec: ModelSpec, context: number): void {
  const planned = new Set(table.sections.map((s) => s.name));
  for (const n of table.norms) {
    const v = normOf(inputs.norms, n.role, n.layer);
    if (normsF16) {
      const bits = normsF16.bits(n.role, n.layer);
      file.writeSection(hostNormSection(n.role, n.layer), asBytes(v));
      const region = ddrNormRegion(n.role, n.layer);
      if (planned.has(region)) file.writeSection(region, asBytes(bits));
    } else {
      file.writeSection(ddrNormRegion(n.role, n.layer), asBytes(v));
    }
  }
  file.writeSection('rope', asBytes(ropeTable(spec.headDim, spec.ropeTheta, context)));
  if (inputs.tokenizerJson) file.writeSection(TOKENIZER_JSON_SECTION, inputs.tokenizerJson);
  if (inputs.tokenizerConfig) file.writeSection(TOKENIZER_CONFIG_SECTION, inputs.tokenizerConfig);
}

/** The overflow bound completed with the embedding (residual stream) and the logits (docs/image-format.md §3.1). */
function overflowRecord(
  spec: ModelSpec,
  hw: LoadedHwConfig,
  inputs: ConvertInputs,
  weights: WeightsWritten,
  embedding: EmbeddingWritten,
  normsF16: NormsF16 | null,
): NumericsRecord {
  let worst: Worst = weights.worst;
  const { embeddingAbsmax, rowAbsmaxMax } = embedding;
  for (const b of weights.layers) {
    b.residual += embeddingAbsmax;
    const w = layerWorst(b);
    checkBound(w, `The embedding's max |value| is ${embeddingAbsmax}.`);
    if (!(w.bound <= worst.bound)) worst = w;
  }
  const logits = logitBound(spec, inputs.finalNormAbsmax, rowAbsmaxMax);
  const wl: Worst = { bound: logits, log2: Math.log2(logits), where: 'logits' };
  checkBound(wl, `max |final norm weight| ${inputs.finalNormAbsmax}, max LM head row absmax ${rowAbsmaxMax}.`);
  if (!(wl.bound <= worst.bound)) worst = wl;
  return {
    activation_format: hw.config.architecture.activation_format,
    limit_log2: LIMIT_LOG2,
    worst: { bound: worst.bound, log2: worst.log2, where: worst.where },
    embedding_absmax: embeddingAbsmax,
    final_norm_absmax: inputs.finalNormAbsmax,
    lm_head_row_absmax: rowAbsmaxMax,
    logit_bound: logits,
    layers: weights.layers,
    fp16_norms: normsF16 ? { weights: normsF16.weights, inexact: normsF16.inexact, max_rel_error: normsF16.maxRelError } : null,
    rms_norm_eps_bits: rmsNormEpsBits(spec),
  };
}

function buildManifest(
  spec: ModelSpec,
  hw: LoadedHwConfig,
  plan: ImagePlan,
  inputs: ConvertInputs,
  table: SectionTable,
  weights: WeightsWritten,
  numerics: NumericsRecord,
): ImageManifest {
  const { ddr } = plan;
  const tokenizer: TokenizerRecord = {
    tokenizer_json: inputs.tokenizerJson ? TOKENIZER_JSON_SECTION : null,
    tokenizer_config: inputs.tokenizerConfig ? TOKENIZER_CONFIG_SECTION : null,
    chat_template: inputs.chatTemplate,
    bos_token_id: spec.bosTokenId,
    eos_token_ids: spec.eosTokenIds.slice(),
    pad_token_id: spec.padTokenId,
  };
  return {
    format: FORMAT_NAME,
    format_version: FORMAT_VERSION,
    converter: { name: 'tellme convert', version: converterVersion() },
    source: inputs.source,
    spec: { ...spec, eosTokenIds: spec.eosTokenIds.slice() },
    context: plan.context,
    hardware: { name: hw.config.name, hash: hw.hash, config: hw.config },
    fit: { fits: plan.problems.length === 0, problems: plan.problems },
    numerics,
    uram: uramRecord(plan.uram),
    matrices: weights.matrices,
    ddr: {
      alignment: ddr.alignment,
      context: ddr.context,
      total_bytes: ddr.totalBytes,
      usable_bytes: ddr.usableBytes,
      regions: ddr.regions.map((r) => ddrRegionRecord(r, table.imageRegions.has(r.name))),
      carried_norms: ddr.carriedNorms.map((c) => ({ layer: c.layer, linear: c.linear, role: c.role, norm_layer: c.normLayer, length: c.length })),
    },
    sections: table.sections,
    tokenizer,
  };
}
