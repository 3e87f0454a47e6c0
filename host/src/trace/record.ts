/**
 * Recording a golden-model trace: prefill the ids, then greedy decode steps, with an observer
 * that writes every tensor (docs/trace.md) as it appears.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TellmeError } from '../errors.js';
import type { GoldenModel } from '../golden/model.js';
import type { TraceTensor } from '../golden/observer.js';
import { argmax } from '../runtime/sampling.js';
import { METADATA_FILE, TRACE_FORMAT, TRACE_FORMAT_VERSION, traceFileName, type TraceEntry, type TraceMetadata } from './format.js';

export interface RecordTraceOptions {
  ids: readonly number[];
  decodeSteps: number;
  outDir: string;
  model: TraceMetadata['model'];
  hardware: TraceMetadata['hardware'];
  /** Replace a trace already in outDir (file by file; the CLI's --overwrite). */
  overwrite?: boolean;
}

/** Run the golden model with a trace observer; returns the metadata written to outDir. */
export function recordTrace(golden: GoldenModel, opts: RecordTraceOptions): TraceMetadata {
  if (opts.ids.length === 0) throw new TellmeError('E_USAGE', 'no ids to trace', 'pass --ids 1,2,3');
  if (opts.ids.length + opts.decodeSteps > golden.contextLength) {
    throw new TellmeError('E_USAGE', `${opts.ids.length} ids + ${opts.decodeSteps} decode steps exceed the context (${golden.contextLength})`, 'trace fewer tokens or pass a larger --context');
  }
  fs.mkdirSync(opts.outDir, { recursive: true });
  if (!opts.overwrite && fs.existsSync(path.join(opts.outDir, METADATA_FILE))) {
    throw new TellmeError('E_USAGE', `${opts.outDir} already holds a trace`, 'choose an empty output directory, or pass --overwrite to replace it');
  }
  const tensors: TraceEntry[] = [];
  const seen = new Set<string>();
  const previous = golden.observer;
  golden.observer = (t: TraceTensor) => {
    const file = traceFileName(t);
    if (seen.has(file)) throw new TellmeError('E_INTERNAL', `trace tensor ${file} observed twice`);
    seen.add(file);
    fs.writeFileSync(path.join(opts.outDir, file), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    tensors.push({ name: t.name, layer: t.layer, position: t.position, pass: t.pass, dtype: t.dtype, shape: [...t.shape], file });
  };
  try {
    golden.reset();
    let logits = golden.prefill(opts.ids, { allLogits: true });
    for (let s = 0; s < opts.decodeSteps; s++) logits = [golden.decode(argmax(logits[logits.length - 1]!))];
  } finally {
    golden.observer = previous;
  }
  const meta: TraceMetadata = {
    format: TRACE_FORMAT,
    format_version: TRACE_FORMAT_VERSION,
    producer: 'tellme trace (golden model)',
    model: opts.model,
    hardware: opts.hardware,
    ids: [...opts.ids],
    decode_steps: opts.decodeSteps,
    tensors,
  };
  fs.writeFileSync(path.join(opts.outDir, METADATA_FILE), JSON.stringify(meta, null, 1) + '\n');
  return meta;
}
