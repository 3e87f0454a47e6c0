/**
 * The one place the known-answer code builds a golden model: with the profile's contract
 * choices (GoldenOptions.numerics), 2 threads and the given context.
 */

import type { Checkpoint } from '../../host/src/checkpoint/types.js';
import { GoldenModel } from '../../host/src/golden/model.js';
import { SHORTLIST_K, type NumericsProfile } from './profiles.js';

export async function openGolden(ckpt: Checkpoint, profile: NumericsProfile, contextLength: number): Promise<GoldenModel> {
  return GoldenModel.fromCheckpoint(ckpt, { threads: 2, contextLength, numerics: { ...profile, shortlist_k: SHORTLIST_K } });
}
