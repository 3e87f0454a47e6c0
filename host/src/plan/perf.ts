/**
 * Cycle model of the accelerator (docs/performance-model.md).
 *
 * A pass (one decode token, or a prefill of N tokens) is a list of steps in program order: per
 * layer the input RMS-MAX, the q/k/v tiles, attention, the attention sub-norm, o, the
 * post-attention norm, up, gate, the FFN sub-norm and down; then the final norm and the LM head.
 * Two resources are scheduled: the compute chain (one step at a time, in order) and the DDR
 * (serial). A TLMM tile first needs its weights in URAM: single-buffered builds load each tile
 * when the engine reaches it (load, then compute); double-buffered builds issue tile k+2's load as
 * soon as tile k has finished computing, so loads overlap compute. Attention and a fabric LM head
 * stream from DDR while they compute (they take max(compute, DDR time) and queue behind loads).
 * Host work (call overhead, embedding, prompt bookkeeping, ARM LM head, sampling) is serial
 * around the accelerator call.
 */
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { beatCount } from '../layout/beats.js';
import { tilePackLayout } from '../layout/ddr.js';
import type { UramPlan } from '../layout/uram.js';
import type { LinearName, ModelSpec } from '../model/spec.js';

export type StepKind = 'tlmm' | 'attention' | 'norm' | 'lm_head';

export interface ModelStep {
  /** e.g. "q_proj#0", "attention", "norm.input" */
  name: string;
  kind: StepKind;
  /** -1 for the steps after the last layer. */
  layer: number;
  linear?: LinearName;
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
  // The fused dequant / element-wise / write stages stream the outputs at elementwise_lanes per
  // cycle, overlapped with the next token's lookups; the last token's outputs drain after them.
  const drain = Math.ceil(rows / a.elementwise_lanes);
  return body + drain + t.linear_call_overhead_cycles;
}

export function normCycles(dim: number, tokens: number, hw: LoadedHwConfig): number {
  // Two passes over the vector (sum of squares; scale, weight, max), elementwise_lanes per cycle.
  return hw.config.timing.norm_call_overhead_cycles + tokens * 2 * Math.ceil(dim / hw.config.architecture.elementwise_lanes);
}

/** Decode attention over `context` cached tokens (K pass then V pass). */
export function decodeAttention(spec: ModelSpec, context: number, hw: LoadedHwConfig): { cycles: number; bytes: number } {
  const at = hw.config.attention;
  const qd = spec.numHeads * spec.headDim;
  const kvd = spec.numKvHeads * spec.headDim;
  const perPass = context * (Math.ceil(qd / at.decode_lanes) + at.decode_token_overhead_cycles);
  return { cycles: hw.config.timing.attention_call_overhead_cycles + 2 * perPass, bytes: 2 * context * kvd * 2 };
}

/** Query blocks x keys visited by the reversed-reordered prefill attention (masked triangle skipped). */
export function rpaPairs(tokens: number, pes: number): number {
  const n = Math.ceil(tokens / pes) * pes;
  const blocks = n / pes;
  return blocks * n - (pes * blocks * (blocks - 1)) / 2;
}

export function prefillAttention(spec: ModelSpec, tokens: number, hw: LoadedHwConfig): { cycles: number; bytes: number; pairs: number } {
  const at = hw.config.attention;
  const qd = spec.numHeads * spec.headDim;
  const kvd = spec.numKvHeads * spec.headDim;
  const pairs = rpaPairs(tokens, at.prefill_pes);
  const perPair = 2 * Math.ceil(qd / at.prefill_lanes) * at.prefill_ii + at.prefill_pair_overhead_cycles;
  // K and V are re-streamed once per query block; the queries and outputs once.
  const bytes = pairs * 2 * kvd * 2 + tokens * qd * 2 * 2;
  return { cycles: hw.config.timing.attention_call_overhead_cycles + pairs * perPair, bytes, pairs };
}

export interface PassSpec {
  /** Tokens processed by the layers (1 for decode). */
  tokens: number;
  /** Keys attention reads (decode: the cache length; prefill: the prompt). */
  context: number;
  prefill: boolean;
}

/** Weight bytes per tile, by linear, from the pack layouts (the same for every layer). */
export function tileLoadBytes(uram: UramPlan, hw: LoadedHwConfig): Map<string, number> {
  const m = new Map<string, number>();
  for (const lp of uram.linears) for (const t of lp.tiles) m.set(`${lp.linear}#${t.tile}`, beatCount(tilePackLayout(t, hw)) * hw.derived.beatBytes);
  return m;
}

export function buildSteps(spec: ModelSpec, hw: LoadedHwConfig, uram: UramPlan, pass: PassSpec): ModelStep[] {
  const steps: ModelStep[] = [];
  const pes = hw.config.attention.prefill_pes;
  const N = pass.prefill ? Math.ceil(pass.tokens / pes) * pes : pass.tokens;
  const loads = tileLoadBytes(uram, hw);
  const byLinear = new Map(uram.linears.map((lp) => [lp.linear, lp]));
  const qd = spec.numHeads * spec.headDim;
  const ab = activationBytes(hw);
  // RMS-MAX reads its input twice and writes once (prefill spills to DDR; decode stays close).
  const norm = (layer: number, role: string, dim: number) =>
    steps.push({ name: `norm.${role}`, kind: 'norm', layer, loadBytes: 0, computeCycles: normCycles(dim, N, hw), streamBytes: 3 * N * dim * ab });
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
        streamBytes: N * (lp.cols + t.rows) * ab,
      });
    }
  };
  for (let l = 0; l < spec.numLayers; l++) {
    norm(l, 'input', spec.hiddenSize);
    linear(l, 'q_proj');
    linear(l, 'k_proj');
    linear(l, 'v_proj');
    const att = pass.prefill ? prefillAttention(spec, N, hw) : decodeAttention(spec, pass.context, hw);
    steps.push({ name: 'attention', kind: 'attention', layer: l, loadBytes: 0, computeCycles: att.cycles, streamBytes: att.bytes });
    if (spec.subNorms) norm(l, 'attn_sub', qd);
    linear(l, 'o_proj');
    norm(l, 'post_attention', spec.hiddenSize);
    linear(l, 'up_proj');
    linear(l, 'gate_proj');
    if (spec.subNorms) norm(l, 'ffn_sub', spec.intermediateSize);
    linear(l, 'down_proj');
  }
  norm(-1, 'final', spec.hiddenSize);
  if (hw.config.lm_head.placement === 'fabric') {
    const macs = spec.vocabSize * spec.hiddenSize;
    steps.push({
      name: 'lm_head',
      kind: 'lm_head',
      layer: -1,
      loadBytes: 0,
      computeCycles: hw.config.timing.attention_call_overhead_cycles + Math.ceil(macs / hw.config.lm_head.fabric_macs_per_cycle),
      streamBytes: spec.vocabSize * (spec.hiddenSize + 4),
    });
  }
  return steps;
}

/** Bytes per cycle the weight ports achieve. */
export function bytesPerCycle(hw: LoadedHwConfig): number {
  return hw.derived.effectiveBandwidthBps / hw.derived.clockHz;
}

export function schedule(steps: ModelStep[], hw: LoadedHwConfig): { timed: TimedStep[]; makespan: number } {
  const bpc = bytesPerCycle(hw);
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
  tokens: number;
  context: number;
  prefill: boolean;
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
  /** Sums without overlap: all weight loads at the effective bandwidth; all TLMM compute. */
  totals: { weightBytes: number; weightLoadSeconds: number; tlmmComputeSeconds: number; ddrBytes: number };
  /** Exposed cycles per layer. */
  layerCycles: number[];
  timed: TimedStep[];
}

export function armLmHeadSeconds(spec: ModelSpec, hw: LoadedHwConfig): number {
  const lm = hw.config.lm_head;
  const bytes = spec.vocabSize * (spec.hiddenSize + 4);
  const macs = spec.vocabSize * spec.hiddenSize;
  return Math.max(bytes / (lm.arm_bandwidth_gbps * 1e9), macs / (lm.arm_int8_gmacs * 1e9));
}

/** Host embedding lookup: read a bf16 row, write it in the activation format, per token. */
export function embeddingSeconds(spec: ModelSpec, hw: LoadedHwConfig, tokens: number): number {
  return (tokens * spec.hiddenSize * (2 + activationBytes(hw))) / (hw.config.lm_head.arm_bandwidth_gbps * 1e9);
}

export function runPass(spec: ModelSpec, hw: LoadedHwConfig, uram: UramPlan, pass: PassSpec): PassResult {
  const steps = buildSteps(spec, hw, uram, pass);
  const { timed, makespan } = schedule(steps, hw);
  const f = hw.derived.clockHz;
  const h = hw.config.host;
  const hostSeconds =
    (h.call_overhead_us + (pass.prefill ? pass.tokens * h.prefill_us_per_token : 0)) * 1e-6 +
    embeddingSeconds(spec, hw, pass.tokens) +
    spec.vocabSize * h.sample_ns_per_logit * 1e-9;
  const arm = hw.config.lm_head.placement === 'arm' ? armLmHeadSeconds(spec, hw) : 0;
  const bd = { tlmmCompute: 0, weightLoadStall: 0, attention: 0, norms: 0, lmHead: arm, host: hostSeconds };
  const layerCycles = new Array<number>(spec.numLayers).fill(0);
  let weightBytes = 0;
  let loadCyc = 0;
  let tlmmCyc = 0;
  let ddrBytes = 0;
  for (const t of timed) {
    const e = t.exposedCycles / f;
    if (t.kind === 'tlmm') {
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
    tokens: pass.tokens,
    context: pass.context,
    prefill: pass.prefill,
    fpgaCycles: makespan,
    fpgaSeconds,
    hostSeconds,
    armLmHeadSeconds: arm,
    totalSeconds: fpgaSeconds + hostSeconds + arm,
    breakdown: bd,
    totals: { weightBytes, weightLoadSeconds: loadCyc / f, tlmmComputeSeconds: tlmmCyc / f, ddrBytes },
    layerCycles,
    timed,
  };
}

/** One decode step with `context` tokens in the KV cache (including the new one). */
export function decodePass(spec: ModelSpec, hw: LoadedHwConfig, uram: UramPlan, context: number): PassResult {
  return runPass(spec, hw, uram, { tokens: 1, context, prefill: false });
}

/** Prefill of a `tokens`-token prompt up to the first sampled token (TTFT). */
export function prefillPass(spec: ModelSpec, hw: LoadedHwConfig, uram: UramPlan, tokens: number): PassResult {
  return runPass(spec, hw, uram, { tokens, context: tokens, prefill: true });
}
