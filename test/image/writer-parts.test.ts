/**
 * The writer's parts on their own: the plan's context (its range, the default, the board's
 * maximum) and fit problems, the small inputs (norm lookup, the source record of a sharded
 * checkpoint), the ternary head writer (tiles of different heights against the reference packer,
 * and its checks of its own row count) (the tokenizer's parts:
 * writer-tokenizer.test.ts).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { hwConfigFromObject, loadHwConfig } from '../../host/src/hwconfig/index.js';
import { normOf, readConvertInputs } from '../../host/src/image/convert-inputs.js';
import { ImageFile } from '../../host/src/image/image-file.js';
import { planImage } from '../../host/src/image/index.js';
import { sectionTable } from '../../host/src/image/section-table.js';
import { TernaryHeadWriter } from '../../host/src/image/write-ternary-head.js';
import { makePackLayout, packWeights, splitLanes } from '../../host/src/layout/index.js';
import type { LinearPlacement } from '../../host/src/layout/uram.js';
import { ternarizeHeadRow } from '../../host/src/quant/head.js';
import { encodeTernary } from '../../host/src/tlmm/encoding.js';
import { writeTestModel, type TestModelInput } from '../../host/src/testmodels/index.js';
import { expectTellme, tmpDir } from './helpers.js';

function checkpoint(input: TestModelInput) {
  const dir = tmpDir('model');
  writeTestModel(dir, input);
  return openCheckpoint(dir);
}

describe('planImage: the context', () => {
  const ckpt = () => checkpoint({ preset: 'hf1bitllm-tiny', tokenizer: false });
  it('1 and max_position_embeddings are accepted; 0, one more, a fraction and NaN are refused with the range', async () => {
    const c = ckpt();
    const hw = loadHwConfig('kv260');
    const max = c.spec.maxPositions;
    expect(max).toBe(256);
    expect(planImage(c.spec, hw, 1).context).toBe(1);
    expect(planImage(c.spec, hw, max).context).toBe(max);
    expect(planImage(c.spec, hw).context).toBe(max); // default: min(max_position_embeddings, the board's 4096)
    for (const bad of [0, max + 1, 1.5, Number.NaN]) {
      const err = await expectTellme(() => planImage(c.spec, hw, bad), 'E_USAGE', `--context must be an integer in 1..${max} (max_position_embeddings), got ${bad}`);
      expect(err.fix).toBe(`Pass --context between 1 and ${max}.`);
    }
  });

  it("a context past the board's maximum is a fit problem (not at the maximum); the default stops at the maximum", () => {
    const hw = loadHwConfig('kv260');
    const boardMax = hw.config.maxima.context;
    const spec = { ...ckpt().spec, maxPositions: boardMax + 1 };
    expect(planImage(spec, hw).context).toBe(boardMax);
    expect(planImage(spec, hw, boardMax).problems).toEqual([]);
    expect(planImage(spec, hw, boardMax + 1).problems).toEqual([`context ${boardMax + 1} exceeds the ${boardMax} positions kv260 is built for`]);
  });
});

describe('the small inputs', () => {
  it('normOf: a role the model has, and an internal error for one it has not', async () => {
    const c = checkpoint({ preset: 'hf1bitllm-tiny', tokenizer: false });
    const inputs = readConvertInputs(c);
    expect(normOf(inputs.norms, 'final', 0)).toBe(inputs.norms.final);
    expect(normOf(inputs.norms, 'input', 1)).toBe(inputs.norms.layers[1]!.input);
    await expectTellme(() => normOf(inputs.norms, 'attn_sub', 1), 'E_INTERNAL', 'no attn_sub norm in layer 1');
    expect(inputs.normAbsmax[1]!.attn_sub).toBeNull();
    expect(inputs.tokenizerJson).toBeNull();
  });

  it('the source record of a sharded checkpoint: every file by name and size, in order, and the config hash', () => {
    const c = checkpoint({ preset: 'bitnet-tiny-packed', shards: 3, tokenizer: false });
    const src = readConvertInputs(c).source;
    const names = fs.readdirSync(c.dir).filter((f) => f.endsWith('.safetensors')).sort();
    expect(names).toHaveLength(3);
    expect(src.files).toEqual(names.map((name) => ({ name, bytes: fs.statSync(path.join(c.dir, name)).size })));
    expect(src.config_sha256).toBe(createHash('sha256').update(fs.readFileSync(path.join(c.dir, 'config.json'))).digest('hex'));
    expect({ kind: src.kind, path: src.path, family: src.family, weight_storage: src.weight_storage, scale_convention: src.scale_convention, dtype: src.dtype }).toEqual({
      kind: 'hf-checkpoint',
      path: c.dir,
      family: 'bitnet',
      weight_storage: 'packed',
      scale_convention: 'multiply',
      dtype: 'bfloat16',
    });
  });
});

describe('the ternary head writer', () => {
  it('two tiles of different heights: each tile packed from its own rows, blocks relative to the tile (reference packer)', () => {
    const hw = loadHwConfig('kv260');
    const T = hw.derived.tables;
    const cols = 12; // 4 groups: one chunk
    const block = (rowStart: number, rows: number) => ({ rowStart, rows, chunkStart: 0, chunks: 1, wordBase: 0, rowsPerBank: 1 });
    const tile = (t: number, rowStart: number, rows: number) => ({ linear: 'head' as const, tile: t, tiles: 2, rowStart, rows, blocks: [block(rowStart, 2), block(rowStart + 2, rows - 2)], wordsPerBank: 0, vectors: rows, storedVectors: rows });
    const head = { linear: 'head' as const, rows: 9, cols, chunks: 1, tiles: [tile(0, 0, 5), tile(1, 5, 4)] } as unknown as LinearPlacement<'head'>;
    const written = new Map<string, Uint8Array>();
    const scales: number[] = [];
    const file = {
      section: () => ({ write: (b: Uint8Array) => scales.push(...new Float32Array(b.slice().buffer)), finish: () => {} }),
      writeSection: (name: string, bytes: Uint8Array) => written.set(name, bytes.slice()),
    } as unknown as ImageFile;
    const values = Float32Array.from({ length: 9 * cols }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 5)));
    const w = new TernaryHeadWriter(head, hw, file);
    w.rows(values.subarray(0, 3 * cols)); // tile 0's rows arrive in two chunks, the second ending inside tile 1
    w.rows(values.subarray(3 * cols));
    w.finish();
    const P = hw.config.memory.weight_ports;
    expect([...written.keys()].sort()).toEqual([0, 1].flatMap((t) => Array.from({ length: P }, (_, p) => `weights.head.t${t}.p${p}`)).sort());
    for (const t of head.tiles) {
      const ternary = new Int8Array(t.rows * cols);
      for (let r = 0; r < t.rows; r++) expect(scales[t.rowStart + r]).toBe(ternarizeHeadRow(values, (t.rowStart + r) * cols, cols, ternary, r * cols));
      const layout = makePackLayout(hw.config.architecture.beat_packing, hw.derived.beatBits, hw.config.tlmm.index_bits, T, t.blocks.map((b) => ({ rowStart: b.rowStart - t.rowStart, rows: b.rows, chunkStart: 0, chunks: 1 })));
      const lanes = splitLanes(packWeights(encodeTernary(ternary, t.rows, cols, T), layout), hw.derived.beatBytes, P);
      for (let p = 0; p < P; p++) expect(Buffer.from(written.get(`weights.head.t${t.tile}.p${p}`)!).equals(Buffer.from(lanes[p]!)), `tile ${t.tile} lane ${p}`).toBe(true);
    }
    expect(scales).toHaveLength(9);
  });

  it('more rows than the head has, and finishing before every tile is written, are internal errors', async () => {
    const c = checkpoint({ preset: 'hf1bitllm-tiny', tokenizer: false, vocab: 40 });
    const base = loadHwConfig('kv260');
    const hw = hwConfigFromObject({ ...base.config, numerics: { ...base.config.numerics, lm_head: 'ternary-shortlist', shortlist_k: 4 } }, 'shortlist');
    const plan = planImage(c.spec, hw);
    const head = plan.uram.head!;
    const table = sectionTable(c.spec, plan.ddr, false, readConvertInputs(c));
    const h = c.spec.hiddenSize;
    const out = path.join(tmpDir('head'), 'x.tlm');
    const done = new Error('stop here');
    await expect(
      ImageFile.write(out, table.sections, table.manifestOffset, async (file) => {
        const w = new TernaryHeadWriter(head, hw, file);
        w.rows(new Float32Array(7 * h).fill(0.5));
        await expectTellme(() => w.finish(), 'E_INTERNAL', `ternary head: 0 of ${head.tiles.length} tiles written`);
        w.rows(new Float32Array(33 * h).fill(-0.25));
        await expectTellme(() => w.rows(new Float32Array(h)), 'E_INTERNAL', 'ternary head: more than 40 rows');
        throw done;
      }),
    ).rejects.toBe(done);
    expect(fs.existsSync(out)).toBe(false);
  });
});
