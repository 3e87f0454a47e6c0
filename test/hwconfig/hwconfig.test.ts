import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TellmeError } from '../../host/src/errors.js';
import {
  accumulatorBitsFor,
  boardsDir,
  canonicalJson,
  hwConfigFromObject,
  hwConfigHash,
  listBoards,
  loadHwConfig,
  type HwConfig,
} from '../../host/src/hwconfig/index.js';
import { accumulatorBits } from '../../host/src/tlmm/tables.js';

function raw(name: string): HwConfig {
  return JSON.parse(fs.readFileSync(path.join(boardsDir(), `${name}.json`), 'utf8')) as HwConfig;
}

function errorOf(fn: () => unknown): TellmeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TellmeError);
    return e as TellmeError;
  }
  throw new Error('expected an error');
}

describe('board profiles', () => {
  it('ships kv260, kv260-paper, zcu104 and one PCIe card, all valid', () => {
    const boards = listBoards();
    expect(boards).toEqual(expect.arrayContaining(['kv260', 'kv260-paper', 'zcu104', 'alveo-u55c']));
    for (const b of boards) {
      const hw = loadHwConfig(b);
      expect(hw.config.name).toBe(b);
      expect(hw.hash).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(loadHwConfig('alveo-u55c').config.board.host_link).toBe('pcie-xdma');
  });

  it('kv260-paper reproduces the paper build: 140-bit vectors in 144-bit words, 48 URAMs, 768-bit beat = 5 vectors + 1 norm', () => {
    const hw = loadHwConfig('kv260-paper');
    const d = hw.derived;
    expect(d.indexVectorBits).toBe(140);
    expect(d.uramWordBits).toBe(144);
    expect(d.tableEntryBits).toBe(10);
    expect(d.tableEntries).toBe(27);
    expect(d.chunkElements).toBe(84);
    expect(d.banks).toBe(8);
    expect(hw.config.uram.weight_buffer_urams).toBe(48);
    expect(d.bankDepthUrams).toBe(3);
    expect(d.wordsPerBank).toBe(12288);
    expect(d.beatBits).toBe(768);
    expect(d.paperVectorsPerBeat).toBe(5);
    expect(d.lookupsPerCycle).toBe(448);
    expect(d.weightsPerCycle).toBe(1344);
    // 3 HP ports (HP0, HP1, HP3: no shared controller port) x 128 bits x 250 MHz: the ports, not
    // the DDR (19.2 GB/s x 0.833), bound the weight stream.
    expect(d.portBandwidthBps).toBe(12e9);
    expect(d.lockstepBandwidthBps).toBe(12e9);
    expect(d.effectiveBandwidthBps).toBe(12e9);
    // K_max = FFN 4096 padded to 4116; 127 * 4116 = 522,732 < 2^19.
    expect(d.kMaxPadded).toBe(4116);
    expect(d.accumulatorBits).toBe(20);
    expect(hw.config.architecture.double_buffering).toBe(false);
    expect(hw.config.memory.ddr_peak_gb_s).toBe(19.2);
  });

  it('kv260 default: K_max 8640 -> padded 8652 -> 22-bit accumulators, double-buffered 32-URAM buffer', () => {
    const d = loadHwConfig('kv260').derived;
    expect(d.kMaxPadded).toBe(8652);
    expect(d.accumulatorBits).toBe(22);
    expect(d.buffers).toBe(2);
    expect(d.wordsPerBankPerBuffer).toBe(4096);
    // Four lanes in lockstep; HP1 and HP2 share a controller port and run 19 % late, so all four
    // go at 4 GB/s / 1.19: 13.45 GB/s, below both the DDR cap and the kernel side.
    expect(d.lockstepBandwidthBps).toBeCloseTo((4 * 4e9) / 1.19, 0);
    expect(d.effectiveBandwidthBps).toBeCloseTo((4 * 4e9) / 1.19, 0);
    expect(d.ddrBandwidthBps).toBeCloseTo(19.2e9 * 0.833, 0);
  });
});

describe('accumulator width', () => {
  it('matches tlmm/tables.ts and the known points', () => {
    expect(accumulatorBitsFor(8640)).toBe(22);
    expect(accumulatorBitsFor(8652)).toBe(22);
    expect(accumulatorBitsFor(4116)).toBe(20);
    expect(accumulatorBitsFor(1596)).toBe(19);
    for (const k of [1, 2, 3, 84, 1000, 4128, 8256, 8257, 16513, 16514, 100000]) expect(accumulatorBitsFor(k)).toBe(accumulatorBits(k));
    // 2^21 - 1 = 2,097,151 = 127 * 16513 exactly: the last K that fits 22 bits.
    expect(accumulatorBitsFor(16513)).toBe(22);
    expect(accumulatorBitsFor(16514)).toBe(23);
  });
});

describe('content hash', () => {
  it('is sha256 of the canonical JSON with sorted keys, without $schema/description/notes/sources', () => {
    const cfg = raw('kv260');
    const copy: Record<string, unknown> = { ...cfg };
    for (const k of ['$schema', 'description', 'notes', 'sources']) delete copy[k];
    const expected = createHash('sha256').update(canonicalJson(copy)).digest('hex');
    expect(loadHwConfig('kv260').hash).toBe(expected);
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
  });

  it('ignores key order and documentation, changes with any build field', () => {
    const cfg = raw('kv260');
    const reordered = Object.fromEntries(Object.entries(cfg).reverse()) as HwConfig;
    expect(hwConfigHash(reordered)).toBe(hwConfigHash(cfg));
    expect(hwConfigHash({ ...cfg, notes: ['x'], description: 'other', sources: {} })).toBe(hwConfigHash(cfg));
    expect(hwConfigHash({ ...cfg, clock_mhz: 251 })).not.toBe(hwConfigHash(cfg));
    expect(hwConfigHash({ ...cfg, timing: { ...cfg.timing, lookup_ii: 2 } })).not.toBe(hwConfigHash(cfg));
    expect(loadHwConfig('kv260').hash).not.toBe(loadHwConfig('kv260-paper').hash);
  });
});

describe('validation', () => {
  it('names the file and the field of schema errors', () => {
    const bad = { ...raw('kv260'), clock_hz: 250 } as unknown;
    const e = errorOf(() => hwConfigFromObject(bad, 'my-board.json'));
    expect(e.code).toBe('E_HWCONFIG');
    expect(e.message).toContain('my-board.json');
    expect(e.message).toContain('unknown field "clock_hz"');

    const cfg = raw('kv260');
    const missing = { ...cfg, memory: { ...cfg.memory } } as Record<string, unknown>;
    delete (missing['memory'] as Record<string, unknown>)['ddr_peak_gb_s'];
    expect(errorOf(() => hwConfigFromObject(missing, 'b.json')).message).toContain('memory: missing field "ddr_peak_gb_s"');

    const wrongEnum = { ...cfg, architecture: { ...cfg.architecture, beat_packing: 'tight' } };
    expect(errorOf(() => hwConfigFromObject(wrongEnum, 'b.json')).message).toMatch(/architecture\.beat_packing/);

    const negative = { ...cfg, maxima: { ...cfg.maxima, layers: 0 } };
    expect(errorOf(() => hwConfigFromObject(negative, 'b.json')).message).toContain('maxima.layers');
  });

  it('rejects inconsistent builds loudly', () => {
    const cfg = raw('kv260');
    const t29 = { ...cfg, tlmm: { ...cfg.tlmm, tables_per_vector: 29 } };
    const e1 = errorOf(() => hwConfigFromObject(t29, 'b.json'));
    expect(e1.message).toContain('tlmm.tables_per_vector');
    expect(e1.message).toContain('145 bits');

    const qOdd = { ...cfg, tlmm: { ...cfg.tlmm, parallel_vectors: 15 } };
    expect(errorOf(() => hwConfigFromObject(qOdd, 'b.json')).message).toContain('tlmm.parallel_vectors');

    const oddDepth = { ...cfg, uram: { ...cfg.uram, weight_buffer_urams: 48 } };
    const e3 = errorOf(() => hwConfigFromObject(oddDepth, 'b.json'));
    expect(e3.message).toContain('uram.weight_buffer_urams');
    expect(e3.message).toContain('double buffering');

    const notMultiple = { ...cfg, uram: { ...cfg.uram, weight_buffer_urams: 40 } };
    expect(errorOf(() => hwConfigFromObject(notMultiple, 'b.json')).message).toContain('not a multiple of cascade * Q/2');

    const paperDb = { ...raw('kv260-paper'), architecture: { ...raw('kv260-paper').architecture, double_buffering: true } };
    expect(errorOf(() => hwConfigFromObject(paperDb, 'b.json')).message).toMatch(/double_buffering|weight_buffer_urams/);

    const kvHeads = { ...cfg, maxima: { ...cfg.maxima, kv_heads: 64 } };
    expect(errorOf(() => hwConfigFromObject(kvHeads, 'b.json')).message).toContain('maxima.kv_heads');

    const tinyBeat = { ...raw('kv260-paper'), memory: { ...raw('kv260-paper').memory, weight_ports: 1, axi_data_bits: 128 } };
    expect(errorOf(() => hwConfigFromObject(tinyBeat, 'b.json')).message).toContain('cannot carry one 140-bit index vector');

    const armPcie = { ...raw('alveo-u55c'), lm_head: { ...raw('alveo-u55c').lm_head, placement: 'arm' } };
    expect(errorOf(() => hwConfigFromObject(armPcie, 'b.json')).message).toContain('lm_head.placement');

    // The shortlist head streams its ternary rows through the TLMM as a tiled linear.
    const paper = raw('kv260-paper');
    const shortlistPaper = { ...paper, numerics: { ...paper.numerics, lm_head: 'ternary-shortlist' } };
    const e4 = errorOf(() => hwConfigFromObject(shortlistPaper, 'b.json'));
    expect(e4.message).toContain('numerics.lm_head');
    expect(e4.message).toContain('weight_layout "paper-regions"');
    expect(hwConfigFromObject({ ...cfg, numerics: { ...cfg.numerics, lm_head: 'ternary-shortlist' } }, 'b.json').config.numerics.lm_head).toBe('ternary-shortlist');
  });

  it('unknown board lists the known ones; a path loads a file', () => {
    const e = errorOf(() => loadHwConfig('kv999'));
    expect(e.code).toBe('E_HWCONFIG');
    for (const b of ['kv260', 'kv260-paper', 'zcu104', 'alveo-u55c']) expect(e.message).toContain(b);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-hw-'));
    try {
    const file = path.join(dir, 'custom.json');
    fs.writeFileSync(file, JSON.stringify({ ...raw('kv260'), name: 'custom', clock_mhz: 200 }));
    const hw = loadHwConfig(file);
    expect(hw.config.clock_mhz).toBe(200);
    expect(hw.file).toBe(file);
    fs.writeFileSync(file, '{ not json');
    expect(errorOf(() => loadHwConfig(file)).message).toContain(file);
    expect(errorOf(() => loadHwConfig(path.join(dir, 'missing.json'))).code).toBe('E_NOT_FOUND');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
