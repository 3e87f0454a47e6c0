/**
 * The trace format (docs/trace.md): one raw little-endian file per observed tensor, named
 * `p{pass}.t{position}[.L{layer}].{name}.bin`, and `metadata.json` listing every tensor in the
 * order the datapath produced it. What the HLS C simulation, the RTL testbenches and the board
 * write must follow the same names, so that `compareTraces` can line them up.
 */

import type { TraceDtype, TraceTensor } from '../golden/observer.js';

export const TRACE_FORMAT = 'tellme-trace';
export const TRACE_FORMAT_VERSION = 1;
export const METADATA_FILE = 'metadata.json';

/** An observed tensor as metadata.json lists it: its fields without the data, and its file. */
export interface TraceEntry extends Omit<TraceTensor, 'data'> {
  /** File name inside the trace directory. */
  file: string;
}

export interface TraceMetadata {
  format: typeof TRACE_FORMAT;
  format_version: number;
  /** What produced it: "tellme trace" (the golden model), an HLS testbench, … */
  producer: string;
  model: { source: string; family: string; layers: number; hidden: number; vocab: number };
  /** The hardware build whose numerics were traced (name, content hash, numerics). */
  hardware: { name: string; hash: string; numerics: { kv_format: string; lm_head: string; shortlist_k: number } };
  /** The command: prompt ids, decode steps. */
  ids: number[];
  decode_steps: number;
  tensors: TraceEntry[];
}

export const DTYPE_BYTES: Record<TraceDtype, number> = { f32: 4, f16: 2, i8: 1, i32: 4 };

/** The file name of a tensor (also what other producers must write). */
export function traceFileName(e: Pick<TraceEntry, 'name' | 'layer' | 'position' | 'pass'>): string {
  return `p${e.pass}.t${e.position}${e.layer === null ? '' : `.L${e.layer}`}.${e.name}.bin`;
}

/** A tensor's identity: equal keys are compared. */
export function traceKey(e: Pick<TraceEntry, 'name' | 'layer' | 'position' | 'pass'>): string {
  return traceFileName(e);
}
