/**
 * Where our speed-ups come from: starting from the paper's build (kv260-paper), apply our default
 * build's changes one at a time, cumulatively, and re-run the model (`kv260Chain`): the hardware
 * steps (KV260_ABLATION), then the contract steps kv260.json has adopted, then (if anything still
 * differs) one step for the rest of kv260.json, so that the chain reaches exactly the kv260
 * profile (a test checks it) and the steps add up to the whole difference. After it come the
 * contract steps kv260.json has not adopted yet, projected.
 *
 * The contract choices (docs/numerics.md: the int8 attention datapath, the ternary shortlist head)
 * are flipped in kv260.json's `numerics` by the contract's owner once their accuracy is measured;
 * KV260_CONTRACT_STEPS also holds the hardware changes that go with them: norms on chip in prefill
 * (fits only once int8 attention frees its URAMs) and an int8 head wide enough for verify passes.
 */
import type { HwConfig, LoadedHwConfig } from '../hwconfig/types.js';
import { hwConfigFromObject } from '../hwconfig/load.js';

export interface AblationStep {
  label: string;
  /** Deep-merged into the previous step's config. */
  patch: Record<string, unknown>;
}

type Json = Record<string, unknown>;

export function deepMerge<T>(base: T, patch: Json): T {
  const out: Json = { ...(base as Json) };
  for (const [k, v] of Object.entries(patch)) {
    const b = out[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)) out[k] = deepMerge(b as Json, v as Json);
    else out[k] = v;
  }
  return out as T;
}

/** From kv260-paper to kv260, in the order the doc discusses them. */
export const KV260_ABLATION: readonly AblationStep[] = [
  { label: 'paper build (kv260-paper)', patch: {} },
  {
    label: '+ C firmware instead of the PYNQ runtime',
    patch: { host: { call_overhead_us: 50, prefill_us_per_token: 5, sample_ns_per_logit: 1 }, board: { host_cpu: '4x Cortex-A53 @ 1.333 GHz, C firmware' } },
  },
  { label: '+ int8 LM head on the fabric', patch: { lm_head: { placement: 'fabric', fabric_macs_per_cycle: 64 } } },
  {
    label: '+ four 128-bit HP ports (HP1/HP2 share a controller port)',
    patch: { memory: { axi_data_bits: 128, weight_ports: 4, shared_port_lanes: 2 } },
  },
  { label: '+ wide activation read, ping-pong tables', patch: { architecture: { activation_read: 'parallel', table_buffering: 'pingpong' } } },
  {
    // Resources measured by yosys on hw/rtl; its table builder needs no precompute cycles and its
    // lookup pipeline is 10 deep (measured); its call costs the 3 command cycles the RTL measured
    // plus the fill and drain of the HLS region around it (hls/src/linear.cpp).
    label: "+ the hw/rtl TLMM engine instead of the paper's HLS engine",
    patch: { architecture: { tlmm_engine: 'hw-rtl' }, timing: { table_precompute_cycles: 0, lookup_pipeline_cycles: 10, linear_call_overhead_cycles: 94 } },
  },
  { label: '+ one lookup group per cycle (lookup_ii 1)', patch: { timing: { lookup_ii: 1 } } },
  {
    label: '+ dense beats, row tiles, double buffering (32 URAMs)',
    patch: { uram: { weight_buffer_urams: 32 }, architecture: { weight_layout: 'tiled', double_buffering: true, beat_packing: 'dense' } },
  },
  { label: '+ binary32 activations and norms (docs/numerics.md)', patch: { architecture: { activation_format: 'fp32' } } },
  // RMS-MAX on chip (hls/src/rmsmax.cpp): its passes' fills, no call overhead beyond them.
  { label: '+ decode norms on chip', patch: { architecture: { norms_on_chip: 'decode' }, timing: { norm_call_overhead_cycles: 0 } } },
  { label: '+ 8 element-wise lanes instead of 16', patch: { architecture: { elementwise_lanes: 8 } } },
  {
    label: '+ run-time shapes up to 3B / 2B-4T',
    patch: {
      maxima: { hidden: 3200, ffn: 8640, heads: 32, kv_heads: 32, head_dim: 128, layers: 32, context: 4096, vocab: 128256 },
      architecture: { runtime_shapes: true },
    },
  },
];

/**
 * The contract choices and what they enable, in the order they were measured; kv260.json has
 * adopted int8 attention, prefill norms on chip and the 256-MAC head, and the chain shows those as
 * steps to kv260, the shortlist head (not adopted) as a projection after it.
 */
export const KV260_CONTRACT_STEPS: readonly AblationStep[] = [
  // The int8 unit (hls/src/attention.cpp) and the fabric head count their fills per pass, no call overhead beyond them.
  {
    label: '+ int8 KV cache and attention unit (numerics.kv_format int8, docs/numerics.md §8.3)',
    patch: { numerics: { kv_format: 'int8' }, timing: { attention_call_overhead_cycles: 0 } },
  },
  { label: '+ ternary shortlist head (numerics.lm_head ternary-shortlist)', patch: { numerics: { lm_head: 'ternary-shortlist' } } },
  { label: '+ norms on chip in prefill (architecture.norms_on_chip all)', patch: { architecture: { norms_on_chip: 'all' } } },
  // Multi-token verification runs the int8 head for N+1 positions a pass: at 64 MACs a cycle a
  // 2B-4T verify pass was slower than plain decoding (docs/performance-model.md §5.1).
  { label: '+ a 256-MAC int8 head for verify passes (lm_head.fabric_macs_per_cycle 256)', patch: { lm_head: { fabric_macs_per_cycle: 256 } } },
];

function adopted(cfg: HwConfig, patch: Json): boolean {
  return JSON.stringify(deepMerge(cfg, patch)) === JSON.stringify(cfg);
}

/** Fields that name or document a build without changing it. */
const NOT_THE_BUILD = new Set(['$schema', 'name', 'description', 'notes', 'sources']);

/** The smallest patch turning `from` into `to` (objects recursively; the board's name ignored). */
function diffPatch(from: Json, to: Json, top = true): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(to)) {
    if (top && NOT_THE_BUILD.has(k)) continue;
    const f = from[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && f && typeof f === 'object' && !Array.isArray(f)) {
      const d = diffPatch(f as Json, v as Json, false);
      if (k === 'board') delete d['name'];
      if (Object.keys(d).length) out[k] = d;
    } else if (JSON.stringify(f) !== JSON.stringify(v)) out[k] = v;
  }
  return out;
}

/** `tellme plan --set` arguments that turn `from` into `to` (the fields that differ, dotted). */
export function settingsFor(from: HwConfig, to: HwConfig): string[] {
  const flat = (patch: Json, prefix: string): string[] =>
    Object.entries(patch).flatMap(([k, v]) => (v && typeof v === 'object' && !Array.isArray(v) ? flat(v as Json, `${prefix}${k}.`) : [`${prefix}${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`]));
  return flat(diffPatch(from as unknown as Json, to as unknown as Json), '');
}

export interface Kv260Chain {
  steps: AblationStep[];
  /** Index of the step whose build is exactly kv260.json. */
  kv260Index: number;
}

/** The paper's build -> kv260 (hardware, adopted contract steps, the rest) -> pending contract steps. */
export function kv260Chain(paper: HwConfig, ours: HwConfig): Kv260Chain {
  const steps: AblationStep[] = [...KV260_ABLATION, ...KV260_CONTRACT_STEPS.filter((s) => adopted(ours, s.patch))];
  let cfg: HwConfig = structuredClone(paper);
  for (const s of steps) cfg = deepMerge(cfg, s.patch);
  const rest = diffPatch(cfg as unknown as Json, ours as unknown as Json);
  if (Object.keys(rest).length) steps.push({ label: `+ the rest of kv260.json (${Object.keys(rest).join(', ')})`, patch: rest });
  const kv260Index = steps.length - 1;
  steps.push(...pendingContractSteps(ours));
  return { steps, kv260Index };
}

/** The contract steps `cfg` has not adopted yet, in order. */
export function pendingContractSteps(cfg: HwConfig, steps: readonly AblationStep[] = KV260_CONTRACT_STEPS): AblationStep[] {
  return steps.filter((s) => !adopted(cfg, s.patch));
}

/** kv260 with every pending contract step applied: the build the targets are projected on. */
export function withContractChoices(hw: LoadedHwConfig): LoadedHwConfig {
  const pending = pendingContractSteps(hw.config);
  if (!pending.length) return hw;
  let cfg: HwConfig = structuredClone(hw.config);
  for (const s of pending) cfg = deepMerge(cfg, s.patch);
  return hwConfigFromObject(cfg, `${hw.file} + contract choices`);
}

export function ablationConfigs(base: HwConfig, steps: readonly AblationStep[]): { label: string; hw: LoadedHwConfig }[] {
  const out: { label: string; hw: LoadedHwConfig }[] = [];
  let cfg: HwConfig = structuredClone(base);
  steps.forEach((s, i) => {
    cfg = deepMerge(cfg, s.patch);
    out.push({ label: s.label, hw: hwConfigFromObject(cfg, `${base.name} + ablation step ${i}`) });
  });
  return out;
}
