/**
 * Bounded chat-template rendering. A chat template is a program from the checkpoint: one with
 * `range(100000000)` runs the heap out, two nested loops never end. Templates are rendered on a
 * worker thread with a heap limit, a time limit and an output-size limit, synchronously for the
 * caller (it waits on a shared flag); any of the three is reported as a template error.
 */

import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';

export interface TemplateLimits {
  /** Wall-clock limit in milliseconds (includes the worker's start, ~50 ms). */
  timeoutMs: number;
  /** Characters of output at most. */
  maxChars: number;
  /** Heap of the rendering thread, MiB. */
  heapMb: number;
}

/** Generous for any real template (they render in milliseconds to a few kB per message). */
export const TEMPLATE_LIMITS: TemplateLimits = { timeoutMs: 10_000, maxChars: 4 * 1024 * 1024, heapMb: 256 };

export type RenderResult = { kind: 'ok'; text: string } | { kind: 'error'; message: string };

type WorkerResult = { kind: 'ok'; text: string } | { kind: 'too-long'; length: number } | { kind: 'error'; message: string };

/** Render `source` with `context` within `limits`; never throws for what the template does. */
export function renderTemplateBounded(source: string, context: Record<string, unknown>, limits: TemplateLimits = TEMPLATE_LIMITS): RenderResult {
  const done = new SharedArrayBuffer(4);
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL('./template-worker.js', import.meta.url), {
    workerData: { source, context, maxChars: limits.maxChars, done, port: port2 },
    transferList: [port2],
    resourceLimits: { maxOldGenerationSizeMb: limits.heapMb, maxYoungGenerationSizeMb: 16 },
    stdout: true,
    stderr: true,
  });
  worker.unref();
  // A worker that runs out of heap dies without setting the flag: the wait then ends at the timeout.
  let died = false;
  worker.once('error', () => (died = true));
  const flag = new Int32Array(done);
  const waited = Atomics.wait(flag, 0, 0, limits.timeoutMs);
  const msg = receiveMessageOnPort(port1)?.message as WorkerResult | undefined;
  port1.close();
  void worker.terminate();
  if (waited === 'timed-out' || !msg || died) {
    return { kind: 'error', message: `rendering did not finish within ${limits.timeoutMs / 1000} s and ${limits.heapMb} MiB (a loop too long, or output too large)` };
  }
  if (msg.kind === 'too-long') return { kind: 'error', message: `the rendered prompt has ${msg.length} characters, more than the ${limits.maxChars} allowed` };
  return msg;
}
