/**
 * The image's layout checks at their exact boundaries (docs/image-format.md §4), one byte either
 * side, and what the converter writes where the numerics contract says values are flushed.
 * Each test names the check it pins; corrupt.test.ts covers the coarser damage cases.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { openImage, type ImageManifest } from '../../host/src/image/index.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { rewriteSafetensors } from '../checkpoint/helpers.js';
import { convert, copyImage, expectTellme, flipByte, readManifest, rewriteManifest, testModel, tmpDir } from './helpers.js';

let kv260: string;

beforeAll(async () => {
  kv260 = (await convert(testModel({ preset: 'bitnet-tiny-packed' }), 'kv260')).path;
});

const manifestOf = (file: string) => readManifest(file) as unknown as ImageManifest;
const manifestOffset = (file: string) => Number(fs.readFileSync(file).readBigUInt64LE(16));
const lastSection = (m: ImageManifest) => [...m.sections].sort((a, b) => b.offset - a.offset)[0]!;

describe('a section must end at or before the manifest offset', () => {
  it('a section ending exactly at the manifest offset is accepted; one byte more is outside the data area', async () => {
    const end = manifestOffset(kv260);
    const last = lastSection(manifestOf(kv260));
    expect(last.offset + last.size).toBeLessThan(end);
    const grow = (to: number) => {
      const f = copyImage(kv260);
      rewriteManifest(f, (m) => (lastSection(m as unknown as ImageManifest).size = to - last.offset));
      return f;
    };
    // The last section (a host-side tokenizer file) has no size the model implies, so only the bound limits it.
    expect(last.name).toBe('host.tokenizer_config.json');
    expect(openImage(grow(end), { verifyChecksums: false }).manifest.sections.find((s) => s.name === last.name)!.size).toBe(end - last.offset);
    await expectTellme(() => openImage(grow(end + 1), { verifyChecksums: false }), 'E_IMAGE', `section ${last.name} [${last.offset}, ${end + 1}) lies outside the data area [4096, ${end})`);
  });

  it('a section may start at 4096 (the first aligned offset after the header), not at 0', async () => {
    const first = [...manifestOf(kv260).sections].sort((a, b) => a.offset - b.offset)[0]!;
    expect(first.offset).toBe(4096);
    const f = copyImage(kv260);
    rewriteManifest(f, (m) => ((m as unknown as ImageManifest).sections.find((s) => s.name === first.name)!.offset = 0));
    await expectTellme(() => openImage(f, { verifyChecksums: false }), 'E_IMAGE', `section ${first.name} [0, `, 'outside the data area');
  });
});

describe('the padding before the manifest must be zero', () => {
  it('a non-zero first or last padding byte is refused and named; the section byte before it is a checksum error', async () => {
    const end = manifestOffset(kv260);
    const last = lastSection(manifestOf(kv260));
    const lastEnd = last.offset + last.size;
    for (const pos of [lastEnd, end - 1]) {
      const f = copyImage(kv260);
      flipByte(f, pos);
      await expectTellme(() => openImage(f), 'E_IMAGE', `byte ${pos} (padding before the manifest) is 255, expected 0`);
    }
    const g = copyImage(kv260);
    flipByte(g, lastEnd - 1);
    await expectTellme(() => openImage(g), 'E_IMAGE', `section ${last.name}`, 'fails its checksum');
  });
});

describe('norm weights are flushed before they are written (image-format §3: subnormals -> 0)', () => {
  it('a binary32 subnormal norm weight is stored as a signed zero; the smallest normal is kept', async () => {
    const dir = tmpDir('subnormal-norm');
    writeTestModel(dir, { preset: 'bitnet-tiny-packed' });
    const file = path.join(dir, 'model.safetensors');
    expect(fs.existsSync(file)).toBe(true);
    // bf16 bits: 0x0001 and 0x007f are subnormal (+2^-133, +127 * 2^-133), 0x8001 is -2^-133, 0x0080 = 2^-126 is normal.
    const planted = [0x0001, 0x007f, 0x8001, 0x0080];
    rewriteSafetensors(file, (tensors) => {
      const t = tensors.find((x) => x.name === 'model.layers.0.input_layernorm.weight')!;
      expect(t.dtype).toBe('BF16');
      const bytes = (t.data as Uint8Array).slice();
      const dv = new DataView(bytes.buffer);
      planted.forEach((bits, i) => dv.setUint16(2 * i, bits, true));
      t.data = bytes;
    });
    const img = openImage((await convert(openCheckpoint(dir), 'kv260')).path);
    const name = 'norms.L0.input';
    expect(img.manifest.sections.map((s) => s.name)).toContain(name);
    const stored = img.readSection(name);
    const words = new DataView(stored.buffer, stored.byteOffset, stored.byteLength);
    // kv260 stores the norms as binary32.
    expect(stored.length).toBe(4 * 96);
    expect([0, 1, 2, 3].map((i) => words.getUint32(4 * i, true))).toEqual([0x00000000, 0x00000000, 0x80000000, 0x00800000]);
  });
});
