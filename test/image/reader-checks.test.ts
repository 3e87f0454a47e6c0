/**
 * openImage's checks of the manifest against itself, the planner and the file (reader.ts
 * openImage and checkModel; docs/image-format.md §4), one edit per check: each test names the check,
 * edits the one field it reads (stored with a fresh manifest checksum, so only that check can
 * notice), and expects its exact message; where a check has a boundary, the value on the accepted
 * side opens. The sections' own checksums are not what these tests are about: they open with
 * `verifyChecksums: false` unless the check runs in the checksum pass.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { hwConfigFromObject, loadHwConfig } from '../../host/src/hwconfig/index.js';
import { openImage, type ImageManifest } from '../../host/src/image/index.js';
import { convert, copyImage, expectTellme, readManifest, testModel, tmpDir, withManifest, writeManifestBytes } from './helpers.js';

/** bitnet-tiny-packed on kv260: binary32 norms in DDR regions, no host norms. */
let kv260: string;
/** A model whose norms ride in paper beats, on kv260-paper (binary16 activations: host norm sections). */
let paper: string;

beforeAll(async () => {
  kv260 = (await convert(testModel({ preset: 'bitnet-tiny-packed' }), 'kv260')).path;
  paper = (await convert(testModel({ preset: 'bitnet-tiny-packed', hidden: 420, heads: 5, kvHeads: 5, intermediate: 840, layers: 2, vocab: 300 }), 'kv260-paper')).path;
}, 120_000);

const DAMAGED = 'The image is damaged or was edited: copy it again or re-run `tellme convert`.';

const edited = withManifest;

const open = (file: string) => openImage(file, { verifyChecksums: false });

/** The edit is refused with exactly `what` after the file name, and the damaged-image fix. */
async function refused(base: string, edit: (m: ImageManifest) => void, what: string): Promise<void> {
  const f = edited(base, edit);
  const e = await expectTellme(() => open(f), 'E_IMAGE');
  expect(e.message).toBe(`${f}: ${what}`);
  expect(e.fix).toBe(DAMAGED);
}

/** The edit opens (the value is on the accepted side of the check). */
function accepted(base: string, edit: (m: ImageManifest) => void): ImageManifest {
  return open(edited(base, edit)).manifest;
}

/** A copy of `base` whose manifest is `bytes`. */
function withRawManifest(base: string, bytes: Uint8Array): string {
  const f = copyImage(base);
  writeManifestBytes(f, bytes);
  return f;
}

const m0 = (file: string) => readManifest(file) as unknown as ImageManifest;

describe('openImage: the file itself', () => {
  it('a missing path is E_NOT_FOUND, a directory E_USAGE, each with what to pass', async () => {
    const dir = tmpDir('reader-paths');
    const missing = path.join(dir, 'none.tlm');
    const nf = await expectTellme(() => openImage(missing), 'E_NOT_FOUND');
    expect(nf.message).toBe(`${missing}: no such file`);
    expect(nf.fix).toBe('Pass the path of a model image written by `tellme convert`.');
    const us = await expectTellme(() => openImage(dir), 'E_USAGE');
    expect(us.message).toBe(`${dir} is not a file; a model image is one file`);
    expect(us.fix).toBe('Pass the image file (a checkpoint directory is converted with `tellme convert`).');
  });

  it("the manifest's checksum: the byte range and both hashes' first 16 hex digits", async () => {
    const f = copyImage(kv260);
    const buf = fs.readFileSync(f);
    const off = Number(buf.readBigUInt64LE(16));
    const recorded = Buffer.from(buf.subarray(32, 64)).toString('hex');
    buf[off + 1] = buf[off + 1]! ^ 0x20;
    fs.writeFileSync(f, buf);
    const got = createHash('sha256').update(buf.subarray(off)).digest('hex');
    const e = await expectTellme(() => open(f), 'E_IMAGE');
    expect(e.message).toBe(`${f}: the manifest (bytes ${off}..${buf.length - 1}) fails its checksum: sha256 ${got.slice(0, 16)}… but the header records ${recorded.slice(0, 16)}…`);
    expect(e.fix).toBe(DAMAGED);
  });

  it('a manifest that is not UTF-8 JSON, or not a JSON object', async () => {
    const notUtf8 = withRawManifest(kv260, new Uint8Array([0x7b, 0xff, 0x7d]));
    const a = await expectTellme(() => open(notUtf8), 'E_IMAGE', `${notUtf8}: the manifest is not valid UTF-8 JSON: `);
    expect(a.fix).toBe(DAMAGED);
    // A byte that is not UTF-8 inside a JSON string: decoded leniently it would be U+FFFD and parse.
    const inString = withRawManifest(kv260, new Uint8Array([0x22, 0xff, 0x22]));
    await expectTellme(() => open(inString), 'E_IMAGE', `${inString}: the manifest is not valid UTF-8 JSON: `);
    const notJson = withRawManifest(kv260, Buffer.from('{"format": ', 'utf8'));
    await expectTellme(() => open(notJson), 'E_IMAGE', `${notJson}: the manifest is not valid UTF-8 JSON: `);
    for (const text of ['[]', 'null', '7', '"tellme-image"']) {
      const f = withRawManifest(kv260, Buffer.from(text, 'utf8'));
      const e = await expectTellme(() => open(f), 'E_IMAGE');
      expect(e.message, text).toBe(`${f}: the manifest is not a JSON object`);
    }
  });

  it('the manifest names its format; the version must be a supported number', async () => {
    await refused(kv260, (m) => ((m as unknown as Record<string, unknown>)['format'] = 'tellme-imag'), `the manifest's format is "tellme-imag", expected "tellme-image"`);
    await refused(kv260, (m) => delete (m as unknown as Record<string, unknown>)['format'], `the manifest's format is undefined, expected "tellme-image"`);
    // A version that is not a number: no upgrade can read it.
    const f = edited(kv260, (m) => ((m as unknown as Record<string, unknown>)['format_version'] = '2'));
    const e = await expectTellme(() => open(f), 'E_IMAGE');
    expect(e.message).toBe(`${f}: unknown image manifest format version "2"; this tellme reads version 2`);
    expect(e.fix).toBe('Re-convert the model with this version of tellme (`tellme convert`).');
    // The manifest alone (the header says 2): a newer number asks for an upgrade, an older one or a string for a re-conversion.
    const fixFor = async (v: unknown) => {
      const g = edited(kv260, (m) => ((m as unknown as Record<string, unknown>)['format_version'] = v));
      const err = await expectTellme(() => open(g), 'E_IMAGE', `unknown image manifest format version ${JSON.stringify(v)}; this tellme reads version 2`);
      return err.fix;
    };
    expect(await fixFor(3)).toBe('Upgrade tellme to a version that reads this image, or re-convert the model with this version (`tellme convert`).');
    expect(await fixFor(7)).toBe('Upgrade tellme to a version that reads this image, or re-convert the model with this version (`tellme convert`).');
    expect(await fixFor(1)).toBe('Re-convert the model with this version of tellme (`tellme convert`).');
    expect(await fixFor('3')).toBe('Re-convert the model with this version of tellme (`tellme convert`).');
  });

  it('the manifest must match its schema: at most 10 problems listed, then how many more', async () => {
    const f = edited(kv260, (m) => {
      for (let i = 0; i < 12; i++) (m as unknown as Record<string, unknown>)[`extra${i}`] = i;
    });
    const e = await expectTellme(() => open(f), 'E_IMAGE', `${f}: the image manifest does not match its schema:\n  `, 'extra9', '\n  ... and 2 more');
    expect(e.message.split('\n')).toHaveLength(12);
    expect(e.message).not.toContain('extra10');
    expect(e.fix).toBe('The image was not written by this version of `tellme convert` or was edited; re-convert the model (schema: host/src/image/manifest.schema.json).');
    const one = edited(kv260, (m) => ((m as unknown as Record<string, unknown>)['extra'] = 1));
    const e1 = await expectTellme(() => open(one), 'E_IMAGE', 'unknown field "extra"');
    expect(e1.message).not.toContain('more');
    expect(e1.message.split('\n')).toHaveLength(2);
  });
});

describe('openImage: the hardware set', () => {
  it('a stored hardware description that is not a valid one', async () => {
    const f = edited(kv260, (m) => ((m.hardware.config as unknown as Record<string, unknown>)['clock_mhz'] = 'fast'));
    const e = await expectTellme(() => open(f), 'E_IMAGE', `${f}: the hardware description stored in the image is invalid: `, `${f} (hardware description)`);
    expect(e.fix).toBe(DAMAGED);
  });

  it('the stored description must hash to the recorded hash and carry the recorded name', async () => {
    const hw = loadHwConfig('kv260');
    const h = hw.hash.slice(0, 12);
    await refused(kv260, (m) => (m.hardware.name = 'zcu104'), `the stored hardware description (name kv260, hash ${h}…) does not match the recorded zcu104 (hash ${h}…)`);
    await refused(kv260, (m) => (m.hardware.hash = `${'0'.repeat(12)}${m.hardware.hash.slice(12)}`), `the stored hardware description (name kv260, hash ${h}…) does not match the recorded kv260 (hash 000000000000…)`);
  });

  it('another build of the same board (same name, another hash): the difference by path, the fix names its file', async () => {
    const hw = loadHwConfig('kv260');
    const c = structuredClone(hw.config) as unknown as Record<string, Record<string, unknown>>;
    c['memory']!['weight_ports'] = 2;
    const other = hwConfigFromObject(c, '/boards/kv260-two-ports.json');
    const e = await expectTellme(() => openImage(kv260, { hw: other, verifyChecksums: false }), 'E_IMAGE');
    expect(e.message).toBe(
      `${kv260}: image built for kv260 (hash ${hw.hash.slice(0, 12)}…) but the bitstream/board is kv260 (hash ${other.hash.slice(0, 12)}…); they differ in memory.weight_ports: 4 vs 2`,
    );
    expect(e.fix).toBe('Convert the model for this board: tellme convert --model <checkpoint> --board /boards/kv260-two-ports.json -o <image>.');
  });

  it('at most 6 differences are named, in key order; the description and notes are not differences', async () => {
    const hw = loadHwConfig('kv260');
    const c = structuredClone(hw.config) as unknown as Record<string, unknown>;
    c['description'] = 'another';
    c['clock_mhz'] = 200;
    const mem = c['memory'] as Record<string, number>;
    mem['ddr_efficiency'] = 0.8;
    mem['ddr_peak_gb_s'] = 19;
    const res = c['resources'] as Record<string, number>;
    for (const k of ['bram36', 'dsp', 'ff', 'lut']) res[k] = res[k]! - 1;
    const other = hwConfigFromObject(c, 'x.json');
    const e = await expectTellme(() => openImage(kv260, { hw: other, verifyChecksums: false }), 'E_IMAGE');
    expect(e.message.split('; they differ in ')[1]).toBe('clock_mhz: 250 vs 200; memory.ddr_efficiency: 0.833 vs 0.8; memory.ddr_peak_gb_s: 19.2 vs 19; resources.bram36: 144 vs 143; resources.dsp: 1248 vs 1247; resources.ff: 234240 vs 234239');
  });
});

describe('checkModel: the spec, the context and the plans', () => {
  it('an implausible spec is refused before any plan is built, naming every problem', async () => {
    await refused(kv260, (m) => ((m.spec.numLayers = 1025), (m.spec.rmsNormEps = 0.5)), 'the model spec is implausible: num_hidden_layers 1025 is not an integer in 1..1024; rms_norm_eps 0.5 is outside [1e-12, 0.1]');
  });

  it('the context: at most the model positions (equal opens), the same in the DDR map', async () => {
    const m = m0(kv260);
    expect(m.context).toBe(256);
    expect(accepted(kv260, (x) => (x.spec.maxPositions = x.context)).spec.maxPositions).toBe(256);
    await refused(kv260, (x) => (x.spec.maxPositions = x.context - 1), `context 256 (DDR map: 256) is not within the model's 255 positions`);
    await refused(kv260, (x) => (x.ddr.context = 128), `context 256 (DDR map: 128) is not within the model's 256 positions`);
  });

  it('an image converted for a shorter context opens: the DDR map is planned for the recorded context', async () => {
    const short = (await convert(testModel({ preset: 'bitnet-tiny-packed' }), 'kv260', { context: 24 })).path;
    expect(open(short).context).toBe(24);
  });

  it('a model the planner cannot place on the board', async () => {
    // 1024 heads of 1024: o_proj reduces over 2^20 inputs, more chunks than a weight buffer holds rows of.
    await refused(
      kv260,
      (m) => ((m.spec.numHeads = 1024), (m.spec.numKvHeads = 1024), (m.spec.headDim = 1024)),
      'the planner cannot place this model on kv260: a linear with 12484 chunks (reduction 1048656) does not fit even 16 rows into one weight buffer of 4096 words per bank',
    );
  });

  it("the URAM tiling must be the one the board gives this model", async () => {
    await refused(kv260, (m) => (m.uram.banks += 1), 'the URAM tiling recorded in the manifest is not the one kv260 gives this model');
    await refused(kv260, (m) => (m.uram.urams_used += 1), 'the URAM tiling recorded in the manifest is not the one kv260 gives this model');
  });

  it('the DDR map: its alignment, total size and region count each, then every region', async () => {
    const m = m0(kv260);
    const want = `(${m.ddr.regions.length} regions, ${m.ddr.total_bytes} bytes)`;
    const tail = `is not the one the model spec, kv260 and context 256 imply ${want}`;
    await refused(kv260, (x) => (x.ddr.alignment = 8192), `the DDR map recorded in the manifest ${want} ${tail}`);
    await refused(kv260, (x) => (x.ddr.total_bytes += 4096), `the DDR map recorded in the manifest (${m.ddr.regions.length} regions, ${m.ddr.total_bytes + 4096} bytes) ${tail}`);
    const logits = m.ddr.regions.findIndex((r) => r.name === 'logits');
    expect(logits).toBe(m.ddr.regions.length - 1);
    await refused(kv260, (x) => void x.ddr.regions.pop(), `the DDR map recorded in the manifest (${m.ddr.regions.length - 1} regions, ${m.ddr.total_bytes} bytes) ${tail}`);
    const { in_image: _i, ...r } = m.ddr.regions[logits]!;
    await refused(kv260, (x) => (x.ddr.regions[logits]!.size += 4), `DDR region ${logits} is ${JSON.stringify({ ...r, size: r.size + 4 })} but the model spec, kv260 and context 256 imply ${JSON.stringify(r)}`);
    // in_image is checked on its own (below), not as part of the region.
    await refused(kv260, (x) => (x.ddr.regions[logits]!.in_image = true), `DDR region logits: in_image is true, expected false`);
    await refused(kv260, (x) => (x.ddr.regions[0]!.in_image = false), `DDR region ${m.ddr.regions[0]!.name}: in_image is false, expected true`);
  });

  it('the norms carried in paper beats must be the ones the layout implies', async () => {
    const m = m0(paper);
    expect(m.ddr.carried_norms.length).toBeGreaterThan(0);
    const what = 'the norms carried in weight beats are not the ones the layout implies';
    await refused(paper, (x) => void x.ddr.carried_norms.pop(), what);
    const c0 = m.ddr.carried_norms[0]!;
    const changed: Record<string, unknown> = { layer: c0.layer + 1, linear: c0.linear === 'down_proj' ? 'o_proj' : 'down_proj', role: c0.role === 'input' ? 'post_attention' : 'input', norm_layer: c0.norm_layer + 1, length: c0.length - 1 };
    for (const [field, v] of Object.entries(changed)) {
      await refused(paper, (x) => ((x.ddr.carried_norms[0] as unknown as Record<string, unknown>)[field] = v), what);
    }
  });
});

describe('checkModel: the section table', () => {
  it('a name twice, an unaligned offset (one byte either side), an offset or end outside the data area', async () => {
    const m = m0(kv260);
    const rope = m.sections.find((s) => s.name === 'rope')!;
    await refused(kv260, (x) => void x.sections.push({ ...rope }), 'section rope appears twice');
    await refused(kv260, (x) => (x.sections.find((s) => s.name === 'rope')!.offset += 1), `section rope starts at ${rope.offset + 1}, not a multiple of 4096`);
    await refused(kv260, (x) => (x.sections.find((s) => s.name === 'rope')!.offset -= 1), `section rope starts at ${rope.offset - 1}, not a multiple of 4096`);
    const end = Number(fs.readFileSync(kv260).readBigUInt64LE(16));
    await refused(kv260, (x) => (x.sections.find((s) => s.name === 'rope')!.offset = end), `section rope [${end}, ${end + rope.size}) lies outside the data area [4096, ${end})`);
  });

  it('sections may touch (rope ends where the embedding starts); one byte more overlaps', async () => {
    const m = m0(kv260);
    const rope = m.sections.find((s) => s.name === 'rope')!;
    const emb = m.sections.find((s) => s.name === 'embedding')!;
    expect(rope.offset + rope.size).toBe(emb.offset);
    await refused(
      kv260,
      (x) => (x.sections.find((s) => s.name === 'rope')!.size += 1),
      `section embedding [${emb.offset}, ${emb.offset + emb.size}) overlaps section rope [${rope.offset}, ${rope.offset + rope.size + 1})`,
    );
  });

  it("each DDR region's section: its kind, size, dtype, shape and DDR offset, each on its own", async () => {
    const rope = m0(kv260).sections.find((s) => s.name === 'rope')!;
    const implied = `but the model implies ${rope.size} bytes of ${rope.dtype} ${JSON.stringify(rope.shape)} at ${rope.ddr_offset}`;
    const edit = (f: (s: ImageManifest['sections'][number]) => void) => (x: ImageManifest) => f(x.sections.find((s) => s.name === 'rope')!);
    await refused(kv260, edit((s) => (s.kind = 'norms')), `section rope is ${rope.size} bytes of fp32 ${JSON.stringify(rope.shape)} for DDR offset ${rope.ddr_offset}, ${implied}`);
    await refused(kv260, edit((s) => (s.size -= 4)), `section rope is ${rope.size - 4} bytes of fp32 ${JSON.stringify(rope.shape)} for DDR offset ${rope.ddr_offset}, ${implied}`);
    await refused(kv260, edit((s) => (s.dtype = 'bf16')), `section rope is ${rope.size} bytes of bf16 ${JSON.stringify(rope.shape)} for DDR offset ${rope.ddr_offset}, ${implied}`);
    await refused(kv260, edit((s) => (s.shape = [rope.shape[1]!, rope.shape[0]!])), `section rope is ${rope.size} bytes of fp32 ${JSON.stringify([rope.shape[1], rope.shape[0]])} for DDR offset ${rope.ddr_offset}, ${implied}`);
    await refused(kv260, edit((s) => (s.ddr_offset = rope.ddr_offset! + 4096)), `section rope is ${rope.size} bytes of fp32 ${JSON.stringify(rope.shape)} for DDR offset ${rope.ddr_offset! + 4096}, ${implied}`);
  });

  it('binary16 builds: every host norm section, of kind host_norms and 4 bytes a weight', async () => {
    const m = m0(paper);
    const names = m.sections.filter((s) => s.kind === 'host_norms').map((s) => s.name);
    expect([...names].sort()).toEqual([...['input', 'post_attention', 'attn_sub', 'ffn_sub'].flatMap((r) => [0, 1].map((l) => `host.norms.L${l}.${r}`)), 'host.norms.final'].sort());
    const ffn = m.sections.find((s) => s.name === 'host.norms.L1.ffn_sub')!;
    expect(ffn.size).toBe(4 * 840);
    const what = `section host.norms.L1.ffn_sub (binary32 norm weights, ${4 * 840} bytes) is missing or has the wrong size`;
    const edit = (f: (s: ImageManifest['sections'][number]) => void) => (x: ImageManifest) => f(x.sections.find((s) => s.name === 'host.norms.L1.ffn_sub')!);
    await refused(paper, edit((s) => (s.size -= 4)), what);
    await refused(paper, edit((s) => (s.kind = 'tokenizer')), what);
    await refused(paper, (x) => void x.sections.splice(x.sections.findIndex((s) => s.name === 'host.norms.L1.ffn_sub'), 1), what);
    await refused(paper, (x) => void x.sections.splice(x.sections.findIndex((s) => s.name === 'host.norms.final'), 1), `section host.norms.final (binary32 norm weights, ${4 * 420} bytes) is missing or has the wrong size`);
  });

  it('the tokenizer record names tokenizer sections (or null); no section belongs to nothing', async () => {
    const m = m0(kv260);
    expect(m.tokenizer.tokenizer_json).toBe('host.tokenizer.json');
    await refused(kv260, (x) => (x.tokenizer.tokenizer_json = 'rope'), 'tokenizer.tokenizer_json names section "rope", which is not a tokenizer section');
    await refused(kv260, (x) => (x.sections.find((s) => s.name === 'host.tokenizer_config.json')!.kind = 'host_norms'), 'tokenizer.tokenizer_config names section "host.tokenizer_config.json", which is not a tokenizer section');
    // The other tokenizer file's name: the section exists and is a tokenizer, but not the one named.
    await refused(kv260, (x) => (x.tokenizer.tokenizer_config = 'host.tokenizer.json'), 'tokenizer.tokenizer_config names section "host.tokenizer.json", which is not a tokenizer section');
    await refused(kv260, (x) => (x.tokenizer.tokenizer_config = null), 'section host.tokenizer_config.json (tokenizer) does not belong to this model and hardware set');
    // Both null and both sections gone: the image opens (a model without tokenizer files).
    const bare = accepted(kv260, (x) => {
      x.tokenizer.tokenizer_json = null;
      x.tokenizer.tokenizer_config = null;
      x.sections = x.sections.filter((s) => s.kind !== 'tokenizer');
    });
    expect(bare.sections.some((s) => s.kind === 'tokenizer')).toBe(false);
    await refused(kv260, (x) => (x.sections.find((s) => s.name === 'host.tokenizer.json')!.name = 'extra.json'), 'tokenizer.tokenizer_json names section "host.tokenizer.json", which is not a tokenizer section');
    await refused(
      kv260,
      (x) => ((x.sections.find((s) => s.name === 'host.tokenizer.json')!.name = 'extra.json'), (x.tokenizer.tokenizer_json = null)),
      'section extra.json (tokenizer) does not belong to this model and hardware set',
    );
  });

  it("the tokenizer record's special ids: eos, bos and pad each", async () => {
    const what = "the tokenizer record's special ids disagree with the model spec";
    await refused(kv260, (x) => (x.tokenizer.eos_token_ids = [...x.tokenizer.eos_token_ids].reverse()), what);
    await refused(kv260, (x) => (x.tokenizer.bos_token_id = (x.tokenizer.bos_token_id ?? 0) + 1), what);
    await refused(kv260, (x) => (x.tokenizer.pad_token_id = 0), what);
  });
});

describe('checkModel: the matrix records', () => {
  it('one record per layer and linear: one fewer, a layer out of range (= layers), a repeat', async () => {
    const m = m0(kv260);
    expect(m.matrices).toHaveLength(14);
    await refused(kv260, (x) => void x.matrices.pop(), '13 matrix records, expected 2 layers x 7');
    await refused(kv260, (x) => void x.matrices.push({ ...x.matrices[0]! }), '15 matrix records, expected 2 layers x 7');
    await refused(kv260, (x) => (x.matrices[13]!.layer = 2), 'matrix record layer 2 down_proj is out of range or repeated');
    await refused(kv260, (x) => (x.matrices[13]!.layer = 0), 'matrix record layer 0 down_proj is out of range or repeated');
  });

  it('rows, cols, chunks and tiles, each', async () => {
    const x0 = m0(kv260).matrices[0]!;
    expect([x0.layer, x0.linear, x0.rows, x0.cols, x0.chunks, x0.tiles]).toEqual([0, 'q_proj', 96, 96, 2, 1]);
    const want = 'expected 96 x 96 (2 chunks, 1 tiles)';
    await refused(kv260, (x) => (x.matrices[0]!.rows = 95), `matrix layer 0 q_proj is recorded as 95 x 96 (2 chunks, 1 tiles), ${want}`);
    await refused(kv260, (x) => (x.matrices[0]!.cols = 97), `matrix layer 0 q_proj is recorded as 96 x 97 (2 chunks, 1 tiles), ${want}`);
    await refused(kv260, (x) => (x.matrices[0]!.chunks = 1), `matrix layer 0 q_proj is recorded as 96 x 96 (1 chunks, 1 tiles), ${want}`);
    await refused(kv260, (x) => (x.matrices[0]!.tiles = 2), `matrix layer 0 q_proj is recorded as 96 x 96 (2 chunks, 2 tiles), ${want}`);
  });

  it('the weight scale: a positive normal binary32 value whose bits are recorded', async () => {
    const bits = (v: number) => `0x${Buffer.from(new Float32Array([v]).buffer).readUInt32LE(0).toString(16).padStart(8, '0')}`;
    const rec = (x: ImageManifest) => x.matrices.find((r) => r.layer === 1 && r.linear === 'gate_proj')!;
    const set = (v: number, b = bits(v)) => (x: ImageManifest) => ((rec(x).scale = v), (rec(x).scale_bits = b));
    const why = (v: number, b: string) => `matrix layer 1 gate_proj: scale ${v} (${b}) is not a positive normal binary32 value matching its bits`;
    // The smallest normal opens (the numerics record is not re-derived without the checksum pass); the largest subnormal does not.
    expect(rec(accepted(kv260, set(2 ** -126))).scale_bits).toBe('0x00800000');
    await refused(kv260, set(2 ** -126 - 2 ** -149), why(2 ** -126 - 2 ** -149, '0x007fffff'));
    await refused(kv260, set(0.1), why(0.1, '0x3dcccccd'));
    // Zero and negative scales are already refused by the schema.
    for (const v of [0, -1]) await expectTellme(() => open(edited(kv260, set(v))), 'E_IMAGE', 'does not match its schema', '.scale: must be >');
    await refused(kv260, set(1, '0x3f800001'), why(1, '0x3f800001'));
    expect(rec(accepted(kv260, set(1))).scale).toBe(1);
  });

  it('rope_permuted exactly for q_proj and k_proj', async () => {
    await refused(kv260, (x) => (x.matrices[1]!.rope_permuted = false), 'matrix layer 0 k_proj: rope_permuted is false');
    await refused(kv260, (x) => (x.matrices[2]!.rope_permuted = true), 'matrix layer 0 v_proj: rope_permuted is true');
  });
});

describe('checkModel: the numerics record', () => {
  const what = (bound: number) => `the numerics record is inconsistent (worst-case bound ${bound} must be below 2^127, one entry per layer)`;

  it('limit 2^127, a worst case below it (just below opens), one entry per layer', async () => {
    const below = 2 ** 127 * (1 - 2 ** -53);
    expect(accepted(kv260, (x) => (x.numerics.worst.bound = below)).numerics.worst.bound).toBe(below);
    await refused(kv260, (x) => (x.numerics.worst.bound = 2 ** 127), what(2 ** 127));
    const b = m0(kv260).numerics.worst.bound;
    await refused(kv260, (x) => (x.numerics.limit_log2 = 128), what(b));
    await refused(kv260, (x) => void x.numerics.layers.pop(), what(b));
  });

  it("the activation format and the binary16 norm statistics follow the hardware set", async () => {
    const fmt = "the numerics record does not match the hardware set's activation format";
    await refused(kv260, (x) => (x.numerics.activation_format = 'fp16'), fmt);
    await refused(kv260, (x) => (x.numerics.fp16_norms = { weights: 0, inexact: 0, max_rel_error: 0 }), fmt);
    await refused(paper, (x) => (x.numerics.fp16_norms = null), fmt);
  });
});

describe('checkModel: heads and head_dim', () => {
  it('heads not a multiple of the KV heads, an odd head_dim: refused as implausible (model/spec.ts), before any plan', async () => {
    await refused(kv260, (m) => (m.spec.numKvHeads = 4), 'the model spec is implausible: num_attention_heads 6 is not a multiple of num_key_value_heads 4');
    await refused(kv260, (m) => (m.spec.headDim = 15), 'the model spec is implausible: head_dim 15 is odd; RoPE rotates pairs');
  });
});
