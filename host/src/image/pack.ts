/**
 * The converter's fast path from checkpoint weights to the DDR beat stream.
 *
 * Two stages per matrix:
 *  1. encode: ternary weights -> TLMM indices [rows][groups] (docs/numerics.md §6.1), with the
 *     q/k RoPE row permutation (numerics/rope.ts permuteRopeRows) folded in as a row map. From HF
 *     block-packed bytes this needs no Int8 intermediate: with codes c = t + 1 (0, 1, 2),
 *     idx = 13 + 9 t0 + 3 t1 + t2 = 9 c0 + 3 c1 + c2.
 *  2. pack: the indices of one tile -> the bytes of its beat stream, bit for bit what
 *     layout/beats.ts packWeights writes (test/image/pack.test.ts compares the two on random
 *     shapes, layouts and both modes), and the lanes of layout/beats.ts splitLanes.
 *
 * packWeights is the specification and the golden model reads images back with unpackWeights; this
 * file exists because the reference packer costs ~100 ns per index (2B-4T: 700 M indices).
 */

import { TellmeError } from '../errors.js';
import { PAPER_NORM_BITS } from '../hwconfig/derive.js';
import type { PackLayout } from '../layout/beats.js';
import { packedBytes } from '../layout/beats.js';
import { ZERO_INDEX } from '../tlmm/encoding.js';

/** Destination row -> source row of the consecutive-pair RoPE permutation (numerics/rope.ts). */
export function ropeSourceRow(r: number, headDim: number): number {
  const half = headDim / 2;
  const head = Math.floor(r / headDim);
  const j = r - head * headDim;
  return head * headDim + (j % 2 === 0 ? j / 2 : half + (j - 1) / 2);
}

/** A row map for `rows` rows: identity, or the RoPE permutation when headDim is given. */
export function rowMap(rows: number, ropeHeadDim: number | null): Int32Array {
  const m = new Int32Array(rows);
  for (let r = 0; r < rows; r++) m[r] = ropeHeadDim === null ? r : ropeSourceRow(r, ropeHeadDim);
  return m;
}

/** (c0 << 4 | c1 << 2 | c2) -> 9 c0 + 3 c1 + c2, or 255 when a code is 3 (invalid). */
const CODE_TRIPLE_TO_INDEX: Uint8Array = (() => {
  const t = new Uint8Array(64).fill(255);
  for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 3; c++) t[(a << 4) | (b << 2) | c] = 9 * a + 3 * b + c;
  return t;
})();

/**
 * SPREAD[k][byte]: the four 2-bit codes of a packed byte (sub-rows i = 0..3) moved to bits
 * 8i + 2(2 - k), so that for the three bytes of a group, (S0[b0] | S1[b1] | S2[b2]) >>> 8i & 63
 * is sub-row i's (c0 << 4 | c1 << 2 | c2).
 */
const SPREAD: Int32Array[] = [4, 2, 0].map((shift) => {
  const t = new Int32Array(256);
  for (let b = 0; b < 256; b++) {
    let v = 0;
    for (let i = 0; i < 4; i++) v |= ((b >>> (2 * i)) & 3) << (8 * i + shift);
    t[b] = v;
  }
  return t;
});

/**
 * Encode HF block-packed ternary weights (quant/ternary.ts: packed[r mod R][c] holds row
 * i*R + r in bits 2i+1:2i as t + 1, R = ceil(rows/4)) straight into indices.
 * out[r][g] for destination row r reads source row map[r] (a permutation of 0..rows-1); groups
 * past ceil(cols/3) are 13. Throws E_CHECKPOINT on a code 3 (`what` names the tensor), also in
 * a slot past `rows`, whose other codes are ignored.
 */
export function encodePackedRows(
  packed: Uint8Array,
  rows: number,
  cols: number,
  groups: number,
  map: Int32Array,
  out: Uint8Array,
  what: string,
): void {
  const R = Math.ceil(rows / 4);
  if (packed.length !== R * cols) {
    throw new TellmeError('E_CHECKPOINT', `${what}: ${packed.length} packed bytes, expected ${R} x ${cols} for ${rows} rows`, 'The checkpoint is damaged or its config.json does not match its weights; re-download it.');
  }
  if (out.length !== rows * groups) throw new TellmeError('E_INTERNAL', 'encodePackedRows: output size');
  const inv = new Int32Array(rows).fill(-1);
  for (let r = 0; r < rows; r++) inv[map[r]!] = r;
  const full = Math.floor(cols / 3);
  const T = CODE_TRIPLE_TO_INDEX;
  const S0 = SPREAD[0]!;
  const S1 = SPREAD[1]!;
  const S2 = SPREAD[2]!;
  const d = new Int32Array(4);
  for (let rr = 0; rr < R; rr++) {
    const base = rr * cols;
    let sub = 0;
    for (let i = 0; i < 4; i++) {
      const src = i * R + rr;
      if (src < rows) {
        if (inv[src]! < 0) throw new TellmeError('E_INTERNAL', 'encodePackedRows: row map is not a permutation');
        d[i] = inv[src]! * groups;
        sub++;
      }
    }
    let bad = 0;
    if (sub === 4) {
      const d0 = d[0]!;
      const d1 = d[1]!;
      const d2 = d[2]!;
      const d3 = d[3]!;
      for (let g = 0, p = base; g < full; g++, p += 3) {
        const x = S0[packed[p]!]! | S1[packed[p + 1]!]! | S2[packed[p + 2]!]!;
        const i0 = T[x & 63]!;
        const i1 = T[(x >>> 8) & 63]!;
        const i2 = T[(x >>> 16) & 63]!;
        const i3 = T[(x >>> 24) & 63]!;
        bad |= i0 | i1 | i2 | i3;
        out[d0 + g] = i0;
        out[d1 + g] = i1;
        out[d2 + g] = i2;
        out[d3 + g] = i3;
      }
    } else {
      for (let g = 0, p = base; g < full; g++, p += 3) {
        const x = S0[packed[p]!]! | S1[packed[p + 1]!]! | S2[packed[p + 2]!]!;
        for (let i = 0; i < sub; i++) {
          const idx = T[(x >>> (8 * i)) & 63]!;
          bad |= idx;
          out[d[i]! + g] = idx;
        }
      }
    }
    for (let i = 0; i < sub; i++) {
      const dst = d[i]!;
      const sh = 2 * i;
      let g = full;
      if (full * 3 < cols) {
        // The last group is partial: missing columns are zero weights (code 1).
        const p = base + 3 * full;
        const c0 = (packed[p]! >>> sh) & 3;
        const c1 = full * 3 + 1 < cols ? (packed[p + 1]! >>> sh) & 3 : 1;
        const idx = T[(c0 << 4) | (c1 << 2) | 1]!;
        bad |= idx;
        out[dst + g] = idx;
        g++;
      }
      for (; g < groups; g++) out[dst + g] = ZERO_INDEX;
    }
    // Valid indices are < 32; 255 marks a code 3.
    if (bad & 0x80) {
      for (let i = 0; i < sub; i++) {
        const src = i * R + rr;
        for (let c = 0; c < cols; c++) if (((packed[base + c]! >>> (2 * i)) & 3) === 3) throw invalidCode(rows, cols, src, c, what);
      }
    }
    // The slots past `rows` (sub-rows sub..3 of the last packed rows) hold no weight, but a code 3
    // there is still a corrupt byte: refused, with the same message, as the checkpoint loader
    // behind the golden model (quant/ternary.ts unpackTernary) refuses it.
    if (sub < 4) {
      const unused = 0x55 & ~((1 << (2 * sub)) - 1);
      for (let c = 0; c < cols; c++) {
        const b = packed[base + c]!;
        if ((b & (b >>> 1) & unused) !== 0) {
          let i = sub;
          while (((b >>> (2 * i)) & 3) !== 3) i++;
          throw invalidCode(rows, cols, i * R + rr, c, what);
        }
      }
    }
  }
}

function invalidCode(rows: number, cols: number, srcRow: number, c: number, what: string): TellmeError {
  const R = Math.ceil(rows / 4);
  const i = Math.floor(srcRow / R);
  const r = srcRow - i * R;
  const sh = 2 * i;
  return new TellmeError(
    'E_CHECKPOINT',
    `${what}: invalid ternary code 3 at packed byte [${r}, ${c}] bits ${sh + 1}:${sh} (weight row ${srcRow}, column ${c}); valid codes are 0, 1, 2 (-1, 0, +1)`,
    'The packed weights are corrupt or use another packing; re-download the checkpoint.',
  );
}

/**
 * Encode row-major ternary values [rows][cols] (Int8, {-1, 0, +1}) into indices, destination row
 * r reading source row map[r]; groups past ceil(cols/3) are 13. Non-ternary values: E_INTERNAL.
 */
export function encodeTernaryRows(values: Int8Array, rows: number, cols: number, groups: number, map: Int32Array, out: Uint8Array): void {
  if (values.length !== rows * cols) throw new TellmeError('E_INTERNAL', `encodeTernaryRows: ${values.length} values for ${rows}x${cols}`);
  if (out.length !== rows * groups) throw new TellmeError('E_INTERNAL', 'encodeTernaryRows: output size');
  const full = Math.floor(cols / 3);
  for (let r = 0; r < rows; r++) {
    const src = map[r]! * cols;
    const dst = r * groups;
    let bad = 0;
    for (let g = 0; g < full; g++) {
      const p = src + 3 * g;
      const c0 = values[p]! + 1;
      const c1 = values[p + 1]! + 1;
      const c2 = values[p + 2]! + 1;
      bad |= (c0 | c1 | c2) & ~3;
      bad |= ((c0 + 1) | (c1 + 1) | (c2 + 1)) & 4; // a code 3 (value 2)
      out[dst + g] = 9 * c0 + 3 * c1 + c2;
    }
    let g = full;
    if (full * 3 < cols) {
      const p = src + 3 * full;
      const c0 = values[p]! + 1;
      const c1 = full * 3 + 1 < cols ? values[p + 1]! + 1 : 1;
      bad |= (c0 | c1) & ~3;
      bad |= ((c0 + 1) | (c1 + 1)) & 4;
      out[dst + g] = 9 * c0 + 3 * c1 + 1;
      g++;
    }
    for (; g < groups; g++) out[dst + g] = ZERO_INDEX;
    if (bad) throw new TellmeError('E_INTERNAL', `encodeTernaryRows: non-ternary value in source row ${map[r]}`);
  }
}

/**
 * Write `count` indices of `nb` bits starting at bit `bitPos` of `out`, which is zero at and
 * above bitPos (streams are written in increasing bit order). Indices past `real` are 13.
 */
function writeVector(out: Uint8Array, bitPos: number, src: Uint8Array, off: number, real: number, count: number, nb: number): void {
  let byte = bitPos >>> 3;
  let sh = bitPos & 7;
  let acc = sh === 0 ? 0 : out[byte]! & ((1 << sh) - 1);
  for (let j = 0; j < count; j++) {
    const idx = j < real ? src[off + j]! : ZERO_INDEX;
    acc |= idx << sh;
    sh += nb;
    if (sh >= 8) {
      out[byte++] = acc & 0xff;
      acc >>>= 8;
      sh -= 8;
    }
  }
  if (sh > 0) out[byte] = acc;
}

/** OR `value` (n bits) into out at bit pos (the target bits are zero). */
function orBits(out: Uint8Array, pos: number, value: number, n: number): void {
  let p = pos;
  let v = value;
  let left = n;
  while (left > 0) {
    const byte = p >>> 3;
    const off = p & 7;
    const take = Math.min(8 - off, left);
    out[byte] = out[byte]! | ((v & ((1 << take) - 1)) << off);
    v >>>= take;
    p += take;
    left -= take;
  }
}

/**
 * Pack the blocks of `layout` from indices [rows][groups] into a fresh beat stream: the same bytes
 * as packWeights({rows, cols, groups, indices}, layout, norms). In paper mode beat b carries
 * normBits[normStart + b] (0 past the end, or when normBits is null).
 */
export function packStream(
  indices: Uint8Array,
  rows: number,
  groups: number,
  layout: PackLayout,
  normBits: Uint16Array | null = null,
  normStart = 0,
): Uint8Array {
  const nb = layout.indexBits;
  if (nb > 8) throw new TellmeError('E_INTERNAL', `packStream: ${nb}-bit indices are not supported (at most 8)`);
  if (indices.length !== rows * groups) throw new TellmeError('E_INTERNAL', 'packStream: indices size');
  const T = layout.tables;
  const vb = layout.vectorBits;
  const out = new Uint8Array(packedBytes(layout));
  const paper = layout.mode === 'paper';
  const V = layout.vectorsPerBeat;
  const beatBits = layout.beatBits;
  let beat = 0;
  let n = 0;
  for (const b of layout.blocks) {
    for (let y = 0; y < b.chunks; y++) {
      const g0 = (b.chunkStart + y) * T;
      const realGroups = Math.max(0, Math.min(T, groups - g0));
      const slots = paper ? Math.ceil(b.rows / V) * V : b.rows;
      for (let z = 0; z < slots; z++) {
        const row = b.rowStart + z;
        const bitPos = paper ? (beat + Math.floor(z / V)) * beatBits + (z % V) * vb : n++ * vb;
        const real = z < b.rows && row < rows ? realGroups : 0;
        writeVector(out, bitPos, indices, row * groups + g0, real, T, nb);
      }
      if (paper) beat += slots / V;
    }
  }
  if (paper && normBits) {
    const beats = out.length / (beatBits / 8);
    for (let k = 0; k < beats && normStart + k < normBits.length; k++) {
      orBits(out, k * beatBits + layout.normBitOffset, normBits[normStart + k]!, PAPER_NORM_BITS);
    }
  }
  return out;
}

/** Lane p of a beat stream: bytes [p*laneBytes, (p+1)*laneBytes) of every beat (layout/beats.ts splitLanes). */
export function laneOf(stream: Uint8Array, beatBytes: number, lanes: number, p: number): Uint8Array {
  const lb = beatBytes / lanes;
  const beats = stream.length / beatBytes;
  const out = new Uint8Array(beats * lb);
  if (lanes === 1) {
    out.set(stream);
    return out;
  }
  if (lb % 4 === 0 && stream.byteOffset % 4 === 0) {
    const s32 = new Uint32Array(stream.buffer, stream.byteOffset, stream.length >>> 2);
    const o32 = new Uint32Array(out.buffer);
    const lw = lb >>> 2;
    const bw = beatBytes >>> 2;
    let o = 0;
    for (let b = 0, s = p * lw; b < beats; b++, s += bw) for (let k = 0; k < lw; k++) o32[o++] = s32[s + k]!;
    return out;
  }
  let o = 0;
  for (let b = 0, s = p * lb; b < beats; b++, s += beatBytes) for (let k = 0; k < lb; k++) out[o++] = stream[s + k]!;
  return out;
}
