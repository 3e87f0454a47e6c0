/**
 * The manifest's worst case (`numerics.worst`) when two bounds are exactly equal, through a real
 * conversion (image/write-weights.ts and writer.ts overflowRecord) and back through openImage,
 * which re-derives the record from the sections and refuses an image whose record differs
 * (manifest-checks.ts deriveNumerics). The rule (docs/image-format.md §3.2): the bounds are visited
 * in one order — every layer without the embedding, every layer with it, the logits — and a later
 * bound replaces the worst case only when it is strictly larger, so at a tie the first keeps it.
 * A writer and a reader that break ties differently would refuse each other's images.
 *
 * The models are hf1bitllm-tiny (hidden 64, head_dim 16, SiLU, no sub-norms, int8 KV on kv260,
 * inverted weight scales) with every norm weight and weight scale set to a power of two, so that
 * every bound is exact in binary64:
 *   RMS-MAX outputs √64 · 1 = 8; q/k/v_proj 64 · 8 · 1 = 512; attention score √16 · 512 · 512 = 2^20;
 *   SiLU gate activation 512 · 512 = 2^18; o_proj and down_proj scaled by 2^-100, so that the
 *   residual stream is the embedding's max |value| plus less than 2^-80.
 */
import { describe, expect, it } from 'vitest';
import type { WriterTensor } from '../../host/src/checkpoint/index.js';
import { openImage } from '../../host/src/image/index.js';
import { convert } from './helpers.js';
import { modelWith, setBits } from './writer-helpers.js';

/** bfloat16 bits of 2^e. */
const pow2 = (e: number) => (127 + e) << 7;

/** Every element of a bf16 tensor set to `bits`. */
function fill(tensors: WriterTensor[], name: string, bits: number): void {
  const t = tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no tensor ${name}`);
  for (let i = 0; i < (t.data as Uint8Array).length / 2; i++) setBits(tensors, name, i, bits);
}

/** Layer l: both norms 2^normLog2; q/k/v/gate/up scale 1 (stored inverted: 1), o/down scale 2^-100 (stored: 2^100). */
function setLayer(t: WriterTensor[], l: number, normLog2: number): void {
  fill(t, `model.layers.${l}.input_layernorm.weight`, pow2(normLog2));
  fill(t, `model.layers.${l}.post_attention_layernorm.weight`, pow2(normLog2));
  for (const n of ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'mlp.gate_proj', 'mlp.up_proj']) setBits(t, `model.layers.${l}.${n}.weight_scale`, 0, pow2(0));
  for (const n of ['self_attn.o_proj', 'mlp.down_proj']) setBits(t, `model.layers.${l}.${n}.weight_scale`, 0, pow2(100));
}

const MODEL = { preset: 'hf1bitllm-tiny', tokenizer: false } as const;

/** Convert for kv260, check that the image opens (the reader derives the same record), and return the record. */
async function numericsOf(edit: (t: WriterTensor[]) => void) {
  const { path, manifest } = await convert(modelWith(MODEL, edit), 'kv260');
  expect(openImage(path).manifest.numerics).toStrictEqual(manifest.numerics);
  return manifest.numerics;
}

describe('numerics.worst at an exact tie: the first bound in the visiting order keeps it', () => {
  it('two equal layers and logits equal to them: layer 0 attention score; twice the head row: the logits', async () => {
    // The logits: 64 · (8 · 1) · 2^11 = 2^20, from a final norm of 1 and one head element 2^11
    // (the other head values are a few units).
    const tie = (headLog2: number) => (t: WriterTensor[]) => {
      setLayer(t, 0, 0);
      setLayer(t, 1, 0);
      fill(t, 'model.norm.weight', pow2(0));
      setBits(t, 'lm_head.weight', 0, pow2(headLog2));
    };
    const n = await numericsOf(tie(11));
    expect(n.layers.map((l) => l.attn_score)).toStrictEqual([2 ** 20, 2 ** 20]);
    expect(n.layers.map((l) => l.gate_activation)).toStrictEqual([2 ** 18, 2 ** 18]);
    expect(n.layers.every((l) => l.residual < 1)).toBe(true);
    expect(n.logit_bound).toBe(2 ** 20);
    expect(n.worst).toStrictEqual({ bound: 2 ** 20, log2: 20, where: 'layer 0 attention score' });
    expect((await numericsOf(tie(12))).worst).toStrictEqual({ bound: 2 ** 21, log2: 21, where: 'logits' });
  });

  it('an earlier layer whose residual stream, with the embedding, ties a later layer: the later layer, found first without the embedding', async () => {
    // Layer 0: norms 2^-6 (attention score 2^8); layer 1: norms 1 (attention score 2^20). One
    // embedding value 2^20: every layer's residual stream, 2^20 plus less than 2^-80, rounds to 2^20.
    const n = await numericsOf((t) => {
      setLayer(t, 0, -6);
      setLayer(t, 1, 0);
      setBits(t, 'model.embed_tokens.weight', 0, pow2(20));
    });
    expect(n.embedding_absmax).toBe(2 ** 20);
    expect(n.layers.map((l) => l.attn_score)).toStrictEqual([2 ** 8, 2 ** 20]);
    expect(n.layers.map((l) => l.residual)).toStrictEqual([2 ** 20, 2 ** 20]);
    expect(n.logit_bound).toBeLessThan(2 ** 20);
    expect(n.worst).toStrictEqual({ bound: 2 ** 20, log2: 20, where: 'layer 1 attention score' });
  });
});
