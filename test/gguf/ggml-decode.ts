/**
 * Decoders of ggml's block types for the tests, written from ggml-quants.c's dequantize_row_*
 * loops (the order in which llama.cpp reads the bytes back), independently of the packers in
 * host/src/gguf/blocks.ts, which are written from the element-to-byte direction.
 */

function f16(b: Uint8Array, at: number): number {
  const h = b[at]! | (b[at + 1]! << 8);
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 31;
  const m = h & 1023;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** TQ2_0 blocks -> the codes minus one (ternaries, or 2 for the invalid code 3) and each block's d. */
export function decodeTq2(b: Uint8Array, blocks: number): { t: Int8Array; d: number[] } {
  const t = new Int8Array(blocks * 256);
  const d: number[] = [];
  let y = 0;
  for (let i = 0; i < blocks; i++) {
    const o = i * 66;
    for (let j = 0; j < 64; j += 32) {
      for (let l = 0; l < 4; l++) {
        for (let m = 0; m < 32; m++) t[y++] = ((b[o + j + m]! >> (l * 2)) & 3) - 1;
      }
    }
    d.push(f16(b, o + 64));
  }
  return { t, d };
}

/** TQ1_0 blocks -> ternaries and each block's d. */
export function decodeTq1(b: Uint8Array, blocks: number): { t: Int8Array; d: number[] } {
  const pow3 = [1, 3, 9, 27, 81, 243];
  const trit = (byte: number, n: number) => ((((byte * pow3[n]!) & 0xff) * 3) >> 8) - 1;
  const t = new Int8Array(blocks * 256);
  const d: number[] = [];
  let y = 0;
  for (let i = 0; i < blocks; i++) {
    const o = i * 54;
    for (let n = 0; n < 5; n++) for (let m = 0; m < 32; m++) t[y++] = trit(b[o + m]!, n);
    for (let n = 0; n < 5; n++) for (let m = 0; m < 16; m++) t[y++] = trit(b[o + 32 + m]!, n);
    for (let n = 0; n < 4; n++) for (let j = 0; j < 4; j++) t[y++] = trit(b[o + 48 + j]!, n);
    d.push(f16(b, o + 52));
  }
  return { t, d };
}

export function decodeQ8(b: Uint8Array, blocks: number): Float32Array {
  const y = new Float32Array(blocks * 32);
  for (let i = 0; i < blocks; i++) {
    const d = f16(b, i * 34);
    for (let j = 0; j < 32; j++) y[i * 32 + j] = d * ((b[i * 34 + 2 + j]! << 24) >> 24);
  }
  return y;
}

export function decodeQ6K(b: Uint8Array, blocks: number): Float32Array {
  const y = new Float32Array(blocks * 256);
  const s8 = (v: number) => (v << 24) >> 24;
  for (let i = 0; i < blocks; i++) {
    const o = i * 210;
    const d = f16(b, o + 208);
    for (let n = 0; n < 2; n++) {
      const ql = o + 64 * n;
      const qh = o + 128 + 32 * n;
      const sc = o + 192 + 8 * n;
      const base = i * 256 + 128 * n;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const q1 = ((b[ql + l]! & 0xf) | (((b[qh + l]! >> 0) & 3) << 4)) - 32;
        const q2 = ((b[ql + l + 32]! & 0xf) | (((b[qh + l]! >> 2) & 3) << 4)) - 32;
        const q3 = ((b[ql + l]! >> 4) | (((b[qh + l]! >> 4) & 3) << 4)) - 32;
        const q4 = ((b[ql + l + 32]! >> 4) | (((b[qh + l]! >> 6) & 3) << 4)) - 32;
        y[base + l] = d * s8(b[sc + is]!) * q1;
        y[base + l + 32] = d * s8(b[sc + is + 2]!) * q2;
        y[base + l + 64] = d * s8(b[sc + is + 4]!) * q3;
        y[base + l + 96] = d * s8(b[sc + is + 6]!) * q4;
      }
    }
  }
  return y;
}

export function decodeF16(b: Uint8Array): Float32Array {
  const y = new Float32Array(b.length / 2);
  for (let i = 0; i < y.length; i++) y[i] = f16(b, 2 * i);
  return y;
}
