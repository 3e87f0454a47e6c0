/**
 * goldenWeightsFromImage on an image opened without its checksum pass (openImage's
 * verifyChecksums: false) runs the whole verification itself before it uses anything: the
 * checksums and the manifest's constants checked against the sections (image/manifest-checks.ts).
 * The damage here is one only the second part sees: one bit of the RoPE table flipped with its
 * sha256 rewritten, a section the loader copies without looking at its values. openImageModel
 * passes the option on: without the pass at open, the tokenizer is read before the loader
 * verifies, so of two damages the tokenizer's is the one reported.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { goldenWeightsFromImage, openImageModel } from '../../host/src/golden/weights-image.js';
import { openImage } from '../../host/src/image/index.js';
import { convert, testModel, withSection } from '../image/helpers.js';
import { isTellmeError } from '../../host/src/errors.js';
import { poolsClosedAfterAll } from './pools.js';
import { expectRefusal } from './refusal.js';

const VALUES_FIX = 'Re-convert the checkpoint (`tellme convert`): the image was edited or damaged after conversion and its checksums rewritten.';
let file: string;
beforeAll(async () => {
  file = (await convert(testModel({ preset: 'hf1bitllm-tiny' }), 'kv260', { context: 8 })).path;
});
const pool = poolsClosedAfterAll();

describe('an image opened without its checksum pass is verified by the loader', () => {
  it('a valid image: loaded, and marked verified afterwards', async () => {
    const image = openImage(file, { verifyChecksums: false });
    expect(image.checksumsVerified).toBe(false);
    goldenWeightsFromImage(image, await pool());
    expect(image.checksumsVerified).toBe(true);
  });

  it('a RoPE table that contradicts spec.ropeTheta, under a fresh checksum, is refused', async () => {
    const rope = new Float32Array(openImage(file).readSection('rope').buffer);
    const f = withSection(file, 'rope', (b) => (b[4 * 5] = b[4 * 5]! ^ 0x01)); // element 5's lowest bit
    const have = new Float32Array(openImage(f, { verifyChecksums: false }).readSection('rope').buffer)[5]!;
    expect(have).not.toBe(rope[5]);
    const image = openImage(f, { verifyChecksums: false });
    await expectRefusal(
      async () => goldenWeightsFromImage(image, await pool()),
      'E_IMAGE',
      `${f}: spec.ropeTheta ${image.spec.ropeTheta} (head_dim ${image.spec.headDim}) does not give the image's RoPE table (element 5: ${have} instead of ${rope[5]})`,
      VALUES_FIX,
    );
  });

  it('openImageModel passes verifyChecksums on: with false, an unreadable tokenizer is found before a wrong RoPE table', async () => {
    const name = openImage(file).manifest.tokenizer.tokenizer_json!;
    const flipRope = (b: Buffer) => (b[4 * 5] = b[4 * 5]! ^ 0x01);
    const f = withSection(withSection(file, 'rope', flipRope), name, (b) => (b[0] = 0x21)); // '!': not JSON
    const refusal = async (opts: { verifyChecksums?: boolean }) => {
      try {
        await (await openImageModel(f, { threads: 1, ...opts })).model.close();
      } catch (e) {
        expect(isTellmeError(e) && e.code).toBe('E_IMAGE');
        return (e as Error).message;
      }
      throw new Error('the damaged image was accepted');
    };
    expect(await refusal({})).toContain(`${f}: spec.ropeTheta`);
    expect(await refusal({ verifyChecksums: true })).toContain(`${f}: spec.ropeTheta`);
    expect(await refusal({ verifyChecksums: false })).toContain(`${f}: section ${name} is not a JSON object: `);
  });
});
