/**
 * The `embedding` (bf16, flushed), `lm_head.weight` (int8 rows) and `lm_head.scale` (binary32 row
 * absmax) sections (docs/image-format.md §2), in row chunks straight from the safetensors file;
 * a tied head is quantised from the same chunks as the embedding. Non-finite values are refused.
 * Shortlist builds also get the ternary head from the same binary32 rows (write-ternary-head.ts).
 */

import { EMBED_NAME, LM_HEAD_NAME } from '../checkpoint/names.js';
import { forEachF32Chunk } from '../checkpoint/safetensors.js';
import type { Checkpoint } from '../checkpoint/types.js';
import { TellmeError } from '../errors.js';
import { bf16ToF32, f32ToBf16FlushedBulk } from '../numerics/f16.js';
import { quantizeHeadRow } from '../quant/head.js';
import { asBytes, type ImageFile } from './image-file.js';
import type { TernaryHeadWriter } from './write-ternary-head.js';

export interface EmbeddingWritten {
  /** max |embedding value| after the bf16 rounding (what the residual stream starts from). */
  embeddingAbsmax: number;
  /** The largest head row absmax. */
  rowAbsmaxMax: number;
}

export function writeEmbeddingAndHead(
  ckpt: Checkpoint,
  file: ImageFile,
  chunkRows: number,
  ternaryHead: TernaryHeadWriter | null,
  progress: (what: string) => void,
): EmbeddingWritten {
  const spec = ckpt.spec;
  const embInfo = ckpt.tensors.get(EMBED_NAME);
  const headInfo = ckpt.tensors.get(spec.tiedEmbeddings ? EMBED_NAME : LM_HEAD_NAME);
  if (!embInfo || !headInfo) throw new TellmeError('E_CHECKPOINT', `${ckpt.dir}: no ${!embInfo ? EMBED_NAME : LM_HEAD_NAME}`, 'The checkpoint is incomplete; re-download it.');
  const h = spec.hiddenSize;
  const embSink = file.section('embedding');
  const headSink = file.section('lm_head.weight');
  const scaleSink = file.section('lm_head.scale');
  let embMaxBits = 0;
  let rowAbsmaxMax = 0;
  const bf16 = new Uint16Array(chunkRows * h);
  const q8 = new Int8Array(chunkRows * h);
  const rowAmax = new Float32Array(chunkRows);
  const headRows = (chunk: Float32Array, checkNaN: boolean) => {
    const rows = chunk.length / h;
    for (let r = 0; r < rows; r++) {
      const a = quantizeHeadRow(chunk, r * h, h, q8, r * h);
      if (!(a <= 3.4028234663852886e38)) throw new TellmeError('E_NUMERICS', `LM head row has absmax ${a}; the head must be finite`, 'The checkpoint is corrupt; re-download it.');
      rowAmax[r] = a;
      if (a > rowAbsmaxMax) rowAbsmaxMax = a;
    }
    if (checkNaN) {
      for (let i = 0; i < chunk.length; i++) {
        if (chunk[i] !== chunk[i]) throw new TellmeError('E_NUMERICS', `${LM_HEAD_NAME}: element ${i} of a chunk is NaN; the head must be finite`, 'The checkpoint is corrupt; re-download it.');
      }
    }
    headSink.write(asBytes(q8.subarray(0, rows * h)));
    scaleSink.write(asBytes(rowAmax.subarray(0, rows)));
    ternaryHead?.rows(chunk);
  };
  forEachF32Chunk(
    embInfo,
    (chunk, start) => {
      const m = f32ToBf16FlushedBulk(chunk, bf16.subarray(0, chunk.length));
      if (m > embMaxBits) embMaxBits = m;
      embSink.write(asBytes(bf16.subarray(0, chunk.length)));
      if (spec.tiedEmbeddings) headRows(chunk, false);
      progress(`embedding rows ${start / h}..${(start + chunk.length) / h - 1}`);
    },
    chunkRows * h,
  );
  if (embMaxBits >= 0x7f80) {
    throw new TellmeError('E_NUMERICS', `${EMBED_NAME}: holds an infinity or NaN in bfloat16 (or a value that rounds to one)`, 'The checkpoint is corrupt; re-download it.');
  }
  embSink.finish();
  if (!spec.tiedEmbeddings) {
    forEachF32Chunk(
      headInfo,
      (chunk, start) => {
        headRows(chunk, true);
        progress(`LM head rows ${start / h}..${(start + chunk.length) / h - 1}`);
      },
      chunkRows * h,
    );
  }
  headSink.finish();
  scaleSink.finish();
  ternaryHead?.finish();
  return { embeddingAbsmax: bf16ToF32(embMaxBits), rowAbsmaxMax };
}
