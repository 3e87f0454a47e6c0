/**
 * What the golden model takes from a model image is checked by value, not only by checksum: a
 * manifest and sections rewritten with fresh checksums pass the reader, so the loader refuses a
 * non-finite embedding, norm or head scale, and recomputes the RoPE table from the manifest's
 * rope_theta (a table that does not match it, or a rope_theta edited alone, is refused).
 */

import { TellmeError } from '../errors.js';
import type { ModelImage } from '../image/reader.js';
import { ropeTable } from '../numerics/rope.js';

function refuse(image: ModelImage, what: string): TellmeError {
  return new TellmeError('E_IMAGE', `${image.path}: ${what}`, 'The image was edited or damaged after conversion (its checksums were rewritten): re-run `tellme convert`.');
}

/** Index of the first NaN or infinity in a binary32 array, or -1. */
function firstNonFinite(v: Float32Array): number {
  for (let i = 0; i < v.length; i++) if (v[i]! - v[i]! !== 0) return i;
  return -1;
}

export interface LoadedImageValues {
  /** bfloat16 bits of the embedding. */
  embedding: Uint16Array;
  /** Every norm the model uses, by a name for messages. */
  norms: ReadonlyMap<string, Float32Array>;
  /** Row scales of the int8 head (max |row|), non-negative. */
  headRowAmax: Float32Array;
  /** The RoPE table as loaded (its first `positions` positions). */
  rope: Float32Array;
  positions: number;
}

export function checkImageValues(image: ModelImage, v: LoadedImageValues): void {
  for (let i = 0; i < v.embedding.length; i++) {
    if ((v.embedding[i]! & 0x7f80) === 0x7f80) throw refuse(image, `embedding element ${i} is ${v.embedding[i]! & 0x7f ? 'NaN' : 'infinite'} (bfloat16 0x${v.embedding[i]!.toString(16)})`);
  }
  for (const [name, w] of v.norms) {
    const i = firstNonFinite(w);
    if (i >= 0) throw refuse(image, `norm ${name} element ${i} is ${w[i]}`);
  }
  for (let r = 0; r < v.headRowAmax.length; r++) {
    const a = v.headRowAmax[r]!;
    if (!(a >= 0 && a - a === 0)) throw refuse(image, `LM head row ${r} has scale ${a}; row scales are finite and non-negative`);
  }
  const spec = image.spec;
  const want = ropeTable(spec.headDim, spec.ropeTheta, v.positions);
  const have = new Uint32Array(v.rope.buffer, v.rope.byteOffset, want.length);
  const wantBits = new Uint32Array(want.buffer);
  for (let i = 0; i < wantBits.length; i++) {
    if (have[i] !== wantBits[i]) {
      throw refuse(image, `the RoPE table differs from the one rope_theta ${spec.ropeTheta} and head_dim ${spec.headDim} give (element ${i}: ${v.rope[i]} instead of ${want[i]})`);
    }
  }
}
