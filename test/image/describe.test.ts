/**
 * What `tellme inspect` shows (host/src/image/describe.ts): the description of an opened image,
 * field by field against its manifest and hardware set, and the text report of a description
 * written out here in full (sizes at each unit boundary, both sides of every yes/no, the per-layer
 * summary of a long section list).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { describeImage, imageText, openImage, type ImageDescription } from '../../host/src/image/index.js';
import { parameterCount, ternaryWeightsPerToken } from '../../host/src/model/spec.js';
import { convert, copyImage, rewriteManifest, testModel } from './helpers.js';

let kv260: string;

/** bitnet-tiny-packed as the description names it. */
const TINY_MODEL = {
  family: 'bitnet',
  architecture: 'BitNetForCausalLM',
  layers: 2,
  hidden_size: 96,
  intermediate_size: 240,
  heads: 6,
  kv_heads: 2,
  head_dim: 16,
  vocab_size: 512,
  activation: 'relu2',
  sub_norms: true,
  tied_embeddings: true,
};

beforeAll(async () => {
  kv260 = (await convert(testModel({ preset: 'bitnet-tiny-packed' }), 'kv260')).path;
});

describe('describeImage', () => {
  it('the manifest, the header and the hardware set, field by field', () => {
    const img = openImage(kv260);
    const m = img.manifest;
    const d = describeImage(img);
    expect(d.file).toBe(kv260);
    expect(d.bytes).toBe(img.header.fileLength);
    expect([d.format, d.format_version, d.checksums_verified]).toEqual(['tellme-image', 2, true]);
    expect(d.converter).toEqual(m.converter);
    expect(d.source).toEqual(m.source);
    expect(d.hardware).toEqual({ name: 'kv260', hash: img.hw.hash, weight_layout: 'tiled', beat_packing: 'dense', activation_format: 'fp32', weight_ports: 4, beat_bits: 512 });
    expect(d.fit).toEqual(m.fit);
    expect(d.model).toEqual({
      ...TINY_MODEL,
      parameters: parameterCount(m.spec),
      ternary_weights_per_token: ternaryWeightsPerToken(m.spec),
    });
    expect(d.context).toBe(256);
    const scales = m.matrices.map((x) => x.scale);
    expect(new Set(scales).size).toBeGreaterThan(2);
    const weightBytes = m.sections.filter((s) => s.name.startsWith('weights.')).reduce((a, s) => a + s.size, 0);
    expect(d.weights).toEqual({ matrices: 14, scale_min: Math.min(...scales), scale_max: Math.max(...scales), bytes_per_token: weightBytes });
    const { linears: _l, ...uram } = m.uram;
    expect(d.uram).toEqual(uram);
    expect(d.ddr).toEqual({ regions: 80, in_image: m.ddr.regions.filter((r) => r.kind !== 'kv_cache' && r.kind !== 'scratch' && r.kind !== 'logits').length, total_bytes: m.ddr.total_bytes, usable_bytes: m.ddr.usable_bytes, carried_norms: 0 });
    expect(d.ddr.in_image).toBe(69);
    const { layers: _n, ...numerics } = m.numerics;
    expect(d.numerics).toEqual(numerics);
    expect(d.tokenizer).toEqual({ ...m.tokenizer, chat_template: true });
    expect(d.manifest).toEqual({ offset: img.header.manifestOffset, bytes: img.header.manifestLength, sha256: img.header.manifestSha256 });
    expect(d.sections).toEqual(m.sections.map(({ name, kind, offset, size, dtype, shape, ddr_offset, sha256 }) => ({ name, kind, offset, size, dtype, shape, ddr_offset, sha256 })));
    // Opened without the checksum pass, and a model without a chat template.
    const plain = describeImage(openImage(kv260, { verifyChecksums: false }));
    expect(plain.checksums_verified).toBe(false);
    const noTemplate = copyImage(kv260);
    rewriteManifest(noTemplate, (x) => ((x['tokenizer'] as Record<string, unknown>)['chat_template'] = null));
    expect(describeImage(openImage(noTemplate, { verifyChecksums: false })).tokenizer.chat_template).toBe(false);
  });
});

/** A description with a value of its own in every field the text shows. */
function description(over: Partial<ImageDescription> = {}): ImageDescription {
  return {
    file: '/m/x.tlm',
    bytes: 1023,
    format: 'tellme-image',
    format_version: 2,
    checksums_verified: true,
    converter: { name: 'tellme', version: '9.8.7' } as ImageDescription['converter'],
    source: { path: '/ckpt', family: 'bitnet', weight_storage: 'packed', dtype: 'bfloat16' } as ImageDescription['source'],
    hardware: { name: 'kv260', hash: 'abc123', weight_layout: 'tiled', beat_packing: 'dense', activation_format: 'fp32', weight_ports: 4, beat_bits: 512 },
    fit: { fits: true, problems: [] } as unknown as ImageDescription['fit'],
    model: {
      ...TINY_MODEL,
      parameters: 1_234_567,
      ternary_weights_per_token: 250_000,
    },
    context: 256,
    weights: { matrices: 14, scale_min: 0.5, scale_max: 1.25, bytes_per_token: 1024 },
    uram: { weight_buffer_urams: 32, buffers: 2, words_per_buffer: 8192, peak_words_per_bank: 123, steps_per_layer: 7 } as ImageDescription['uram'],
    ddr: { regions: 80, in_image: 69, total_bytes: 2 ** 20, usable_bytes: 2 ** 30, carried_norms: 0 },
    numerics: { limit_log2: 127, worst: { bound: 4219806883.0523148, log2: 31.974529830350516, where: 'layer 0 gate activation' } } as ImageDescription['numerics'],
    tokenizer: { tokenizer_json: 'host.tokenizer.json', tokenizer_config: 'host.tokenizer_config.json', chat_template: true, bos_token_id: 496, eos_token_ids: [497, 505], pad_token_id: null } as ImageDescription['tokenizer'],
    manifest: { offset: 475136, bytes: 2 ** 20 - 1, sha256: '0123456789abcdef0123' },
    sections: [
      { name: 'rope', kind: 'rope', offset: 4096, size: 16384, dtype: 'fp32', shape: [256, 16], ddr_offset: 8192, sha256: 'x' },
      { name: 'host.tokenizer.json', kind: 'tokenizer', offset: 20480, size: 31100, dtype: 'bytes', shape: [31100], ddr_offset: null, sha256: 'y' },
    ],
    ...over,
  };
}

describe('imageText', () => {
  it('every line of the report, written out', () => {
    expect(imageText(description())).toBe(
      [
        '/m/x.tlm',
        '  format          TeLLMe model image, version 2, 1023 B (1023 bytes)',
        '  converter       tellme 9.8.7, from /ckpt (bitnet, packed weights, bfloat16)',
        '  model           BitNetForCausalLM: 2 layers x 96 (FFN 240, ReLU²), 6 heads x 16, 2 KV heads, vocab 512',
        '                  sub-norms yes, head tied, 1.2 M parameters (0.3 M ternary)',
        '  hardware        kv260 (sha256 abc123): tiled layout, dense 512-bit beats over 4 ports, binary32 activations',
        '  fit             fits the board',
        '  context         256 positions (RoPE table and KV cache)',
        '  weights         14 matrices, 1.0 KiB of beats per token; scales 0.5..1.25',
        '  URAM            32 URAMs, 2 buffer(s) x 8192 words/bank; peak tile 123 words; 7 steps per layer',
        '  DDR map         80 regions (69 carried in the image), 1.0 MiB of 1.00 GiB usable',
        '  numerics        worst case 4.22e+9 (2^32.0, layer 0 gate activation) < 2^127',
        '  tokenizer       yes; chat template yes; bos 496, eos [497,505]',
        '  checksums       verified: all 2 sections (sha256) and the padding between them; manifest sha256 0123456789abcdef…',
        '  manifest        1024.0 KiB at 0x000074000',
        '  sections        offset        size        DDR offset    name',
        '                  0x000001000    16.0 KiB  0x000002000  rope',
        '                  0x000005000    30.4 KiB  (host)        host.tokenizer.json',
        '',
      ].join('\n'),
    );
  });

  it('the other side of each choice: SwiGLU, no sub-norms, untied, binary16, does not fit, no tokenizer, not verified, carried norms, unknown dtype', () => {
    const d = description({
      bytes: 2 ** 30,
      model: { ...description().model, activation: 'silu', sub_norms: false, tied_embeddings: false },
      source: { path: '/ckpt', family: 'llama', weight_storage: 'master', dtype: null } as unknown as ImageDescription['source'],
      hardware: { ...description().hardware, activation_format: 'fp16' },
      fit: { fits: false, problems: ['too big', 'too slow'] } as unknown as ImageDescription['fit'],
      tokenizer: { ...description().tokenizer, tokenizer_json: null, chat_template: false },
      checksums_verified: false,
      ddr: { ...description().ddr, carried_norms: 5 },
    });
    const lines = imageText(d).split('\n');
    expect(lines[1]).toBe('  format          TeLLMe model image, version 2, 1.00 GiB (1073741824 bytes)');
    expect(lines[2]).toBe('  converter       tellme 9.8.7, from /ckpt (llama, master weights, unknown dtype)');
    expect(lines[3]).toContain('(FFN 240, SwiGLU)');
    expect(lines[4]).toBe('                  sub-norms no, head untied, 1.2 M parameters (0.3 M ternary)');
    expect(lines[5]).toContain(', binary16 activations');
    expect(lines[6]).toBe('  fit             DOES NOT FIT: too big; too slow');
    expect(lines[10]).toBe('  DDR map         80 regions (69 carried in the image), 1.0 MiB of 1.00 GiB usable; 5 norms ride in weight beats');
    expect(lines[12]).toBe('  tokenizer       no (use --ids); chat template no; bos 496, eos [497,505]');
    expect(lines[13]).toBe('  checksums       NOT verified');
    expect(imageText(description({ bytes: 2 ** 30 - 1 })).split('\n')[1]).toBe('  format          TeLLMe model image, version 2, 1024.0 MiB (1073741823 bytes)');
  });

  it('more than 80 sections: weights and norms one line per layer, the rest listed, unless allSections', () => {
    const sections: ImageDescription['sections'] = [];
    let offset = 4096;
    const add = (name: string, size: number, ddr: number | null) => {
      sections.push({ name, kind: 'weights', offset, size, dtype: 'packed', shape: [size], ddr_offset: ddr, sha256: '' });
      offset += 4096;
    };
    // Layers 0 and 10 (two digits); a name with ".L0." that does not start with a grouped prefix stays on its own.
    for (const l of [0, 10]) for (let p = 0; p < 40; p++) add(`weights.L${l}.q_proj.t0.p${p}`, 100, offset);
    add('norms.L0.input', 384, offset);
    add('host.norms.L1.input', 384, null);
    add('rope', 2048, offset);
    add('x.weights.L0.y', 8, null);
    expect(sections).toHaveLength(84);
    const text = imageText(description({ sections }));
    const rows = text.split('\n').slice(16, -1);
    expect(rows).toEqual([
      '                  0x000001000     3.9 KiB  0x000001000  weights.L0.* (40 sections)',
      '                  0x000029000     3.9 KiB  0x000029000  weights.L10.* (40 sections)',
      '                  0x000051000       384 B  0x000051000  norms.L0.* (1 sections)',
      '                  0x000052000       384 B  (host)        host.norms.L1.* (1 sections)',
      '                  0x000053000     2.0 KiB  0x000053000  rope',
      '                  0x000054000         8 B  (host)        x.weights.L0.y',
      '                  (--sections lists every section)',
    ]);
    const all = imageText(description({ sections }), { allSections: true }).split('\n');
    expect(all).toHaveLength(16 + 84 + 1);
    expect(all[16]).toBe('                  0x000001000       100 B  0x000001000  weights.L0.q_proj.t0.p0');
    // Exactly 80 sections are listed one by one.
    expect(imageText(description({ sections: sections.slice(0, 80) })).split('\n')).toHaveLength(16 + 80 + 1);
  });
});
