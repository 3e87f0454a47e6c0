// Renders one chat template off the main thread, so that the caller can bound its time and memory
// (template-render.ts). Plain JavaScript so it runs from host/src (tests) and from dist/ alike.
// Protocol: workerData {source, context, maxChars, done: SharedArrayBuffer(4), port}; posts one
// result object on `port`, then sets done[0] = 1 and notifies (the caller waits with Atomics.wait).
import { workerData } from 'node:worker_threads';
import { Template } from '@huggingface/jinja';

const { source, context, maxChars, done, port } = workerData;
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
