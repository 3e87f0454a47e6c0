import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadHwConfig } from '../../host/src/hwconfig/index.js';
import { checkUramPlan, placeLinear, planUram, uramAddress, type UramPlan } from '../../host/src/layout/index.js';
import { LINEAR_NAMES, linearShape } from '../../host/src/model/spec.js';
import { builtinShape } from '../../host/src/plan/shapes.js';
import { arbShape, arbSmallShape, arbVariant, variant } from './helpers.js';

describe('paper layout (kv260-paper, bitnet_b1_58-large)', () => {
  const hw = loadHwConfig('kv260-paper');
  const spec = builtinShape('bitnet-large');
  const plan = planUram(spec, hw);

  it('holds one whole linear per step in the 48-URAM buffer [3][19][1536]', () => {
    expect(plan.fits).toBe(true);
    expect(plan.weightBufferUrams).toBe(48);
    expect(plan.steps.map((s) => s.linear)).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'up_proj', 'gate_proj', 'down_proj']);
    const by = Object.fromEntries(plan.linears.map((l) => [l.linear, l]));
    // 1536 -> 1596 = 19 chunks of 84; 4096 -> 4116 = 49 chunks.
    expect(by['q_proj']!.chunks).toBe(19);
    expect(by['q_proj']!.chunks * 84).toBe(1596);
    expect(by['down_proj']!.chunks).toBe(49);
    expect(by['down_proj']!.chunks * 84).toBe(4116);
    // up/gate: 3 row regions of 1536 (4608 >= 4096); down: 3 chunk regions of 19 (57 >= 49).
    expect(by['up_proj']!.tiles[0]!.blocks.map((b) => [b.rowStart, b.rows, b.chunkStart, b.chunks])).toEqual([
      [0, 1536, 0, 19],
      [1536, 1536, 0, 19],
      [3072, 1536, 0, 19],
    ]);
    expect(by['down_proj']!.tiles[0]!.blocks.map((b) => [b.chunkStart, b.chunks])).toEqual([
      [0, 19],
      [19, 19],
      [38, 19],
    ]);
    // 3 * 19 * 1536/8 = 10,944 words per bank -> 3 URAMs deep (12,288).
    expect(by['up_proj']!.tiles[0]!.wordsPerBank).toBe(10944);
    expect(by['q_proj']!.tiles[0]!.wordsPerBank).toBe(19 * 192);
    expect(plan.peakWordsPerBank).toBe(10944);
    // The paper's eq. 9 taken literally gives 32 (tellme-paper.md §4).
    expect(plan.eq9Urams).toBe(32);
    checkUramPlan(plan);
  });

  it('maps addresses as eq. 10: (x*19 + y)*192 + z/8 in bank z mod 8', () => {
    const up = plan.linears.find((l) => l.linear === 'up_proj')!.tiles[0]!;
    expect(uramAddress(up, 0, 0, 0, hw)).toEqual({ bank: 0, word: 0 });
    expect(uramAddress(up, 9, 0, 0, hw)).toEqual({ bank: 1, word: 1 });
    expect(uramAddress(up, 1536 + 17, 5, 0, hw)).toEqual({ bank: 1, word: (1 * 19 + 5) * 192 + 2 });
    const down = plan.linears.find((l) => l.linear === 'down_proj')!.tiles[0]!;
    expect(uramAddress(down, 100, 40, 0, hw)).toEqual({ bank: 4, word: (2 * 19 + 2) * 192 + 12 });
  });

  it('cannot hold 2B-4T or 3B linears and says which', () => {
    const p = planUram(builtinShape('bitnet-2b4t'), hw);
    expect(p.fits).toBe(false);
    expect(p.problems.join('\n')).toMatch(/gate_proj \(6912 x 2560\) needs 29760 words per bank/);
  });
});

describe('tiled, double-buffered layout (kv260)', () => {
  const hw = loadHwConfig('kv260');

  it('tiles 2B-4T gate/up (6912 x 2560, 31 chunks) into 7 tiles of <= 4096 words per bank', () => {
    const plan = planUram(builtinShape('bitnet-2b4t'), hw);
    expect(plan.fits).toBe(true);
    const gate = plan.linears.find((l) => l.linear === 'gate_proj')!;
    expect(gate.chunks).toBe(31);
    // floor(4096 / 31) = 132 rows per bank -> 1056 rows per tile max -> 7 tiles of 992 (multiple of 16).
    expect(gate.tiles.length).toBe(7);
    expect(gate.tiles.map((t) => t.rows)).toEqual([992, 992, 992, 992, 992, 992, 960]);
    for (const t of gate.tiles) expect(t.wordsPerBank).toBeLessThanOrEqual(4096);
    expect(plan.linears.find((l) => l.linear === 'down_proj')!.tiles.length).toBe(7);
    checkUramPlan(plan);
    // Consecutive steps alternate between the two halves (depth level 0 vs 1).
    for (let i = 0; i + 1 < plan.steps.length; i++) expect(plan.steps[i]!.buffer).not.toBe(plan.steps[i + 1]!.buffer);
    for (const s of plan.steps) expect(s.depthLevels).toEqual([s.buffer]);
  });

  it('bitnet-large q_proj fits one tile, up/gate/down need 3', () => {
    const plan = planUram(builtinShape('bitnet-large'), hw);
    expect(plan.linears.map((l) => l.tiles.length)).toEqual([1, 1, 1, 1, 3, 3, 3]);
  });

  it('detects a step that leaves its buffer', () => {
    const plan = planUram(builtinShape('bitnet-large'), hw);
    const broken: UramPlan = { ...plan, steps: plan.steps.map((s, i) => (i === 1 ? { ...s, buffer: 0, wordStart: 0, wordEnd: 10, depthLevels: [0] } : s)) };
    expect(() => checkUramPlan(broken)).toThrow(/both in buffer|leave/);
  });
});

describe('properties', () => {
  it('tiles cover every row exactly once and addresses are unique inside their buffer', () => {
    fc.assert(
      fc.property(arbVariant, arbSmallShape, fc.constantFrom(...LINEAR_NAMES), (v, spec, name) => {
        const hw = variant(v);
        const { rows, cols } = linearShape(spec, name);
        const lp = placeLinear(spec, hw, name);
        const chunks = Math.ceil(cols / hw.derived.chunkElements);
        expect(lp.chunks).toBe(chunks);
        // Every (row, chunk) of the matrix is in exactly one block of one tile.
        const seen = new Uint8Array(rows * chunks);
        for (const t of lp.tiles) {
          if (hw.config.architecture.weight_layout === 'tiled') {
            expect(t.blocks.length).toBe(1);
            expect(t.rows).toBeGreaterThan(0);
          }
          for (const b of t.blocks) {
            for (let r = b.rowStart; r < Math.min(rows, b.rowStart + b.rows); r++) {
              for (let k = b.chunkStart; k < Math.min(chunks, b.chunkStart + b.chunks); k++) seen[r * chunks + k] = seen[r * chunks + k]! + 1;
            }
          }
        }
        expect(seen.every((x) => x === 1)).toBe(true);
        // Addresses are injective per tile and stay in the buffer when the tile fits.
        for (const t of lp.tiles) {
          const fits = t.wordsPerBank <= hw.derived.wordsPerBankPerBuffer;
          for (const buffer of hw.derived.buffers === 2 ? [0, 1] : [0]) {
            const used = new Set<number>();
            for (const b of t.blocks) {
              for (let r = b.rowStart; r < b.rowStart + b.rows; r++) {
                for (let k = b.chunkStart; k < b.chunkStart + b.chunks; k++) {
                  const a = uramAddress(t, r, k, buffer, hw);
                  if (a.bank < 0 || a.bank >= hw.derived.banks) throw new Error(`bank ${a.bank} out of range`);
                  const key = a.word * hw.derived.banks + a.bank;
                  if (used.has(key)) throw new Error(`(${r}, ${k}) reuses bank ${a.bank} word ${a.word}`);
                  used.add(key);
                  const lo = buffer * hw.derived.wordsPerBankPerBuffer;
                  if (fits && (a.word < lo || a.word >= lo + hw.derived.wordsPerBankPerBuffer)) throw new Error(`(${r}, ${k}) word ${a.word} outside buffer ${buffer}`);
                }
              }
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a plan places every linear once (golden/weights-image.ts relies on finding each)', () => {
    const plan = planUram(builtinShape('bitnet-large'), loadHwConfig('kv260'));
    expect(plan.linears.map((l) => l.linear).sort()).toEqual([...LINEAR_NAMES].sort());
  });

  it('whole plans pass their own check', () => {
    fc.assert(
      fc.property(arbVariant, arbShape, (v, spec) => {
        const plan = planUram(spec, variant(v));
        checkUramPlan(plan);
        if (v.layout === 'tiled') expect(plan.fits).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
