/**
 * The weight loader and the TLMM engine model (hls/src/weight_loader.cpp, tlmm_engine_hls.cpp) in C
 * simulation against the golden TLMM pieces, bit for bit: each case is a ternary matrix tiled by rows as the
 * planner tiles it for kv260 (host/src/layout tileRows), each tile packed into dense beats and
 * split into lane regions exactly as the image writer does (encodeTernary, packWeights,
 * splitLanes), loaded into alternating buffer halves while the previous tile computes (the engine
 * calls of the HLS top), and multiplied by int8 activations of several tokens. The golden accumulators are a plain integer dot product (dotProductRows),
 * itself checked against the golden table lookups. Five seeds plus edge cases: all-zero, all +1,
 * all -1 weights, saturated activations, K = 8640 (103 chunks), K and rows that are not whole
 * chunks or blocks. A planted one-bit change in the engine must fail.
 */
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHwConfig } from '../../host/src/hwconfig/load.js';
import { packLayout, packWeights, splitLanes } from '../../host/src/layout/beats.js';
import { tileRows } from '../../host/src/layout/uram.js';
import { Rng } from '../../host/src/testmodels/prng.js';
import { encodeTernary } from '../../host/src/tlmm/encoding.js';
import { buildTables, dotProductRows, lookupRows } from '../../host/src/tlmm/tables.js';
import { buildDriver, buildMutant, runDriver, tempDir } from './build.js';
import { VectorWriter } from './vectors.js';

const hw = loadHwConfig('kv260');
const CHUNK = hw.derived.chunkElements;

interface TlmmCase {
  name: string;
  rows: number;
  cols: number;
  tokens: number;
  weight: (rng: Rng, r: number, c: number) => number;
  act: (rng: Rng) => number;
}

function writeCase(dir: string, c: TlmmCase, seed: number): string {
  const rng = new Rng(seed, 0x746c6d6d);
  const { rows, cols, tokens } = c;
  const chunks = Math.ceil(cols / CHUNK);
  const w = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) w[r * cols + k] = c.weight(rng, r, k);
  const act = new Int8Array(tokens * chunks * CHUNK); // zero past K in every token
  for (let t = 0; t < tokens; t++) for (let k = 0; k < cols; k++) act[t * chunks * CHUNK + k] = c.act(rng);
  const acc = new Int32Array(tokens * rows);
  const m = encodeTernary(w, rows, cols, hw.derived.tables);
  const tables = new Int32Array(m.groups * 27);
  const viaTables = new Int32Array(rows);
  for (let t = 0; t < tokens; t++) {
    const a = act.subarray(t * chunks * CHUNK, (t + 1) * chunks * CHUNK);
    dotProductRows(w, rows, cols, a, 0, acc.subarray(t * rows, (t + 1) * rows));
    // The oracle agrees with the golden model's table lookups (two independent formulations).
    buildTables(a, 0, cols, m.groups, tables);
    lookupRows(m, tables, viaTables, 0, rows);
    expect(Array.from(viaTables)).toEqual(Array.from(acc.subarray(t * rows, (t + 1) * rows)));
  }
  const v = new VectorWriter().u32('rows', rows).u32('cols', cols).u32('tokens', tokens);
  v.add('act', 'i8', act).add('acc', 'i32', acc);
  const tiles = tileRows(rows, chunks, hw);
  v.u32('tiles', tiles.length);
  tiles.forEach((tile, i) => {
    const layout = packLayout(hw, [{ rowStart: tile.rowStart, rows: tile.rows, chunkStart: 0, chunks }]);
    const lanes = splitLanes(packWeights(m, layout), hw.derived.beatBytes, hw.config.memory.weight_ports);
    v.u32(`tile${i}.rows`, tile.rows).u32(`tile${i}.row_start`, tile.rowStart);
    lanes.forEach((lane, p) => v.add(`tile${i}.lane${p}`, 'u8', lane));
  });
  return v.write(path.join(dir, `${c.name}-s${seed}.tlvf`));
}

const ternary = (rng: Rng) => (rng.nextU32() % 3) - 1;
const int8 = (rng: Rng) => (rng.nextU32() % 255) - 127;

function randomCase(rng: Rng, i: number): TlmmCase {
  return { name: `random${i}`, rows: 1 + (rng.nextU32() % 1200), cols: 1 + (rng.nextU32() % 2000), tokens: 1 + (rng.nextU32() % 3), weight: ternary, act: int8 };
}

const EDGE_CASES: TlmmCase[] = [
  { name: 'zeros', rows: 48, cols: 200, tokens: 2, weight: () => 0, act: int8 },
  { name: 'all-plus-one-saturated', rows: 64, cols: 1536, tokens: 2, weight: () => 1, act: () => 127 },
  { name: 'all-minus-one-saturated', rows: 40, cols: 1536, tokens: 1, weight: () => -1, act: () => 127 },
  { name: 'mixed-saturated', rows: 17, cols: 250, tokens: 2, weight: ternary, act: (r) => (r.nextU32() & 1 ? 127 : -127) },
  { name: 'k8640-two-tiles', rows: 608, cols: 8640, tokens: 1, weight: ternary, act: int8 },
  { name: 'k8640-max-acc', rows: 16, cols: 8640, tokens: 1, weight: () => -1, act: () => -127 },
  { name: 'tiny-rows', rows: 3, cols: 85, tokens: 3, weight: ternary, act: int8 },
  { name: 'down-proj-073b', rows: 1536, cols: 4096, tokens: 1, weight: ternary, act: int8 },
];

describe('weight loader + TLMM engine (C simulation) vs the golden TLMM', () => {
  let exe: string;
  let dir: string;
  let files: string[];
  beforeAll(async () => {
    exe = await buildDriver('tlmm_tb');
    dir = tempDir('tlmm');
    files = [];
    for (const seed of [1, 2, 3, 4, 5]) {
      const rng = new Rng(seed, 1);
      files.push(writeCase(dir, randomCase(rng, seed), seed));
    }
    for (const c of EDGE_CASES) files.push(writeCase(dir, c, 9));
  });

  it('equal bit for bit on five seeds and the edge cases; out-of-range commands are refused', async () => {
    const r = await runDriver(exe, files);
    expect(r.stderr).not.toMatch(/MISMATCH/);
    expect(r.summary, r.stderr.slice(0, 2000)).toMatchObject({ mismatches: 0, pass: true, cases: files.length + 1 });
    expect(r.exitCode).toBe(0);
    // The loop counters of the cycle report are printed.
    expect(r.stdout).toMatch(/"tlmm_engine\.LOOKUP": \{"entries": \d+, "iterations": \d+\}/);
  });

  it('fails when a case file is missing', async () => {
    const r = await runDriver(exe, [path.join(dir, 'nope.tlvf')]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/cannot read the vector file/);
  });

  it('catches a planted one-bit change in the engine (one table digit)', async () => {
    const mutant = await buildMutant('tlmm_tb', 'src/tlmm_engine_hls.cpp', 'unsigned d = j == 0 ? idx / 9', 'unsigned d = j == 0 ? (idx ^ 1) / 9');
    const r = await runDriver(mutant, files.slice(0, 2));
    expect(r.summary!.mismatches).toBeGreaterThan(0);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/token \d+ row \d+ accumulator: got 0x[0-9a-f]+, golden 0x[0-9a-f]+/);
  });
});
