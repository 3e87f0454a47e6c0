/**
 * The differences named when an image was built for another build of the board (reader.ts
 * openImage and its jsonDiff): only fields that are part of the build hash are differences. The
 * top-level `$schema`, `description`, `notes` and `sources` (hwconfig/hash.ts HASH_EXCLUDED_FIELDS)
 * are left out of the list even when they differ too; test/image/reader-checks covers the list's
 * order, its limit of 6 and the fix line. A board may be given by its name.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { hwConfigFromObject, loadHwConfig } from '../../host/src/hwconfig/index.js';
import { openImage } from '../../host/src/image/index.js';
import { convert, expectTellme, testModel } from './helpers.js';

let kv260: string;

beforeAll(async () => {
  kv260 = (await convert(testModel({ preset: 'bitnet-tiny-packed' }), 'kv260')).path;
});

describe('another build of the board: the differences named', () => {
  it('the clock only, though $schema, description, notes and sources differ too', async () => {
    const hw = loadHwConfig('kv260');
    const c = structuredClone(hw.config) as unknown as Record<string, unknown>;
    c['clock_mhz'] = 200;
    c['$schema'] = '../spec/another.schema.json';
    c['description'] = 'another build';
    c['notes'] = ['another note'];
    c['sources'] = { ...(c['sources'] as Record<string, string>), clock_mhz: 'a guess' };
    const other = hwConfigFromObject(c, 'other.json');
    const e = await expectTellme(() => openImage(kv260, { hw: other, verifyChecksums: false }), 'E_IMAGE');
    expect(e.message.split('; they differ in ')[1]).toBe('clock_mhz: 250 vs 200');
  });

  it('each of those fields alone does not change the build: the image opens', () => {
    const hw = loadHwConfig('kv260');
    for (const [k, v] of [
      ['$schema', 'x.json'],
      ['description', 'x'],
      ['notes', []],
      ['sources', {}],
    ] as const) {
      const c = structuredClone(hw.config) as unknown as Record<string, unknown>;
      c[k] = v;
      expect(openImage(kv260, { hw: hwConfigFromObject(c, 'other.json'), verifyChecksums: false }).hw.hash).toBe(hw.hash);
    }
  });

  it('a board given by its name: the same board opens, another is refused naming both', async () => {
    expect(openImage(kv260, { hw: 'kv260', verifyChecksums: false }).hw.config.name).toBe('kv260');
    await expectTellme(() => openImage(kv260, { hw: 'zcu104', verifyChecksums: false }), 'E_IMAGE', 'image built for kv260 (hash ', 'but the bitstream/board is zcu104 (hash ');
  });
});
