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

export interface AttentionCost {
  cycles: number;
  bytes: number;
}

/** Pipeline fill of one pass of the int8 unit: DSP cascade + binary32 pipeline depth (assumed). */
export const INT8_PASS_LATENCY_CYCLES = 32;

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
 * The int8 unit for `queries` positions after `cached` tokens already in the cache (decode: 1
 * query; prefill: the prompt, cached 0; verify: N+1 queries at KV offset L). Query i sees keys
 * 0 .. cached + i. `bytesPerCycle` is the achieved DDR rate: each pass lasts as long as the slowest
 * of its arithmetic and its KV reads. Bytes per key and KV head: d int8 elements + a binary32 scale.
 */
export function int8Attention(spec: ModelSpec, queries: number, cached: number, hw: LoadedHwConfig, bytesPerCycle: number): AttentionCost {
  const at = hw.config.attention;
  const d = spec.headDim;
  const perKey = d + 4;
  const qk = at.int8_qk_macs_per_cycle;
  const val = at.int8_value_lanes;
  const sm = at.softmax_lanes;
  const batches = headBatches(spec, hw);
  const pass = (macsQk: number, macsV: number, scores: number, bytes: number) =>
    INT8_PASS_LATENCY_CYCLES + Math.max(Math.ceil(macsQk / qk), Math.ceil(macsV / val), Math.ceil(scores / sm), bytes / bytesPerCycle);
  let cycles = hw.config.timing.attention_call_overhead_cycles;
  let bytes = 0;
  if (queries === 1) {
    const keys = cached + 1;
    for (const g of batches) {
      // Pass 1: K, scores kept on chip (and their max); pass 2: V, exp, u, value sum.
      cycles += spec.numKvHeads * (pass(keys * g * d, 0, keys * g, keys * perKey) + pass(0, keys * g * d, keys * g, keys * perKey));
      bytes += spec.numKvHeads * 2 * keys * perKey;
    }
    return { cycles, bytes };
  }
  const P = at.prefill_pes;
  for (let b = 0; b * P < queries; b++) {
    const n = Math.min(P, queries - b * P);
    const keys = cached + b * P + n;
    for (const g of batches) {
      const pairs = n * g * keys;
      // Pass 1: K, scores, running max; pass 2: K and V, scores recomputed, exp, u, value sum.
      cycles += spec.numKvHeads * (pass(pairs * d, 0, pairs, keys * perKey) + pass(pairs * d, pairs * d, pairs, 2 * keys * perKey));
      bytes += spec.numKvHeads * 3 * keys * perKey;
    }
  }
  return { cycles, bytes };
}
