/** The float reference's logits of a token sequence (`tellme logits --backend float`). */
import type { Checkpoint } from '../checkpoint/types.js';
import { FloatReference, type ReferenceOptions } from './model.js';

/** Logits of every position of ids (positions 0 .. n-1), binary32, training-time semantics. */
export async function floatLogits(ckpt: Checkpoint, ids: number[], opts: ReferenceOptions = {}): Promise<Float32Array[]> {
  const ref = await FloatReference.fromCheckpoint(ckpt, opts);
  try {
    return await ref.forward(ids, { logits: 'all' });
  } finally {
    ref.dispose();
  }
}
