/**
 * Beat packing: the one module that turns TLMM index vectors into the exact bytes the hardware's
 * weight loader reads from DDR, and back (docs/layout.md §3). Used by the image writer and by the
 * simulations; nothing else may know the bit layout.
 *
 * Conventions (both modes):
 *  - An index vector holds T indices of B_idx bits; index j (group k*T + j of the row) is at bits
 *    [B_idx*j, B_idx*(j+1)) of the vector.
 *  - A beat is weight_ports * axi_data_bits bits; beat b occupies bytes [b*beatBytes, (b+1)*beatBytes)
 *    of the stream, and bit i of a beat is bit (i mod 8) of its byte floor(i/8) (little-endian).
 *  - Vectors are streamed block by block; inside a block chunk-major, rows inner:
 *    for chunk in block: for row in block: vector(row, chunk).
 *  - Vectors outside the matrix (padding rows of a block, padding chunks, groups past the
 *    matrix's `groups`) hold ZERO_INDEX (13) in every index, so they never change a result.
 *
 * Modes:
 *  - paper: every beat carries V = floor((beatBits - 16) / (T*B_idx)) whole vectors in bits
 *    [0, V*T*B_idx), then one fp16 norm weight in the next 16 bits, the rest zero. A chunk's rows
 *    never share a beat with the next chunk (the paper's j < ceil(rows/5) loop); the last beat of a
 *    chunk is completed with padding vectors. Beat b of a packed tile carries norm weight
 *    norms[normStart + b] (0 past the end).
 *  - dense: vectors back to back, vector n at stream bits [n*T*B_idx, (n+1)*T*B_idx); the stream
 *    is zero-filled to a whole beat. Norm weights live in their own DDR region.
 */
import { TellmeError } from '../errors.js';
import type { BeatPacking, LoadedHwConfig } from '../hwconfig/types.js';
import { PAPER_NORM_BITS } from '../hwconfig/derive.js';
import { TABLE_ENTRIES, ZERO_INDEX, type TlmmMatrix } from '../tlmm/encoding.js';
import type { WeightBlock } from './uram.js';

const IMAGE_FIX = 'The weight stream is damaged or was written by a faulty converter; re-convert the model (tellme convert).';

export interface PackLayout {
  mode: BeatPacking;
  beatBits: number;
  indexBits: number;
  /** T */
  tables: number;
  vectorBits: number;
  /** paper mode: whole vectors per beat (0 in dense mode). */
  vectorsPerBeat: number;
  /** paper mode: bit offset of the fp16 norm weight inside a beat (-1 in dense mode). */
  normBitOffset: number;
  blocks: WeightBlock[];
}

export function packLayout(hw: LoadedHwConfig, blocks: WeightBlock[], mode: BeatPacking = hw.config.architecture.beat_packing): PackLayout {
  const d = hw.derived;
  return makePackLayout(mode, d.beatBits, hw.config.tlmm.index_bits, d.tables, blocks);
}

export function makePackLayout(mode: BeatPacking, beatBits: number, indexBits: number, tables: number, blocks: WeightBlock[]): PackLayout {
  const vectorBits = indexBits * tables;
  if (beatBits % 8 !== 0) throw new TellmeError('E_INTERNAL', `beat of ${beatBits} bits is not whole bytes`);
  const vpb = mode === 'paper' ? Math.floor((beatBits - PAPER_NORM_BITS) / vectorBits) : 0;
  if (mode === 'paper' && vpb < 1) throw new TellmeError('E_INTERNAL', `a ${beatBits}-bit beat cannot hold a ${vectorBits}-bit vector and a norm weight`);
  return {
    mode,
    beatBits,
    indexBits,
    tables,
    vectorBits,
    vectorsPerBeat: vpb,
    normBitOffset: mode === 'paper' ? vpb * vectorBits : -1,
    blocks: blocks.map((b) => ({ ...b })),
  };
}

export function storedVectors(layout: PackLayout): number {
  let n = 0;
  for (const b of layout.blocks) n += b.rows * b.chunks;
  return n;
}

export function beatCount(layout: PackLayout): number {
  if (layout.mode === 'paper') {
    let beats = 0;
    for (const b of layout.blocks) beats += b.chunks * Math.ceil(b.rows / layout.vectorsPerBeat);
    return beats;
  }
  return Math.ceil((storedVectors(layout) * layout.vectorBits) / layout.beatBits);
}

export function packedBytes(layout: PackLayout): number {
  return (beatCount(layout) * layout.beatBits) / 8;
}

function writeBits(buf: Uint8Array, pos: number, value: number, n: number): void {
  let p = pos;
  let v = value;
  let left = n;
  while (left > 0) {
    const byte = p >> 3;
    const off = p & 7;
    const take = Math.min(8 - off, left);
    buf[byte] = buf[byte]! | ((v & ((1 << take) - 1)) << off);
    v >>>= take;
    p += take;
    left -= take;
  }
}

function readBits(buf: Uint8Array, pos: number, n: number): number {
  let p = pos;
  let out = 0;
  let got = 0;
  while (got < n) {
    const byte = p >> 3;
    const off = p & 7;
    const take = Math.min(8 - off, n - got);
    out |= ((buf[byte]! >> off) & ((1 << take) - 1)) << got;
    p += take;
    got += take;
  }
  return out;
}

/** Visit every stored vector in stream order with its bit position. */
function forEachVector(layout: PackLayout, fn: (row: number, chunk: number, bitPos: number) => void): void {
  const vb = layout.vectorBits;
  if (layout.mode === 'paper') {
    const V = layout.vectorsPerBeat;
    let beat = 0;
    for (const b of layout.blocks) {
      for (let y = 0; y < b.chunks; y++) {
        const beats = Math.ceil(b.rows / V);
        for (let z = 0; z < beats * V; z++) {
          const bitPos = (beat + Math.floor(z / V)) * layout.beatBits + (z % V) * vb;
          // Slots past the block's rows are padding vectors: row index b.rows+ (outside the block).
          fn(z < b.rows ? b.rowStart + z : -1, b.chunkStart + y, bitPos);
        }
        beat += beats;
      }
    }
  } else {
    let n = 0;
    for (const b of layout.blocks) {
      for (let y = 0; y < b.chunks; y++) {
        for (let z = 0; z < b.rows; z++) fn(b.rowStart + z, b.chunkStart + y, n++ * vb);
      }
    }
  }
}

export interface NormPayload {
  /** fp16 bit patterns. */
  bits: Uint16Array;
  /** Index of the norm weight carried by beat 0 of this packed stream. */
  start?: number;
}

/** Pack the vectors of `layout.blocks` of matrix m into the beat stream. */
export function packWeights(m: TlmmMatrix, layout: PackLayout, norms?: NormPayload): Uint8Array {
  const T = layout.tables;
  const nb = layout.indexBits;
  if (m.groups % 1 !== 0 || m.indices.length !== m.rows * m.groups) throw new TellmeError('E_INTERNAL', 'packWeights: malformed TlmmMatrix');
  const out = new Uint8Array(packedBytes(layout));
  forEachVector(layout, (row, chunk, bitPos) => {
    const inRow = row >= 0 && row < m.rows;
    const base = row * m.groups;
    for (let j = 0; j < T; j++) {
      const g = chunk * T + j;
      let idx = ZERO_INDEX;
      if (inRow && g < m.groups) {
        idx = m.indices[base + g]!;
        if (idx >= TABLE_ENTRIES) throw new TellmeError('E_INTERNAL', `packWeights: invalid TLMM index ${idx} at row ${row}, group ${g}`);
      }
      writeBits(out, bitPos + j * nb, idx, nb);
    }
  });
  if (layout.mode === 'paper' && norms) {
    const beats = beatCount(layout);
    const start = norms.start ?? 0;
    for (let b = 0; b < beats; b++) {
      const k = start + b;
      if (k >= norms.bits.length) break;
      writeBits(out, b * layout.beatBits + layout.normBitOffset, norms.bits[k]!, PAPER_NORM_BITS);
    }
  } else if (norms && norms.bits.length > 0) {
    throw new TellmeError('E_INTERNAL', 'packWeights: dense packing does not carry norm weights (they have their own region)');
  }
  return out;
}

export interface Unpacked {
  matrix: TlmmMatrix;
  /** paper mode: the norm field of every beat (fp16 bits); null in dense mode. */
  beatNorms: Uint16Array | null;
}

/**
 * Read a beat stream back. Vectors are written into `into` (or a fresh matrix of the given shape
 * whose uncovered positions hold ZERO_INDEX). Padding vectors must hold ZERO_INDEX and unused bits
 * must be zero; anything else is an E_IMAGE error (a corrupt or foreign image).
 */
export function unpackWeights(
  bytes: Uint8Array,
  layout: PackLayout,
  shape: { rows: number; cols: number; groups: number },
  into?: TlmmMatrix,
): Unpacked {
  const expected = packedBytes(layout);
  if (bytes.length !== expected) {
    throw new TellmeError('E_IMAGE', `weight stream is ${bytes.length} bytes, expected ${expected} for ${beatCount(layout)} beats of ${layout.beatBits} bits`, IMAGE_FIX);
  }
  const T = layout.tables;
  const nb = layout.indexBits;
  const m: TlmmMatrix = into ?? { rows: shape.rows, cols: shape.cols, groups: shape.groups, indices: new Uint8Array(shape.rows * shape.groups).fill(ZERO_INDEX) };
  // Track which bits are legitimately used, to verify the rest are zero.
  const used = new Uint8Array(bytes.length);
  const markUsed = (pos: number, n: number) => {
    const end = pos + n;
    let p = pos;
    while (p < end) {
      if ((p & 7) === 0 && end - p >= 8) {
        used[p >> 3] = 0xff;
        p += 8;
      } else {
        used[p >> 3] = used[p >> 3]! | (1 << (p & 7));
        p++;
      }
    }
  };
  forEachVector(layout, (row, chunk, bitPos) => {
    const inRow = row >= 0 && row < m.rows;
    for (let j = 0; j < T; j++) {
      const g = chunk * T + j;
      const idx = readBits(bytes, bitPos + j * nb, nb);
      if (idx >= TABLE_ENTRIES) throw new TellmeError('E_IMAGE', `invalid TLMM index ${idx} at row ${row}, chunk ${chunk}, position ${j} (valid codes are 0..26)`, IMAGE_FIX);
      if (inRow && g < m.groups) m.indices[row * m.groups + g] = idx;
      else if (idx !== ZERO_INDEX) throw new TellmeError('E_IMAGE', `padding vector (row ${row}, chunk ${chunk}) holds index ${idx} at position ${j}; padding must be ${ZERO_INDEX}`, IMAGE_FIX);
    }
    markUsed(bitPos, T * nb);
  });
  let beatNorms: Uint16Array | null = null;
  if (layout.mode === 'paper') {
    const beats = beatCount(layout);
    beatNorms = new Uint16Array(beats);
    for (let b = 0; b < beats; b++) {
      const pos = b * layout.beatBits + layout.normBitOffset;
      beatNorms[b] = readBits(bytes, pos, PAPER_NORM_BITS);
      markUsed(pos, PAPER_NORM_BITS);
    }
  }
  for (let i = 0; i < bytes.length; i++) {
    if ((bytes[i]! & ~used[i]!) !== 0) throw new TellmeError('E_IMAGE', `weight stream byte ${i} has bits set outside any index vector or norm field`, IMAGE_FIX);
  }
  return { matrix: m, beatNorms };
}

/** Split a beat stream into per-port lanes: lane p holds bytes [p*laneBytes, (p+1)*laneBytes) of every beat. */
export function splitLanes(stream: Uint8Array, beatBytes: number, lanes: number): Uint8Array[] {
  if (beatBytes % lanes !== 0 || stream.length % beatBytes !== 0) throw new TellmeError('E_INTERNAL', 'splitLanes: stream is not whole beats of whole lanes');
  const lb = beatBytes / lanes;
  const beats = stream.length / beatBytes;
  const out = Array.from({ length: lanes }, () => new Uint8Array(beats * lb));
  for (let b = 0; b < beats; b++) {
    for (let p = 0; p < lanes; p++) out[p]!.set(stream.subarray(b * beatBytes + p * lb, b * beatBytes + (p + 1) * lb), b * lb);
  }
  return out;
}

export function joinLanes(lanes: Uint8Array[], beatBytes: number): Uint8Array {
  const n = lanes.length;
  const lb = beatBytes / n;
  const beats = lanes[0]!.length / lb;
  const out = new Uint8Array(beats * beatBytes);
  for (let b = 0; b < beats; b++) {
    for (let p = 0; p < n; p++) out.set(lanes[p]!.subarray(b * lb, (b + 1) * lb), b * beatBytes + p * lb);
  }
  return out;
}
