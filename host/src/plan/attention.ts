/**
 * Cycle model of attention (docs/performance-model.md §1.1), per layer.
 *
 * Two datapaths, chosen by the build's numerics.kv_format:
 *  - fp16 (the paper's units): the reversed-reordered prefill attention (RPA, N_pe queries x
 *    binary16 lanes, K and V re-streamed per query block) and the two-pass decode attention (DA,
 *    decode_lanes binary16 lanes over the whole query width per cached token);
 *  - int8 (numerics §8.3): one unit for prefill, decode and verify. Exact int8 q.k on DSPs (two
 *    products per DSP48E2), binary32 softmax pipelines, an exact integer value sum (one DSP per
 *    lane). GQA-aware: each KV head is read once for a batch of up to int8_group_heads of its
 *    query heads. Decode keeps the scores on chip (one K pass, one V pass); passes with several
 *    queries run two passes over the keys (max, then values with the scores recomputed).
 * Every function returns the cycles of one layer's attention and the DDR bytes it streams.
 */
import type { LoadedHwConfig } from '../hwconfig/types.js';
import type { ModelSpec } from '../model/spec.js';
import { HLS_DEPTHS } from './hls-depths.js';

export interface AttentionCost {
  cycles: number;
  bytes: number;
}

/** Decode attention over `context` cached tokens (K pass then V pass), fp16 DA. */
export function decodeAttention(spec: ModelSpec, context: number, hw: LoadedHwConfig): AttentionCost {
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

/** fp16 RPA over a prompt of `tokens` (already padded to N_pe). */
export function prefillAttention(spec: ModelSpec, tokens: number, hw: LoadedHwConfig): AttentionCost & { pairs: number } {
  const at = hw.config.attention;
  const qd = spec.numHeads * spec.headDim;
  const kvd = spec.numKvHeads * spec.headDim;
  const pairs = rpaPairs(tokens, at.prefill_pes);
  const perPair = 2 * Math.ceil(qd / at.prefill_lanes) * at.prefill_ii + at.prefill_pair_overhead_cycles;
  // K and V are re-streamed once per query block; the queries and outputs once.
  const bytes = pairs * 2 * kvd * 2 + tokens * qd * 2 * 2;
  return { cycles: hw.config.timing.attention_call_overhead_cycles + pairs * perPair, bytes, pairs };
}

/** Query heads of each KV head in batches of at most int8_group_heads. */
function headBatches(spec: ModelSpec, hw: LoadedHwConfig): number[] {
  const group = spec.numHeads / spec.numKvHeads;
  const max = hw.config.attention.int8_group_heads;
  const out: number[] = [];
  for (let left = group; left > 0; left -= max) out.push(Math.min(max, left));
  return out;
}

/**
 * Cycles of one int8 K or V row (d int8 values) through the port words the unit reads a cycle:
 * hls/src reads the KV cache's rows through the weight lanes, memory.weight_ports ports of
 * memory.axi_data_bits each (hls/src/accel.hpp read_int8_row_lanes).
 */
export function int8RowCycles(d: number, hw: LoadedHwConfig): number {
  const m = hw.config.memory;
  return Math.ceil(d / 4 / ((m.weight_ports * m.axi_data_bits) / 32));
}

/** Words one port moves a cycle (the act bundle's beat): memory.axi_data_bits / 32. */
export function portWords(hw: LoadedHwConfig): number {
  return hw.config.memory.axi_data_bits / 32;
}

/**
 * The int8 unit for `queries` positions after `cached` tokens already in the cache (decode: 1
 * query; prefill: the prompt, cached 0; verify: N+1 queries at KV offset L). Query i sees keys
 * 0 .. cached + i. It counts the loops of hls/src/attention.cpp with their depths
 * (hls-depths.ts): queries in blocks of N_pe; per KV head and batch of g <= int8_group_heads of its
 * query heads (n queries of the block, K keys up to the block's last query):
 *   load the queries   n·g·⌈d/4 / port words⌉ + fill
 *   pass 1             K · max(⌈n·g·d / qk MACs⌉, ⌈n·g / softmax lanes⌉, row, 2 scale reads) + fill
 *   pass 2             K · max(⌈n·g·d / qk MACs⌉ (scores recomputed; not in decode, which keeps
 *                      them on chip, as any block of one query), ⌈n·g·d / value lanes⌉,
 *                      ⌈n·g / softmax lanes⌉, V row and σv (one query), K and V rows and both
 *                      scales (else)) + fill
 *   output             n·g·⌈d / port words⌉ (binary32 rows written) + fill
 * with row = int8RowCycles(d). A pass lasts at least its KV bytes at the achieved DDR rate
 * (`bytesPerCycle`; d int8 and two binary32 scales per key in pass 1; V and σv in pass 2 of one
 * query, both rows and scales otherwise).
 */
export function int8Attention(spec: ModelSpec, queries: number, cached: number, hw: LoadedHwConfig, bytesPerCycle: number): AttentionCost {
  const at = hw.config.attention;
  const dep = HLS_DEPTHS;
  const d = spec.headDim;
  const row = int8RowCycles(d, hw);
  const words = portWords(hw);
  const batches = headBatches(spec, hw);
  const P = at.prefill_pes;
  let cycles = hw.config.timing.attention_call_overhead_cycles;
  let bytes = 0;
  for (let b = 0; b * P < queries; b++) {
    const n = Math.min(P, queries - b * P);
    const keys = cached + b * P + n;
    const keep = n === 1; // a block of one query (decode) keeps its scores on chip
    for (const g of batches) {
      const qk = Math.ceil((n * g * d) / at.int8_qk_macs_per_cycle);
      const val = Math.ceil((n * g * d) / at.int8_value_lanes);
      const sm = Math.ceil((n * g) / at.softmax_lanes);
      const ii1 = Math.max(qk, sm, row, 2);
      const ii2 = Math.max(keep ? 0 : qk, val, sm, keep ? Math.max(row, 1) : Math.max(2 * row, 2));
      const bytes1 = keys * (d + 8);
      const bytes2 = keys * (keep ? d + 4 : 2 * d + 8);
      const pass1 = dep.attentionPass1 + Math.max(keys * ii1, bytes1 / bytesPerCycle);
      const pass2 = dep.attentionPass2 + Math.max(keys * ii2, bytes2 / bytesPerCycle);
      const load = dep.attentionLoadQ + n * g * Math.ceil(d / 4 / words);
      const out = dep.attentionOut + n * g * Math.ceil(d / words);
      cycles += spec.numKvHeads * (load + pass1 + pass2 + out);
      bytes += spec.numKvHeads * (bytes1 + bytes2);
    }
  }
  return { cycles, bytes };
}

/**
 * The head quantisers of q, k or v (hls/src/head_quant.cpp; numerics §8.3), for `heads` heads of
 * `tokens` tokens: per head an absmax pass (a port word a cycle) and a quantise pass (four int8 a
 * cycle, one word written). DDR bytes: the binary32 head read, the int8 head and its scale written.
 */
export function headQuantCycles(spec: ModelSpec, heads: number, tokens: number, hw: LoadedHwConfig): AttentionCost {
  const d = spec.headDim;
  const perHead = HLS_DEPTHS.headQuantMax + Math.ceil(d / portWords(hw)) + HLS_DEPTHS.headQuantQuantize + Math.ceil(d / 4);
  return { cycles: tokens * heads * perHead, bytes: tokens * heads * (4 * d + d + 4) };
}
