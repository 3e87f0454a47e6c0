/**
 * The contract between the checkpoint loader and its consumers (golden model, float reference,
 * converter). Consumers never see file formats: they ask for one tensor at a time, by role,
 * already ternarised or converted to binary32, so a 13 GB checkpoint streams in bounded memory.
 */

import type { LayerNormRole, LinearName, ModelSpec } from '../model/spec.js';

/** safetensors dtype names (the full list of the format). */
export type SafetensorsDtype =
  | 'BOOL' | 'U8' | 'I8' | 'I16' | 'U16' | 'F16' | 'BF16' | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64'
  | 'C64' | 'F8_E5M2' | 'F8_E4M3' | 'F8_E8M0' | 'F8_E4M3FNUZ' | 'F8_E5M2FNUZ' | 'F4' | 'F6_E2M3' | 'F6_E3M2';

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute path of the file holding it. */
  file: string;
  /** Absolute byte offset of the data in that file. */
  offset: number;
  byteLength: number;
}

/** A ternarised BitLinear weight, row-major [rows][cols], values in {-1, 0, +1}. */
export interface TernaryMatrix {
  rows: number;
  cols: number;
  values: Int8Array;
  /**
   * The multiplicative dequantisation factor w_s as binary32: W ≈ t * w_s.
   * packed/multiply: f32(weight_scale); packed/divide: f32(1 / weight_scale);
   * master: f32(1 / f32(1 / gamma)) with gamma = max(mean|W|, 1e-5) (HF's t / s).
   */
  scale: number;
}

/** A dense floating-point matrix converted to binary32, row-major [rows][cols]. */
export interface DenseMatrix {
  rows: number;
  cols: number;
  data: Float32Array;
  /** The dtype it was stored in (informational; BF16 -> F32 is exact). */
  sourceDtype: SafetensorsDtype;
}

export interface Checkpoint {
  readonly dir: string;
  readonly spec: ModelSpec;
  /** config.json as parsed. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Every tensor of every shard, by name. */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  /** Tensors the config does not use (ignored; commands warn, or refuse with --strict). */
  readonly unusedTensors: readonly string[];

  /** Any float tensor (F32, F16, BF16, F64) as binary32, exactly where the format allows. */
  readF32(name: string): Float32Array;
  /** The raw little-endian bytes of a tensor. */
  readBytes(name: string): Uint8Array;

  /** Token embedding [vocab][hidden] as binary32. */
  embedding(): DenseMatrix;
  /** Output head [vocab][hidden]: lm_head.weight, or the embedding when tied. */
  lmHead(): DenseMatrix;
  /** One BitLinear of one layer, ternarised (unpacked or absmean-quantised). */
  linear(layer: number, name: LinearName): TernaryMatrix;
  /** A per-layer RMSNorm weight as binary32; null when the model has no such norm (no sub-norms). */
  layerNorm(layer: number, role: LayerNormRole): Float32Array | null;
  /** The final RMSNorm weight (model.norm.weight). */
  finalNorm(): Float32Array;
}

/** Text side of a checkpoint directory; absent when the directory has no tokenizer.json. */
export interface TokenizerBundle {
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): string;
  /** Renders tokenizer_config.json's chat_template (with @huggingface/jinja); null if none. */
  applyChatTemplate(
    messages: { role: string; content: string }[],
    opts?: { addGenerationPrompt?: boolean },
  ): string | null;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: number[];
  readonly vocabSize: number;
}
