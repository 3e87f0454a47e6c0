/**
 * The writer's own checks for a tensor missing from a Checkpoint object (write-embedding.ts: the
 * embedding, an untied model's LM head; write-weights.ts: a packed linear's weight_scale).
 * openCheckpoint refuses a directory without them first (test/checkpoint), so these are reached
 * only by a caller that hands convertCheckpoint a Checkpoint whose tensor map lacks one: the
 * conversion is still refused with the tensor named, and no file is left behind.
 */
import { describe, it } from 'vitest';
import { EMBED_NAME, LM_HEAD_NAME } from '../../host/src/checkpoint/names.js';
import type { Checkpoint, TensorInfo } from '../../host/src/checkpoint/types.js';
import { testModel } from './helpers.js';
import { refused } from './writer-helpers.js';

const INCOMPLETE = 'The checkpoint is incomplete; re-download it.';

function without(ckpt: Checkpoint, name: string): Checkpoint {
  if (!(ckpt.tensors as Map<string, TensorInfo>).delete(name)) throw new Error(`no tensor ${name}`);
  return ckpt;
}

describe('a tensor missing from the Checkpoint object', () => {
  it('the embedding (tied head): E_CHECKPOINT naming it', async () => {
    const ckpt = testModel({ preset: 'bitnet-tiny-packed', tokenizer: false });
    await refused(without(ckpt, EMBED_NAME), 'E_CHECKPOINT', INCOMPLETE, `${ckpt.dir}: no ${EMBED_NAME}`);
  });

  it("an untied model's LM head: E_CHECKPOINT naming it", async () => {
    const ckpt = testModel({ preset: 'hf1bitllm-tiny', tokenizer: false });
    await refused(without(ckpt, LM_HEAD_NAME), 'E_CHECKPOINT', INCOMPLETE, `${ckpt.dir}: no ${LM_HEAD_NAME}`);
  });

  it("a packed linear's weight_scale: E_NOT_FOUND naming it", async () => {
    const ckpt = testModel({ preset: 'bitnet-tiny-packed', tokenizer: false });
    const name = 'model.layers.1.mlp.down_proj.weight_scale';
    await refused(without(ckpt, name), 'E_NOT_FOUND', INCOMPLETE, `${ckpt.dir}: no tensor '${name}' in this checkpoint`);
  });
});
