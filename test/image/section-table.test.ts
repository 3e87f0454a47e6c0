/**
 * The image's section table and the file it is written into (host/src/image/section-table.ts,
 * image-file.ts), called directly with small inputs and checked against offsets and bytes written
 * out here: the table is fixed before any weight is read, so a converted image only shows the one
 * table its model gives; and a conversion that fails must leave nothing behind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { asBytes, ImageFile } from '../../host/src/image/image-file.js';
import type { ConvertInputs } from '../../host/src/image/convert-inputs.js';
import type { ImageManifest, SectionRecord } from '../../host/src/image/manifest.js';
import { sectionTable } from '../../host/src/image/section-table.js';
import type { DdrPlan } from '../../host/src/layout/ddr.js';
import type { ModelSpec } from '../../host/src/model/spec.js';
import { expectTellme, tmpDir } from './helpers.js';

const region = (name: string, kind: string, size: number, offset: number) => ({ name, kind, size, dtype: 'fp32', shape: [size / 4], offset });

/** Two layers, every DDR region kind the image carries and two it does not. */
const ddr = {
  regions: [
    region('weights.L0.q_proj.t0.p0', 'weights', 848, 0),
    region('kv.k', 'kv_cache', 8192, 4096),
    region('norms.L0.input', 'norms', 384, 12288),
    region('rope', 'rope', 16384, 16384),
    region('embedding', 'embedding', 4097, 32768),
    region('scratch.q', 'scratch', 4096, 40960),
    region('lm_head.weight', 'lm_head', 4096, 45056),
  ],
} as unknown as DdrPlan;

function inputs(subNorms: boolean, tokenizer: boolean): { spec: ModelSpec; inputs: ConvertInputs } {
  const layer = () => ({ input: new Float32Array(96), post_attention: new Float32Array(96), attn_sub: subNorms ? new Float32Array(96) : null, ffn_sub: subNorms ? new Float32Array(240) : null });
  return {
    spec: { numLayers: 2, subNorms } as ModelSpec,
    inputs: {
      norms: { layers: [layer(), layer()], final: new Float32Array(96) },
      tokenizerJson: tokenizer ? new Uint8Array(5000) : null,
      tokenizerConfig: tokenizer ? new Uint8Array(10) : null,
    } as unknown as ConvertInputs,
  };
}

const rows = (sections: SectionRecord[]) => sections.map((s) => [s.name, s.kind, s.offset, s.size, s.dtype, JSON.stringify(s.shape), s.ddr_offset, s.sha256]);

describe('the section table', () => {
  it('binary32 builds: the carried DDR regions in DDR order, each on the next 4096-byte boundary, then the tokenizer files', () => {
    const { spec, inputs: i } = inputs(true, true);
    const t = sectionTable(spec, ddr, false, i);
    expect(rows(t.sections)).toEqual([
      ['weights.L0.q_proj.t0.p0', 'weights', 4096, 848, 'fp32', '[212]', 0, ''],
      ['norms.L0.input', 'norms', 8192, 384, 'fp32', '[96]', 12288, ''],
      ['rope', 'rope', 12288, 16384, 'fp32', '[4096]', 16384, ''],
      // rope ends exactly on a boundary: the embedding starts there.
      ['embedding', 'embedding', 28672, 4097, 'fp32', `[${4097 / 4}]`, 32768, ''],
      ['lm_head.weight', 'lm_head', 36864, 4096, 'fp32', '[1024]', 45056, ''],
      ['host.tokenizer.json', 'tokenizer', 40960, 5000, 'bytes', '[5000]', null, ''],
      ['host.tokenizer_config.json', 'tokenizer', 49152, 10, 'bytes', '[10]', null, ''],
    ]);
    expect(t.manifestOffset).toBe(53248);
    expect([...t.imageRegions]).toEqual(['weights.L0.q_proj.t0.p0', 'norms.L0.input', 'rope', 'embedding', 'lm_head.weight']);
    expect(t.norms.map((n) => `${n.role}@${n.layer}`)).toEqual(['input@0', 'post_attention@0', 'attn_sub@0', 'ffn_sub@0', 'input@1', 'post_attention@1', 'attn_sub@1', 'ffn_sub@1', 'final@1']);
  });

  it("binary16 builds: a binary32 host copy of every norm after the DDR regions; no tokenizer files, no sections for them; the section's shape is a copy", () => {
    const { spec, inputs: i } = inputs(false, false);
    const t = sectionTable(spec, ddr, true, i);
    const host = t.sections.filter((s) => s.kind === 'host_norms');
    expect(rows(host)).toEqual([
      ['host.norms.L0.input', 'host_norms', 40960, 384, 'fp32', '[96]', null, ''],
      ['host.norms.L0.post_attention', 'host_norms', 45056, 384, 'fp32', '[96]', null, ''],
      ['host.norms.L1.input', 'host_norms', 49152, 384, 'fp32', '[96]', null, ''],
      ['host.norms.L1.post_attention', 'host_norms', 53248, 384, 'fp32', '[96]', null, ''],
      ['host.norms.final', 'host_norms', 57344, 384, 'fp32', '[96]', null, ''],
    ]);
    expect(t.sections.at(-1)!.name).toBe('host.norms.final');
    expect(t.manifestOffset).toBe(61440);
    expect(t.norms.map((n) => `${n.role}@${n.layer}`)).toEqual(['input@0', 'post_attention@0', 'input@1', 'post_attention@1', 'final@1']);
    // The table's shapes are its own: the plan's arrays are not shared.
    t.sections[0]!.shape.push(1);
    expect(ddr.regions[0]!.shape).toEqual([212]);
  });

  it('an empty table puts the manifest at 4096', () => {
    const { spec, inputs: i } = inputs(false, false);
    expect(sectionTable({ ...spec, numLayers: 0 } as ModelSpec, { regions: [] } as unknown as DdrPlan, false, { ...i, norms: { layers: [], final: new Float32Array(1) } } as unknown as ConvertInputs).manifestOffset).toBe(4096);
  });
});

describe('the image file while it is written', () => {
  const sections = (): SectionRecord[] => [
    { name: 'a', kind: 'rope', offset: 4096, size: 6, dtype: 'fp32', shape: [6], ddr_offset: 0, sha256: '' },
    { name: 'b', kind: 'rope', offset: 8192, size: 3, dtype: 'fp32', shape: [3], ddr_offset: 4096, sha256: '' },
  ];
  const manifest = { format: 'tellme-image' } as unknown as ImageManifest;

  it('sections at their offsets (in pieces or whole), hashed; the manifest at its offset; the header; renamed only at the end', async () => {
    const dir = tmpDir('image-file');
    const target = path.join(dir, 'x.tlm');
    const recs = sections();
    const r = await ImageFile.write(target, recs, 12288, async (file) => {
      expect(fs.existsSync(target)).toBe(false);
      const a = file.section('a');
      a.write(new Uint8Array([1, 2]));
      a.write(new Uint8Array([3, 4, 5, 6]));
      a.finish();
      file.writeSection('b', new Uint8Array([7, 8, 9]));
      return manifest;
    });
    const bytes = fs.readFileSync(target);
    const json = JSON.stringify(manifest);
    expect(r).toEqual({ manifest, fileBytes: 12288 + json.length });
    expect(bytes.length).toBe(12288 + json.length);
    expect([...bytes.subarray(4096, 4102)]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...bytes.subarray(8192, 8195)]).toEqual([7, 8, 9]);
    expect(bytes.subarray(12288).toString('utf8')).toBe(json);
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x54, 0x4c, 0x4d, 0x49, 0x4d, 0x47, 0x0a]);
    expect(Number(bytes.readBigUInt64LE(16))).toBe(12288);
    expect(Number(bytes.readBigUInt64LE(24))).toBe(json.length);
    // sha256 of [1..6] and [7, 8, 9].
    expect(recs[0]!.sha256).toBe('7192385c3c0605de55bb9476ce1d90748190ecb32a8eed7f5207b30cf6a1fe89');
    expect(recs[1]!.sha256).toBe('66a6757151f8ee55db127716c7e3dce0be8074b64e20eda542e5c1e46ca9c41e');
    expect(fs.readdirSync(dir)).toEqual(['x.tlm']);
  });

  it('more bytes than planned, fewer, a section never written, a section not planned: E_INTERNAL, and no file left', async () => {
    const dir = tmpDir('image-file-bad');
    const target = path.join(dir, 'x.tlm');
    fs.writeFileSync(target, 'earlier');
    const attempt = (body: (f: ImageFile) => void) =>
      ImageFile.write(target, sections(), 12288, async (f) => {
        body(f);
        return manifest;
      });
    await expectTellme(() => attempt((f) => f.writeSection('a', new Uint8Array(7))), 'E_INTERNAL', 'section a: 7 bytes written, planned 6');
    await expectTellme(
      () =>
        attempt((f) => {
          const a = f.section('a');
          a.write(new Uint8Array(4));
          a.write(new Uint8Array(3));
        }),
      'E_INTERNAL',
      'section a: 7 bytes written, planned 6',
    );
    await expectTellme(() => attempt((f) => f.writeSection('a', new Uint8Array(5))), 'E_INTERNAL', 'section a: 5 bytes written, planned 6');
    await expectTellme(() => attempt((f) => f.writeSection('a', new Uint8Array(6))), 'E_INTERNAL', 'section b was never written');
    await expectTellme(() => attempt((f) => f.section('c')), 'E_INTERNAL', 'no section c planned');
    // The target was never touched by the failures, and each closed its descriptor.
    expect(fs.readFileSync(target, 'utf8')).toBe('earlier');
    expect(fs.readdirSync(dir)).toEqual(['x.tlm']);
    const fds = fs.readdirSync('/proc/self/fd').length;
    await expectTellme(() => attempt((f) => f.section('c')), 'E_INTERNAL', 'no section c planned');
    expect(fs.readdirSync('/proc/self/fd').length).toBe(fds);
  });

  it('asBytes: the bytes of a typed array view, without a copy', () => {
    const f = new Float32Array([1, 2, 3]);
    const v = new Uint16Array(f.buffer, 4, 2);
    const b = asBytes(v);
    expect([b.byteOffset, b.byteLength]).toEqual([4, 4]);
    expect(b.buffer).toBe(f.buffer);
    expect([...b]).toEqual([0, 0, 0, 64]);
  });
});
