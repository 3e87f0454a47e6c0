/**
 * Export a checkpoint as a GGUF file that llama.cpp runs with its `bitnet` architecture: the
 * ternary matrices exactly, as TQ2_0 or TQ1_0 blocks whose d is the matrix's scale (binary16);
 * norms in F32; the embedding (which llama.cpp also uses as the output head) in F32, F16, Q8_0 or
 * Q6_K; RoPE and attention hyperparameters; the tokenizer when the checkpoint has tokenizer.json.
 * Memory stays bounded by one matrix (the embedding is read in row chunks).
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkpointInputFiles } from '../checkpoint/files.js';
import { EMBED_NAME } from '../checkpoint/names.js';
import { forEachF32Chunk } from '../checkpoint/safetensors.js';
import type { Checkpoint } from '../checkpoint/types.js';
import { TellmeError } from '../errors.js';
import { checkOutputFile } from '../files/output.js';
import { LAYER_NORM_ROLES, LINEAR_NAMES, linearShape, type LayerNormRole, type LinearName } from '../model/spec.js';
import { BITNET_ARCH, OUTPUT_NORM, TOKEN_EMBD, bitnetHyperparameters, bitnetProblems, linearTensorName, normTensorName } from './bitnet.js';
import { GGML_TYPES, packFloatRows, packTernaryRows, rowBytes, type FloatTypeName, type TernaryTypeName } from './blocks.js';
import { gguf, layoutGguf, writeGguf, type GgufTensorInfo, type GgufValue } from './container.js';
import { f16IeeeToF32, f32ToF16Ieee } from './half.js';
import { ggufTokenizer, type GgufVocabKind } from './tokenizer.js';

export const WEIGHT_TYPES = ['tq2_0', 'tq1_0'] as const;
export type GgufWeightType = (typeof WEIGHT_TYPES)[number];
export const EMBEDDING_TYPES = ['q8_0', 'q6_k', 'f16', 'f32'] as const;
export type GgufEmbeddingType = (typeof EMBEDDING_TYPES)[number];

/** llama_ftype of a file whose matrices are TQ1_0 / TQ2_0 (general.file_type). */
const FILE_TYPE: Record<GgufWeightType, number> = { tq1_0: 36, tq2_0: 37 };
/** GGML_QNT_VERSION. */
const QUANTIZATION_VERSION = 2;
/** Smallest normal binary16 number: a block scale below it would lose precision as a subnormal. */
const F16_MIN_NORMAL = 2 ** -14;

export interface ExportGgufOptions {
  type?: GgufWeightType;
  embeddingType?: GgufEmbeddingType;
  /** Write the tokenizer when the checkpoint has tokenizer.json (default true). */
  tokenizer?: boolean;
  progress?: (done: number, total: number, what: string) => void;
}

export interface ExportGgufResult {
  path: string;
  source: string;
  bytes: number;
  tensors: number;
  type: GgufWeightType;
  embeddingType: GgufEmbeddingType;
  vocab: GgufVocabKind;
  /** Largest |f16(scale) - scale| / scale over the ternary matrices (the scales llama.cpp sees). */
  scaleMaxRelError: number;
  seconds: number;
}

export async function exportGguf(ckpt: Checkpoint, outPath: string, opts: ExportGgufOptions = {}): Promise<ExportGgufResult> {
  const t0 = performance.now();
  const spec = ckpt.spec;
  const type = opts.type ?? 'tq2_0';
  const embeddingType = opts.embeddingType ?? 'q8_0';
  if (!WEIGHT_TYPES.includes(type)) throw new TellmeError('E_USAGE', `--type ${JSON.stringify(type)} is not a ternary GGUF type`, `Use one of: ${WEIGHT_TYPES.join(', ')}.`);
  if (!EMBEDDING_TYPES.includes(embeddingType)) {
    throw new TellmeError('E_USAGE', `--embedding-type ${JSON.stringify(embeddingType)} is not supported`, `Use one of: ${EMBEDDING_TYPES.join(', ')}.`);
  }
  const problems = bitnetProblems(spec);
  if (problems.length > 0) {
    throw new TellmeError(
      'E_USAGE',
      `${ckpt.dir} (${spec.family}, ${spec.architecture}) cannot be exported for llama.cpp: ${problems.join('; ')}`,
      "llama.cpp's bitnet architecture runs 1bitLLM-style checkpoints (SwiGLU, sub-norms, tied embedding, hidden and FFN sizes multiples of 256); run this model with `tellme generate` instead.",
    );
  }
  const out = checkOutputFile(outPath, { inputs: checkpointInputFiles(ckpt), what: 'the GGUF file' });

  const ternary = GGML_TYPES[type.toUpperCase() as TernaryTypeName];
  const embType = GGML_TYPES[embeddingType.toUpperCase() as FloatTypeName];
  const h = spec.hiddenSize;
  rowBytes(embType, h, `${EMBED_NAME} (hidden_size ${h})`);

  const vocab = ggufTokenizer(ckpt.dir, spec, opts.tokenizer ?? true);
  const metadata = new Map<string, GgufValue>([
    ['general.architecture', gguf.string(BITNET_ARCH)],
    ['general.name', gguf.string(path.basename(ckpt.dir))],
    ['general.description', gguf.string(`Exported by tellme export-gguf from ${spec.architecture} (${spec.family}, ${spec.weightStorage} weights)`)],
    ['general.file_type', gguf.u32(FILE_TYPE[type])],
    ['general.quantization_version', gguf.u32(QUANTIZATION_VERSION)],
    ...bitnetHyperparameters(spec),
    ...vocab.metadata,
  ]);

  type Job = { info: GgufTensorInfo; produce: () => Uint8Array };
  const jobs: Job[] = [];
  const f32Tensor = (name: string, read: () => Float32Array | null, len: number) =>
    jobs.push({
      info: { name, type: GGML_TYPES.F32, dims: [len] },
      produce: () => packFloatRows('F32', read()!, 1, len, name),
    });
  let scaleMaxRelError = 0;
  const linear = (l: number, name: LinearName) => {
    const tname = linearTensorName(l, name);
    const { rows, cols } = linearShape(spec, name);
    jobs.push({
      info: { name: tname, type: ternary, dims: [cols, rows] },
      produce: () => {
        const m = ckpt.linear(l, name);
        if (!(m.scale >= F16_MIN_NORMAL && m.scale <= 65504)) {
          throw new TellmeError(
            'E_CHECKPOINT',
            `${ckpt.dir}: layer ${l} ${name} has weight scale ${m.scale}, outside binary16's normal range [2^-14, 65504] that ${type.toUpperCase()} blocks store it in`,
            'Such a scale is not a real BitNet weight scale (they are O(0.01..10)); check the checkpoint.',
          );
        }
        const stored = f16IeeeToF32(f32ToF16Ieee(m.scale));
        scaleMaxRelError = Math.max(scaleMaxRelError, Math.abs(stored - m.scale) / m.scale);
        return packTernaryRows(ternary.name as TernaryTypeName, m.values, m.rows, m.cols, m.scale, tname);
      },
    });
  };
  const norm = (l: number, role: LayerNormRole) => {
    const len = role === 'ffn_sub' ? spec.intermediateSize : h;
    f32Tensor(normTensorName(l, role), () => ckpt.layerNorm(l, role), len);
  };

  jobs.push({
    info: { name: TOKEN_EMBD, type: embType, dims: [h, spec.vocabSize] },
    produce: () => embeddingBytes(ckpt, embType.name as FloatTypeName),
  });
  for (let l = 0; l < spec.numLayers; l++) {
    norm(l, 'input');
    for (const name of ['q_proj', 'k_proj', 'v_proj'] as const) linear(l, name);
    norm(l, 'attn_sub');
    linear(l, 'o_proj');
    norm(l, 'post_attention');
    for (const name of ['gate_proj', 'up_proj'] as const) linear(l, name);
    norm(l, 'ffn_sub');
    linear(l, 'down_proj');
  }
  f32Tensor(OUTPUT_NORM, () => ckpt.finalNorm(), h);
  if (jobs.length !== 2 + spec.numLayers * (LINEAR_NAMES.length + LAYER_NORM_ROLES.length)) throw new TellmeError('E_INTERNAL', 'gguf export: tensor list');

  const layout = layoutGguf(metadata, jobs.map((j) => j.info));
  const total = jobs.length;
  opts.progress?.(0, total, TOKEN_EMBD);
  await writeGguf(out, layout, (i) => {
    const bytes = jobs[i]!.produce();
    opts.progress?.(i + 1, total, jobs[i + 1]?.info.name ?? 'done');
    return bytes;
  });
  return {
    path: out,
    source: ckpt.dir,
    bytes: layout.fileBytes,
    tensors: total,
    type,
    embeddingType,
    vocab: vocab.kind,
    scaleMaxRelError,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The embedding in `typeName`, converted in row chunks so the float copy never exists whole. */
function embeddingBytes(ckpt: Checkpoint, typeName: FloatTypeName): Uint8Array {
  const { vocabSize: rows, hiddenSize: cols } = ckpt.spec;
  const info = ckpt.tensors.get(EMBED_NAME);
  if (!info) throw new TellmeError('E_CHECKPOINT', `${ckpt.dir}: no tensor ${EMBED_NAME}`,
    'check that the directory holds the whole checkpoint (every safetensors shard named by its index)');
  const perRow = rowBytes(GGML_TYPES[typeName], cols, EMBED_NAME);
  const out = new Uint8Array(rows * perRow);
  const chunkRows = Math.max(1, Math.floor((1 << 20) / cols));
  forEachF32Chunk(
    info,
    (chunk, start) => {
      const r0 = start / cols;
      const n = chunk.length / cols;
      out.set(packFloatRows(typeName, chunk, n, cols, `${EMBED_NAME} rows ${r0}..${r0 + n - 1}`), r0 * perRow);
    },
    chunkRows * cols,
  );
  return out;
}
