/**
 * The job of the whole-accelerator C simulation (hls/csim/accel_tb.cpp): what the firmware does
 * with a model image before the first pass (load the image's DDR sections at their manifest
 * offsets, program the shape and the DDR map, docs/registers.md §3-4), written as the driver's
 * text job file.
 */
import * as fs from 'node:fs';
import type { ModelImage } from '../image/reader.js';
import { registerValues } from '../layout/register-values.js';
import { REGISTERS } from '../regmap/registers.js';
import { TellmeError } from '../errors.js';

export interface CsimJobOptions {
  /** Prompt ids (at most 16: one prefill with the head at every position). */
  ids: readonly number[];
  decodeSteps: number;
  /** Where the driver writes its trace (docs/trace.md file names); omitted: no trace. */
  traceDir?: string;
  /** Print the cycle report's steps of the last decode step. */
  steps?: boolean;
  /** Then one VERIFY pass over the decoded tokens, whose head records must equal the DECODE ones. */
  verifyCheck?: boolean;
  /**
   * The first decode step at this KV position instead of right after the prompt (a cycle report at
   * a long context; the cache rows in between hold zeros, so the tokens are no model's output).
   */
  decodeAt?: number;
}

/** Most prompt tokens of one job: the prefill's head runs at every position, head.out holds 16 records. */
export const CSIM_MAX_PROMPT = 16;

/** Register writes (offset, 32-bit value) that program a model image's shape and DDR map. */
export function registerWrites(image: ModelImage): [number, number][] {
  const m = image.manifest;
  const scale = new Map(m.matrices.map((x) => [`${x.layer}.${x.linear}`, x.scale]));
  const values = registerValues(image.spec, image.hw, image.uram, m.ddr, (layer, linear) => {
    const s = scale.get(`${layer}.${linear}`);
    if (s === undefined) throw new TellmeError('E_IMAGE', `${image.path}: the manifest has no matrix ${linear} of layer ${layer}`, 'Re-convert the model with tellme convert.');
    return s;
  });
  const writes: [number, number][] = [];
  const put = (name: string, value: number) => {
    const info = (REGISTERS as Record<string, { offset: number; bits: 32 | 64 }>)[name];
    if (!info) throw new TellmeError('E_INTERNAL', `no register ${name}`);
    writes.push([info.offset, value >>> 0]);
    if (info.bits === 64) writes.push([info.offset + 4, Math.floor(value / 2 ** 32) >>> 0]);
  };
  for (const [name, v] of Object.entries(values.scalars)) put(name, v);
  for (const [name, vs] of Object.entries(values.arrays)) {
    const info = (REGISTERS as Record<string, { offset: number }>)[name]!;
    vs.forEach((v, i) => writes.push([info.offset + 4 * i, v >>> 0]));
  }
  // The C simulation's DDR array sits at bus address 0: every m_axi window base is 0.
  for (const name of ['ddr_act', 'ddr_kv', 'ddr_head', 'ddr_side', 'ddr_out']) put(name, 0);
  for (let p = 0; p < image.hw.config.memory.weight_ports; p++) put(`ddr_w${p}`, 0);
  return writes;
}

/** Write the job file for a model image; returns its path. */
export function writeCsimJob(image: ModelImage, file: string, opts: CsimJobOptions): string {
  if (opts.ids.length === 0 || opts.ids.length > CSIM_MAX_PROMPT) {
    throw new TellmeError('E_USAGE', `the C simulation's prompt has ${opts.ids.length} tokens; it takes 1 to ${CSIM_MAX_PROMPT}`, `Pass at most ${CSIM_MAX_PROMPT} prompt ids.`);
  }
  const m = image.manifest;
  const embedding = m.ddr.regions.find((r) => r.name === 'embedding');
  if (!embedding) throw new TellmeError('E_IMAGE', `${image.path}: the DDR map has no embedding region`, 'Re-convert the model with tellme convert.');
  const lines = [`image ${image.path}`, `ddr_bytes ${m.ddr.total_bytes}`];
  for (const s of m.sections) if (s.ddr_offset !== null) lines.push(`section ${s.offset} ${s.size} ${s.ddr_offset}`);
  for (const [o, v] of registerWrites(image)) lines.push(`reg ${o} ${v}`);
  lines.push(`embedding ${embedding.offset}`, `hidden ${image.spec.hiddenSize}`, `vocab ${image.spec.vocabSize}`);
  lines.push(`ids ${opts.ids.join(' ')}`, `decode_steps ${opts.decodeSteps}`);
  if (opts.traceDir !== undefined) lines.push(`trace ${opts.traceDir}`);
  if (opts.steps) lines.push('steps 1');
  if (opts.verifyCheck) lines.push('verify_check 1');
  if (opts.decodeAt !== undefined) lines.push(`decode_at ${opts.decodeAt}`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** One step of a pass in accel_tb's report (with `steps` in the job): modelled cycles by kind. */
export interface AccelTbStep {
  name: string;
  layer: number;
  cycles: number;
  compute: number;
  load: number;
}

/** The JSON line accel_tb prints last (hls/csim/accel_tb.cpp). */
export interface AccelTbReport {
  ids: number[];
  tokens: number[];
  passes: { command: number; status: number; cycles: number; cpu_s: number }[];
  /** The job's VERIFY check (0 positions without `verifyCheck`). */
  verify: { positions: number; mismatches: number };
  /** Present only with `steps` in the job. */
  steps: AccelTbStep[];
}

/** accel_tb's report: the last line of its standard output. */
export function parseAccelTbReport(stdout: string): AccelTbReport {
  return JSON.parse(stdout.trim().split('\n').pop()!) as AccelTbReport;
}
