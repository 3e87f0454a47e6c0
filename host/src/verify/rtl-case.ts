/**
 * Case files for the Verilator testbench of the TLMM engine (sim/tlmm/tb_tlmm_engine.cpp; format in
 * sim/README.md). A job is one call of the engine: a weight tile, packed into the exact beats the
 * board's loader reads (layout/beats.ts, the image's own packer), and a block of tokens of int8
 * activations; its expected accumulators come from the golden TLMM (tlmm/tables.ts: the tables and
 * lookups the golden model runs).
 */
import * as fs from 'node:fs';
import { TellmeError } from '../errors.js';
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { packLayout, packWeights } from '../layout/beats.js';
import { TABLE_ENTRIES, type TlmmMatrix } from '../tlmm/encoding.js';
import { buildTables, lookupRows } from '../tlmm/tables.js';

export const CASE_MAGIC = 'TLMMCAS1';

export interface TlmmJob {
  /** A human-readable name (reports). */
  name: string;
  /** The weight matrix; the job computes rows [rowStart, rowStart + rows) of it. */
  matrix: TlmmMatrix;
  rowStart: number;
  rows: number;
  /** int8 activations [tokens][matrix.cols]. */
  act: Int8Array;
  tokens: number;
  /** Fill the activations past K (up to the whole last chunk) with this value instead of 0. */
  padValue?: number;
  /** The tile's beat stream as a model image holds it (else packed here with layout/beats.ts). */
  beats?: Uint8Array;
}

export interface EncodedJob {
  rows: number;
  chunks: number;
  k: number;
  tokens: number;
  flags: number;
  weights: Uint8Array;
  act: Int8Array;
  expected: Int32Array;
}

/** Golden accumulators of rows [r0, r0 + rows) for every token: [tokens][rows]. */
export function goldenAccumulators(m: TlmmMatrix, act: Int8Array, tokens: number, r0: number, rows: number): Int32Array {
  const out = new Int32Array(tokens * rows);
  const tables = new Int32Array(m.groups * TABLE_ENTRIES);
  const acc = new Int32Array(m.rows);
  for (let t = 0; t < tokens; t++) {
    buildTables(act, t * m.cols, m.cols, m.groups, tables);
    lookupRows(m, tables, acc, r0, r0 + rows);
    out.set(acc.subarray(r0, r0 + rows), t * rows);
  }
  return out;
}

export function encodeJob(job: TlmmJob, hw: LoadedHwConfig): EncodedJob {
  const d = hw.derived;
  const m = job.matrix;
  const chunks = Math.ceil(m.cols / d.chunkElements);
  if (job.act.length !== job.tokens * m.cols) {
    throw new TellmeError('E_INTERNAL', `${job.name}: ${job.act.length} activations for ${job.tokens} tokens of ${m.cols}`);
  }
  if (job.rowStart < 0 || job.rowStart + job.rows > m.rows) throw new TellmeError('E_INTERNAL', `${job.name}: rows outside the matrix`);
  const weights = job.beats ?? packWeights(m, packLayout(hw, [{ rowStart: job.rowStart, rows: job.rows, chunkStart: 0, chunks }], 'dense'));
  const width = chunks * d.chunkElements;
  const act = new Int8Array(job.tokens * width).fill(job.padValue ?? 0);
  for (let t = 0; t < job.tokens; t++) act.set(job.act.subarray(t * m.cols, (t + 1) * m.cols), t * width);
  const expected = goldenAccumulators(m, job.act, job.tokens, job.rowStart, job.rows);
  return { rows: job.rows, chunks, k: m.cols, tokens: job.tokens, flags: 0, weights, act, expected };
}

/**
 * A command the engine must refuse (a shape past the build's maxima, or zero): no weights or
 * activations are sent, and the testbench checks the refusal and that nothing comes out.
 */
export function refusalJob(rows: number, k: number, tokens: number, hw: LoadedHwConfig): EncodedJob {
  const chunks = Math.ceil(k / hw.derived.chunkElements);
  return { rows, chunks, k, tokens, flags: 1, weights: new Uint8Array(0), act: new Int8Array(tokens * chunks * hw.derived.chunkElements), expected: new Int32Array(tokens * rows) };
}

/** The case file bytes for a list of jobs on one build. */
export function caseFileBytes(jobs: EncodedJob[], hw: LoadedHwConfig): Uint8Array {
  const d = hw.derived;
  const parts: Uint8Array[] = [];
  const u32s = (...v: number[]) => {
    const b = new Uint8Array(4 * v.length);
    const dv = new DataView(b.buffer);
    v.forEach((x, i) => dv.setUint32(4 * i, x, true));
    parts.push(b);
  };
  parts.push(new TextEncoder().encode(CASE_MAGIC));
  u32s(d.beatBytes, d.chunkElements, d.parallelVectors, d.accumulatorBits, jobs.length);
  for (const j of jobs) {
    u32s(j.rows, j.chunks, j.k, j.tokens, j.flags, j.weights.length);
    parts.push(j.weights);
    parts.push(new Uint8Array(j.act.buffer, j.act.byteOffset, j.act.byteLength));
    const e = new Uint8Array(j.expected.length * 4);
    const dv = new DataView(e.buffer);
    j.expected.forEach((x, i) => dv.setInt32(4 * i, x, true));
    parts.push(e);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function writeCaseFile(path: string, jobs: (TlmmJob | EncodedJob)[], hw: LoadedHwConfig): EncodedJob[] {
  const encoded = jobs.map((j) => ('matrix' in j ? encodeJob(j, hw) : j));
  fs.writeFileSync(path, caseFileBytes(encoded, hw));
  return encoded;
}
