/**
 * Where our speed-ups come from: starting from the paper's build (kv260-paper), apply our default
 * build's changes one at a time, cumulatively, and re-run the model. The last step is exactly the
 * kv260 profile (a test checks it), so the steps add up to the whole difference.
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
    label: '+ four 128-bit HP ports, DDR4-2400 (19.2 GB/s)',
    patch: { memory: { ddr_peak_gbps: 19.2, axi_data_bits: 128, weight_ports: 4 } },
  },
  { label: '+ wide activation read, ping-pong tables', patch: { architecture: { activation_read: 'parallel', table_buffering: 'pingpong' } } },
  { label: '+ one lookup group per cycle (lookup_ii 1)', patch: { timing: { lookup_ii: 1 } } },
  {
    label: '+ dense beats, row tiles, double buffering (32 URAMs)',
    patch: { uram: { weight_buffer_urams: 32 }, architecture: { weight_layout: 'tiled', double_buffering: true, beat_packing: 'dense' } },
  },
  { label: '+ binary32 activations and norms (docs/numerics.md)', patch: { architecture: { activation_format: 'fp32' } } },
  {
    label: '+ run-time shapes up to 3B / 2B-4T (= kv260)',
    patch: {
      maxima: { hidden: 3200, ffn: 8640, heads: 32, kv_heads: 32, head_dim: 128, layers: 32, context: 4096, vocab: 128256 },
      architecture: { runtime_shapes: true },
    },
  },
];

export function ablationConfigs(base: HwConfig, steps: readonly AblationStep[] = KV260_ABLATION): { label: string; hw: LoadedHwConfig }[] {
  const out: { label: string; hw: LoadedHwConfig }[] = [];
  let cfg: HwConfig = structuredClone(base);
  steps.forEach((s, i) => {
    cfg = deepMerge(cfg, s.patch);
    out.push({ label: s.label, hw: hwConfigFromObject(cfg, `${base.name} + ablation step ${i}`) });
  });
  return out;
}
