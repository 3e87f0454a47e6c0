/**
 * Known answers of whole golden-model passes on tiny models, tensor by tensor: for a few small
 * cases (a preset built in the test, a handful of tokens, prefill, chunked prefill, decode,
 * verify after a rollback, reset), the hash of every logit vector returned and, per tensor name
 * the observer sees (docs/numerics.md §11), one hash over every emission of that name in order
 * (its layer, position, pass, format, shape and bits), plus the `trace` callback's vectors.
 *
 * A one-ulp change anywhere in the pass changes the hash of the first tensor it reaches, even
 * when the int8 quantisers that follow absorb it before the logits (the reason the whole-model
 * known answers of kat.test.ts miss such changes). These run in well under a second per case, so
 * the golden model's mutation run (tools/mutation/folders.mjs) includes them.
 *
 * Written by `npm run kat:update` (cli.ts) into fixtures/forward-passes.json; checked by
 * test/golden/forward.test.ts. Like every known answer, a change comes with a docs/numerics.md change.
 */

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import type { Checkpoint } from '../../host/src/checkpoint/types.js';
import { GoldenModel } from '../../host/src/golden/model.js';
import type { TraceTensor } from '../../host/src/golden/observer.js';
import type { ContractNumerics } from '../../host/src/hwconfig/types.js';
import { writeTestModel, type TestModelInput } from '../../host/src/testmodels/index.js';
import { FIXTURE_ROOT, formatJson } from './fixtures.js';
import { GENERATED_BY } from './record.js';

export type ForwardStep =
  | { op: 'prefill'; ids: number[]; allLogits?: boolean }
  | { op: 'decode'; id: number }
  | { op: 'verify'; ids: number[]; kvOffset: number }
  | { op: 'reset' };

export interface ForwardCase {
  name: string;
  /** What the case exercises (in the fixture, for a reader). */
  covers: string;
  model: TestModelInput;
  numerics: ContractNumerics;
  context: number;
  steps: ForwardStep[];
}

export const FORWARD_CASES: readonly ForwardCase[] = [
  {
    name: 'bitnet-gqa-relu2-subnorms.kv-fp16',
    covers: 'GQA 6 on 2 heads, ReLU², attention and FFN sub-norms, tied head; binary16 KV: prefill datapath (all logits), a second prefill chunk at position 4, two decode steps, verify after rolling one token back, a decode at position 0 after reset',
    model: { preset: 'bitnet-tiny-packed', layers: 2 },
    numerics: { kv_format: 'fp16', lm_head: 'int8', shortlist_k: 8 },
    context: 12,
    steps: [
      { op: 'prefill', ids: [5, 17, 3, 99], allLogits: true },
      { op: 'prefill', ids: [42, 7] },
      { op: 'decode', id: 11 },
      { op: 'decode', id: 12 },
      { op: 'verify', ids: [13, 14], kvOffset: 7 },
      { op: 'reset' },
      { op: 'decode', id: 200 },
    ],
  },
  {
    name: 'hf1bitllm-silu-nosubnorms.kv-int8',
    covers: 'GQA 4 on 2 heads, SiLU gate, no sub-norms, untied head; int8 q/k/v and KV (§8.3) in prefill, decode and verify',
    model: { preset: 'hf1bitllm-tiny' },
    numerics: { kv_format: 'int8', lm_head: 'int8', shortlist_k: 8 },
    context: 12,
    steps: [
      { op: 'prefill', ids: [1, 250, 64, 9, 300], allLogits: true },
      { op: 'decode', id: 8 },
      { op: 'decode', id: 319 },
      { op: 'verify', ids: [2, 4, 6], kvOffset: 6 },
    ],
  },
  {
    name: 'hf1bitllm-unaligned.kv-fp16',
    covers: 'hidden 72 and intermediate 200, neither a multiple of 16: every fused part padded to whole 16-row blocks, head rows padded to the 16-byte stride',
    model: { preset: 'hf1bitllm-tiny', hidden: 72, intermediate: 200 },
    numerics: { kv_format: 'fp16', lm_head: 'int8', shortlist_k: 8 },
    context: 6,
    steps: [
      { op: 'prefill', ids: [7, 70, 170], allLogits: true },
      { op: 'decode', id: 270 },
    ],
  },
  {
    name: '1bitllm-mha-subnorms.kv-int8.shortlist',
    covers: 'MHA (4 heads), SiLU, sub-norms, 3 layers, untied; int8 KV with the ternary-shortlist head (K = 8)',
    model: { preset: '1bitllm-tiny' },
    numerics: { kv_format: 'int8', lm_head: 'ternary-shortlist', shortlist_k: 8 },
    context: 8,
    steps: [
      { op: 'prefill', ids: [3, 200, 77], allLogits: true },
      { op: 'decode', id: 383 },
    ],
  },
];

export interface TensorRecord {
  /** Emissions of this name over the whole case. */
  count: number;
  hash: string;
}

export interface ForwardRecord {
  name: string;
  covers: string;
  /** Per observed tensor name, in order of first emission. */
  tensors: Record<string, TensorRecord>;
  /** The ForwardOptions.trace callback's vectors (embed, layer_out, final_norm). */
  trace: TensorRecord;
  /** Per returned logit vector, in call order: its hash and argmax. */
  logits: { hash: string; argmax: number }[];
}

export interface ForwardFixture {
  generated_by: string;
  cases: ForwardRecord[];
}

export const FORWARD_FIXTURE = path.join(FIXTURE_ROOT, 'forward-passes.json');

function bytesOf(v: Float32Array | Uint16Array | Int8Array | Int32Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** Hashes in emission order, each emission's metadata before its bits. */
class TensorHashes {
  private readonly byName = new Map<string, { count: number; h: ReturnType<typeof createHash> }>();
  add(name: string, meta: unknown, data: Float32Array | Uint16Array | Int8Array | Int32Array): void {
    let e = this.byName.get(name);
    if (!e) this.byName.set(name, (e = { count: 0, h: createHash('sha256') }));
    e.count++;
    e.h.update(JSON.stringify(meta)).update(bytesOf(data));
  }
  done(): Record<string, TensorRecord> {
    return Object.fromEntries([...this.byName].map(([k, e]) => [k, { count: e.count, hash: e.h.digest('hex').slice(0, 16) }]));
  }
}

function argmaxOf(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** The tiny checkpoint of a case, written to a fresh temporary directory. */
export function caseCheckpoint(c: ForwardCase): { ckpt: Checkpoint; dispose(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-forward-'));
  writeTestModel(dir, c.model);
  return { ckpt: openCheckpoint(dir), dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Run a case's steps on a fresh golden model built from ckpt (1 thread) and record what it
 * computed; `plant` may change the model first (the test's planted one-bit change).
 */
export async function recordForward(c: ForwardCase, ckpt: Checkpoint, plant?: (g: GoldenModel) => void): Promise<ForwardRecord> {
  const g = await GoldenModel.fromCheckpoint(ckpt, { threads: 1, contextLength: c.context, numerics: c.numerics });
  try {
    plant?.(g);
    const tensors = new TensorHashes();
    const traced = new TensorHashes();
    g.observer = (t: TraceTensor) => tensors.add(t.name, [t.layer, t.position, t.pass, t.dtype, t.shape], t.data);
    const trace = (layer: number, stage: string, token: number, values: Float32Array) => traced.add('trace', [layer, stage, token, values.length], values);
    const logits: Float32Array[] = [];
    for (const s of c.steps) {
      if (s.op === 'prefill') logits.push(...g.prefill(s.ids, { allLogits: s.allLogits ?? false, trace }));
      else if (s.op === 'decode') logits.push(g.decode(s.id, { trace }));
      else if (s.op === 'verify') logits.push(...g.verify(s.ids, s.kvOffset, { trace }));
      else g.reset();
    }
    const hash = (v: Float32Array) => createHash('sha256').update(bytesOf(v)).digest('hex').slice(0, 16);
    return {
      name: c.name,
      covers: c.covers,
      // Tensors first: a difference report then starts at the first tensor that changed.
      tensors: tensors.done(),
      trace: traced.done()['trace'] ?? { count: 0, hash: '' },
      logits: logits.map((v) => ({ hash: hash(v), argmax: argmaxOf(v) })),
    };
  } finally {
    await g.close();
  }
}

export async function recordAllForward(): Promise<ForwardFixture> {
  const cases: ForwardRecord[] = [];
  for (const c of FORWARD_CASES) {
    const { ckpt, dispose } = caseCheckpoint(c);
    try {
      cases.push(await recordForward(c, ckpt));
    } finally {
      dispose();
    }
  }
  return { generated_by: GENERATED_BY, cases };
}

export function readForwardFixture(): ForwardFixture | null {
  return fs.existsSync(FORWARD_FIXTURE) ? (JSON.parse(fs.readFileSync(FORWARD_FIXTURE, 'utf8')) as ForwardFixture) : null;
}

export function writeForwardFixture(f: ForwardFixture): string {
  fs.writeFileSync(FORWARD_FIXTURE, formatJson(f) + '\n');
  return FORWARD_FIXTURE;
}
