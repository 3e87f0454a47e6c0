/**
 * The trace (docs/trace.md): the golden model's observer sees every tensor of numerics §11, in
 * the format the hardware holds it; `tellme trace` writes them as raw files with metadata.json;
 * the comparer finds a planted one-bit change, a missing file and a wrong size, and accepts a
 * produced set without metadata.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/index.js';
import { GoldenModel } from '../../host/src/golden/model.js';
import type { TraceTensor } from '../../host/src/golden/observer.js';
import type { ContractNumerics } from '../../host/src/hwconfig/index.js';
import { compareTraces, openTrace } from '../../host/src/trace/compare.js';
import { DTYPE_BYTES } from '../../host/src/trace/format.js';
import { recordTrace } from '../../host/src/trace/record.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(tag: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `tellme-trace-${tag}-`));
  dirs.push(d);
  return d;
}

const LAYER_TENSORS = {
  common: [
    'input_norm.out', 'qkv.amax', 'qkv.in', 'q_proj.acc', 'k_proj.acc', 'v_proj.acc', 'q_proj.out', 'k_proj.out', 'v_proj.out',
    'attn.out', 'attn_sub_norm.out', 'o_proj.amax', 'o_proj.in', 'o_proj.acc', 'o_proj.out', 'residual.attn',
    'post_attention_norm.out', 'gate_up.amax', 'gate_up.in', 'gate_proj.acc', 'up_proj.acc', 'gate_proj.out', 'up_proj.out', 'ffn.act',
    'ffn_sub_norm.out', 'down_proj.amax', 'down_proj.in', 'down_proj.acc', 'down_proj.out', 'residual.ffn',
  ],
  fp16: ['attn.q', 'attn.k', 'attn.v'],
  int8: ['attn.q8', 'attn.q_scale', 'attn.k8', 'attn.k_scale', 'attn.v8', 'attn.v_scale'],
};

async function model(numerics: ContractNumerics) {
  const dir = tmp('model');
  writeTestModel(dir, { preset: 'bitnet-tiny-packed' }); // sub-norms: every tensor appears
  return GoldenModel.fromCheckpoint(openCheckpoint(dir), { threads: 1, contextLength: 8, numerics });
}

describe('the observer', () => {
  for (const [kv, head] of [['fp16', 'int8'], ['int8', 'ternary-shortlist']] as const) {
    it(`${kv} KV, ${head} head: every tensor of §11 per layer and position, in the hardware's format`, async () => {
      const g = await model({ kv_format: kv, lm_head: head, shortlist_k: 5 });
      const seen: TraceTensor[] = [];
      g.observer = (t) => seen.push({ ...t, data: t.data.slice() });
      const logits = g.prefill([3, 4, 5], { allLogits: true });
      g.decode(7);
      await g.close();
      const names = (layer: number, position: number) => seen.filter((t) => t.layer === layer && t.position === position).map((t) => t.name);
      expect(names(1, 3).sort()).toEqual([...LAYER_TENSORS.common, ...LAYER_TENSORS[kv]].sort());
      const headNames = seen.filter((t) => t.layer === null && t.position === 2).map((t) => t.name);
      expect(headNames).toEqual(['embed', 'final_norm.out', 'head.amax', 'head.in', ...(head === 'int8' ? ['head.acc', 'head.logits'] : ['head.ternary_acc', 'head.scores', 'head.shortlist', 'head.rescored'])]);
      expect(new Set(seen.map((t) => t.pass))).toEqual(new Set([0, 1]));
      // The head tensors are what the model returned.
      const last = seen.filter((t) => t.position === 2);
      if (head === 'int8') expect(Array.from(last.find((t) => t.name === 'head.logits')!.data)).toEqual(Array.from(logits[2]!));
      else {
        const ids = last.find((t) => t.name === 'head.shortlist')!.data;
        const rescored = last.find((t) => t.name === 'head.rescored')!.data;
        expect(ids.length).toBe(5);
        ids.forEach((id, i) => expect(logits[2]![id]).toBe(rescored[i]));
      }
      for (const t of seen) expect(t.dtype).toBe({ Float32Array: 'f32', Uint16Array: 'f16', Int8Array: 'i8', Int32Array: 'i32' }[t.data.constructor.name]);
    });
  }
});

describe('recordTrace and compareTraces', () => {
  it('writes raw files and metadata; finds a planted one-bit change, a missing file, a wrong size', async () => {
    const g = await model({ kv_format: 'int8', lm_head: 'int8', shortlist_k: 256 });
    const out = path.join(tmp('out'), 'trace');
    const meta = recordTrace(g, {
      ids: [3, 4, 5],
      decodeSteps: 2,
      outDir: out,
      model: { source: 'test', family: 'bitnet', layers: 2, hidden: 96, vocab: 512 },
      hardware: { name: 'test', hash: '0', numerics: g.numerics },
    });
    await g.close();
    expect(meta.tensors.length).toBe(fs.readdirSync(out).length - 1);
    for (const t of meta.tensors) expect(fs.statSync(path.join(out, t.file)).size).toBe(t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype]);
    expect(compareTraces(openTrace(out), openTrace(out))).toMatchObject({ differing: 0, first: null });

    // A produced set: the same files without metadata.json, one of them with a flipped bit.
    const produced = tmp('produced');
    for (const t of meta.tensors) fs.copyFileSync(path.join(out, t.file), path.join(produced, t.file));
    const victim = meta.tensors.find((t) => t.name === 'attn.out' && t.layer === 1 && t.position === 3)!;
    const bytes = fs.readFileSync(path.join(produced, victim.file));
    bytes[4 * 7]! ^= 1;
    fs.writeFileSync(path.join(produced, victim.file), bytes);
    const r = compareTraces(openTrace(out), openTrace(produced));
    expect(r.first).toMatchObject({ kind: 'value', element: 7, entry: { name: 'attn.out', layer: 1, position: 3 } });
    expect(r.differing).toBe(1);

    fs.rmSync(path.join(produced, victim.file));
    expect(compareTraces(openTrace(out), openTrace(produced)).first).toMatchObject({ kind: 'missing' });
    fs.writeFileSync(path.join(produced, victim.file), bytes.subarray(0, 8));
    expect(compareTraces(openTrace(out), openTrace(produced)).first).toMatchObject({ kind: 'size' });
    expect(() => recordTrace(g, { ids: [1], decodeSteps: 0, outDir: out, model: meta.model, hardware: meta.hardware })).toThrow(/already holds a trace/);
  });
});
