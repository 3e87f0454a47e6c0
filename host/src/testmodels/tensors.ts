/**
 * Byte producers for test-model tensors: Gaussian-ish floats encoded to the model dtype, and
 * packed ternary codes. They stream in fixed-size chunks so a 1.2 GB model is written in bounded
 * memory, and they are plain loops over typed arrays so the 2B-4T shape takes seconds.
 */

import { f32ToF16Sat } from '../numerics/f16.js';
import type { SafetensorsDtype } from '../checkpoint/types.js';
import { Rng } from './prng.js';
import type { TestModelDtype } from './options.js';

/** Elements generated per chunk. */
const CHUNK = 1 << 20;

export function safetensorsDtype(d: TestModelDtype): SafetensorsDtype {
  return d === 'bfloat16' ? 'BF16' : d === 'float16' ? 'F16' : 'F32';
}

type Emit = (bytes: Uint8Array) => void;

/** Encode binary32 values to the target dtype's little-endian bytes (RNE). */
function encode(values: Float32Array, count: number, dtype: SafetensorsDtype, out: Uint8Array): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer, 0, count * 4);
  const dst = new Uint16Array(out.buffer, 0, count);
  if (dtype === 'BF16') {
    // Round to nearest even on the dropped 16 bits (values are finite, so no NaN case).
    const bits = new Uint32Array(values.buffer, 0, count);
    for (let i = 0; i < count; i++) {
      const b = bits[i]!;
      dst[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
    }
  } else {
    for (let i = 0; i < count; i++) dst[i] = f32ToF16Sat(values[i]!);
  }
  return new Uint8Array(out.buffer, 0, count * 2);
}

/**
 * A float tensor of `count` values value(i) = f(rng) * rowScale[row], streamed as `dtype`.
 * `sample` draws one value; rowScale (optional) multiplies each row of `rowLength` values.
 */
export function floatProducer(
  dtype: SafetensorsDtype,
  count: number,
  rng: Rng,
  sample: (rng: Rng) => number,
  rowLength = count,
  rowScale?: Float32Array,
): (emit: Emit) => void {
  return (emit) => {
    const vals = new Float32Array(Math.min(CHUNK, Math.max(count, 1)));
    const bytes = new Uint8Array(vals.length * 4);
    for (let start = 0; start < count; start += vals.length) {
      const n = Math.min(vals.length, count - start);
      for (let i = 0; i < n; i++) {
        const v = sample(rng);
        vals[i] = rowScale ? v * rowScale[Math.floor((start + i) / rowLength)]! : v;
      }
      // The writer copies or writes synchronously, so the chunk buffers can be reused.
      emit(encode(vals, n, dtype, bytes));
    }
  };
}

/** A [rows, cols] float tensor produced one row at a time by fill(row, out). */
export function rowsProducer(
  dtype: SafetensorsDtype,
  rows: number,
  cols: number,
  fill: (row: number, out: Float32Array) => void,
): (emit: Emit) => void {
  return (emit) => {
    const rowsPerChunk = Math.max(1, Math.floor(CHUNK / Math.max(cols, 1)));
    const vals = new Float32Array(rowsPerChunk * cols);
    const bytes = new Uint8Array(vals.length * 4);
    for (let start = 0; start < rows; start += rowsPerChunk) {
      const n = Math.min(rowsPerChunk, rows - start);
      for (let r = 0; r < n; r++) fill(start + r, vals.subarray(r * cols, (r + 1) * cols));
      emit(encode(vals, n * cols, dtype, bytes));
    }
  };
}

/** Floats from a finished binary32 array (small tensors: norms, weight scales). */
export function floatsToBytes(values: Float32Array, dtype: SafetensorsDtype): Uint8Array {
  const copy = Float32Array.from(values);
  return encode(copy, copy.length, dtype, new Uint8Array(copy.length * 4)).slice();
}

/** The 81 bytes whose four 2-bit codes are all valid (0, 1, 2): uniform ternaries, never code 3. */
const VALID_PACKED_BYTES = (() => {
  const t = new Uint8Array(81);
  let k = 0;
  for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) for (let c = 0; c < 3; c++) for (let d = 0; d < 3; d++) t[k++] = a | (b << 2) | (c << 4) | (d << 6);
  return t;
})();

/**
 * Packed U8 bytes of a [rows, cols] ternary matrix with independent uniform ternaries.
 * Each byte is one of the 81 valid code combinations, picked with 16 random bits (so the
 * four ternaries of a byte are independent and uniform up to a 1/800 bias).
 */
export function packedProducer(packedBytes: number, rng: Rng): (emit: Emit) => void {
  return (emit) => {
    const buf = new Uint8Array(Math.min(CHUNK, Math.max(packedBytes, 1)));
    for (let start = 0; start < packedBytes; start += buf.length) {
      const n = Math.min(buf.length, packedBytes - start);
      for (let i = 0; i < n; i += 2) {
        const u = rng.nextU32();
        buf[i] = VALID_PACKED_BYTES[((u & 0xffff) * 81) >>> 16]!;
        if (i + 1 < n) buf[i + 1] = VALID_PACKED_BYTES[((u >>> 16) * 81) >>> 16]!;
      }
      emit(buf.subarray(0, n));
    }
  };
}
