/**
 * Ternary weights: HF's uint8 block packing, absmean ternarisation of master weights, and the
 * meaning of a packed checkpoint's weight_scale (shared/reference/bitnet-checkpoints.md §1.4, §3.2).
 */

import { TellmeError } from '../errors.js';
import { f32 } from '../numerics/f32.js';
import type { ScaleConvention } from '../model/spec.js';

/**
 * HF block packing along out_features: with R = ceil(rows/4), packed[r, c] holds rows r, R+r,
 * 2R+r, 3R+r in bits 1:0, 3:2, 5:4, 7:6, each as code = w + 1 (0 -> -1, 1 -> 0, 2 -> +1).
 * Code 3 never occurs in a valid file (it would unpack to +2).
 * Example (HF's docstring): 0b10100001 -> codes 01,00,10,10 -> 0,-1,+1,+1 at rows 0,R,2R,3R.
 */
export function packedRows(rows: number): number {
  return Math.ceil(rows / 4);
}

/**
 * Unpack [ceil(rows/4), cols] uint8 into row-major ternaries [rows, cols]. Slots past `rows`
 * (when rows is not a multiple of 4) are padding and ignored. `what` names the tensor (and file)
 * in the error for an invalid code.
 */
export function unpackTernary(packed: Uint8Array, rows: number, cols: number, what: string): Int8Array {
  const R = packedRows(rows);
  if (packed.length !== R * cols) {
    throw new TellmeError('E_CHECKPOINT', `${what}: ${packed.length} packed bytes, expected ${R} x ${cols} for ${rows} rows`, 'The checkpoint is damaged or its config.json does not match its weights; re-download it.');
  }
  // A byte is invalid when one of its 2-bit fields is 3 (both bits set): check all bytes first,
  // so the unpacking loop below needs no test per weight.
  for (let p = 0; p < packed.length; p++) {
    const b = packed[p]!;
    if ((b & (b >>> 1) & 0x55) !== 0) throw invalidCode(packed, p, rows, cols, what);
  }
  const out = new Int8Array(rows * cols);
  for (let r = 0; r < R; r++) {
    const src = r * cols;
    for (let i = 0; i < 4; i++) {
      const row = i * R + r;
      if (row >= rows) break;
      const shift = 2 * i;
      const dst = row * cols;
      for (let c = 0; c < cols; c++) out[dst + c] = ((packed[src + c]! >>> shift) & 3) - 1;
    }
  }
  return out;
}

function invalidCode(packed: Uint8Array, p: number, rows: number, cols: number, what: string): TellmeError {
  const R = packedRows(rows);
  const r = Math.floor(p / cols);
  const c = p % cols;
  let i = 0;
  while (((packed[p]! >>> (2 * i)) & 3) !== 3) i++;
  const shift = 2 * i;
  return new TellmeError(
    'E_CHECKPOINT',
    `${what}: invalid ternary code 3 at packed byte [${r}, ${c}] bits ${shift + 1}:${shift} (weight row ${i * R + r}, column ${c}); valid codes are 0, 1, 2 (-1, 0, +1)`,
    'The packed weights are corrupt or use another packing; re-download the checkpoint.',
  );
}

/** Inverse of unpackTernary (padding slots get code 0, as HF's zero-initialised pack does). */
export function packTernary(values: Int8Array, rows: number, cols: number): Uint8Array {
  if (values.length !== rows * cols) throw new TellmeError('E_INTERNAL', `packTernary: ${values.length} values for ${rows} x ${cols}`);
  const R = packedRows(rows);
  const out = new Uint8Array(R * cols);
  for (let row = 0; row < rows; row++) {
    const i = Math.floor(row / R);
    const dst = (row - i * R) * cols;
    const shift = 2 * i;
    for (let c = 0; c < cols; c++) {
      const t = values[row * cols + c]!;
      if (t < -1 || t > 1) throw new TellmeError('E_INTERNAL', `packTernary: value ${t} at [${row}, ${c}] is not ternary`);
      out[dst + c]! |= (t + 1) << shift;
    }
  }
  return out;
}

/** HF's clamp(min=1e-5) on mean|W|, as a binary32 constant. */
export const ABSMEAN_FLOOR = Math.fround(1e-5);

export interface AbsmeanResult {
  values: Int8Array;
  /** gamma = max(f32(mean|W|), f32(1e-5)). */
  gamma: number;
  /** The quantisation multiplier s = f32(1 / gamma). */
  s: number;
  /** The multiplicative dequant factor f32(1 / s) (HF dequantises t / s). */
  scale: number;
}

/** A float matrix delivered in pieces, e.g. straight from a safetensors file. */
export type F32ChunkSource = (cb: (chunk: Float32Array, start: number) => void) => void;

/**
 * Absmean ternarisation of one matrix (HF WeightQuant / 1bitLLM weight_quant), per tensor:
 *   gamma = max(mean|W|, 1e-5), s = 1/gamma, t = clamp(round_half_even(W*s), -1, 1).
 * mean|W| is summed in binary64 over the binary32 values (the closest thing to the exact mean;
 * torch's fp32 reduction order cannot be reproduced anyway, §3.2), then rounded to binary32.
 * A chunk source is read twice (sum, then quantise) so the matrix never exists in full as floats.
 */
export function absmeanTernarize(source: Float32Array | F32ChunkSource, rows: number, cols: number): AbsmeanResult {
  const n = rows * cols;
  const each: F32ChunkSource = typeof source === 'function' ? source : (cb) => cb(source, 0);
  let sum = 0;
  let seen = 0;
  each((chunk) => {
    // A local accumulator: a captured `sum` updated per element would be a boxed heap number.
    let part = 0;
    for (let i = 0; i < chunk.length; i++) part += Math.abs(chunk[i]!);
    sum += part;
    seen += chunk.length;
  });
  if (seen !== n) throw new TellmeError('E_INTERNAL', `absmeanTernarize: got ${seen} values for ${rows} x ${cols}`);
  const mean = n === 0 ? 0 : f32(sum / n);
  const gamma = mean > ABSMEAN_FLOOR ? mean : ABSMEAN_FLOOR;
  const s = f32(1 / gamma);
  const values = new Int8Array(n);
  each((chunk, start) => {
    for (let i = 0; i < chunk.length; i++) {
      // clamp(roundHalfEven(v), -1, 1) with v = f32(W*s) is exactly this: round half to even
      // gives >= 1 iff v > 0.5 (0.5 itself rounds to 0) and <= -1 iff v < -0.5. Written without
      // branches: on Gaussian weights a branch per weight mispredicts half the time (4x slower).
      const v = Math.fround(chunk[i]! * s);
      values[start + i] = +(v > 0.5) - +(v < -0.5);
    }
  });
  return { values, gamma, s, scale: f32(1 / s) };
}

/**
 * Magnitude bounds that tell the two weight_scale conventions apart. A multiplicative scale is
 * about mean|W_master| (2B-4T: ~1.5; O(0.001..10) in general); an inverted one is 1/mean|W|
 * (HF1BitLLM: ~50). A value outside its convention's range means linear_class is wrong, and
 * using it would scale every layer by roughly weight_scale^2.
 */
export const MULTIPLY_SCALE_MAX = 20;
export const DIVIDE_SCALE_MIN = 0.1;

export interface ScaleContext {
  /** Tensor name of the weight_scale. */
  tensor: string;
  file: string;
  /** quantization_config.linear_class as written (null when absent). */
  linearClass: string | null;
  configFile: string;
}

/** f32 multiplicative factor w_s from a stored weight_scale under the declared convention. */
export function weightScaleToMultiplier(raw: number, convention: ScaleConvention, ctx: ScaleContext): number {
  const where = `${ctx.file}: tensor '${ctx.tensor}'`;
  if (!Number.isFinite(raw) || raw <= 0) {
    throw new TellmeError('E_CHECKPOINT', `${where} is ${raw}; a weight scale must be a positive finite number`, 'The checkpoint is corrupt; re-download it.');
  }
  const declared = ctx.linearClass === null ? 'no linear_class (so the HF default "bitlinear")' : `linear_class "${ctx.linearClass}"`;
  const conventions =
    'autobitlinear checkpoints store the multiplicative scale (W = t * weight_scale, about mean|W|, e.g. 1.5); ' +
    'bitlinear checkpoints store its inverse (W = t / weight_scale, large, e.g. 50)';
  if (convention === 'multiply' && raw > MULTIPLY_SCALE_MAX) {
    throw new TellmeError(
      'E_CONFIG',
      `${where} is ${raw}, too large for a multiplicative scale (> ${MULTIPLY_SCALE_MAX}) although ${ctx.configFile} declares ${declared}. ${conventions}.`,
      `If this checkpoint stores inverted scales, set quantization_config.linear_class to "bitlinear" in ${ctx.configFile}.`,
    );
  }
  if (convention === 'divide' && raw < DIVIDE_SCALE_MIN) {
    throw new TellmeError(
      'E_CONFIG',
      `${where} is ${raw}, too small for an inverted scale (< ${DIVIDE_SCALE_MIN}) although ${ctx.configFile} declares ${declared}. ${conventions}.`,
      `If this checkpoint stores multiplicative scales, set quantization_config.linear_class to "autobitlinear" in ${ctx.configFile}.`,
    );
  }
  return convention === 'multiply' ? f32(raw) : f32(1 / raw);
}
