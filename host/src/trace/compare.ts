/**
 * Comparing a trace with another (docs/trace.md): the golden model's against one written by the
 * HLS C simulation, the RTL testbench or a board. Tensors are lined up by name, layer, position
 * and pass and compared bit for bit (the contract is bit-exact: −0 and +0 differ, so do two NaN
 * patterns); the report names the first difference in the datapath's order.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TellmeError } from '../errors.js';
import { f16ToF32 } from '../numerics/f16.js';
import { DTYPE_BYTES, METADATA_FILE, TRACE_FORMAT, traceKey, type TraceEntry, type TraceMetadata } from './format.js';

export interface TraceSet {
  dir: string;
  /** Null for a produced set without metadata.json (read by the expected trace's names). */
  metadata: TraceMetadata | null;
}

export function openTrace(dir: string): TraceSet {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new TellmeError('E_NOT_FOUND', `${dir} is not a directory`, 'pass a directory written by tellme trace (or by a testbench with the same file names)');
  }
  const file = path.join(dir, METADATA_FILE);
  if (!fs.existsSync(file)) return { dir, metadata: null };
  let m: TraceMetadata;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as TraceMetadata;
  } catch (e) {
    throw new TellmeError('E_USAGE', `${file}: not valid JSON: ${(e as Error).message}`, 'regenerate the trace');
  }
  if (m.format !== TRACE_FORMAT || !Array.isArray(m.tensors)) {
    throw new TellmeError('E_USAGE', `${file}: not a ${TRACE_FORMAT} metadata file`, 'pass a directory written by tellme trace');
  }
  return { dir, metadata: m };
}

export interface TraceDifference {
  entry: TraceEntry;
  kind: 'missing' | 'size' | 'dtype' | 'value';
  /** First differing element (value differences). */
  element?: number;
  expected?: number;
  actual?: number;
  detail: string;
}

export interface TraceComparison {
  compared: number;
  /** Tensors of the expected trace that differ (or are missing), in datapath order. */
  differing: number;
  first: TraceDifference | null;
}

function elementValue(bytes: Buffer, dtype: TraceEntry['dtype'], i: number): number {
  switch (dtype) {
    case 'f32':
      return bytes.readFloatLE(4 * i);
    case 'f16':
      return f16ToF32(bytes.readUInt16LE(2 * i));
    case 'i8':
      return bytes.readInt8(i);
    case 'i32':
      return bytes.readInt32LE(4 * i);
  }
}

function where(e: TraceEntry): string {
  return `${e.name}${e.layer === null ? '' : ` of layer ${e.layer}`} at position ${e.position} (pass ${e.pass})`;
}

/** Compare every tensor of `expected` with the same tensor of `actual`. */
export function compareTraces(expected: TraceSet, actual: TraceSet): TraceComparison {
  if (!expected.metadata) throw new TellmeError('E_USAGE', `${expected.dir} has no ${METADATA_FILE}`, 'the expected side must be a trace written by tellme trace');
  const actualEntries = new Map<string, TraceEntry>();
  for (const e of actual.metadata?.tensors ?? []) actualEntries.set(traceKey(e), e);
  let differing = 0;
  let first: TraceDifference | null = null;
  const note = (d: TraceDifference) => {
    differing++;
    first ??= d;
  };
  for (const e of expected.metadata.tensors) {
    const a = actual.metadata ? actualEntries.get(traceKey(e)) : e;
    const file = path.join(actual.dir, a?.file ?? e.file);
    if (!a || !fs.existsSync(file)) {
      note({ entry: e, kind: 'missing', detail: `${where(e)}: missing in ${actual.dir} (${e.file})` });
      continue;
    }
    if (a.dtype !== e.dtype) {
      note({ entry: e, kind: 'dtype', detail: `${where(e)}: format ${a.dtype}, expected ${e.dtype}` });
      continue;
    }
    const want = fs.readFileSync(path.join(expected.dir, e.file));
    const got = fs.readFileSync(file);
    if (got.length !== want.length) {
      note({ entry: e, kind: 'size', detail: `${where(e)}: ${got.length} bytes, expected ${want.length} (${e.shape.join('x')} ${e.dtype})` });
      continue;
    }
    if (got.equals(want)) continue;
    const w = DTYPE_BYTES[e.dtype];
    let i = 0;
    while (want.subarray(i * w, (i + 1) * w).equals(got.subarray(i * w, (i + 1) * w))) i++;
    const ev = elementValue(want, e.dtype, i);
    const av = elementValue(got, e.dtype, i);
    note({ entry: e, kind: 'value', element: i, expected: ev, actual: av, detail: `${where(e)}: element ${i} is ${Object.is(av, -0) ? '-0' : av}, expected ${Object.is(ev, -0) ? '-0' : ev}` });
  }
  return { compared: expected.metadata.tensors.length, differing, first };
}
