// Renders one chat template off the main thread, so that the caller can bound its time and memory
// (template-render.ts). Plain JavaScript so it runs from host/src (tests) and from dist/ alike.
// Protocol: workerData {source, context, maxChars, done: SharedArrayBuffer(4), port}; posts one
// result object on `port`, then sets done[0] = 1 and notifies (the caller waits with Atomics.wait).
import { workerData } from 'node:worker_threads';
import { Environment, Template } from '@huggingface/jinja';

const { source, context, maxChars, done, port } = workerData;

// range() as jinja's, but refusing lists longer than the output could ever need: a worker that
// runs out of heap takes the whole Node process down with it (V8's fatal OOM), so the heap limit
// alone does not bound `range(100000000)`. jinja's globals cannot be redeclared from the context,
// so this worker (and only it: the patch lives in the worker's own module instance) swaps the
// function in where jinja declares its global.
const MAX_RANGE = 1_000_000;
function boundedRange(start, stop, step = 1) {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (step === 0) throw new Error('range() step must not be zero');
  const n = Math.max(0, Math.ceil((stop - start) / step));
  if (n > MAX_RANGE) throw new Error(`range() of ${n} items is more than the ${MAX_RANGE} a chat template may use`);
  const out = [];
  for (let i = 0; i < n; i++) out.push(start + i * step);
  return out;
}

const declare = Environment.prototype.set;
Environment.prototype.set = function (name, value) {
  return declare.call(this, name, name === 'range' && typeof value === 'function' ? boundedRange : value);
};

let result;
try {
  const text = new Template(source).render(context);
  result = text.length > maxChars ? { kind: 'too-long', length: text.length } : { kind: 'ok', text };
} catch (e) {
  result = { kind: 'error', message: e instanceof Error ? e.message : String(e) };
}
port.postMessage(result);
const flag = new Int32Array(done);
Atomics.store(flag, 0, 1);
Atomics.notify(flag, 0);
