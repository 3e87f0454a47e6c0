/**
 * The LM head with |acc| > 2^24 (docs/numerics.md §9): the int32 accumulator is rounded to
 * binary32 before the multiply, `logit = f32(f32(acc) × c)`. No test preset reaches 2^24 (it
 * takes hidden ≥ 1041 and rows aligned with the final activation), so this builds one that
 * does: a 1-layer tied model with hidden 1536 whose embedding rows are ±1 and whose layer adds
 * little, so the final activation of token t quantises to nearly ±127 along row t and
 * acc_t ≈ 127² · 1536 · 0.95 > 2^24. The expected logits are computed here from the golden
 * model's final-norm output with the second transcription of the quantiser (no host/src code).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EMBED_NAME } from '../../host/src/checkpoint/names.js';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { readTensorBytes } from '../../host/src/checkpoint/safetensors.js';
import { writeSafetensors } from '../../host/src/checkpoint/safetensors-writer.js';
import { GoldenModel } from '../../host/src/golden/model.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { headFactorT, quantizeT, quantMultiplierT, R } from '../numerics/transcription.js';

const HIDDEN = 1536;
const VOCAB = 64;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** The sign pattern of embedding row t (a fixed LCG). */
function signs(t: number): Int8Array {
  let s = (t * 0x9e3779b9 + 12345) >>> 0;
  return Int8Array.from({ length: HIDDEN }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s & 0x80000000 ? -1 : 1;
  });
}

function writeAlignedModel(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-lmhead-'));
  dirs.push(dir);
  writeTestModel(dir, {
    preset: 'bitnet-tiny-packed',
    hidden: HIDDEN, heads: 12, kvHeads: 4, intermediate: 96, layers: 1, vocab: VOCAB,
    tokenizer: false, normSpread: 0, weightScale: [1e-4, 1e-4], embedStd: 1,
  });
  // Replace the embedding (the tied head) by bf16 ±1 rows; keep every other tensor.
  const ckpt = openCheckpoint(dir);
  const bf16 = new Uint16Array(VOCAB * HIDDEN);
  for (let t = 0; t < VOCAB; t++) signs(t).forEach((s, c) => (bf16[t * HIDDEN + c] = s > 0 ? 0x3f80 : 0xbf80));
  const tensors = [...ckpt.tensors.values()].map((info) => ({
    name: info.name,
    dtype: info.dtype,
    shape: info.shape,
    data: info.name === EMBED_NAME ? new Uint8Array(bf16.buffer) : readTensorBytes(info),
  }));
  const file = path.join(dir, 'model.safetensors');
  fs.rmSync(file);
  writeSafetensors(file, tensors);
  return dir;
}

describe('LM head: |acc| > 2^24 rounds to binary32 before the multiply', () => {
  it('logit_t = f32(f32(acc_t) × c_t) on rows whose accumulator passes 2^24', async () => {
    const ckpt = openCheckpoint(writeAlignedModel());
    const golden = await GoldenModel.fromCheckpoint(ckpt, { threads: 1, contextLength: 16 });
    const ids = [3, 17, 17, 40, 5, 62, 9, 28];
    const normed: Float32Array[] = [];
    let logits: Float32Array[];
    try {
      logits = golden.prefill(ids, { allLogits: true, trace: (_l, stage, _t, v) => stage === 'final_norm' && normed.push(v.slice()) });
    } finally {
      await golden.close();
    }
    let large = 0;
    let distinguished = 0;
    ids.forEach((id, pos) => {
      const y = normed[pos]!;
      const amax = y.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const s = quantMultiplierT(amax);
      const row = signs(id);
      let acc = 0; // exact: |acc| < 2^53
      for (let c = 0; c < HIDDEN; c++) acc += quantizeT(y[c]!, s) * 127 * row[c]!;
      const c = headFactorT(amax, 1); // row absmax 1: its int8 row is ±127
      const want = R(R(acc) * c);
      if (Math.abs(acc) > 2 ** 24) large++;
      if (R(acc * c) !== want) distinguished++;
      expect(logits[pos]![id], `position ${pos}, id ${id}, acc ${acc}`).toBe(want);
    });
    expect(large, 'positions whose head accumulator passes 2^24').toBe(ids.length);
    // At least one position where leaving out the rounding of acc would change the logit.
    expect(distinguished).toBeGreaterThan(0);
  });
});
