/**
 * The one place the known-answer code builds a golden model. When the golden model gains an
 * option (a numerics profile, a hardware build), only this function changes.
 */

import type { Checkpoint } from '../../host/src/checkpoint/types.js';
import { GoldenModel } from '../../host/src/golden/model.js';
import { TellmeError } from '../../host/src/errors.js';
import { profileId, V1, type NumericsProfile } from './profiles.js';

export async function openGolden(ckpt: Checkpoint, profile: NumericsProfile, contextLength: number): Promise<GoldenModel> {
  if (profileId(profile) !== profileId(V1)) {
    throw new TellmeError('E_USAGE', `the golden model does not implement the numerics profile ${profileId(profile)} yet`);
  }
  return GoldenModel.fromCheckpoint(ckpt, { threads: 2, contextLength });
}
