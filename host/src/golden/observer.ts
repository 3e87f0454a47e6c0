/**
 * What the golden model shows an observer (docs/trace.md): every tensor of docs/numerics.md §11,
 * per layer, token position and pass, in the format the hardware holds it. The observer is called
 * synchronously with a view of the model's own buffer: copy what you keep. A model without an
 * observer does no extra work beyond one null test per tensor.
 */

/** Element formats of observed tensors (little-endian in trace files). */
export type TraceDtype = 'f32' | 'f16' | 'i8' | 'i32';

export interface TraceTensor {
  /** Tensor name, e.g. 'attn.q' or 'qkv.acc' (docs/trace.md lists them). */
  name: string;
  /** Decoder layer, or null for the embedding, the final norm and the head. */
  layer: number | null;
  /** Absolute token position (the KV slot) the tensor belongs to. */
  position: number;
  /** Index of the pass (one prefill, decode or verify call) since the model was created or reset. */
  pass: number;
  dtype: TraceDtype;
  shape: number[];
  /** f32: binary32 values; f16: binary16 bit patterns; i8 / i32: integers. */
  data: Float32Array | Uint16Array | Int8Array | Int32Array;
}

export type Observer = (t: TraceTensor) => void;
