/**
 * The checksum pass of an open image (ModelImage.verifyChecksums): the progress it reports, its
 * independence from the order in which the manifest lists the sections (it walks them by offset,
 * checking the padding between them), its reads in chunks (a section spanning several chunks, one
 * of exactly k chunks), and that every path through the reader closes the descriptors it opens.
 */
import * as fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isModelImage, openImage, type ImageManifest } from '../../host/src/image/index.js';
import { convert, copyImage, expectTellme, flipByte, readManifest, rewriteManifest, testModel } from './helpers.js';

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

describe('the checksum pass in chunks (sections larger than the read chunk)', () => {
  // 1024-byte chunks on the tiny image: lm_head.scale (2048), rope (16384) and the embedding
  // (98304) are exact multiples of the chunk, the up/gate weights (2112) end in a partial chunk.
  const CHUNK = 1024;

  it('one progress report per chunk read: the bytes of each full chunk, then the remainder; none repeated', () => {
    const sections = [...(readManifest(kv260) as unknown as ImageManifest).sections].sort((a, b) => a.offset - b.offset);
    expect(sections.some((s) => s.size > CHUNK && s.size % CHUNK === 0)).toBe(true);
    expect(sections.some((s) => s.size > CHUNK && s.size % CHUNK !== 0)).toBe(true);
    const total = sections.reduce((a, s) => a + s.size, 0);
    // What a reader going chunk by chunk reports: per section, floor(size/CHUNK) full chunks and one remainder if any.
    const want: number[] = [];
    let done = 0;
    for (const s of sections) {
      const full = Math.floor(s.size / CHUNK);
      for (let k = 0; k < full; k++) want.push((done += CHUNK));
      if (s.size % CHUNK !== 0) want.push((done += s.size % CHUNK));
    }
    expect(done).toBe(total);
    const img = openImage(kv260, { verifyChecksums: false });
    const got: number[] = [];
    img.verifyChecksums((d, all) => {
      expect(all).toBe(total);
      got.push(d);
    }, CHUNK);
    expect(img.checksumsVerified).toBe(true);
    expect(got).toEqual(want);
  });

  it('a flipped byte in the second chunk of a section, or in padding past the first chunk, is found with small chunks', async () => {
    const m = readManifest(kv260) as unknown as ImageManifest;
    const scale = m.sections.find((s) => s.name === 'lm_head.scale')!;
    expect(scale.size).toBe(2 * CHUNK);
    const f = copyImage(kv260);
    flipByte(f, scale.offset + CHUNK + 5);
    await expectTellme(() => openImage(f, { verifyChecksums: false }).verifyChecksums(undefined, CHUNK), 'E_IMAGE', 'section lm_head.scale', 'fails its checksum');
    // The padding after weights.L0.q_proj.t0.p0 (848 bytes at 4096) runs to 8192: byte 4096 + 848 + 2 * 1024 is in its third chunk.
    const q = m.sections.find((s) => s.name === 'weights.L0.q_proj.t0.p0')!;
    const pad = q.offset + q.size + 2 * CHUNK;
    expect(pad).toBeLessThan(q.offset + 4096);
    const g = copyImage(kv260);
    flipByte(g, pad);
    await expectTellme(() => openImage(g, { verifyChecksums: false }).verifyChecksums(undefined, CHUNK), 'E_IMAGE', `byte ${pad} (padding before section weights.L0.q_proj.t0.p1) is 255, expected 0`);
  });
});

describe('the reader closes every file it opens', () => {
  // The open descriptors of this process (vitest runs one test file per worker process, or one at a time).
  const openFds = () => fs.readdirSync('/proc/self/fd').length;

  it('after opening, verifying and reading sections, and after each kind of refusal', async () => {
    const before = openFds();
    const img = openImage(kv260);
    img.readSection('rope');
    expect(isModelImage(kv260)).toBe(true);
    expect(openFds()).toBe(before);

    const section = copyImage(kv260);
    const p2 = img.section('weights.L1.down_proj.t0.p2');
    flipByte(section, p2.offset + 1);
    const beforeRefusals = openFds();
    // In the checksum pass.
    await expectTellme(() => openImage(section), 'E_IMAGE', 'fails its checksum');
    expect(openFds()).toBe(beforeRefusals);
    // In a section read of an image opened without the pass.
    await expectTellme(() => openImage(section, { verifyChecksums: false }).readSection('weights.L1.down_proj.t0.p2'), 'E_IMAGE', 'fails its checksum');
    expect(openFds()).toBe(beforeRefusals);
    // In the header and manifest reads (a truncated file).
    const short = copyImage(kv260);
    fs.truncateSync(short, fs.statSync(short).size - 10);
    await expectTellme(() => openImage(short), 'E_IMAGE', 'truncated');
    expect(openFds()).toBe(beforeRefusals);
  });
});
