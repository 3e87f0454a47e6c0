/**
 * `tellme plan` as a library: does a model fit a hardware build, how are its weights placed, and
 * how fast will it run. Everything here is computed from the ModelSpec and the hardware config.
 */
import { maximaProblems } from '../hwconfig/maxima.js';
import { TellmeError } from '../errors.js';
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { checkDdrPlan, defaultContext, planDdr, type DdrPlan } from '../layout/ddr.js';
import { checkUramPlan, planUram, type UramPlan } from '../layout/uram.js';
import { packingStats, type PackingStats } from '../layout/stats.js';
import { ternaryWeightsPerToken, type ModelSpec } from '../model/spec.js';
import { achievedFor, type Achieved } from './clock.js';
import { ternaryHeadTiles } from './head.js';
import { decodePass, prefillPass, verifyPass, type PassResult, type TimedStep } from './perf.js';
import { estimateResources, type ResourceEstimate } from './resources.js';

export const DEFAULT_PROMPTS = [64, 128, 512] as const;
export const DEFAULT_DECODE_CONTEXT = 128;
const DEFAULT_CURVE = [64, 128, 256, 512, 1024, 2048, 4096, 8192] as const;
/** Drafts per verify pass (prompt lookup proposes up to this many tokens). */
export const DEFAULT_DRAFT_TOKENS = 4;
/**
 * Tokens a verify pass yields on average with prompt-lookup drafts, by drafts per pass: measured on
 * the demo model (tellme-shakespeare-6l, int8 KV and int8 head, greedy, the three repetitive prompts, 128
 * new tokens each; `npx tsx bench/multi-token.ts`, docs/measurements.md §14 "Multi-token
 * verification"). The 2B-4T target is stated at the rate measured on repetitive text. A
 * small model's greedy text loops, which prompt lookup predicts well; sampled (T 0.8, top-k 40) the
 * same prompts gave 1.13-1.21, and a larger model should land between the two.
 */
export const MEASURED_ACCEPTED_PER_PASS: Readonly<Record<number, number>> = { 1: 1.66, 2: 2.08, 3: 2.46, 4: 2.63, 6: 3.02, 8: 3.28 };
export const ACCEPTED_PER_PASS_SOURCE = 'measured: demo model, greedy, repetitive prompts, int8 KV (docs/measurements.md §14, bench/multi-token.ts; with binary16 KV 2.40 at 4 drafts)';

/**
 * The default rate for N drafts: the measured rate at the largest measured draft count <= N (the
 * rate grows with N, so an unmeasured N is credited no more than a measured smaller one).
 */
export function defaultAcceptedPerPass(draftTokens: number): number {
  const measured = Object.keys(MEASURED_ACCEPTED_PER_PASS)
    .map(Number)
    .filter((n) => n <= draftTokens)
    .sort((a, b) => a - b);
  return MEASURED_ACCEPTED_PER_PASS[measured.at(-1) ?? 1]!;
}

export interface PlanOptions {
  /** KV-cache length for the decode figure (default 128, capped to the context capacity). */
  context?: number;
  /** Prompt lengths for TTFT (default 64, 128, 512). */
  prompts?: readonly number[];
  /** Name shown for the model (shape name or file). */
  modelName?: string;
  /** Contexts of the decode curve (default 64 .. 8192 in powers of two; the decode context is added). */
  curveContexts?: readonly number[];
  /** Drafts per verify pass (N; the pass runs N+1 tokens). */
  draftTokens?: number;
  /** Tokens a verify pass yields on average (1 = no gain; at most N+1). */
  acceptedPerPass?: number;
}

/** One row of a per-layer breakdown: a step of the layer, tiles summed. */
export interface LayerRow {
  step: string;
  kind: TimedStep['kind'];
  tiles: number;
  computeCycles: number;
  loadCycles: number;
  stallCycles: number;
  exposedCycles: number;
}

export interface Plan {
  modelName: string;
  spec: ModelSpec;
  hw: LoadedHwConfig;
  fits: boolean;
  reasons: string[];
  warnings: string[];
  uram: UramPlan;
  ddr: DdrPlan;
  packing: PackingStats;
  resources: ResourceEstimate;
  contextCapacity: number;
  /** The kernel clock and weight bandwidth the build is planned at (clock.ts). */
  achieved: Achieved;
  decodeContext: number;
  decode: PassResult;
  /** Multi-token verification at the decode context: N drafts, the assumed yield per pass. */
  multiToken: { draftTokens: number; acceptedPerPass: number; rateSource: string; pass: PassResult; tokensPerS: number };
  decodeCurve: { context: number; tokensPerS: number }[];
  prefill: { tokens: number; pass: PassResult | null }[];
  /** The layer shown in breakdowns (the middle one: no start-up effects). */
  breakdownLayer: number;
  layerDecode: LayerRow[];
  layerPrefill: { tokens: number; rows: LayerRow[] } | null;
}

/** A shortlist head is a tiled TLMM linear: the build must tile, and every head tile must fit a buffer. */
function headProblems(spec: ModelSpec, hw: LoadedHwConfig): string[] {
  if (hw.config.numerics.lm_head !== 'ternary-shortlist' || hw.config.lm_head.placement !== 'fabric') return [];
  if (hw.config.architecture.weight_layout !== 'tiled') return [`the ternary shortlist head needs the tiled weight layout; ${hw.config.name} uses ${hw.config.architecture.weight_layout}`];
  try {
    ternaryHeadTiles(spec, hw);
    return [];
  } catch (e) {
    return [`the ternary head (${spec.vocabSize} x ${spec.hiddenSize}): ${(e as Error).message}`];
  }
}

function layerRows(timed: TimedStep[], layer: number): LayerRow[] {
  const rows: LayerRow[] = [];
  const byName = new Map<string, LayerRow>();
  for (const t of timed) {
    if (t.layer !== layer) continue;
    const key = t.linear ?? t.name;
    let r = byName.get(key);
    if (!r) {
      r = { step: key, kind: t.kind, tiles: 0, computeCycles: 0, loadCycles: 0, stallCycles: 0, exposedCycles: 0 };
      byName.set(key, r);
      rows.push(r);
    }
    r.tiles += t.kind === 'tlmm' ? 1 : 0;
    r.computeCycles += t.computeCycles;
    r.loadCycles += t.loadCycles;
    r.stallCycles += t.stallCycles;
    r.exposedCycles += t.exposedCycles;
  }
  return rows.map((r) => ({ ...r, computeCycles: Math.round(r.computeCycles), loadCycles: Math.round(r.loadCycles), stallCycles: Math.round(r.stallCycles), exposedCycles: Math.round(r.exposedCycles) }));
}

export function makePlan(spec: ModelSpec, hw: LoadedHwConfig, opts: PlanOptions = {}): Plan {
  const draftTokens = opts.draftTokens ?? DEFAULT_DRAFT_TOKENS;
  const acceptedPerPass = opts.acceptedPerPass ?? defaultAcceptedPerPass(draftTokens);
  if (!(Number.isSafeInteger(draftTokens) && draftTokens >= 1)) {
    throw new TellmeError('E_USAGE', `draft tokens ${draftTokens} is not a positive integer`, 'Pass --draft-tokens as a whole number, e.g. 4.');
  }
  if (!(acceptedPerPass >= 1 && acceptedPerPass <= draftTokens + 1)) {
    throw new TellmeError(
      'E_USAGE',
      `accepted tokens per pass ${acceptedPerPass} is outside [1, ${draftTokens + 1}]: a verify pass of ${draftTokens} drafts yields 1 to ${draftTokens + 1} tokens`,
      'Pass --accepted-per-pass between 1 and --draft-tokens + 1.',
    );
  }
  const reasons: string[] = [];
  reasons.push(...maximaProblems(spec, hw));
  const capacity = defaultContext(spec, hw);
  const decodeContext = opts.context ?? Math.min(DEFAULT_DECODE_CONTEXT, capacity);
  if (!(Number.isSafeInteger(decodeContext) && decodeContext >= 1)) reasons.push(`context ${decodeContext} is not a positive integer`);
  if (decodeContext > capacity) {
    reasons.push(
      `context ${decodeContext} exceeds the ${capacity} positions available (model ${spec.maxPositions}, ${hw.config.name} maximum ${hw.config.maxima.context}) by ${decodeContext - capacity}`,
    );
  }
  const uram = planUram(spec, hw);
  checkUramPlan(uram);
  reasons.push(...uram.problems);
  const ddr = planDdr(spec, hw, uram, { context: capacity });
  checkDdrPlan(ddr);
  reasons.push(...ddr.problems);
  const resources = estimateResources(hw);
  reasons.push(...resources.problems);
  reasons.push(...headProblems(spec, hw));
  const achieved = achievedFor(hw, resources.utilisation.lut);
  const packing = packingStats(spec, hw, uram);
  const decode = decodePass(spec, hw, uram, decodeContext, achieved);
  const curveCtx = (opts.curveContexts ?? DEFAULT_CURVE).filter((c) => c <= capacity);
  if (!curveCtx.includes(decodeContext) && decodeContext <= capacity) curveCtx.push(decodeContext);
  curveCtx.sort((a, b) => a - b);
  const decodeCurve = curveCtx.map((c) => ({ context: c, tokensPerS: 1 / decodePass(spec, hw, uram, c, achieved).totalSeconds }));
  const prompts = opts.prompts ?? DEFAULT_PROMPTS;
  const prefill = prompts.map((n) => ({ tokens: n, pass: n <= capacity ? prefillPass(spec, hw, uram, n, achieved) : null }));
  const verify = verifyPass(spec, hw, uram, Math.max(0, decodeContext - 1), draftTokens, achieved);
  const rateSource = opts.acceptedPerPass === undefined ? ACCEPTED_PER_PASS_SOURCE : 'given (--accepted-per-pass)';
  const multiToken = { draftTokens, acceptedPerPass, rateSource, pass: verify, tokensPerS: acceptedPerPass / verify.totalSeconds };
  const breakdownLayer = Math.floor(spec.numLayers / 2);
  const shown = prefill.find((p) => p.tokens === 128 && p.pass) ?? prefill.find((p) => p.pass);
  const warnings = [...resources.warnings];
  return {
    modelName: opts.modelName ?? `${spec.numLayers}-layer ${spec.hiddenSize}`,
    spec,
    hw,
    fits: reasons.length === 0,
    reasons,
    warnings,
    uram,
    ddr,
    packing,
    resources,
    contextCapacity: capacity,
    achieved,
    decodeContext,
    decode,
    multiToken,
    decodeCurve,
    prefill,
    breakdownLayer,
    layerDecode: layerRows(decode.timed, breakdownLayer),
    layerPrefill: shown?.pass ? { tokens: shown.tokens, rows: layerRows(shown.pass.timed, breakdownLayer) } : null,
  };
}

const ms = (s: number) => Math.round(s * 1e6) / 1e3;
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

function breakdownMs(p: PassResult) {
  const b = p.breakdown;
  return {
    tlmm_compute: ms(b.tlmmCompute),
    weight_load_stall: ms(b.weightLoadStall),
    attention: ms(b.attention),
    norms: ms(b.norms),
    lm_head: ms(b.lmHead),
    host: ms(b.host),
  };
}

function rowsJson(rows: LayerRow[]) {
  return rows.map((r) => ({
    step: r.step,
    kind: r.kind,
    tiles: r.tiles,
    compute_cycles: r.computeCycles,
    load_cycles: r.loadCycles,
    stall_cycles: r.stallCycles,
    exposed_cycles: r.exposedCycles,
  }));
}

/** The --json object (stable keys, snake_case). */
export function planToJson(plan: Plan): Record<string, unknown> {
  const { spec, hw, resources: res } = plan;
  const ttft: Record<string, number | null> = {};
  const prefillTps: Record<string, number | null> = {};
  const ttftBreakdown: Record<string, unknown> = {};
  for (const p of plan.prefill) {
    ttft[String(p.tokens)] = p.pass ? r4(p.pass.totalSeconds) : null;
    prefillTps[String(p.tokens)] = p.pass ? Math.round((p.tokens / p.pass.totalSeconds) * 10) / 10 : null;
    ttftBreakdown[String(p.tokens)] = p.pass ? breakdownMs(p.pass) : null;
  }
  return {
    fits: plan.fits,
    reasons: plan.reasons,
    warnings: plan.warnings,
    model: {
      name: plan.modelName,
      family: spec.family,
      hidden_size: spec.hiddenSize,
      intermediate_size: spec.intermediateSize,
      num_hidden_layers: spec.numLayers,
      num_attention_heads: spec.numHeads,
      num_key_value_heads: spec.numKvHeads,
      head_dim: spec.headDim,
      vocab_size: spec.vocabSize,
      activation: spec.activation,
      tied_embeddings: spec.tiedEmbeddings,
      ternary_weights_per_token: ternaryWeightsPerToken(spec),
    },
    board: hw.config.name,
    hw_hash: hw.hash,
    hw_file: hw.file,
    decode_tokens_per_s: Math.round((1 / plan.decode.totalSeconds) * 100) / 100,
    decode_context: plan.decodeContext,
    draft_tokens: plan.multiToken.draftTokens,
    accepted_tokens_per_pass: plan.multiToken.acceptedPerPass,
    accepted_tokens_per_pass_source: plan.multiToken.rateSource,
    verify_pass_ms: ms(plan.multiToken.pass.totalSeconds),
    decode_tokens_per_s_multi_token: Math.round(plan.multiToken.tokensPerS * 100) / 100,
    clock_mhz: plan.achieved.clockMhz,
    numerics: { ...hw.config.numerics },
    decode_ms_per_token: ms(plan.decode.totalSeconds),
    decode_breakdown_ms: breakdownMs(plan.decode),
    decode_curve: plan.decodeCurve.map((c) => ({ context: c.context, tokens_per_s: Math.round(c.tokensPerS * 100) / 100 })),
    ttft_s: ttft,
    prefill_tokens_per_s: prefillTps,
    ttft_breakdown_ms: ttftBreakdown,
    uram_used: res.uram,
    uram_total: res.budget.uram,
    lut_used: res.lut,
    lut_total: res.budget.lut,
    ff_used: res.ff,
    ff_total: res.budget.ff,
    dsp_used: res.dsp,
    dsp_total: res.budget.dsp,
    bram36_used: res.bram36,
    bram36_total: res.budget.bram36,
    resources: { modules: res.modules, tlmm_core_lut: res.tlmmCore, utilisation: res.utilisation },
    weight_buffer: {
      layout: plan.uram.layout,
      urams: plan.uram.weightBufferUrams,
      banks: plan.uram.banks,
      cascade: plan.uram.cascade,
      depth_urams: plan.uram.bankDepthUrams,
      buffers: plan.uram.buffers,
      words_per_bank: plan.uram.wordsPerBank,
      words_per_buffer: plan.uram.wordsPerBuffer,
      peak_words_per_bank: plan.uram.peakWordsPerBank,
      eq9_urams: plan.uram.eq9Urams,
      linears: plan.uram.linears.map((l) => ({
        linear: l.linear,
        rows: l.rows,
        cols: l.cols,
        chunks: l.chunks,
        tiles: l.tiles.map((t) => ({ row_start: t.rowStart, rows: t.rows, words_per_bank: t.wordsPerBank, vectors: t.vectors, stored_vectors: t.storedVectors })),
      })),
      steps: plan.uram.steps.map((s) => ({ index: s.index, linear: s.linear, tile: s.tile, buffer: s.buffer, banks: s.banksUsed, word_start: s.wordStart, word_end: s.wordEnd, depth_levels: s.depthLevels, urams: s.urams })),
    },
    weights: {
      bytes_per_token: plan.packing.bytesPerToken,
      beat_packing: plan.packing.mode,
      beat_bits: plan.packing.beatBits,
      share: plan.packing.share,
      unused_bits_per_beat: plan.packing.unusedBitsPerBeat,
    },
    ddr: {
      total_bytes: plan.ddr.totalBytes,
      usable_bytes: plan.ddr.usableBytes,
      context: plan.ddr.context,
      regions: plan.ddr.regions.length,
      by_kind: plan.ddr.byKind,
      effective_bandwidth_gb_s: plan.achieved.bandwidthBps / 1e9,
    },
    layer_breakdown: {
      layer: plan.breakdownLayer,
      clock_mhz: plan.achieved.clockMhz,
      decode: rowsJson(plan.layerDecode),
      prefill: plan.layerPrefill ? { tokens: plan.layerPrefill.tokens, steps: rowsJson(plan.layerPrefill.rows) } : null,
    },
    derived: hw.derived,
  };
}
