/**
 * The values the manifest's constants are re-derived from (host/src/image/manifest-checks.ts
 * sectionValues), at their boundaries: the largest finite binary32 / bfloat16 is a value (its bound
 * then disagrees with the record) while infinity and NaN are refused as such; the element named is
 * the one planted, also past the first chunk of the embedding; the check needs verified checksums.
 * test/robust/manifest-checks.test.ts has one test per check; these pin the edges.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkManifestAgainstSections, sectionValues } from '../../host/src/image/manifest-checks.js';
import { openImage } from '../../host/src/image/index.js';
import { convert, expectTellme, testModel, withSection } from './helpers.js';

/** bitnet-tiny-packed on kv260: tied, hidden 96, vocab 512 (embedding rows of 192 bytes). */
let tied: string;

beforeAll(async () => {
  tied = (await convert(testModel({ preset: 'bitnet-tiny-packed' }), 'kv260')).path;
});

const F32_MAX = 3.4028234663852886e38;
const FIX = 'Re-convert the checkpoint (`tellme convert`): the image was edited or damaged after conversion and its checksums rewritten.';

async function refused(file: string, what: string): Promise<void> {
  const e = await expectTellme(() => openImage(file), 'E_IMAGE');
  expect(e.message).toBe(`${file}: ${what}`);
  expect(e.fix).toBe(FIX);
}

/** The refusal is the numerics record's (the planted value is accepted as a value). */
async function notTheRecord(file: string, field: string): Promise<void> {
  await expectTellme(() => openImage(file), 'E_IMAGE', `the numerics record does not match the weights it bounds (recorded vs re-derived from the sections: numerics.${field}`);
}

describe('the section values at their edges', () => {
  it('needs the checksums verified first', async () => {
    const img = openImage(tied, { verifyChecksums: false });
    await expectTellme(() => checkManifestAgainstSections(img), 'E_INTERNAL', 'checkManifestAgainstSections needs verified checksums');
    img.verifyChecksums();
    expect(() => checkManifestAgainstSections(img)).not.toThrow();
  });

  it('a norm weight of the largest finite binary32 is a value; infinity is refused as not finite', async () => {
    await notTheRecord(withSection(tied, 'norms.L1.attn_sub', (b) => b.writeFloatLE(-F32_MAX, 4 * 7)), 'layers[1].norm_absmax.attn_sub');
    await refused(withSection(tied, 'norms.L1.attn_sub', (b) => b.writeFloatLE(Infinity, 4 * 7)), 'section norms.L1.attn_sub element 7 is Infinity; weights are finite');
    await refused(withSection(tied, 'norms.final', (b) => b.writeFloatLE(NaN, 4 * 95)), 'section norms.final element 95 is NaN; weights are finite');
  });

  it('a head row scale: 0 and the largest finite are values; NaN, infinity and −0.5 are refused', async () => {
    // 0 and F32_MAX pass the range check; the tied check then names the row.
    await expectTellme(() => openImage(withSection(tied, 'lm_head.scale', (b) => b.writeFloatLE(0, 4 * 9))), 'E_IMAGE', 'LM head row 9 (scale 0) is not quantised from embedding row 9');
    await expectTellme(() => openImage(withSection(tied, 'lm_head.scale', (b) => b.writeFloatLE(F32_MAX, 4 * 9))), 'E_IMAGE', `LM head row 9 (scale ${F32_MAX}) is not quantised`);
    for (const [v, shown] of [
      [NaN, 'NaN'],
      [Infinity, 'Infinity'],
      [-0.5, '-0.5'],
    ] as const) {
      await refused(withSection(tied, 'lm_head.scale', (b) => b.writeFloatLE(v, 4 * 9)), `lm_head.scale[9] is ${shown}; head row scales are finite and non-negative`);
    }
  });

  it('an embedding value: the largest finite bfloat16 is a value; 0x7f80 is infinite, 0x7f81 NaN; the element is named by row and column', async () => {
    // Row 3, column 7 of hidden 96: element 295.
    const at = 2 * (3 * 96 + 7);
    await expectTellme(() => openImage(withSection(tied, 'embedding', (b) => b.writeUInt16LE(0x7f7f, at))), 'E_IMAGE', 'LM head row 3 ', 'is not quantised from embedding row 3 (largest |value| 3.3895313892515355e+38)');
    await refused(withSection(tied, 'embedding', (b) => b.writeUInt16LE(0x7f80, at)), 'embedding element 295 is infinite (bfloat16 0x7f80)');
    await refused(withSection(tied, 'embedding', (b) => b.writeUInt16LE(0xff81, at)), 'embedding element 295 is NaN (bfloat16 0xff81)');
  });
});

describe('the embedding read in chunks', () => {
  it('small chunks give the same values; a damaged row past the first chunk is named by its own row and element', async () => {
    const img = openImage(tied);
    const whole = sectionValues(img);
    // 1000 bytes: 5 rows of 192 bytes a chunk (the last chunk has 2 rows); 100 bytes: one row a chunk.
    for (const chunk of [1000, 100]) expect(sectionValues(img, chunk)).toStrictEqual(whole);
    expect(whole.embeddingAbsmax).toBeGreaterThan(0);

    // Row 511 (the last; 102 chunks of 5 rows and then 2), column 95: element 49151.
    const last = withSection(tied, 'embedding', (b) => b.writeUInt16LE(0x7fc0, b.length - 2));
    const damaged = openImage(last, { verifyChecksums: false });
    damaged.verifyChecksums();
    await expectTellme(() => sectionValues(damaged, 1000), 'E_IMAGE', 'embedding element 49151 is NaN');
    // A head row that disagrees with its embedding row, past the first chunk: row 7 (second chunk).
    const row7 = withSection(tied, 'lm_head.scale', (b) => b.writeFloatLE(b.readFloatLE(4 * 7) * 0.5, 4 * 7));
    const seven = openImage(row7, { verifyChecksums: false });
    seven.verifyChecksums();
    await expectTellme(() => sectionValues(seven, 1000), 'E_IMAGE', 'LM head row 7 (scale ', 'is not quantised from embedding row 7 ');
  });

  it('the largest |value| is found in any chunk (a row scaled up in the last chunk raises it)', async () => {
    const img = openImage(tied);
    const base = sectionValues(img, 1000).embeddingAbsmax;
    // 0x4700 = 32768 in bfloat16: above any value of the tiny model.
    expect(base).toBeLessThan(32768);
    const f = withSection(tied, 'embedding', (b) => b.writeUInt16LE(0x4700, 2 * (510 * 96 + 4)));
    const big = openImage(f, { verifyChecksums: false });
    big.verifyChecksums();
    // The tied check refuses row 510; the untied path is the value itself: read it with tiedEmbeddings off.
    (big.spec as { tiedEmbeddings: boolean }).tiedEmbeddings = false;
    expect(sectionValues(big, 1000).embeddingAbsmax).toBe(32768);
    expect(sectionValues(big).embeddingAbsmax).toBe(32768);
  });
});
