/**
 * llama.cpp through node-llama-cpp (a dev dependency: its prebuilt linux-x64 CPU binaries, never
 * a download or a build at run time), for the GGUF export test and the CPU anchor benchmark.
 */
import { getLlama, LlamaLogLevel, type Llama, type LlamaContext, type LlamaModel } from 'node-llama-cpp';

let instance: Promise<Llama> | null = null;

/** The CPU build of llama.cpp that node-llama-cpp ships (one per process). */
export function llamaCpp(): Promise<Llama> {
  instance ??= getLlama({ gpu: false, build: 'never', usePrebuiltBinaries: true, logLevel: LlamaLogLevel.error, progressLogs: false });
  return instance;
}

export async function loadGguf(file: string): Promise<LlamaModel> {
  const llama = await llamaCpp();
  return llama.loadModel({ modelPath: file, gpuLayers: 0 });
}

/** A fresh context (its own KV cache) of `contextSize` positions on `threads` threads. */
export function newContext(model: LlamaModel, contextSize: number, threads = 2): Promise<LlamaContext> {
  return model.createContext({ contextSize, threads: { ideal: threads, min: threads }, batchSize: contextSize });
}

/** The raw logits after evaluating `ids` (appended to what the context's sequence already holds). */
export async function logitsAfter(ctx: LlamaContext, ids: readonly number[], vocab: number): Promise<Float32Array> {
  const seq = ctx.getSequence();
  const items = ids.map((t, i) => (i === ids.length - 1 ? ([t, { generateNext: { logits: true } }] as const) : t));
  const res = await seq.controlledEvaluate(items as Parameters<typeof seq.controlledEvaluate>[0]);
  const map = res[ids.length - 1]?.next?.logits;
  if (!map || map.size !== vocab) throw new Error(`llama.cpp returned ${map?.size ?? 0} logits, expected ${vocab}`);
  const out = new Float32Array(vocab);
  for (const [id, v] of map) out[id] = v;
  seq.dispose();
  return out;
}
