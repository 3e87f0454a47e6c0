/**
 * Microbenchmark: the golden model's TLMM lookup kernel (host/wasm/kernels.c tlmm_lookup16) on the
 * worker pool, streaming 24 matrices of 4096 rows x 512 groups (50 MB of indices, more than the
 * caches hold, as in a 0.73B decode step), with 1 and 2 threads, and the cost of one dispatch.
 *
 *   npx tsx bench/tlmm-kernel.ts
 */
import { KernelPool } from '../host/src/kernels/pool.js';

const ROWS = 4096;
const GROUPS = 512;
const MATRICES = 24;

for (const threads of [1, 2]) {
  const pool = await KernelPool.create(threads);
  const a = pool.arena;
  const io = a.alloc(ROWS * GROUPS * MATRICES, 64);
  const idx = a.u8(io, ROWS * GROUPS * MATRICES);
  for (let i = 0; i < idx.length; i++) idx[i] = (i * 7919) % 27;
  const ao = a.alloc(GROUPS * 3);
  const act = a.i8(ao, GROUPS * 3);
  for (let i = 0; i < act.length; i++) act[i] = ((i * 37) % 255) - 127;
  const to = a.alloc(KernelPool.tableBytes(GROUPS));
  pool.buildTables(ao, GROUPS, to);
  const acc = a.alloc(ROWS * 4);
  const pass = () => {
    for (let l = 0; l < MATRICES; l++) pool.tlmm(io + l * ROWS * GROUPS, GROUPS, to, acc, ROWS / 16);
  };
  for (let w = 0; w < 5; w++) pass();
  const t0 = performance.now();
  const reps = 10;
  for (let k = 0; k < reps; k++) pass();
  const dt = performance.now() - t0;
  const t1 = performance.now();
  for (let k = 0; k < 2000; k++) pool.tlmm(io, 32, to, acc, 16);
  const dispatch = ((performance.now() - t1) / 2000) * 1000;
  process.stdout.write(
    `threads ${threads}: ${((ROWS * GROUPS * MATRICES * reps) / dt / 1e6).toFixed(2)} G lookups/s, ` +
      `${((dt / reps / MATRICES) * 1000).toFixed(0)} us per 4096-row matrix, ${dispatch.toFixed(1)} us per small call\n`,
  );
  await pool.close();
}
