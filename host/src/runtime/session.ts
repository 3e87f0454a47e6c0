/**
 * What a generation loop needs from whatever computes logits: the golden model today, the
 * virtual board or a real board through the protocol later. Logits are a vector over the
 * vocabulary; a build with the ternary-shortlist head marks every id outside its shortlist with
 * −∞ (docs/numerics.md §9.2, §10).
 */
export interface InferenceSession {
  readonly contextLength: number;
  /** Tokens in the KV cache. */
  readonly position: number;
  /** Prefill ids after what is cached; returns the last position's logits. */
  prefill(ids: readonly number[]): Float32Array | Promise<Float32Array>;
  /** Decode one token; returns its logits. */
  decode(id: number): Float32Array | Promise<Float32Array>;
  /**
   * A verify pass (docs/numerics.md §10.1): set the KV length to kvOffset, run ids at positions
   * kvOffset …, return every position's logits (each equal to a decode step's).
   */
  verify(ids: readonly number[], kvOffset: number): Float32Array[] | Promise<Float32Array[]>;
  /** Roll the KV cache back to `length` tokens (≤ position). */
  setKvLength(length: number): void | Promise<void>;
  reset(): void | Promise<void>;
}
