/**
 * The model in the accelerator's form, as the golden model holds it: TLMM indices (in the
 * kernel arena, rows of fused matrices concatenated), per-matrix scales, binary32 norm weights,
 * the bf16 embedding, the int8 LM head with per-row absmax, and the RoPE table.
 *
 * Built from a checkpoint (here) or from a model image (image/), which must give the same bits.
 */

import { EMBED_NAME, LM_HEAD_NAME } from '../checkpoint/names.js';
import { forEachF32Chunk } from '../checkpoint/safetensors.js';
import type { Checkpoint, TensorInfo } from '../checkpoint/types.js';
import { TellmeError } from '../errors.js';
import type { KernelPool } from '../kernels/pool.js';
import { LINEAR_NAMES, linearShape, type LayerNormRole, type LinearName, type ModelSpec } from '../model/spec.js';
import { f32ToBf16FlushedBulk } from '../numerics/f16.js';
import { ftz32 } from '../numerics/f32.js';
import { quantizeHeadRow, ternarizeHeadRow } from '../quant/head.js';
import { BLOCK_ROWS, blockCount, blockIndices } from '../tlmm/blocked.js';
import { encodeTernary, paddedGroups, ZERO_INDEX, type TlmmMatrix } from '../tlmm/encoding.js';
import { permuteRopeRows, ropeTable } from '../numerics/rope.js';

export type FusedName = 'qkv' | 'o' | 'gate_up' | 'down';

/** Which checkpoint linears each fused matrix concatenates (by rows), in order. */
export const FUSED_PARTS: Record<FusedName, readonly LinearName[]> = {
  qkv: ['q_proj', 'k_proj', 'v_proj'],
  o: ['o_proj'],
  gate_up: ['gate_proj', 'up_proj'],
  down: ['down_proj'],
};

export interface LinearPart {
  name: LinearName;
  /** First accumulator of this part (parts start on 16-row block boundaries). */
  row0: number;
  rows: number;
  /** Multiplicative binary32 weight scale w_s. */
  scale: number;
}

export interface FusedLinear {
  name: FusedName;
  /** Rows including each part's padding to whole 16-row blocks. */
  rows: number;
  blocks: number;
  cols: number;
  groups: number;
  /** Arena offset of the 16-row-blocked Uint8 indices (tlmm/blocked.ts). */
  idxOff: number;
  parts: LinearPart[];
}

export interface GoldenLayer {
  qkv: FusedLinear;
  o: FusedLinear;
  gateUp: FusedLinear;
  down: FusedLinear;
  norms: Record<LayerNormRole, Float32Array | null>;
}

export interface LmHead {
  /** Arena offset of int8 rows [vocab][stride] (zero padding to stride). */
  off: number;
  stride: number;
  rows: number;
  cols: number;
  /** Per-row absmax (binary32); the row's quantisation used quantMultiplier(rowAmax). */
  rowAmax: Float32Array;
}

/** The ternary copy of the head that ranks the vocabulary for the shortlist (docs/numerics.md §9.2). */
export interface TernaryHead {
  /** Arena offset of the 16-row-blocked TLMM indices of [vocab][hidden] (tlmm/blocked.ts). */
  idxOff: number;
  rows: number;
  blocks: number;
  cols: number;
  groups: number;
  /** w_r per row (binary32). */
  scale: Float32Array;
}

export interface GoldenWeights {
  spec: ModelSpec;
  layers: GoldenLayer[];
  finalNorm: Float32Array;
  /** bf16 bits [vocab][hidden]. */
  embedding: Uint16Array;
  head: LmHead;
  /** Present when the build's lm_head is ternary-shortlist. */
  ternaryHead: TernaryHead | null;
  /** [positions][headDim/2][cos, sin]. */
  rope: Float32Array;
  ropePositions: number;
}

export type Progress = (done: number, total: number, what: string) => void;

/** The groups multiple the golden model pads to when it encodes weights itself. */
const GOLDEN_GROUPS_MULTIPLE = 1;

function flushed(v: Float32Array): Float32Array {
  for (let i = 0; i < v.length; i++) v[i] = ftz32(v[i]!);
  return v;
}

export function headStride(cols: number): number {
  return Math.ceil(cols / 16) * 16;
}

/** Space for an int8 head in the arena (zero padding to a 16-byte stride). */
export function allocHead(pool: KernelPool, rows: number, cols: number): LmHead {
  const stride = headStride(cols);
  const off = pool.arena.alloc(rows * stride, 64);
  pool.arena.i8(off, rows * stride).fill(0);
  return { off, stride, rows, cols, rowAmax: new Float32Array(rows) };
}

/** Quantise an output head row by row with the activation quantiser (docs/numerics.md §9). */
export function quantizeHead(pool: KernelPool, data: Float32Array, rows: number, cols: number): LmHead {
  const head = allocHead(pool, rows, cols);
  const q = pool.arena.i8(head.off, rows * head.stride);
  for (let r = 0; r < rows; r++) head.rowAmax[r] = quantizeHeadRow(data, r * cols, cols, q, r * head.stride);
  return head;
}

/** Space for a ternary head in the arena (all-zero indices). */
export function allocTernaryHead(pool: KernelPool, rows: number, cols: number): TernaryHead {
  const groups = ternaryHeadGroups(cols);
  const blocks = blockCount(rows);
  const idxOff = pool.arena.alloc(blocks * BLOCK_ROWS * groups, 64);
  pool.arena.u8(idxOff, blocks * BLOCK_ROWS * groups).fill(ZERO_INDEX);
  return { idxOff, rows, blocks, cols, groups, scale: new Float32Array(rows) };
}

/** Index groups per row of the golden model's ternary head: ceil(cols / 3). */
export function ternaryHeadGroups(cols: number): number {
  return paddedGroups(cols, GOLDEN_GROUPS_MULTIPLE);
}

/** A ternary head from its encoded rows (ternaryHeadGroups(cols) groups each) and w_r per row. */
export function ternaryHeadFromMatrix(pool: KernelPool, m: TlmmMatrix, scale: Float32Array): TernaryHead {
  const th = allocTernaryHead(pool, m.rows, m.cols);
  if (m.groups !== th.groups || scale.length !== m.rows) throw new TellmeError('E_INTERNAL', `ternary head: ${m.groups} groups, ${scale.length} scales for ${m.rows} rows`);
  blockIndices(m, pool.arena.u8(th.idxOff, th.blocks * BLOCK_ROWS * th.groups), 0);
  th.scale.set(scale);
  return th;
}

/**
 * Place rows [row0, row0 + n) of a ternary head (ternary values [n][cols]) in the arena; row0 is a
 * multiple of 16 (whole blocks).
 */
export function placeTernaryHeadRows(pool: KernelPool, th: TernaryHead, values: Int8Array, row0: number, n: number): void {
  if (row0 % BLOCK_ROWS !== 0) throw new TellmeError('E_INTERNAL', `ternary head rows start at ${row0}, not a multiple of ${BLOCK_ROWS}`);
  const m = encodeTernary(values, n, th.cols, GOLDEN_GROUPS_MULTIPLE);
  blockIndices(m, pool.arena.u8(th.idxOff, th.blocks * BLOCK_ROWS * th.groups), row0 / BLOCK_ROWS);
}

/** Rows of the embedding / head converted per chunk while loading. */
const HEAD_CHUNK_ROWS = 1024;

function tensorInfo(ckpt: Checkpoint, name: string): TensorInfo {
  const info = ckpt.tensors.get(name);
  if (!info) throw new TellmeError('E_CHECKPOINT', `${ckpt.dir}: tensor ${name} is missing`, 'the checkpoint is incomplete; re-download it');
  return info;
}

/** Where the golden model's layers come from: a checkpoint, or a model image. */
export interface LayerSource {
  /** The TLMM indices of one linear (q/k rows already in consecutive-pair order) and its scale. */
  linear(layer: number, name: LinearName): { matrix: TlmmMatrix; scale: number };
  /** A per-layer norm weight (binary32, subnormals flushed); null when the model has none. */
  norm(layer: number, role: LayerNormRole): Float32Array | null;
}

/** Place every layer's fused matrices (16-row-blocked indices) in the arena, with their norms. */
export function placeLayers(spec: ModelSpec, pool: KernelPool, source: LayerSource, tick: (what: string) => void): GoldenLayer[] {
  const layers: GoldenLayer[] = [];
  for (let l = 0; l < spec.numLayers; l++) {
    const fuse = (name: FusedName): FusedLinear => {
      const placed = FUSED_PARTS[name].map((p) => {
        const r = source.linear(l, p);
        tick(`layer ${l} ${p}`);
        return { name: p, ...r };
      });
      const { cols, groups } = placed[0]!.matrix;
      const blocks = placed.reduce((n, p) => n + blockCount(p.matrix.rows), 0);
      const idxOff = pool.arena.alloc(blocks * BLOCK_ROWS * groups, 64);
      const indices = pool.arena.u8(idxOff, blocks * BLOCK_ROWS * groups);
      const parts: LinearPart[] = [];
      let block0 = 0;
      for (const p of placed) {
        blockIndices(p.matrix, indices, block0);
        parts.push({ name: p.name, row0: block0 * BLOCK_ROWS, rows: p.matrix.rows, scale: p.scale });
        block0 += blockCount(p.matrix.rows);
      }
      return { name, rows: blocks * BLOCK_ROWS, blocks, cols, groups, idxOff, parts };
    };
    layers.push({
      qkv: fuse('qkv'),
      o: fuse('o'),
      gateUp: fuse('gate_up'),
      down: fuse('down'),
      norms: {
        input: source.norm(l, 'input'),
        post_attention: source.norm(l, 'post_attention'),
        attn_sub: source.norm(l, 'attn_sub'),
        ffn_sub: source.norm(l, 'ffn_sub'),
      },
    });
  }
  return layers;
}

export async function goldenWeightsFromCheckpoint(
  ckpt: Checkpoint,
  pool: KernelPool,
  opts: { contextLength: number; progress?: Progress; ternaryHead?: boolean },
): Promise<GoldenWeights> {
  const spec = ckpt.spec;
  const total = spec.numLayers * LINEAR_NAMES.length + 2;
  let done = 0;
  const tick = (what: string) => opts.progress?.(++done, total, what);

  const layers = placeLayers(
    spec,
    pool,
    {
      linear: (l, p) => {
        const m = ckpt.linear(l, p);
        const values = p === 'q_proj' || p === 'k_proj' ? permuteRopeRows(m.values, m.rows, m.cols, spec.headDim) : m.values;
        return { matrix: encodeTernary(values, m.rows, m.cols, GOLDEN_GROUPS_MULTIPLE), scale: ftz32(m.scale) };
      },
      norm: (l, role) => {
        const w = ckpt.layerNorm(l, role);
        return w ? flushed(w) : null;
      },
    },
    tick,
  );

  // Embedding and head stream in row chunks (the 2B-4T embedding is 1.3 GB as binary32); a tied
  // head is quantised from the same chunks.
  const h = spec.hiddenSize;
  const vocab = spec.vocabSize;
  const embedding = new Uint16Array(vocab * h);
  const head = allocHead(pool, vocab, h);
  const ternaryHead = opts.ternaryHead ? allocTernaryHead(pool, vocab, h) : null;
  // Both heads come from the same binary32 rows (for a tied float32 checkpoint: the float32
  // embedding, not its bf16 rounding).
  const quantRows = (chunk: Float32Array, start: number) => {
    const rows = chunk.length / h;
    const row0 = start / h;
    for (let r = 0; r < rows; r++) {
      head.rowAmax[row0 + r] = quantizeHeadRow(chunk, r * h, h, pool.arena.i8(head.off, vocab * head.stride), (row0 + r) * head.stride);
    }
    if (ternaryHead) {
      const t = new Int8Array(rows * h);
      for (let r = 0; r < rows; r++) ternaryHead.scale[row0 + r] = ternarizeHeadRow(chunk, r * h, h, t, r * h);
      placeTernaryHeadRows(pool, ternaryHead, t, row0, rows);
    }
  };
  forEachF32Chunk(
    tensorInfo(ckpt, EMBED_NAME),
    (chunk, start) => {
      f32ToBf16FlushedBulk(chunk, embedding.subarray(start, start + chunk.length));
      if (spec.tiedEmbeddings) quantRows(chunk, start);
    },
    HEAD_CHUNK_ROWS * h,
  );
  tick('embedding');
  if (!spec.tiedEmbeddings) forEachF32Chunk(tensorInfo(ckpt, LM_HEAD_NAME), quantRows, HEAD_CHUNK_ROWS * h);
  tick('lm head');

  return {
    spec,
    layers,
    finalNorm: flushed(ckpt.finalNorm()),
    embedding,
    head,
    ternaryHead,
    rope: ropeTable(spec.headDim, spec.ropeTheta, opts.contextLength),
    ropePositions: opts.contextLength,
  };
}
