/**
 * The converter's small inputs (host/src/image/convert-inputs.ts, readConvertInputs), read
 * directly from test checkpoints: the norm weights flushed (a subnormal becomes a signed zero,
 * as docs/numerics.md asks of every weight read from a checkpoint), their absmax, the tokenizer
 * files byte for byte, the source record against the files themselves, and the tokenizer check:
 * a tokenizer that does not fit is refused with the converter's fix line, while an error of
 * another kind met on the way keeps its own code and fix. No chat template is rendered here (the
 * checkpoints carry none; convert-template.test.ts renders them), so mutation testing can run it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { readConvertInputs } from '../../host/src/image/convert-inputs.js';
import { LAYER_NORM_ROLES } from '../../host/src/model/spec.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { editJson } from '../checkpoint/helpers.js';
import { expectTellme, tmpDir } from './helpers.js';
import { modelWith, setBits } from './writer-helpers.js';

/** bf16 bit patterns: the smallest positive and negative subnormals (2^-133), and 1.5. */
const SUB_POS = 0x0001;
const SUB_NEG = 0x8001;
const ONE_HALF = 0x3fc0;

/** A test model with a tokenizer whose tokenizer_config.json has no chat template (nothing to render). */
function withoutTemplate(dir: string): void {
  editJson(path.join(dir, 'tokenizer_config.json'), (j) => void delete j.chat_template);
}

describe('the norm weights', () => {
  it('subnormal weights are flushed to a zero of their sign, in the layer norms and the final norm; the absmax is of the flushed weights', () => {
    const layerNorm = 'model.layers.1.post_attention_layernorm.weight';
    const ckpt = modelWith({ preset: 'bitnet-tiny-packed', tokenizer: false }, (t) => {
      setBits(t, layerNorm, 3, SUB_POS);
      setBits(t, layerNorm, 4, SUB_NEG);
      setBits(t, 'model.norm.weight', 0, SUB_NEG);
      setBits(t, 'model.norm.weight', 1, SUB_POS);
    });
    const inputs = readConvertInputs(ckpt);
    const post = inputs.norms.layers[1]!.post_attention!;
    expect([Object.is(post[3], 0), Object.is(post[4], -0)]).toEqual([true, true]);
    expect([Object.is(inputs.norms.final[0], -0), Object.is(inputs.norms.final[1], 0)]).toEqual([true, true]);
    // Every other weight as read (the checkpoint's own binary32 values), and the absmax over them.
    for (let l = 0; l < ckpt.spec.numLayers; l++) {
      for (const role of LAYER_NORM_ROLES) {
        const read = ckpt.layerNorm(l, role);
        const got = inputs.norms.layers[l]![role];
        if (!read) {
          expect(got).toBeNull();
          expect(inputs.normAbsmax[l]![role]).toBeNull();
          continue;
        }
        let amax = 0;
        read.forEach((v, i) => {
          if (!(l === 1 && role === 'post_attention' && (i === 3 || i === 4))) expect(got![i]).toBe(v);
          if (Math.abs(got![i]!) > amax) amax = Math.abs(got![i]!);
        });
        expect(inputs.normAbsmax[l]![role]).toBe(amax);
      }
    }
  });

  it('the final norm\'s absmax', () => {
    const ckpt = modelWith({ preset: 'bitnet-tiny-packed', tokenizer: false }, (t) => setBits(t, 'model.norm.weight', 5, 0xc0f0)); // −7.5
    const inputs = readConvertInputs(ckpt);
    expect(inputs.finalNormAbsmax).toBe(7.5);
    const other = modelWith({ preset: 'bitnet-tiny-packed', tokenizer: false }, (t) => setBits(t, 'model.norm.weight', 5, ONE_HALF));
    expect(readConvertInputs(other).finalNormAbsmax).toBeLessThan(7.5);
  });
});

describe('the tokenizer files and the source record', () => {
  it('tokenizer.json and tokenizer_config.json byte for byte, no chat template, and the source record from the files themselves', () => {
    const dir = tmpDir('model');
    writeTestModel(dir, { preset: 'hf1bitllm-tiny' });
    withoutTemplate(dir);
    const ckpt = openCheckpoint(dir);
    const inputs = readConvertInputs(ckpt);
    expect(Buffer.from(inputs.tokenizerJson!).equals(fs.readFileSync(path.join(dir, 'tokenizer.json')))).toBe(true);
    expect(Buffer.from(inputs.tokenizerConfig!).equals(fs.readFileSync(path.join(dir, 'tokenizer_config.json')))).toBe(true);
    expect(inputs.chatTemplate).toBeNull();
    expect(inputs.configFile).toBe(path.join(dir, 'config.json'));
    const weightFiles = fs.readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort();
    expect(inputs.source).toEqual({
      kind: 'hf-checkpoint',
      path: dir,
      family: 'hf1bitllm',
      weight_storage: 'packed',
      scale_convention: ckpt.spec.scaleConvention,
      dtype: ckpt.spec.dtype,
      config_sha256: createHash('sha256').update(fs.readFileSync(path.join(dir, 'config.json'))).digest('hex'),
      files: weightFiles.map((name) => ({ name, bytes: fs.statSync(path.join(dir, name)).size })),
    });
  });

  it("the source record's files in name order, whatever order the index lists the shards in", () => {
    const dir = tmpDir('model');
    writeTestModel(dir, { preset: 'bitnet-tiny-packed', shards: 3, tokenizer: false });
    // The index lists the last shard's tensors first, so the checkpoint meets that shard first.
    editJson(path.join(dir, 'model.safetensors.index.json'), (j) => {
      const entries = Object.entries(j.weight_map as Record<string, string>);
      const last = entries[entries.length - 1]![1];
      j.weight_map = Object.fromEntries([...entries.filter(([, f]) => f === last), ...entries.filter(([, f]) => f !== last)]);
    });
    const shards = fs.readdirSync(dir).filter((f) => f.endsWith('.safetensors')).sort();
    expect(shards.length).toBe(3);
    const names = readConvertInputs(openCheckpoint(dir)).source.files.map((f) => f.name);
    expect(names).toEqual(shards);
  });

  it('without tokenizer.json, a chat_template that is neither a string nor a list: E_TOKENIZER naming tokenizer_config.json', async () => {
    const dir = tmpDir('model');
    writeTestModel(dir, { preset: 'hf1bitllm-tiny', tokenizer: false });
    const file = path.join(dir, 'tokenizer_config.json');
    editJson(file, (j) => void (j.chat_template = 5));
    const err = await expectTellme(() => readConvertInputs(openCheckpoint(dir)), 'E_TOKENIZER');
    expect(err.message).toBe(`${file}: chat_template is neither a string nor a list of templates`);
  });

  it('config.json replaced by a directory after the checkpoint was opened: E_CONFIG naming it', async () => {
    const dir = tmpDir('model');
    writeTestModel(dir, { preset: 'hf1bitllm-tiny', tokenizer: false });
    const ckpt = openCheckpoint(dir);
    const file = path.join(dir, 'config.json');
    fs.rmSync(file);
    fs.mkdirSync(file);
    const err = await expectTellme(() => readConvertInputs(ckpt), 'E_CONFIG');
    expect(err.message).toBe(`${file} is a directory; config.json must be a regular file`);
  });

  it('without tokenizer files: none carried, and no chat template', () => {
    const dir = tmpDir('model');
    writeTestModel(dir, { preset: 'hf1bitllm-tiny', tokenizer: false });
    fs.rmSync(path.join(dir, 'tokenizer_config.json'));
    const inputs = readConvertInputs(openCheckpoint(dir));
    expect([inputs.tokenizerJson, inputs.tokenizerConfig, inputs.chatTemplate]).toEqual([null, null, null]);
  });

  it('tokenizer_config.json replaced by a directory after the checkpoint was opened (no tokenizer.json): E_TOKENIZER naming it as a JSON file', async () => {
    const dir = tmpDir('model');
    writeTestModel(dir, { preset: 'hf1bitllm-tiny', tokenizer: false });
    const ckpt = openCheckpoint(dir);
    const file = path.join(dir, 'tokenizer_config.json');
    fs.rmSync(file);
    fs.mkdirSync(file);
    const err = await expectTellme(() => readConvertInputs(ckpt), 'E_TOKENIZER');
    expect(err.message).toBe(`${file} is a directory; a JSON file must be a regular file`);
  });
});

describe('the tokenizer the image will carry is checked', () => {
  it('a token id past the vocabulary: E_TOKENIZER naming tokenizer.json, with the way to convert without it', async () => {
    const dir = tmpDir('model');
    writeTestModel(dir, { preset: 'hf1bitllm-tiny' });
    withoutTemplate(dir);
    const file = path.join(dir, 'tokenizer.json');
    editJson(file, (j) => {
      (j.added_tokens as Record<string, unknown>[]).push({ id: 600, content: '<|past_the_end|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    });
    const ckpt = openCheckpoint(dir);
    const err = await expectTellme(() => readConvertInputs(ckpt), 'E_TOKENIZER', `${file}: token ids reach 600, but the model's vocabulary is 0..${ckpt.spec.vocabSize - 1}`);
    expect(err.fix).toBe(`Fix the file named above (or re-download it); to convert without a tokenizer, move ${file} out of the checkpoint (the image then takes --ids only).`);
  });

  it('an error of another kind met while checking it (generation_config.json broken after the checkpoint was opened) keeps its code and fix', async () => {
    const dir = tmpDir('model');
    writeTestModel(dir, { preset: 'hf1bitllm-tiny' });
    withoutTemplate(dir);
    const ckpt = openCheckpoint(dir);
    const gen = path.join(dir, 'generation_config.json');
    fs.writeFileSync(gen, '{"eos_token_id":');
    const err = await expectTellme(() => readConvertInputs(ckpt), 'E_CONFIG', `${gen}: invalid JSON`);
    expect(err.fix).toBe('Fix or re-download the file.');
  });
});
