// One-thread kernel pools for a test file's golden weights, closed after the file's tests.
import { afterAll } from 'vitest';
import { GoldenModel } from '../../host/src/golden/model.js';
import type { KernelPool } from '../../host/src/kernels/pool.js';

/** Call at a test file's top level: returns a function that opens a pool closed after all tests. */
export function poolsClosedAfterAll(): () => Promise<KernelPool> {
  const pools: KernelPool[] = [];
  afterAll(async () => {
    for (const p of pools.splice(0)) await p.close();
  });
  return async () => {
    const p = await GoldenModel.createPool(1);
    pools.push(p);
    return p;
  };
}
