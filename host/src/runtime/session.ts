/**
 * What a generation loop needs from whatever computes logits: the golden model today, the
 * virtual board or a real board through the protocol later.
 */
export interface InferenceSession {
  readonly contextLength: number;
  /** Tokens in the KV cache. */
  readonly position: number;
  /** Prefill ids after what is cached; returns the last position's logits. */
  prefill(ids: readonly number[]): Float32Array | Promise<Float32Array>;
  /** Decode one token; returns its logits. */
  decode(id: number): Float32Array | Promise<Float32Array>;
  reset(): void | Promise<void>;
}
