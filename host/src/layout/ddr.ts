/**
 * DDR planning (docs/layout.md §4): every buffer the accelerator and the firmware use, with
 * offsets from the base of the accelerator's DDR window, each aligned to 4 KiB (AXI bursts must
 * not cross a 4 KiB boundary; with aligned regions and bursts whose byte size divides 4096, none
 * does). Weight streams are split into one lane per weight port (lane p holds bytes
 * [p*laneBytes, (p+1)*laneBytes) of every beat) so each port reads its own sequential region.
 */
import { TellmeError } from '../errors.js';
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { HEAD_OUT_POSITIONS } from '../hwconfig/derive.js';
import { LAYER_NORM_ROLES, type LayerNormRole, type LinearName, type ModelSpec } from '../model/spec.js';
import { beatCount, packLayout, type PackLayout } from './beats.js';
import type { PlacedLinear, UramPlan, UramTile } from './uram.js';

export type DdrKind =
  | 'weights'
  | 'norms'
  | 'rope'
  | 'kv_cache'
  | 'scratch'
  | 'embedding'
  | 'lm_head'
  | 'lm_head_scale'
  | 'lm_head_ternary'
  | 'lm_head_ternary_scale'
  | 'logits';
/** `bytes`: records of mixed fields (the head's output records, docs/accelerator.md). */
export type DdrDtype = 'packed' | 'fp16' | 'bf16' | 'fp32' | 'int8' | 'bytes';
export type NormRole = LayerNormRole | 'final';

export interface DdrRegion {
  name: string;
  kind: DdrKind;
  offset: number;
  size: number;
  dtype: DdrDtype;
  /** Tensor shape for dtype-typed regions; [beats, laneBytes] for weight lanes. */
  shape: number[];
  layer?: number;
  linear?: LinearName;
  tile?: number;
  lane?: number;
  role?: NormRole;
}

/** A norm weight vector carried inside a linear's weight stream (paper packing). */
export interface CarriedNorm {
  layer: number;
  linear: LinearName;
  role: NormRole;
  /** Layer the norm belongs to (the next layer for input norms carried by down_proj). */
  normLayer: number;
  length: number;
}

export interface DdrPlan {
  alignment: number;
  context: number;
  regions: DdrRegion[];
  carriedNorms: CarriedNorm[];
  totalBytes: number;
  byKind: Record<DdrKind, number>;
  usableBytes: number;
  fits: boolean;
  problems: string[];
}

export const DDR_KINDS: readonly DdrKind[] = ['weights', 'norms', 'rope', 'kv_cache', 'scratch', 'embedding', 'lm_head', 'lm_head_scale', 'lm_head_ternary', 'lm_head_ternary_scale', 'logits'];

/**
 * Head positions one pass writes records for at most (docs/accelerator.md): a pass whose head runs
 * for more positions (a long verify, an all-positions prefill) is split by the firmware.
 */
export const HEAD_RECORD_POSITIONS = HEAD_OUT_POSITIONS;

/** DDR region (and image section) of lane `lane` of tile `tile` of the ternary head (numerics.md §9.2). */
export function headWeightsRegion(tile: number, lane: number): string {
  return `weights.head.t${tile}.p${lane}`;
}
/** DDR region (and image section) of the ternary head's w_r, binary32 per row. */
export const HEAD_TERNARY_SCALE_REGION = 'lm_head.ternary_scale';

/** Bytes of one head output record (docs/accelerator.md): a 16-byte header and the candidates. */
export function headRecordBytes(spec: ModelSpec, hw: LoadedHwConfig): number {
  const n = hw.config.numerics;
  return n.lm_head === 'ternary-shortlist' ? 16 + 8 * Math.min(n.shortlist_k, spec.vocabSize) : 16 + 4 * spec.vocabSize;
}

export function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

export function normLength(spec: ModelSpec, role: NormRole): number {
  switch (role) {
    case 'input':
    case 'post_attention':
    case 'final':
      return spec.hiddenSize;
    case 'attn_sub':
      return spec.numHeads * spec.headDim;
    case 'ffn_sub':
      return spec.intermediateSize;
  }
}

/** Norm roles a layer has (sub-norms only when the model has them). */
export function layerNormRoles(spec: ModelSpec): LayerNormRole[] {
  return LAYER_NORM_ROLES.filter((r) => spec.subNorms || (r !== 'attn_sub' && r !== 'ffn_sub'));
}

/**
 * Paper packing: which norm rides in which linear's stream ("the norm that follows", ours to
 * choose, [inferred] from the paper): v_proj -> attn_sub, o_proj -> post_attention,
 * gate_proj -> ffn_sub, down_proj -> the next layer's input norm (the final norm after the last
 * layer). Layer 0's input norm has its own region.
 */
export function paperNormCarrier(spec: ModelSpec, layer: number, linear: LinearName): { role: NormRole; normLayer: number } | null {
  switch (linear) {
    case 'v_proj':
      return spec.subNorms ? { role: 'attn_sub', normLayer: layer } : null;
    case 'o_proj':
      return { role: 'post_attention', normLayer: layer };
    case 'gate_proj':
      return spec.subNorms ? { role: 'ffn_sub', normLayer: layer } : null;
    case 'down_proj':
      return layer + 1 < spec.numLayers ? { role: 'input', normLayer: layer + 1 } : { role: 'final', normLayer: layer };
    default:
      return null;
  }
}

/** The pack layout of one tile. */
export function tilePackLayout(tile: UramTile<PlacedLinear>, hw: LoadedHwConfig): PackLayout {
  return packLayout(
    hw,
    tile.blocks.map((b) => ({ rowStart: b.rowStart, rows: b.rows, chunkStart: b.chunkStart, chunks: b.chunks })),
  );
}

export interface PlanDdrOptions {
  /** Positions the KV cache, RoPE tables and scratch hold; default min(model max positions, hw max context). */
  context?: number;
}

export function defaultContext(spec: ModelSpec, hw: LoadedHwConfig): number {
  return Math.min(spec.maxPositions, hw.config.maxima.context);
}

export function planDdr(spec: ModelSpec, hw: LoadedHwConfig, uram: UramPlan, opts: PlanDdrOptions = {}): DdrPlan {
  const A = hw.config.memory.alignment_bytes;
  const ctx = opts.context ?? defaultContext(spec, hw);
  const regions: DdrRegion[] = [];
  let off = 0;
  const add = (r: Omit<DdrRegion, 'offset'>) => {
    off = alignUp(off, A);
    regions.push({ ...r, offset: off });
    off += r.size;
  };
  const paper = hw.config.architecture.beat_packing === 'paper';
  const lanes = hw.config.memory.weight_ports;
  const laneBytes = hw.derived.laneBytes;
  const carried: CarriedNorm[] = [];
  const carriedKey = new Set<string>();

  for (let l = 0; l < spec.numLayers; l++) {
    for (const lp of uram.linears) {
      let beatsOfLinear = 0;
      for (const t of lp.tiles) {
        const beats = beatCount(tilePackLayout(t, hw));
        beatsOfLinear += beats;
        for (let p = 0; p < lanes; p++) {
          add({
            name: `weights.L${l}.${lp.linear}.t${t.tile}.p${p}`,
            kind: 'weights',
            size: beats * laneBytes,
            dtype: 'packed',
            shape: [beats, laneBytes],
            layer: l,
            linear: lp.linear,
            tile: t.tile,
            lane: p,
          });
        }
      }
      // The 16-bit norm slot of a paper beat carries fp16 norm weights only.
      if (paper && hw.config.architecture.activation_format === 'fp16') {
        const c = paperNormCarrier(spec, l, lp.linear);
        if (c) {
          const length = normLength(spec, c.role);
          if (length <= beatsOfLinear) {
            carried.push({ layer: l, linear: lp.linear, role: c.role, normLayer: c.normLayer, length });
            carriedKey.add(`${c.role}@${c.normLayer}`);
          }
        }
      }
    }
  }
  // Norm weights not carried in a weight stream, one region each, in the activation format
  // (binary32 in our builds, docs/numerics.md §1; fp16 in the paper's).
  const fp32 = hw.config.architecture.activation_format === 'fp32';
  const actBytes = fp32 ? 4 : 2;
  const actType: DdrDtype = fp32 ? 'fp32' : 'fp16';
  const norm = (role: NormRole, layer: number) => {
    if (carriedKey.has(`${role}@${layer}`)) return;
    const n = normLength(spec, role);
    add({ name: role === 'final' ? 'norms.final' : `norms.L${layer}.${role}`, kind: 'norms', size: actBytes * n, dtype: actType, shape: [n], layer, role });
  };
  for (let l = 0; l < spec.numLayers; l++) for (const role of layerNormRoles(spec)) norm(role, l);
  norm('final', spec.numLayers - 1);

  // RoPE table (docs/numerics.md §7.2): binary32 [position][i][cos, sin], i < head_dim/2.
  const half = spec.headDim / 2;
  add({ name: 'rope', kind: 'rope', size: 4 * ctx * half * 2, dtype: 'fp32', shape: [ctx, half, 2] });
  // KV cache (docs/numerics.md §8): binary16 values (kv_format fp16), or int8 values with one
  // binary32 scale per position and KV head (int8, §8.3).
  const kvDim = spec.numKvHeads * spec.headDim;
  const int8Kv = hw.config.numerics.kv_format === 'int8';
  const kvBytes = int8Kv ? 1 : 2;
  const kvType: DdrDtype = int8Kv ? 'int8' : 'fp16';
  for (const kv of ['k', 'v']) {
    add({ name: `kv.${kv}`, kind: 'kv_cache', size: kvBytes * spec.numLayers * ctx * kvDim, dtype: kvType, shape: [spec.numLayers, ctx, kvDim] });
  }
  if (int8Kv) {
    for (const kv of ['k', 'v']) {
      add({ name: `kv.${kv}_scale`, kind: 'kv_cache', size: 4 * spec.numLayers * ctx * spec.numKvHeads, dtype: 'fp32', shape: [spec.numLayers, ctx, spec.numKvHeads] });
    }
  }
  // Prefill scratch: the residual stream, two activation buffers (normalised input / attention
  // output / up; gate*up) in the activation format, the queries (binary16, or int8 heads with
  // their binary32 scales), the per-token absmax.
  const qDim = spec.numHeads * spec.headDim;
  const act = Math.max(spec.hiddenSize, qDim, spec.intermediateSize);
  add({ name: 'scratch.residual', kind: 'scratch', size: actBytes * ctx * spec.hiddenSize, dtype: actType, shape: [ctx, spec.hiddenSize] });
  add({ name: 'scratch.act0', kind: 'scratch', size: actBytes * ctx * act, dtype: actType, shape: [ctx, act] });
  add({ name: 'scratch.act1', kind: 'scratch', size: actBytes * ctx * act, dtype: actType, shape: [ctx, act] });
  add({ name: 'scratch.q', kind: 'scratch', size: kvBytes * ctx * qDim, dtype: kvType, shape: [ctx, qDim] });
  if (int8Kv) add({ name: 'scratch.q_scale', kind: 'scratch', size: 4 * ctx * spec.numHeads, dtype: 'fp32', shape: [ctx, spec.numHeads] });
  add({ name: 'scratch.amax', kind: 'scratch', size: 4 * ctx, dtype: 'fp32', shape: [ctx] });
  add({ name: 'embedding', kind: 'embedding', size: 2 * spec.vocabSize * spec.hiddenSize, dtype: 'bf16', shape: [spec.vocabSize, spec.hiddenSize] });
  add({ name: 'lm_head.weight', kind: 'lm_head', size: spec.vocabSize * spec.hiddenSize, dtype: 'int8', shape: [spec.vocabSize, spec.hiddenSize] });
  add({ name: 'lm_head.scale', kind: 'lm_head_scale', size: 4 * spec.vocabSize, dtype: 'fp32', shape: [spec.vocabSize] });
  // The ternary head of the shortlist (numerics.md §9.2): a tiled linear, one lane region per
  // port and tile, then w_r per row.
  if (uram.head) {
    for (const t of uram.head.tiles) {
      const beats = beatCount(tilePackLayout(t, hw));
      for (let p = 0; p < lanes; p++) {
        add({ name: headWeightsRegion(t.tile, p), kind: 'lm_head_ternary', size: beats * laneBytes, dtype: 'packed', shape: [beats, laneBytes], tile: t.tile, lane: p });
      }
    }
    add({ name: HEAD_TERNARY_SCALE_REGION, kind: 'lm_head_ternary_scale', size: 4 * spec.vocabSize, dtype: 'fp32', shape: [spec.vocabSize] });
  }
  // The head's output records (docs/accelerator.md), when the fabric runs the head.
  if (hw.config.lm_head.placement === 'fabric') {
    const rec = headRecordBytes(spec, hw);
    add({ name: 'logits', kind: 'logits', size: HEAD_RECORD_POSITIONS * rec, dtype: 'bytes', shape: [HEAD_RECORD_POSITIONS, rec] });
  }
  const totalBytes = alignUp(off, A);
  const byKind = Object.fromEntries(DDR_KINDS.map((k) => [k, 0])) as Record<DdrKind, number>;
  for (const r of regions) byKind[r.kind] += r.size;
  const usableBytes = hw.config.memory.ddr_usable_mib * 1024 * 1024;
  const problems: string[] = [];
  if (totalBytes > usableBytes) {
    problems.push(`the DDR image needs ${(totalBytes / 2 ** 20).toFixed(1)} MiB but ${hw.config.name} leaves ${hw.config.memory.ddr_usable_mib} MiB to the accelerator`);
  }
  return { alignment: A, context: ctx, regions, carriedNorms: carried, totalBytes, byKind, usableBytes, fits: problems.length === 0, problems };
}

/** Regions aligned, non-empty, in order, non-overlapping and inside the total. Throws E_INTERNAL. */
export function checkDdrPlan(plan: DdrPlan): void {
  let end = 0;
  const names = new Set<string>();
  for (const r of plan.regions) {
    if (names.has(r.name)) throw new TellmeError('E_INTERNAL', `DDR region ${r.name} appears twice`);
    names.add(r.name);
    if (r.offset % plan.alignment !== 0) throw new TellmeError('E_INTERNAL', `DDR region ${r.name} at ${r.offset} is not ${plan.alignment}-byte aligned`);
    if (!(r.size > 0) || !Number.isSafeInteger(r.size)) throw new TellmeError('E_INTERNAL', `DDR region ${r.name} has size ${r.size}`);
    if (r.offset < end) throw new TellmeError('E_INTERNAL', `DDR region ${r.name} [${r.offset}, ${r.offset + r.size}) overlaps the previous region (ends at ${end})`);
    end = r.offset + r.size;
  }
  if (end > plan.totalBytes) throw new TellmeError('E_INTERNAL', `DDR regions end at ${end}, past the plan's total ${plan.totalBytes}`);
}

/** Bytes of weight stream per layer and per token (all layers). */
export function weightBytes(plan: DdrPlan): { perToken: number; perLayer: number } {
  const w = plan.byKind.weights;
  const layers = new Set(plan.regions.filter((r) => r.kind === 'weights').map((r) => r.layer)).size;
  return { perToken: w, perLayer: layers ? w / layers : 0 };
}
