/**
 * GoldenModel.close() stops its pool's worker threads (host/src/golden/model.ts). Nothing a model
 * computes shows a pool left open (the workers are unref'd), so the threads are counted
 * (KernelPool.runningWorkers): two workers for three threads while the model runs, none after
 * close.
 */
import { describe, expect, it } from 'vitest';
import { GoldenModel } from '../../host/src/golden/model.js';
import { goldenWeightsFromCheckpoint } from '../../host/src/golden/weights.js';
import type { ContractNumerics } from '../../host/src/hwconfig/types.js';
import { testModel } from '../image/helpers.js';

const FP16: ContractNumerics = { kv_format: 'fp16', lm_head: 'int8', shortlist_k: 8 };

describe('GoldenModel.close() stops the worker threads', () => {
  it('a model on weights placed in its pool: 2 workers while it runs, 0 after close', async () => {
    const pool = await GoldenModel.createPool(3);
    const weights = await goldenWeightsFromCheckpoint(testModel({ preset: 'hf1bitllm-tiny' }), pool, { contextLength: 4 });
    const g = GoldenModel.fromWeights(weights, pool, FP16);
    expect(pool.runningWorkers).toBe(2);
    expect(g.prefill([1, 2, 3])[0]!.length).toBe(320);
    expect(pool.runningWorkers).toBe(2);
    await g.close();
    expect(pool.runningWorkers).toBe(0);
  });
});
