/**
 * The golden model's weights from a checkpoint (host/src/golden/weights.ts): the fused matrices'
 * layout when a part's rows are not a multiple of 16, the embedding and both heads streamed in
 * 1024-row chunks (a vocabulary over one chunk, a hidden size that needs stride padding), a tied
 * float32 head quantised from the float32 rows (not their bf16 rounding), subnormal norm weights
 * and weight scales flushed, and the refusals with their messages.
 */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EMBED_NAME, LM_HEAD_NAME, layerNormName, weightScaleName } from '../../host/src/checkpoint/names.js';
import type { Checkpoint } from '../../host/src/checkpoint/types.js';
import {
  allocTernaryHead,
  goldenWeightsFromCheckpoint,
  headStride,
  placeTernaryHeadRows,
  ternaryHeadFromMatrix,
  ternaryHeadGroups,
} from '../../host/src/golden/weights.js';
import { f32ToBf16 } from '../../host/src/numerics/f16.js';
import { quantizeHeadRow, ternarizeHeadRow } from '../../host/src/quant/head.js';
import { encodeTernary } from '../../host/src/tlmm/encoding.js';
import { testModel } from '../image/helpers.js';
import { poolsClosedAfterAll } from './pools.js';
import { expectRefusal } from './refusal.js';

const pool = poolsClosedAfterAll();


/** Overwrite the first elements of a 2-byte float tensor in its safetensors file. */
function patchU16(ckpt: Checkpoint, name: string, values: number[]): void {
  const info = ckpt.tensors.get(name)!;
  expect(['BF16', 'F16']).toContain(info.dtype);
  const fd = fs.openSync(info.file, 'r+');
  try {
    fs.writeSync(fd, Buffer.from(new Uint16Array(values).buffer), 0, values.length * 2, info.offset);
  } finally {
    fs.closeSync(fd);
  }
}

const u32 = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));

describe('goldenWeightsFromCheckpoint', () => {
  it('hidden 72, vocab 1100, untied: fused parts on 16-row blocks, the embedding and the padded head over two chunks', async () => {
    const ckpt = testModel({ preset: 'hf1bitllm-tiny', hidden: 72, vocab: 1100, layers: 1 });
    const p = await pool();
    const w = await goldenWeightsFromCheckpoint(ckpt, p, { contextLength: 4 });
    // q: 72 rows (5 blocks), k and v: 2 heads of 18 = 36 rows (3 blocks each).
    const qkv = w.layers[0]!.qkv;
    expect([qkv.rows, qkv.blocks, qkv.cols, qkv.groups]).toEqual([176, 11, 72, 24]);
    expect(qkv.parts.map((x) => [x.name, x.row0, x.rows])).toEqual([['q_proj', 0, 72], ['k_proj', 80, 36], ['v_proj', 128, 36]]);
    const gu = w.layers[0]!.gateUp;
    expect(gu.parts.map((x) => [x.name, x.row0, x.rows])).toEqual([['gate_proj', 0, 192], ['up_proj', 192, 192]]);
    expect([w.layers[0]!.o.rows, w.layers[0]!.down.cols, w.layers[0]!.down.groups]).toEqual([80, 192, 64]);
    expect(w.layers[0]!.norms.attn_sub).toBeNull();

    const h = 72;
    const emb = ckpt.readF32(EMBED_NAME);
    expect(Array.from(w.embedding)).toEqual(Array.from(emb, (v) => f32ToBf16(v)));
    const head = ckpt.readF32(LM_HEAD_NAME);
    expect([w.head.rows, w.head.cols, w.head.stride]).toEqual([1100, 72, 80]);
    const want = new Int8Array(1100 * 80);
    const amax = Float32Array.from({ length: 1100 }, (_, r) => quantizeHeadRow(head, r * h, h, want, r * 80));
    expect(u32(w.head.rowAmax)).toEqual(u32(amax));
    expect(Buffer.from(p.arena.i8(w.head.off, 1100 * 80)).equals(Buffer.from(want.buffer))).toBe(true);
    expect(w.ternaryHead).toBeNull();
    expect(w.ropePositions).toBe(4);
    expect(w.rope.length).toBe(4 * 18);
  });

  it('a tied float32 head over two chunks: both heads from the float32 rows, not their bf16 rounding', async () => {
    const ckpt = testModel({ preset: '1bitllm-tiny-tied', vocab: 1100, hidden: 64, heads: 4, kvHeads: 4, intermediate: 128, layers: 1 });
    expect(ckpt.spec.tiedEmbeddings).toBe(true);
    expect(ckpt.tensors.get(EMBED_NAME)!.dtype).toBe('F32');
    const p = await pool();
    const w = await goldenWeightsFromCheckpoint(ckpt, p, { contextLength: 2, ternaryHead: true });
    const h = 64;
    const emb = ckpt.readF32(EMBED_NAME);
    const want = new Int8Array(1100 * h);
    const amax = Float32Array.from({ length: 1100 }, (_, r) => quantizeHeadRow(emb, r * h, h, want, r * h));
    expect(u32(w.head.rowAmax)).toEqual(u32(amax));
    expect(Buffer.from(p.arena.i8(w.head.off, 1100 * h)).equals(Buffer.from(want.buffer))).toBe(true);
    // The bf16 rounding of the rows would give other absmax values.
    const rounded = Float32Array.from(emb, (v) => new Float32Array(new Uint32Array([f32ToBf16(v) << 16]).buffer)[0]!);
    const roundedAmax = Float32Array.from({ length: 1100 }, (_, r) => quantizeHeadRow(rounded, r * h, h, new Int8Array(h), 0));
    expect(u32(roundedAmax)).not.toEqual(u32(amax));
    // The ternary head: w_r and the blocked indices of every row, as from one pass over the whole matrix.
    const th = w.ternaryHead!;
    expect([th.rows, th.cols, th.groups, th.blocks]).toEqual([1100, 64, 22, 69]);
    const t = new Int8Array(1100 * h);
    const scale = Float32Array.from({ length: 1100 }, (_, r) => ternarizeHeadRow(emb, r * h, h, t, r * h));
    expect(u32(th.scale)).toEqual(u32(scale));
    const q = await pool();
    const whole = ternaryHeadFromMatrix(q, encodeTernary(t, 1100, h, 1), scale);
    expect(Buffer.from(p.arena.u8(th.idxOff, 69 * 16 * 22)).equals(Buffer.from(q.arena.u8(whole.idxOff, 69 * 16 * 22)))).toBe(true);
  });

  it('subnormal norm weights and weight scales are flushed to signed zeros; the smallest normal is kept', async () => {
    const ckpt = testModel({ preset: 'bitnet-tiny-packed', layers: 1 });
    // bf16: 0x0001 and 0x8001 are subnormal, 0x0080 is the smallest normal (2^-126).
    const input = layerNormName('bitnet', 0, 'input')!;
    const sub = layerNormName('bitnet', 0, 'ffn_sub')!;
    patchU16(ckpt, input, [0x0001, 0x8001, 0x0080]);
    patchU16(ckpt, sub, [0x807f]);
    patchU16(ckpt, 'model.norm.weight', [0x0040, 0x8080]);
    patchU16(ckpt, weightScaleName(0, 'k_proj'), [0x0001]);
    patchU16(ckpt, weightScaleName(0, 'o_proj'), [0x0080]);
    const w = await goldenWeightsFromCheckpoint(ckpt, await pool(), { contextLength: 2 });
    const n = w.layers[0]!.norms.input!;
    expect([Object.is(n[0], 0), Object.is(n[1], -0), n[2]]).toEqual([true, true, 2 ** -126]);
    expect(Object.is(w.layers[0]!.norms.ffn_sub![0], -0)).toBe(true);
    expect([Object.is(w.finalNorm[0], 0), w.finalNorm[1]]).toEqual([true, -(2 ** -126)]);
    expect(Object.is(w.layers[0]!.qkv.parts[1]!.scale, 0)).toBe(true);
    expect(w.layers[0]!.o.parts[0]!.scale).toBe(2 ** -126);
  });

  it('a checkpoint without its embedding or (untied) head tensor is refused, naming the tensor', async () => {
    for (const [preset, name] of [['bitnet-tiny-packed', EMBED_NAME], ['hf1bitllm-tiny', LM_HEAD_NAME]] as const) {
      const ckpt = testModel({ preset, layers: 1 });
      // The checkpoint reader itself refuses such a directory; the loader's own check is the last line.
      const tensors = new Map(ckpt.tensors);
      tensors.delete(name);
      const partial = new Proxy(ckpt, { get: (t, k) => (k === 'tensors' ? tensors : Reflect.get(t, k)) });
      const p = await pool();
      await expectRefusal(() => goldenWeightsFromCheckpoint(partial, p, { contextLength: 2 }), 'E_CHECKPOINT', `${ckpt.dir}: tensor ${name} is missing`, 'the checkpoint is incomplete; re-download it');
    }
  });
});

describe('head helpers', () => {
  it('headStride pads to whole 16-byte lines', () => {
    expect([0, 1, 15, 16, 17, 72, 2560].map(headStride)).toEqual([0, 16, 16, 16, 32, 80, 2560]);
    expect([1, 3, 4, 64, 2560].map(ternaryHeadGroups)).toEqual([1, 1, 2, 22, 854]);
  });

  it('a ternary head\'s rows are placed by whole blocks; a mismatched matrix or scale vector is an internal error', async () => {
    const p = await pool();
    const th = allocTernaryHead(p, 40, 9);
    expect([th.groups, th.blocks]).toEqual([3, 3]);
    await expectRefusal(() => placeTernaryHeadRows(p, th, new Int8Array(9 * 16), 8, 16), 'E_INTERNAL', 'ternary head rows start at 8, not a multiple of 16');
    const m = encodeTernary(new Int8Array(40 * 9).fill(1), 40, 9, 1);
    await expectRefusal(() => ternaryHeadFromMatrix(p, m, new Float32Array(39)), 'E_INTERNAL', 'ternary head: 3 groups, 39 scales for 40 rows');
    await expectRefusal(() => ternaryHeadFromMatrix(p, { ...m, groups: 4 }, new Float32Array(40)), 'E_INTERNAL', 'ternary head: 4 groups, 40 scales for 40 rows');
    // Rows 16..31 placed alone land in block 1; the other blocks keep the zero index.
    const values = Int8Array.from({ length: 16 * 9 }, (_, i) => ((i % 3) - 1));
    placeTernaryHeadRows(p, th, values, 16, 16);
    const blocked = p.arena.u8(th.idxOff, 3 * 16 * 3);
    const one = encodeTernary(values, 16, 9, 1);
    for (let k = 0; k < 3; k++) for (let lane = 0; lane < 16; lane++) expect(blocked[48 + k * 16 + lane]).toBe(one.indices[lane * 3 + k]);
    expect(Array.from(blocked.subarray(0, 48)).every((v) => v === 13)).toBe(true);
    expect(Array.from(blocked.subarray(96)).every((v) => v === 13)).toBe(true);
  });
});
