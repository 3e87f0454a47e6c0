/**
 * The manifest records and names shared by the image writer and reader (host/src/image/records.ts),
 * as known answers written out here: the writer and the reader both call these functions, so an
 * image round trip cannot see a change to them (both sides change alike). Each field of the URAM
 * record gets a distinct value, so a field dropped, renamed or taken from the wrong source differs.
 */
import { describe, expect, it } from 'vitest';
import type { DdrRegion } from '../../host/src/layout/ddr.js';
import type { UramPlan } from '../../host/src/layout/uram.js';
import type { ModelSpec } from '../../host/src/model/spec.js';
import { ddrNormRegion, ddrRegionRecord, f32Hex, hostNormSection, rmsNormEpsBits, TOKENIZER_CONFIG_SECTION, TOKENIZER_JSON_SECTION, uramRecord } from '../../host/src/image/records.js';

describe('section and region names', () => {
  it('host sections: the tokenizer files, the binary32 norm copies by layer and role, the final norm', () => {
    expect(TOKENIZER_JSON_SECTION).toBe('host.tokenizer.json');
    expect(TOKENIZER_CONFIG_SECTION).toBe('host.tokenizer_config.json');
    expect(hostNormSection('input', 0)).toBe('host.norms.L0.input');
    expect(hostNormSection('ffn_sub', 13)).toBe('host.norms.L13.ffn_sub');
    expect(hostNormSection('final', 13)).toBe('host.norms.final');
  });

  it('DDR norm regions', () => {
    expect(ddrNormRegion('post_attention', 2)).toBe('norms.L2.post_attention');
    expect(ddrNormRegion('attn_sub', 0)).toBe('norms.L0.attn_sub');
    expect(ddrNormRegion('final', 2)).toBe('norms.final');
  });
});

describe('binary32 bits as hex', () => {
  it('eight lower-case digits after 0x, leading zeros kept', () => {
    expect(f32Hex(1)).toBe('0x3f800000');
    expect(f32Hex(-2.5)).toBe('0xc0200000');
    expect(f32Hex(2 ** -149)).toBe('0x00000001');
    expect(f32Hex(2 ** -126)).toBe('0x00800000');
    expect(f32Hex(0)).toBe('0x00000000');
    expect(f32Hex(-0)).toBe('0x80000000');
    // Rounded to binary32 first: 0.1 is 0x3dcccccd.
    expect(f32Hex(0.1)).toBe('0x3dcccccd');
  });

  it("rms_norm_eps as the binary32 bits the firmware programs (docs/numerics.md §5)", () => {
    expect(rmsNormEpsBits({ rmsNormEps: 1e-5 } as ModelSpec)).toBe('0x3727c5ac');
    expect(rmsNormEpsBits({ rmsNormEps: 1e-6 } as ModelSpec)).toBe('0x358637bd');
  });
});

describe('the URAM record', () => {
  const tile = (linear: string, t: number, base: number) => ({
    linear,
    tile: t,
    tiles: 2,
    rowStart: base + 1,
    rows: base + 2,
    wordsPerBank: base + 3,
    vectors: base + 4,
    storedVectors: base + 5,
    blocks: [
      { rowStart: base + 6, rows: base + 7, chunkStart: base + 8, chunks: base + 9, wordBase: base + 10, rowsPerBank: base + 11 },
      { rowStart: base + 12, rows: base + 13, chunkStart: base + 14, chunks: base + 15, wordBase: base + 16, rowsPerBank: base + 17 },
    ],
  });
  const linear = (name: string, base: number) => ({ linear: name, rows: base + 20, cols: base + 21, chunks: base + 22, tiles: [tile(name, 0, base + 100), tile(name, 1, base + 200)] });
  const plan = (head: boolean, steps: { urams: number }[]) =>
    ({
      layout: 'tiled',
      banks: 3,
      cascade: 4,
      bankDepthUrams: 5,
      wordsPerBank: 6,
      buffers: 2,
      wordsPerBuffer: 7,
      weightBufferUrams: 8,
      linears: [linear('q_proj', 1000), linear('down_proj', 2000)],
      head: head ? linear('head', 3000) : null,
      steps,
      stepsPerLayer: 9,
      peakWordsPerBank: 10,
      eq9Urams: 11,
      fits: true,
      problems: [],
    }) as unknown as UramPlan;

  // Written out: the record's snake_case fields and where each comes from.
  const tileRecord = (t: number, base: number) => ({
    tile: t,
    row_start: base + 1,
    rows: base + 2,
    words_per_bank: base + 3,
    blocks: [
      { row_start: base + 6, rows: base + 7, chunk_start: base + 8, chunks: base + 9, word_base: base + 10, rows_per_bank: base + 11 },
      { row_start: base + 12, rows: base + 13, chunk_start: base + 14, chunks: base + 15, word_base: base + 16, rows_per_bank: base + 17 },
    ],
  });
  const linearRecord = (name: string, base: number) => ({ linear: name, rows: base + 20, cols: base + 21, chunks: base + 22, tiles: [tileRecord(0, base + 100), tileRecord(1, base + 200)] });

  it('every field of the plan the manifest records, in snake_case; the head when there is one', () => {
    const want = {
      layout: 'tiled',
      weight_buffer_urams: 8,
      banks: 3,
      buffers: 2,
      words_per_buffer: 7,
      steps_per_layer: 9,
      peak_words_per_bank: 10,
      eq9_urams: 11,
      urams_used: 2 * 7,
      linears: [linearRecord('q_proj', 1000), linearRecord('down_proj', 2000)],
      head: linearRecord('head', 3000),
    };
    expect(uramRecord(plan(true, [{ urams: 3 }, { urams: 7 }, { urams: 5 }]))).toStrictEqual(want);
    expect(uramRecord(plan(false, [{ urams: 3 }, { urams: 7 }, { urams: 5 }]))).toStrictEqual({ ...want, head: null });
  });

  it('URAMs used: the most any step touches, times the buffers; 0 without steps', () => {
    expect(uramRecord(plan(false, [{ urams: 7 }, { urams: 3 }])).urams_used).toBe(14);
    expect(uramRecord(plan(false, [])).urams_used).toBe(0);
  });
});

describe('the DDR region record', () => {
  it('the region with whether the image carries it', () => {
    const r = { name: 'rope', kind: 'rope', size: 16384, dtype: 'fp32', shape: [256, 16], offset: 8192 } as unknown as DdrRegion;
    expect(ddrRegionRecord(r, true)).toStrictEqual({ name: 'rope', kind: 'rope', size: 16384, dtype: 'fp32', shape: [256, 16], offset: 8192, in_image: true });
    expect(ddrRegionRecord(r, false).in_image).toBe(false);
  });
});
