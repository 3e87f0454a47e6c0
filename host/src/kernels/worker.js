// A kernel worker: runs its share of the rows of each job the main thread posts.
// Plain JavaScript so it runs from host/src (tests) and from dist/ alike. See pool.ts for the
// protocol; the job layout below must match it.
import { parentPort, workerData } from 'node:worker_threads';

const { memory, wasmBytes, ctrlOff, slot } = workerData;
const instance = new WebAssembly.Instance(new WebAssembly.Module(wasmBytes), { env: { memory } });
const { tlmm_lookup16, i8_dot_rows } = instance.exports;

// ctrl layout (Int32 words): per worker slot s at base = 16*s: [seq, done, op, a0..a8]
const ctrl = new Int32Array(memory.buffer, ctrlOff, 16 * 64);
const base = 16 * slot;
let seen = 0;
parentPort.postMessage('ready');
for (;;) {
  Atomics.wait(ctrl, base, seen);
  const seq = Atomics.load(ctrl, base);
  if (seq === seen) continue;
  seen = seq;
  const op = ctrl[base + 2];
  if (op === 0) break; // quit
  const a = ctrl;
  const b = base + 3;
  if (op === 1) tlmm_lookup16(a[b], a[b + 1], a[b + 2], a[b + 3], a[b + 4], a[b + 5]);
  else if (op === 2) i8_dot_rows(a[b], a[b + 1], a[b + 2], a[b + 3], a[b + 4], a[b + 5], a[b + 6]);
  Atomics.store(ctrl, base + 1, seq);
  Atomics.notify(ctrl, base + 1);
}
