/**
 * The tokenizer read back from a model image (host/src/image/tokenizer.ts, imageTokenizer), tested
 * directly: no chat template is rendered here (the images carry none, or one that does not parse),
 * so no test waits on the renderer's worker thread and its 10 s limit, and mutation testing can run
 * this file (writer-tokenizer.test.ts checks the conversion side, with renders).
 * Three images of hf1bitllm-tiny, converted once: with tokenizer.json and tokenizer_config.json
 * (its chat template removed), without tokenizer_config.json, and without a tokenizer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { loadTokenizer } from '../../host/src/checkpoint/tokenizer.js';
import { imageTokenizer, openImage, type ImageManifest } from '../../host/src/image/index.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { editJson } from '../checkpoint/helpers.js';
import { convert, copyImage, expectTellme, tmpDir, withManifest, withSection } from './helpers.js';

const RECONVERT = 'Re-run `tellme convert`.';
const BAD_TOKENIZER_FIX = 'Re-run `tellme convert` from a checkpoint with a valid tokenizer.json.';
/** Spaces before punctuation: tokenizer_config's clean_up_tokenization_spaces (false) keeps them; the library's default (true) removes them. */
const SPACED = 'to be , or not to be .';

const images = { full: '', noConfig: '', none: '' };
const dirs = { full: '', noConfig: '' };

async function imageOf(edit: (dir: string) => void, tokenizer = true): Promise<{ file: string; dir: string }> {
  const dir = tmpDir('model');
  writeTestModel(dir, { preset: 'hf1bitllm-tiny', tokenizer });
  edit(dir);
  const { path: file } = await convert(openCheckpoint(dir), 'kv260');
  return { file, dir };
}

beforeAll(async () => {
  const full = await imageOf((dir) => editJson(path.join(dir, 'tokenizer_config.json'), (j) => void delete j.chat_template));
  const noConfig = await imageOf((dir) => fs.rmSync(path.join(dir, 'tokenizer_config.json')));
  const none = await imageOf(() => {}, false);
  Object.assign(images, { full: full.file, noConfig: noConfig.file, none: none.file });
  Object.assign(dirs, { full: full.dir, noConfig: noConfig.dir });
}, 120_000);

describe("the image's tokenizer", () => {
  it('encodes and decodes as the checkpoint does, with tokenizer_config applied (spaces before punctuation kept)', () => {
    const tok = imageTokenizer(openImage(images.full))!;
    const ref = loadTokenizer(dirs.full)!;
    const ids = tok.encode(SPACED);
    expect(ids).toEqual(ref.encode(SPACED));
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe(SPACED);
    expect(tok.vocabSize).toBe(ref.vocabSize);
  });

  it('without tokenizer_config.json: an empty config (the library then removes the spaces before punctuation)', () => {
    const image = openImage(images.noConfig);
    expect(image.manifest.tokenizer.tokenizer_config).toBeNull();
    const tok = imageTokenizer(image)!;
    expect(tok.decode(tok.encode(SPACED), { skipSpecialTokens: true })).toBe('to be, or not to be.');
    expect(tok.applyChatTemplate([{ role: 'user', content: 'Hello' }])).toBeNull();
  });

  it('no tokenizer.json in the checkpoint: none', () => {
    const image = openImage(images.none);
    expect(image.manifest.tokenizer.tokenizer_json).toBeNull();
    expect(imageTokenizer(image)).toBeNull();
  });

  it('the special ids are the manifest record\'s, in a copy a caller may change', () => {
    const image = openImage(images.full);
    const rec = image.manifest.tokenizer;
    const before = rec.eos_token_ids.slice();
    const tok = imageTokenizer(image)!;
    expect([tok.bosTokenId, tok.eosTokenIds]).toEqual([rec.bos_token_id, before]);
    tok.eosTokenIds.push(7);
    expect(image.manifest.tokenizer.eos_token_ids).toEqual(before);
  });
});

describe("the image's tokenizer refuses", () => {
  it('a tokenizer section that is not a JSON object (null, a number, a string, an array, cut short), naming the section', async () => {
    for (const name of ['host.tokenizer.json', 'host.tokenizer_config.json']) {
      // What follows the colon: our words for a JSON value of another type, JSON.parse's for a syntax error.
      for (const [text, why] of [['null', 'not a JSON object'], ['5', 'not a JSON object'], ['"a"', 'not a JSON object'], ['[{}]', 'not a JSON object'], ['{"a":', 'Unexpected end of JSON input']] as const) {
        const f = withSection(images.full, name, (bytes) => {
          bytes.fill(0x20);
          bytes.write(text, 0, 'utf8');
        });
        const err = await expectTellme(() => imageTokenizer(openImage(f)), 'E_IMAGE');
        expect(err.message).toBe(`${f}: section ${name} is not a JSON object: ${why}`);
        expect(err.fix).toBe(RECONVERT);
      }
    }
  });

  it('a tokenizer section that fails its checksum: the reader\'s own error, not re-worded', async () => {
    const f = copyImage(images.full);
    const sec = openImage(f).manifest.sections.find((s) => s.name === 'host.tokenizer_config.json')!;
    const fd = fs.openSync(f, 'r+');
    fs.writeSync(fd, Buffer.from(' '), 0, 1, sec.offset + sec.size - 1);
    fs.closeSync(fd);
    const err = await expectTellme(() => imageTokenizer(openImage(f, { verifyChecksums: false })), 'E_IMAGE', `section host.tokenizer_config.json (bytes ${sec.offset}..`, 'fails its checksum');
    expect(err.message).not.toContain('not a JSON object');
  });

  it('a tokenizer.json that is a JSON object but no tokenizer: names the image, says to convert again', async () => {
    const f = withSection(images.full, 'host.tokenizer.json', (bytes) => {
      bytes.fill(0x20);
      bytes.write('{}', 0, 'utf8');
    });
    const err = await expectTellme(() => imageTokenizer(openImage(f)), 'E_TOKENIZER', `${f}: not a usable tokenizer: `);
    expect(err.fix).toBe(BAD_TOKENIZER_FIX);
  });

  it('a carried chat template that does not parse: names it as the image\'s', async () => {
    const f = withManifest(images.full, (m: ImageManifest) => void (m.tokenizer.chat_template = '{% for %}'));
    const err = await expectTellme(() => imageTokenizer(openImage(f)), 'E_TOKENIZER', `${f} (the chat template carried from the checkpoint): chat_template does not parse: `);
    expect(err.fix).toBe(`Fix chat_template in ${f} (the chat template carried from the checkpoint).`);
  });
});
