/**
 * Cycle model of the accelerator (docs/performance-model.md).
 *
 * A pass (one decode token, a prefill of N tokens, or a verify pass of N+1 tokens at KV offset L)
 * is a list of steps in program order: per layer the input RMS-MAX, the q/k/v tiles, attention,
 * the attention sub-norm, o, the post-attention norm, up, gate, the FFN sub-norm and down; then
 * the final norm and the LM head. Two resources are scheduled: the compute chain (one step at a
 * time, in order) and the DDR (serial). A TLMM tile first needs its weights in URAM:
 * single-buffered builds load each tile when the engine reaches it (load, then compute);
 * double-buffered builds issue tile k+2's load as soon as tile k has finished computing, so loads
 * overlap compute. Attention, norms that use the DDR scratch and a fabric LM head stream from DDR
 * while they compute (they take max(compute, DDR time) and queue behind loads). Host work (call
 * overhead, embedding, prompt bookkeeping, ARM LM head, sampling) is serial around the call.
 * Attention is in attention.ts, the LM head in head.ts, the clock and bandwidth in clock.ts.
 */
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { beatCount } from '../layout/beats.js';
import { tilePackLayout } from '../layout/ddr.js';
import type { UramPlan } from '../layout/uram.js';
import type { LinearName, ModelSpec } from '../model/spec.js';
import { decodeAttention, headQuantCycles, int8Attention, prefillAttention, type AttentionCost } from './attention.js';
import { achievedFor, type Achieved } from './clock.js';
import { HLS_DEPTHS } from './hls-depths.js';
import { armLmHeadSeconds, fabricInt8Head, sampledLogits, shortlistRescore, ternaryHeadTiles } from './head.js';

export type StepKind = 'tlmm' | 'attention' | 'norm' | 'lm_head';

/** 'head' is the ternary copy of the LM head (numerics.lm_head ternary-shortlist). */
export type StepLinear = LinearName | 'head';

export interface ModelStep {
  /** e.g. "q_proj#0", "attention", "norm.input" */
  name: string;
  kind: StepKind;
  /** -1 for the steps after the last layer. */
  layer: number;
  linear?: StepLinear;
  tile?: number;
  /** Weight bytes that must be in URAM before the step computes (TLMM tiles). */
  loadBytes: number;
  /** Cycles the step keeps its engine busy. */
  computeCycles: number;
  /** DDR bytes streamed while computing (activations, KV cache, LM head). */
  streamBytes: number;
}

export interface TimedStep extends ModelStep {
  /** Cycles of the weight load (latency + bytes at the effective bandwidth). */
  loadCycles: number;
  loadStart: number;
  loadEnd: number;
  start: number;
  end: number;
  /** Cycles waiting for its weights after the engine was free. */
  stallCycles: number;
  /** Contribution to the pass's critical path: end - previous step's end. */
  exposedCycles: number;
}

/** Bytes of one activation element between units (fp16 in the paper, binary32 in ours). */
export function activationBytes(hw: LoadedHwConfig): number {
  return hw.config.architecture.activation_format === 'fp32' ? 4 : 2;
}

/** TLMM cycles of one tile (rows x chunks) for `tokens` tokens. */
export function tlmmCycles(rows: number, chunks: number, tokens: number, hw: LoadedHwConfig): number {
  const c = hw.config;
  const t = c.timing;
  const a = c.architecture;
  const passes = Math.ceil(tokens / a.prefill_token_block);
  const lookups = Math.ceil(rows / c.tlmm.parallel_vectors) * t.lookup_ii;
  const act = a.activation_read === 'serial' ? hw.derived.chunkElements : 1;
  const build = act + t.table_precompute_cycles + t.table_write_cycles;
  const body =
    a.table_buffering === 'pingpong'
      ? passes * chunks * Math.max(lookups, build) + build + t.lookup_pipeline_cycles
      : passes * chunks * (build + lookups + t.lookup_pipeline_cycles);
  return body + outputWait(rows, tokens, lookups, build, hw) + t.linear_call_overhead_cycles;
}

/**
 * Cycles the engine's outputs add after its lookups. A token's accumulators leave during its last
 * chunk, Q rows per lookup cycle, while the fused dequant / element-wise / write stages take
 * elementwise_lanes a cycle: for every token but the last the engine waits on them for what its
 * next chunk's time does not hide; after the last token they drain what its last chunk's lookups
 * did not (hw/rtl measured this with an 8-lane sink, docs/measurements.md §11.2; hls/src/linear.cpp
 * engine_path counts the same). None when the stages keep up (lanes ≥ Q / lookup_ii).
 */
function outputWait(rows: number, tokens: number, lookups: number, build: number, hw: LoadedHwConfig): number {
  const Q = hw.config.tlmm.parallel_vectors;
  const out = Math.ceil(rows / Q) * Math.ceil(Q / hw.config.architecture.elementwise_lanes);
  return (tokens - 1) * Math.max(0, out - Math.max(lookups, build)) + Math.max(0, out - lookups);
}

/** Passes RMS-MAX makes over a token: max|x| (for the exponent E), the sum of squares, normalise and write (numerics §5). */
const RMSMAX_PASSES = 3;

/**
 * RMS-MAX over `tokens` vectors at elementwise_lanes a cycle. On chip (hls/src/rmsmax.cpp), token
 * after token: three passes, each with its pipeline fill (hls-depths.ts). From the DDR scratch (the
 * paper's build): two passes a token (the fitted formula the paper calibration uses).
 */
export function normCycles(dim: number, tokens: number, hw: LoadedHwConfig, onChip = false): number {
  const beats = Math.ceil(dim / hw.config.architecture.elementwise_lanes);
  const fills = HLS_DEPTHS.rmsmaxRead + HLS_DEPTHS.rmsmaxSum + HLS_DEPTHS.rmsmaxNormalise;
  const perToken = onChip ? RMSMAX_PASSES * beats + fills : 2 * beats;
  return hw.config.timing.norm_call_overhead_cycles + tokens * perToken;
}

export type PassKind = 'decode' | 'prefill' | 'verify';

export interface PassSpec {
  kind: PassKind;
  /** Tokens processed by the layers: 1 (decode), the prompt (prefill), N+1 (verify). */
  tokens: number;
  /** Decode: tokens in the KV cache including the new one; prefill: the prompt; verify: the KV offset L before the pass. */
  context: number;
}

/** Query positions whose LM head output the pass returns. */
export function headPositions(pass: PassSpec): number {
  return pass.kind === 'verify' ? pass.tokens : 1;
}

/** Weight bytes per tile, by linear, from the pack layouts (the same for every layer). */
export function tileLoadBytes(uram: UramPlan, hw: LoadedHwConfig): Map<string, number> {
  const m = new Map<string, number>();
  for (const lp of uram.linears) for (const t of lp.tiles) m.set(`${lp.linear}#${t.tile}`, beatCount(tilePackLayout(t, hw)) * hw.derived.beatBytes);
  return m;
}

/** One layer's attention for the pass, on the build's datapath. */
export function attentionCost(spec: ModelSpec, hw: LoadedHwConfig, pass: PassSpec, tokens: number, bytesPerCycle: number): AttentionCost {
  if (hw.config.numerics.kv_format === 'int8') {
    if (pass.kind === 'decode') return int8Attention(spec, 1, pass.context - 1, hw, bytesPerCycle);
    return int8Attention(spec, tokens, pass.kind === 'verify' ? pass.context : 0, hw, bytesPerCycle);
  }
  if (pass.kind === 'decode') return decodeAttention(spec, pass.context, hw);
  if (pass.kind === 'prefill') return prefillAttention(spec, tokens, hw);
  // fp16 verify: the decode datapath once per position (numerics §8.2), keys L+1 .. L+N+1.
  const out = { cycles: 0, bytes: 0 };
  for (let i = 1; i <= tokens; i++) {
    const a = decodeAttention(spec, pass.context + i, hw);
    out.cycles += a.cycles;
    out.bytes += a.bytes;
  }
  return out;
}

/** Tokens the layers process: the fp16 RPA needs the prompt padded to N_pe (the paper's host pads). */
export function layerTokens(pass: PassSpec, hw: LoadedHwConfig): number {
  const pes = hw.config.attention.prefill_pes;
  return pass.kind === 'prefill' && hw.config.numerics.kv_format === 'fp16' ? Math.ceil(pass.tokens / pes) * pes : pass.tokens;
}

export function buildSteps(spec: ModelSpec, hw: LoadedHwConfig, uram: UramPlan, pass: PassSpec, achieved: Achieved = achievedFor(hw)): ModelStep[] {
  const steps: ModelStep[] = [];
  const N = layerTokens(pass, hw);
  const loads = tileLoadBytes(uram, hw);
  const byLinear = new Map(uram.linears.map((lp) => [lp.linear, lp]));
  const qd = spec.numHeads * spec.headDim;
  const ab = activationBytes(hw);
  const onChip = hw.config.architecture.norms_on_chip;
  const normsInDdr = onChip === 'none' || (onChip === 'decode' && pass.kind !== 'decode');
  // From the DDR scratch: the producer writes the vector and RMS-MAX reads it twice, token after
  // token. On chip (hls/src/norm_pass.cpp): the norm weights stay on chip and each token's row is
  // held on chip for its three passes, token after token (normCycles).
  const norm = (layer: number, role: string, dim: number) =>
    steps.push(
      normsInDdr
        ? { name: `norm.${role}`, kind: 'norm', layer, loadBytes: 0, computeCycles: normCycles(dim, N, hw), streamBytes: 3 * N * dim * ab }
        : { name: `norm.${role}`, kind: 'norm', layer, loadBytes: 0, computeCycles: normCycles(dim, N, hw, true), streamBytes: 0 },
    );
  // Without a sub-norm the on-chip RMS-MAX unit still finds the next linear's absmax: one pass.
  const absmax = (layer: number, role: string, dim: number) => {
    if (normsInDdr) return;
    // The unit's read pass, or the DDR reader and writer around it, whichever fills longer.
    const fill = Math.max(HLS_DEPTHS.rmsmaxRead, HLS_DEPTHS.memory);
    const cycles = hw.config.timing.norm_call_overhead_cycles + N * (Math.ceil(dim / hw.config.architecture.elementwise_lanes) + fill);
    steps.push({ name: `norm.${role}`, kind: 'norm', layer, loadBytes: 0, computeCycles: cycles, streamBytes: 0 });
  };
  // int8 attention: each of q, k, v is quantised per head after its linear (numerics §8.3).
  const headQuant = (layer: number, which: 'q' | 'k' | 'v', heads: number) => {
    if (hw.config.numerics.kv_format !== 'int8') return;
    const c = headQuantCycles(spec, heads, N, hw);
    steps.push({ name: `head_quant.${which}`, kind: 'attention', layer, loadBytes: 0, computeCycles: c.cycles, streamBytes: c.bytes });
  };
  const inBytes = normsInDdr ? ab : 1;
  const linear = (layer: number, name: LinearName) => {
    const lp = byLinear.get(name)!;
    for (const t of lp.tiles) {
      steps.push({
        name: `${name}#${t.tile}`,
        kind: 'tlmm',
        layer,
        linear: name,
        tile: t.tile,
        loadBytes: loads.get(`${name}#${t.tile}`)!,
        computeCycles: tlmmCycles(t.rows, lp.chunks, N, hw),
        streamBytes: N * (lp.cols * inBytes + t.rows * ab),
      });
    }
  };
  for (let l = 0; l < spec.numLayers; l++) {
    norm(l, 'input', spec.hiddenSize);
    linear(l, 'q_proj');
    headQuant(l, 'q', spec.numHeads);
    linear(l, 'k_proj');
    headQuant(l, 'k', spec.numKvHeads);
    linear(l, 'v_proj');
    headQuant(l, 'v', spec.numKvHeads);
    const att = attentionCost(spec, hw, pass, N, achieved.bytesPerCycle);
    steps.push({ name: 'attention', kind: 'attention', layer: l, loadBytes: 0, computeCycles: att.cycles, streamBytes: att.bytes });
    if (spec.subNorms) norm(l, 'attn_sub', qd);
    else absmax(l, 'attn_sub', qd);
    linear(l, 'o_proj');
    norm(l, 'post_attention', spec.hiddenSize);
    linear(l, 'up_proj');
    linear(l, 'gate_proj');
    if (spec.subNorms) norm(l, 'ffn_sub', spec.intermediateSize);
    else absmax(l, 'ffn_sub', spec.intermediateSize);
    linear(l, 'down_proj');
  }
  norm(-1, 'final', spec.hiddenSize);
  if (hw.config.lm_head.placement === 'fabric') {
    const positions = headPositions(pass);
    if (hw.config.numerics.lm_head === 'ternary-shortlist') {
      const head = ternaryHeadTiles(spec, hw);
      for (const t of head.tiles) {
        steps.push({
          name: `head#${t.tile}`,
          kind: 'tlmm',
          layer: -1,
          linear: 'head',
          tile: t.tile,
          loadBytes: t.bytes,
          computeCycles: tlmmCycles(t.rows, head.chunks, positions, hw),
          streamBytes: positions * spec.hiddenSize,
        });
      }
      const r = shortlistRescore(spec, hw, positions, achieved.clockHz);
      steps.push({ name: 'lm_head.rescore', kind: 'lm_head', layer: -1, loadBytes: 0, computeCycles: r.cycles, streamBytes: r.bytes });
    } else {
      const h = fabricInt8Head(spec, hw, positions);
      steps.push({ name: 'lm_head', kind: 'lm_head', layer: -1, loadBytes: 0, computeCycles: h.cycles, streamBytes: h.bytes });
    }
  }
  return steps;
}

export function schedule(steps: ModelStep[], hw: LoadedHwConfig, achieved: Achieved = achievedFor(hw)): { timed: TimedStep[]; makespan: number } {
  const bpc = achieved.bytesPerCycle;
  const first = hw.config.timing.ddr_first_beat_cycles;
  const prefetch = hw.config.architecture.double_buffering;
  const nbuf = hw.derived.buffers;
  const tileIdx: number[] = [];
  steps.forEach((s, i) => {
    if (s.kind === 'tlmm') tileIdx.push(i);
  });
  const loadStart = new Array<number>(steps.length).fill(0);
  const loadEnd = new Array<number>(steps.length).fill(0);
  const loadCycles = steps.map((s) => (s.kind === 'tlmm' ? first + s.loadBytes / bpc : 0));
  let ddrFree = 0;
  let engine = 0;
  const issue = (k: number, earliest: number) => {
    const i = tileIdx[k]!;
    loadStart[i] = Math.max(ddrFree, earliest);
    loadEnd[i] = loadStart[i]! + loadCycles[i]!;
    ddrFree = loadEnd[i]!;
  };
  if (prefetch) for (let k = 0; k < Math.min(nbuf, tileIdx.length); k++) issue(k, 0);
  const timed: TimedStep[] = [];
  let k = 0;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    const prevEnd = engine;
    let start: number;
    let end: number;
    let stall = 0;
    if (s.kind === 'tlmm') {
      if (!prefetch) issue(k, engine);
      start = Math.max(engine, loadEnd[i]!);
      stall = start - engine;
      end = start + Math.max(s.computeCycles, s.streamBytes / bpc);
      if (prefetch && k + nbuf < tileIdx.length) issue(k + nbuf, end);
      k++;
    } else {
      // Streaming steps are on the critical path and take the DDR first; weight loads already
      // in flight (prefetch) are pushed back by the time the step's traffic occupies the DDR.
      start = engine;
      const ddrTime = s.streamBytes / bpc;
      end = start + Math.max(s.computeCycles, ddrTime);
      if (ddrTime > 0) {
        if (ddrFree > start) {
          for (let j = 0; j < steps.length; j++) {
            if (loadEnd[j]! > start) {
              if (loadStart[j]! >= start) loadStart[j]! += ddrTime;
              loadEnd[j]! += ddrTime;
            }
          }
          ddrFree += ddrTime;
        } else {
          ddrFree = start + ddrTime;
        }
      }
    }
    engine = end;
    timed.push({
      ...s,
      loadCycles: loadCycles[i]!,
      loadStart: loadStart[i]!,
      loadEnd: loadEnd[i]!,
      start,
      end,
      stallCycles: stall,
      exposedCycles: end - prevEnd,
    });
  }
  return { timed, makespan: engine };
}

export interface PassResult {
  kind: PassKind;
  tokens: number;
  context: number;
  /** LM head outputs (positions) the pass returns. */
  positions: number;
  /** Accelerator call, cycles and seconds. */
  fpgaCycles: number;
  fpgaSeconds: number;
  /** Host-side: call overhead, per-token bookkeeping, sampling. */
  hostSeconds: number;
  /** LM head on the ARM cores (0 when on the fabric: it is inside fpgaSeconds). */
  armLmHeadSeconds: number;
  totalSeconds: number;
  /** Critical-path seconds by kind (+ load stalls separately). */
  breakdown: { tlmmCompute: number; weightLoadStall: number; attention: number; norms: number; lmHead: number; host: number };
  /** The clock and bandwidth the pass ran at. */
  achieved: Achieved;
  /** Sums without overlap: all weight loads at the effective bandwidth; all TLMM compute. */
  totals: { weightBytes: number; weightLoadSeconds: number; tlmmComputeSeconds: number; ddrBytes: number };
  /** Exposed cycles per layer. */
  layerCycles: number[];
  timed: TimedStep[];
}

/** Host embedding lookup: read a bf16 row, write it in the activation format, per token. */
export function embeddingSeconds(spec: ModelSpec, hw: LoadedHwConfig, tokens: number): number {
  return (tokens * spec.hiddenSize * (2 + activationBytes(hw))) / (hw.config.lm_head.arm_bandwidth_gb_s * 1e9);
}

/**
 * Host work around one call: the call overhead, the embedding rows, per-token bookkeeping of a
 * prompt or a verify pass (prompt reversal, KV bookkeeping, drafting), and sampling over the
 * candidates of each returned position (the vocabulary, or the K rescored candidates).
 */
export function hostSeconds(spec: ModelSpec, hw: LoadedHwConfig, pass: PassSpec): number {
  const h = hw.config.host;
  const perToken = pass.kind === 'decode' ? 0 : pass.tokens * h.prefill_us_per_token;
  return (h.call_overhead_us + perToken) * 1e-6 + embeddingSeconds(spec, hw, pass.tokens) + headPositions(pass) * sampledLogits(spec, hw) * h.sample_ns_per_logit * 1e-9;
}

export function runPass(spec: ModelSpec, hw: LoadedHwConfig, uram: UramPlan, pass: PassSpec, achieved: Achieved = achievedFor(hw)): PassResult {
  const steps = buildSteps(spec, hw, uram, pass, achieved);
  const { timed, makespan } = schedule(steps, hw, achieved);
  const f = achieved.clockHz;
  const host = hostSeconds(spec, hw, pass);
  const positions = headPositions(pass);
  const arm = hw.config.lm_head.placement === 'arm' ? armLmHeadSeconds(spec, hw, positions) : 0;
  const bd = { tlmmCompute: 0, weightLoadStall: 0, attention: 0, norms: 0, lmHead: arm, host };
  const layerCycles = new Array<number>(spec.numLayers).fill(0);
  let weightBytes = 0;
  let loadCyc = 0;
  let tlmmCyc = 0;
  let ddrBytes = 0;
  for (const t of timed) {
    const e = t.exposedCycles / f;
    if (t.kind === 'tlmm' && t.linear === 'head') {
      // The ternary head's tiles count as LM head time; their bytes are weight stream all the same.
      bd.lmHead += e;
      weightBytes += t.loadBytes;
      loadCyc += t.loadCycles;
      tlmmCyc += t.computeCycles;
    } else if (t.kind === 'tlmm') {
      bd.weightLoadStall += t.stallCycles / f;
      bd.tlmmCompute += e - t.stallCycles / f;
      weightBytes += t.loadBytes;
      loadCyc += t.loadCycles;
      tlmmCyc += t.computeCycles;
    } else if (t.kind === 'attention') bd.attention += e;
    else if (t.kind === 'norm') bd.norms += e;
    else bd.lmHead += e;
    ddrBytes += t.loadBytes + t.streamBytes;
    if (t.layer >= 0) layerCycles[t.layer]! += t.exposedCycles;
  }
  const fpgaSeconds = makespan / f;
  return {
    kind: pass.kind,
    tokens: pass.tokens,
    context: pass.context,
    positions,
    fpgaCycles: makespan,
    fpgaSeconds,
    hostSeconds: host,
    armLmHeadSeconds: arm,
    totalSeconds: fpgaSeconds + host + arm,
    breakdown: bd,
    achieved,
    totals: { weightBytes, weightLoadSeconds: loadCyc / f, tlmmComputeSeconds: tlmmCyc / f, ddrBytes },
    layerCycles,
    timed,
  };
}

/** One decode step with `context` tokens in the KV cache (including the new one). */
export function decodePass(spec: ModelSpec, hw: LoadedHwConfig, uram: UramPlan, context: number, achieved?: Achieved): PassResult {
  return runPass(spec, hw, uram, { kind: 'decode', tokens: 1, context }, achieved);
}

/** Prefill of a `tokens`-token prompt up to the first sampled token (TTFT). */
export function prefillPass(spec: ModelSpec, hw: LoadedHwConfig, uram: UramPlan, tokens: number, achieved?: Achieved): PassResult {
  return runPass(spec, hw, uram, { kind: 'prefill', tokens, context: tokens }, achieved);
}

/**
 * A verify pass: the last accepted token and `draftTokens` drafts (N+1 tokens) at KV offset
 * `cached`, prefill-style (one weight stream, per-token compute), with the LM head output of every
 * position. It yields on average `accepted_tokens_per_pass` tokens (plan.ts).
 */
export function verifyPass(spec: ModelSpec, hw: LoadedHwConfig, uram: UramPlan, cached: number, draftTokens: number, achieved?: Achieved): PassResult {
  return runPass(spec, hw, uram, { kind: 'verify', tokens: draftTokens + 1, context: cached }, achieved);
}
