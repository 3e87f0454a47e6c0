/**
 * Poisoned weights (issue 11): a NaN or infinity in any float tensor of a checkpoint is refused
 * where the weights are read, naming the tensor, by every command that loads them (convert,
 * generate, logits with both backends, eval); none of them exits 0 with null logits or token 0.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { readTensorF32, forEachF32Chunk } from '../../host/src/checkpoint/safetensors.js';
import { writeTestModel, type TestModelPresetName } from '../../host/src/testmodels/index.js';
import { ERROR_STYLE, tellmeInProcess as tellme } from '../cli/run-in-process.js';
import { expectTellme, rewriteSafetensors, tmpDir } from './helpers.js';

const root = tmpDir('poison');

/** A checkpoint of `preset` with one element of `tensor` (not the first) set to `value`. */
function poisoned(preset: TestModelPresetName, tensor: string, value: number, tag: string): string {
  const dir = path.join(root, tag);
  writeTestModel(dir, { preset });
  rewriteSafetensors(path.join(dir, 'model.safetensors'), (ts) => {
    const t = ts.find((x) => x.name === tensor)!;
    const data = new Uint8Array(t.data as Uint8Array);
    const at = 7; // an element no prompt in this test touches as a token row
    if (t.dtype === 'F32') new DataView(data.buffer).setFloat32(at * 4, value, true);
    else if (t.dtype === 'BF16') new DataView(data.buffer).setUint16(at * 2, new Uint32Array(new Float32Array([value]).buffer)[0]! >>> 16, true);
    else throw new Error(`test: ${t.dtype}`);
    t.data = data;
  });
  return dir;
}

const CASES: [TestModelPresetName, string][] = [
  ['bitnet-tiny-packed', 'model.embed_tokens.weight'],
  ['bitnet-tiny-packed', 'model.layers.1.post_attention_layernorm.weight'],
  ['bitnet-tiny-packed', 'model.layers.0.self_attn.attn_sub_norm.weight'],
  ['bitnet-tiny-packed', 'model.norm.weight'],
  ['bitnet-tiny-master', 'model.layers.1.mlp.down_proj.weight'],
  ['1bitllm-tiny', 'lm_head.weight'],
];

describe('non-finite weights', () => {
  it.each(CASES)('%s %s: every reader refuses NaN, +Inf and -Inf, naming the tensor', (preset, tensor) => {
    for (const [value, tag] of [[NaN, 'nan'], [Infinity, 'pinf'], [-Infinity, 'ninf']] as const) {
      const dir = poisoned(preset, tensor, value, `${tensor}-${tag}`);
      const info = openCheckpoint(dir).tensors.get(tensor)!;
      expectTellme(() => readTensorF32(info), 'E_NUMERICS', `tensor '${tensor}': element 7 is ${value}`);
      expectTellme(() => forEachF32Chunk(info, () => {}, 5), 'E_NUMERICS', `tensor '${tensor}': element 7 is ${value}`);
    }
  });

  it.each(CASES)('%s %s: convert, generate, logits (golden and float) and eval exit 1 naming it', async (preset, tensor) => {
    const dir = poisoned(preset, tensor, NaN, `${tensor}-cli`);
    const out = path.join(root, `${tensor}.tlm`);
    const runs = [
      ['convert', dir, '-o', out],
      ['generate', dir, '--ids', '1,2,3', '-n', '2', '--threads', '1'],
      ['logits', dir, '--ids', '1,2,3', '--threads', '1'],
      ['logits', dir, '--ids', '1,2,3', '--backend', 'float'],
      ['eval', dir, '--ids', '1,2,3', '-n', '1', '--threads', '1'],
    ];
    for (const args of tensor === 'model.embed_tokens.weight' ? runs : runs.slice(0, 3)) {
      const r = await tellme(...args);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(ERROR_STYLE);
      expect(r.stderr).toContain(`tensor '${tensor}'`);
    }
    expect(fs.existsSync(out)).toBe(false);
  });
});
