/**
 * The checksum pass of an open image (ModelImage.verifyChecksums): the progress it reports and its
 * independence from the order in which the manifest lists the sections (it walks them by offset,
 * checking the padding between them).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { openImage, type ImageManifest } from '../../host/src/image/index.js';
import { convert, copyImage, readManifest, rewriteManifest, testModel } from './helpers.js';

let kv260: string;

beforeAll(async () => {
  kv260 = (await convert(testModel({ preset: 'bitnet-tiny-packed' }), 'kv260')).path;
});

describe('the checksum pass', () => {
  it('reports progress in bytes: increasing, ending at the sum of the section sizes', () => {
    const total = (readManifest(kv260) as unknown as ImageManifest).sections.reduce((a, s) => a + s.size, 0);
    const calls: [number, number][] = [];
    const img = openImage(kv260, { onVerify: (done, all) => calls.push([done, all]) });
    expect(img.checksumsVerified).toBe(true);
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.every(([, all]) => all === total)).toBe(true);
    expect(calls.every(([done], i) => done > (i > 0 ? calls[i - 1]![0] : 0))).toBe(true);
    expect(calls.at(-1)).toEqual([total, total]);
  });

  it('walks the sections by offset, whatever order the manifest lists them in', () => {
    const f = copyImage(kv260);
    rewriteManifest(f, (m) => (m['sections'] as unknown[]).reverse());
    const img = openImage(f);
    expect(img.checksumsVerified).toBe(true);
    expect(img.manifest.sections[0]!.offset).toBeGreaterThan(img.manifest.sections.at(-1)!.offset);
  });
});
