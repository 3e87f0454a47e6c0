/**
 * The building blocks of the float reference, in binary32 on TensorFlow.js, written after the
 * Hugging Face transformers modules they stand for (shared/reference/bitnet-checkpoints.md §1.2,
 * §1.4): AutoBitLinear's fake-quant ActQuant, LlamaRMSNorm, rotate-half RoPE, eager attention
 * with repeat_kv and the causal mask, and the gated FFN activations.
 *
 * Every function takes the tfjs namespace first (it is loaded at run time, see tf.ts) and returns
 * new tensors; callers own them (use tf.tidy).
 *
 * This is deliberately independent of host/src/numerics and host/src/golden: it is what the
 * golden model is measured against.
 */

import type { Rank, Tensor, Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs';
import type { FfnActivation } from '../model/spec.js';
import type { Tf } from './tf.js';

/** HF's ActQuant floor on the per-token absmax (`clamp(min=1e-5)`). */
export const ACT_QUANT_FLOOR = 1e-5;

/**
 * AutoBitLinear's ActQuant (fake quantisation), per row of the last axis:
 * `s = 127 / clamp(max|x|, 1e-5)`, `round(x * s)` half to even, clamp to [-128, 127], `/ s`.
 * tf.round rounds half to even on every backend (checked in test/reference/ops.test.ts), like
 * torch.round.
 */
export function actQuant<R extends Rank>(tf: Tf, x: Tensor<R>): Tensor<R> {
  return tf.tidy(() => {
    const amax = tf.max(tf.abs(x), -1, true);
    const s = tf.div(tf.scalar(127), tf.maximum(amax, tf.scalar(ACT_QUANT_FLOOR)));
    const q = tf.clipByValue(tf.round(tf.mul(x, s)), -128, 127);
    return tf.div(q, s) as Tensor<R>;
  });
}

/**
 * A BitLinear: ActQuant of x [n, in], then a binary32 matmul with the dequantised ternary
 * weights W [out, in] (t · w_s): `F.linear(ActQuant(x), W)`.
 */
export function bitLinear(tf: Tf, x: Tensor2D, w: Tensor2D): Tensor2D {
  return tf.tidy(() => tf.matMul(actQuant(tf, x), w, false, true));
}

/** LlamaRMSNorm in binary32: `w * (x * rsqrt(mean(x², -1) + eps))`. */
export function rmsNorm<R extends Rank>(tf: Tf, x: Tensor<R>, w: Tensor1D, eps: number): Tensor<R> {
  return tf.tidy(() => {
    const variance = tf.mean(tf.square(x), -1, true);
    const normed = tf.mul(x, tf.rsqrt(tf.add(variance, tf.scalar(eps))));
    return tf.mul(w, normed) as Tensor<R>;
  });
}

/**
 * HF's default rotary embedding: `inv_freq = 1 / theta^(arange(0, d, 2) / d)` and
 * `angle = position · inv_freq`, both in binary32, `emb = cat(freqs, freqs)`.
 * Returns cos and sin [n, d] for positions start .. start + n - 1.
 */
export function ropeCosSin(tf: Tf, headDim: number, theta: number, n: number, start = 0): { cos: Tensor2D; sin: Tensor2D } {
  return tf.tidy(() => {
    const exponents = tf.div(tf.range(0, headDim, 2, 'float32'), tf.scalar(headDim));
    const invFreq = tf.div(tf.scalar(1), tf.pow(tf.scalar(theta), exponents)); // [d/2]
    const pos = tf.range(start, start + n, 1, 'float32'); // [n]
    const freqs = tf.mul(tf.expandDims(pos, 1), tf.expandDims(invFreq, 0)); // [n, d/2]
    const emb = tf.concat([freqs, freqs], 1); // [n, d]
    return { cos: tf.cos(emb) as Tensor2D, sin: tf.sin(emb) as Tensor2D };
  });
}

/** `rotate_half(x) = cat(-x[..., d/2:], x[..., :d/2])` along the last axis. */
export function rotateHalf(tf: Tf, x: Tensor3D): Tensor3D {
  return tf.tidy(() => {
    const d = x.shape[2];
    const [x1, x2] = tf.split(x, [d / 2, d / 2], 2) as [Tensor3D, Tensor3D];
    return tf.concat([tf.neg(x2), x1], 2);
  });
}

/**
 * `x * cos + rotate_half(x) * sin` for x [n, heads, d] with cos/sin [n, d] (rows of the
 * checkpoint's q_proj / k_proj in their original, unpermuted order).
 */
export function applyRotary(tf: Tf, x: Tensor3D, cos: Tensor2D, sin: Tensor2D): Tensor3D {
  return tf.tidy(() => {
    const c = tf.expandDims(cos, 1);
    const s = tf.expandDims(sin, 1);
    return tf.add(tf.mul(x, c), tf.mul(rotateHalf(tf, x), s)) as Tensor3D;
  });
}

/**
 * Eager causal attention with grouped KV heads (repeat_kv: query head h reads KV head
 * ⌊h / (H / Hkv)⌋). q [n, H, d], k and v [n, Hkv, d], all at positions 0 .. n-1.
 * `softmax(q·kᵀ · d^-0.5 + mask) · v` in binary32, the mask adding the most negative binary32
 * above the diagonal like HF's. Returns [n, H·d].
 */
export function causalAttention(tf: Tf, q: Tensor3D, k: Tensor3D, v: Tensor3D): Tensor2D {
  return tf.tidy(() => {
    const [n, H, d] = q.shape;
    const Hkv = k.shape[1];
    if (H % Hkv !== 0) throw new Error(`attention: ${H} query heads are not a multiple of ${Hkv} KV heads`);
    const group = H / Hkv;
    const kvIndex = tf.tensor1d(Array.from({ length: H }, (_, h) => Math.floor(h / group)), 'int32');
    const qh = tf.transpose(q, [1, 0, 2]); // [H, n, d]
    const kh = tf.gather(tf.transpose(k, [1, 0, 2]), kvIndex, 0); // [H, n, d]
    const vh = tf.gather(tf.transpose(v, [1, 0, 2]), kvIndex, 0);
    const scaling = Math.pow(d, -0.5);
    const scores = tf.mul(tf.matMul(qh, kh, false, true), tf.scalar(scaling)); // [H, n, n]
    const lower = tf.linalg.bandPart(tf.ones([n, n]), -1, 0);
    const mask = tf.mul(tf.sub(tf.scalar(1), lower), tf.scalar(-3.4028234663852886e38));
    const probs = tf.softmax(tf.add(scores, mask), -1);
    const out = tf.matMul(probs, vh); // [H, n, d]
    return tf.reshape(tf.transpose(out, [1, 0, 2]), [n, H * d]) as Tensor2D;
  });
}

/** The gated FFN activation: `relu(g)² · u` (relu2) or `silu(g) · u` with silu(g) = g·σ(g). */
export function gateActivation(tf: Tf, activation: FfnActivation, g: Tensor2D, u: Tensor2D): Tensor2D {
  return tf.tidy(() => {
    const a = activation === 'relu2' ? tf.square(tf.relu(g)) : tf.mul(g, tf.sigmoid(g));
    return tf.mul(a, u) as Tensor2D;
  });
}
