/**
 * The converter's refusals, each at its boundary where it has one, with its code, message and fix
 * line, and with no file left behind: a model that does not fit, non-finite or overflowing
 * values (weight scales that flush to zero, the embedding in bfloat16, the LM head's rows, norm
 * weights, the residual and logit bounds) (the tokenizer's: writer-tokenizer.test.ts). Each test
 * converts a test model with one tensor or file changed (the conversions run inside the tests, so
 * mutation testing scores the writer against them).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { loadHwConfig } from '../../host/src/hwconfig/index.js';
import { convertCheckpoint, planImage } from '../../host/src/image/index.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { expectTellme, tmpDir } from './helpers.js';
import { CORRUPT, modelWith, refused, setBits } from './writer-helpers.js';

const F32_MAX_BITS = 0x7f7fffff;

describe('weight scales: a scale that flushes to zero is refused', () => {
  it('a subnormal bfloat16 weight_scale (multiplicative: w_s = 2^-133 flushes to 0) names the layer and linear', async () => {
    const ckpt = modelWith({ preset: 'bitnet-tiny-packed', tokenizer: false }, (t) => setBits(t, 'model.layers.1.self_attn.k_proj.weight_scale', 0, 0x0001));
    await refused(ckpt, 'E_NUMERICS', CORRUPT, 'layer 1 k_proj: weight scale 0 is not a positive finite binary32 number');
  });

  it('an inverted scale so large that 1/s is subnormal (hf1bitllm, bitlinear)', async () => {
    const ckpt = modelWith({ preset: 'hf1bitllm-tiny', tokenizer: false }, (t) => setBits(t, 'model.layers.0.mlp.down_proj.weight_scale', 0, 0x7f7f));
    await refused(ckpt, 'E_NUMERICS', CORRUPT, 'layer 0 down_proj: weight scale 0 is not a positive finite binary32 number');
  });
});

describe('the embedding in bfloat16: no infinity or NaN, and none by rounding', () => {
  const INF = 'model.embed_tokens.weight: holds an infinity or NaN in bfloat16 (or a value that rounds to one)';
  it('float32 0x7f7f8000 rounds (to even) to the bf16 infinity: refused; 0x7f7f7fff rounds to the largest finite bf16, which the residual bound then refuses', async () => {
    const emb = 'model.embed_tokens.weight';
    await refused(modelWith({ preset: '1bitllm-tiny', layers: 1, tokenizer: false }, (t) => setBits(t, emb, 77, 0x7f7f8000)), 'E_NUMERICS', CORRUPT, INF);
    const err = await refused(modelWith({ preset: '1bitllm-tiny', layers: 1, tokenizer: false }, (t) => setBits(t, emb, 77, 0x7f7f7fff)), 'E_NUMERICS', /^Check the checkpoint/, 'the worst-case magnitude of the layer 0 residual stream is 3.390e+38', "The embedding's max |value| is 3.3895313892515355e+38.");
    expect(err.message).not.toContain('holds an infinity');
  });

});

describe('the LM head: finite rows, and the logit bound', () => {
  const head = 'lm_head.weight';
  const h = 128; // 1bitllm-tiny's hidden size
  it('the largest binary32 is a finite row absmax; the logit bound then refuses it, naming both maxima', async () => {
    const ckpt = modelWith({ preset: '1bitllm-tiny', layers: 1, tokenizer: false }, (t) => setBits(t, head, 3 * h + 5, F32_MAX_BITS));
    const err = await refused(ckpt, 'E_NUMERICS', /^Check the checkpoint/, 'the worst-case magnitude of the logits is ', 'max LM head row absmax 3.4028234663852886e+38.');
    expect(err.message).toMatch(/max \|final norm weight\| 1\.\d+, /);
  });
});

describe('fit', () => {
  it('a model that does not fit the board is refused with every problem and the way out; nothing is written', async () => {
    const dir = tmpDir('model');
    writeTestModel(dir, { preset: 'bitnet-tiny-packed' });
    const ckpt = openCheckpoint(dir);
    const hw = loadHwConfig('kv260-paper');
    const problems = planImage(ckpt.spec, hw).problems;
    expect(problems.length).toBeGreaterThan(1);
    const out = tmpDir('refused');
    const err = await expectTellme(() => convertCheckpoint(ckpt, path.join(out, 'm.tlm'), { hw }), 'E_FIT', `the model does not fit kv260-paper: ${problems.join('; ')}`);
    expect(err.fix).toBe('Use a board whose synthesised maxima and memory hold this model (`tellme plan` shows why), or pass --force to write the image anyway (for simulation; the problems are recorded in the image).');
    expect(fs.readdirSync(out)).toEqual([]);
  });
});

describe('where the worst case is', () => {
  it('a head row of absmax 1e30 makes the logits the worst case (finite: recorded, not refused)', async () => {
    const ckpt = modelWith({ preset: '1bitllm-tiny', layers: 1, tokenizer: false }, (t) => setBits(t, 'lm_head.weight', 3 * 128 + 5, 0x7149f2ca)); // binary32 1e30
    const { manifest } = await convertCheckpoint(ckpt, path.join(tmpDir('out'), 'm.tlm'), { hw: loadHwConfig('kv260') });
    const n = manifest.numerics;
    expect(n.lm_head_row_absmax).toBe(1.0000000150474662e30);
    expect(n.worst).toEqual({ bound: n.logit_bound, log2: Math.log2(n.logit_bound), where: 'logits' });
    expect(n.logit_bound).toBeGreaterThan(Math.max(...n.layers.map((l) => l.residual)));
  });
});

describe('the output file', () => {
  it("an output path that is one of the checkpoint's files is refused, naming the image", async () => {
    const ckpt = modelWith({ preset: 'hf1bitllm-tiny', tokenizer: false }, () => {});
    const file = path.join(ckpt.dir, 'model.safetensors');
    const before = fs.readFileSync(file);
    await expectTellme(() => convertCheckpoint(ckpt, file, { hw: loadHwConfig('kv260') }), 'E_USAGE', "is one of this command's inputs", 'writing the image there would destroy it');
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });
});
