/**
 * The numerics profiles known answers are recorded for: the per-build contract choices of
 * hw/boards/*.json → `numerics` (docs/numerics.md). Each profile's fixtures live in their own
 * folder, test/kat/fixtures/<profile id>/, so fixtures for new choices sit next to today's.
 */

import type { ContractNumerics } from '../../host/src/hwconfig/types.js';

/** The choices that change outputs (shortlist_k is fixed below for every profile). */
export type NumericsProfile = Pick<ContractNumerics, 'kv_format' | 'lm_head'>;

/** shortlist_k of every profile (the boards' value; used only by the ternary-shortlist head). */
export const SHORTLIST_K = 256;

/** Today's contract ("v1"): binary16 q/k/v and KV cache, int8 LM head over the whole vocabulary. */
export const V1: NumericsProfile = { kv_format: 'fp16', lm_head: 'int8' };

/**
 * int8 attention (docs/numerics.md §8.3): int8 q/k/v and KV cache with binary32 scales, exact
 * integer attention sums; int8 LM head over the whole vocabulary. What kv260, zcu104 and
 * alveo-u55c are sized for (docs/measurements.md §13.1).
 */
export const KV_INT8: NumericsProfile = { kv_format: 'int8', lm_head: 'int8' };

/** Every profile the boards use; the test checks each one's fixtures. */
export const PROFILES: readonly NumericsProfile[] = [V1, KV_INT8];

/** Folder name of a profile's fixtures, e.g. "kv-fp16.head-int8". */
export function profileId(p: NumericsProfile): string {
  return `kv-${p.kv_format}.head-${p.lm_head}`;
}
