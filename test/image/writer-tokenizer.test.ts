/**
 * The tokenizer an image carries (the writer's tokenizer side, convert-inputs.ts and tokenizer.ts):
 * tokenizer.json and tokenizer_config.json byte for byte, the manifest's tokenizer record, the
 * refusal of a tokenizer or chat template the image could not use, and the tokenizer read back
 * (without tokenizer_config.json; sections that are not JSON objects). Kept apart from the other
 * writer tests because checking a tokenizer renders its chat template on a worker thread with a
 * 10 s limit, which mutation testing's load can pass (tools/mutation/folders.mjs).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { loadTokenizer } from '../../host/src/checkpoint/tokenizer.js';
import { imageTokenizer, openImage } from '../../host/src/image/index.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { editJson } from '../checkpoint/helpers.js';
import { convert, expectTellme, rewriteManifest, tmpDir } from './helpers.js';
import { modelWith, refused } from './writer-helpers.js';

function checkpoint(preset: 'hf1bitllm-tiny' | 'bitnet-tiny-packed') {
  const dir = tmpDir('model');
  writeTestModel(dir, { preset });
  return openCheckpoint(dir);
}

describe('the tokenizer files and record', () => {
  it('tokenizer.json and tokenizer_config.json byte for byte; the record names them, the template and the special ids', async () => {
    const ckpt = checkpoint('bitnet-tiny-packed');
    const { path: file, manifest } = await convert(ckpt, 'kv260', { force: false });
    const image = openImage(file);
    for (const name of ['tokenizer.json', 'tokenizer_config.json']) {
      expect(Buffer.from(image.readSection(`host.${name}`)).equals(fs.readFileSync(path.join(ckpt.dir, name)))).toBe(true);
    }
    const config = JSON.parse(fs.readFileSync(path.join(ckpt.dir, 'tokenizer_config.json'), 'utf8')) as { chat_template: string };
    expect(manifest.tokenizer).toEqual({
      tokenizer_json: 'host.tokenizer.json',
      tokenizer_config: 'host.tokenizer_config.json',
      chat_template: config.chat_template,
      bos_token_id: ckpt.spec.bosTokenId,
      eos_token_ids: ckpt.spec.eosTokenIds,
      pad_token_id: ckpt.spec.padTokenId,
    });
    expect(manifest.sections.filter((s) => s.kind === 'tokenizer').map((s) => [s.name, s.size])).toEqual([
      ['host.tokenizer.json', fs.statSync(path.join(ckpt.dir, 'tokenizer.json')).size],
      ['host.tokenizer_config.json', fs.statSync(path.join(ckpt.dir, 'tokenizer_config.json')).size],
    ]);
  });
});

describe('the tokenizer the image carries must work', () => {
  const fix = (dir: string) => `Fix the file named above (or re-download it); to convert without a tokenizer, move ${path.join(dir, 'tokenizer.json')} out of the checkpoint (the image then takes --ids only).`;
  it('a token id past the vocabulary', async () => {
    const ckpt = modelWith({ preset: 'bitnet-tiny-packed' }, () => {}, (dir) =>
      editJson(path.join(dir, 'tokenizer.json'), (j) => {
        (j.added_tokens as Record<string, unknown>[]).push({ id: 512, content: '<|past_the_end|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
      }),
    );
    const err = await refused(ckpt, 'E_TOKENIZER', fix(ckpt.dir), '512');
    expect(err.message).toContain(path.join(ckpt.dir, 'tokenizer.json'));
  });

  it('a chat template that fails to render a one-message conversation', async () => {
    const ckpt = modelWith({ preset: 'bitnet-tiny-packed' }, () => {}, (dir) => editJson(path.join(dir, 'tokenizer_config.json'), (j) => (j.chat_template = "{{ raise_exception('no chat here') }}")));
    await refused(ckpt, 'E_TOKENIZER', fix(ckpt.dir), 'no chat here');
  });
});

describe("the image's tokenizer", () => {
  it('without tokenizer_config.json: the tokenizer works with an empty config and no chat template', async () => {
    const dir = tmpDir('model');
    writeTestModel(dir, { preset: 'hf1bitllm-tiny' });
    fs.rmSync(path.join(dir, 'tokenizer_config.json'));
    const { path: file, manifest } = await convert(openCheckpoint(dir), 'kv260');
    expect(manifest.tokenizer.tokenizer_config).toBeNull();
    expect(manifest.tokenizer.chat_template).toBeNull();
    const tok = imageTokenizer(openImage(file))!;
    const ref = loadTokenizer(dir)!;
    expect(tok.encode('to be or not')).toEqual(ref.encode('to be or not'));
    expect([tok.bosTokenId, tok.eosTokenIds]).toEqual([ref.bosTokenId, ref.eosTokenIds]);
  });

  it('a tokenizer section that is not a JSON object is refused, naming the section', async () => {
    const { path: file, manifest } = await convert(checkpoint('hf1bitllm-tiny'), 'kv260');
    const sec = manifest.sections.find((s) => s.name === 'host.tokenizer_config.json')!;
    for (const [text, why] of [['[]', 'not a JSON object'], ['{"a":', 'Unexpected end'], ['null', 'not a JSON object']] as const) {
      const f = path.join(tmpDir('tok'), 'm.tlm');
      fs.copyFileSync(file, f);
      const bytes = Buffer.alloc(sec.size, 0x20);
      bytes.write(text, 0, 'utf8');
      const fd = fs.openSync(f, 'r+');
      fs.writeSync(fd, bytes, 0, bytes.length, sec.offset);
      fs.closeSync(fd);
      rewriteManifest(f, (m) => {
        const s = (m.sections as { name: string; sha256: string }[]).find((x) => x.name === sec.name)!;
        s.sha256 = createHash('sha256').update(bytes).digest('hex');
      });
      const err = await expectTellme(() => imageTokenizer(openImage(f)), 'E_IMAGE', `${f}: section host.tokenizer_config.json is not a JSON object: `, why);
      expect(err.fix).toBe('Re-run `tellme convert`.');
    }
  });
});
