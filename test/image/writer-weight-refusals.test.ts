/**
 * The weight writer's refusals (write-weights.ts) with the words that say where: a packed
 * weight with an invalid code names its file and tensor; a weight scale outside its convention
 * names the tensor, the file, config.json and the linear class it declares; a layer whose
 * overflow bound reaches the limit lists every linear's weight scale and the layer's norm maxima.
 * Each converts a test model with one tensor changed, inside the test, and leaves no file behind.
 * And an all-zero model (norms and embedding zero): its worst case is still a layer's positive bound.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { convert } from './helpers.js';
import { modelWith, refused, setBits } from './writer-helpers.js';

describe("the weight writer's refusals say where", () => {
  it('a packed weight byte holding code 3: E_CHECKPOINT naming the file and tensor', async () => {
    const name = 'model.layers.0.self_attn.q_proj.weight';
    const ckpt = modelWith({ preset: 'bitnet-tiny-packed', tokenizer: false }, (tensors) => {
      const t = tensors.find((x) => x.name === name)!;
      const bytes = (t.data as Uint8Array).slice();
      bytes[0] = 0xff;
      t.data = bytes;
    });
    await refused(ckpt, 'E_CHECKPOINT', /re-download/, `${path.join(ckpt.dir, 'model.safetensors')}: tensor '${name}': invalid ternary code 3 at packed byte [0, 0]`);
  });

  it('an inverted weight scale below 0.1: E_CONFIG naming the tensor, its file, config.json and the declared linear class', async () => {
    const name = 'model.layers.0.mlp.down_proj.weight_scale';
    const ckpt = modelWith({ preset: 'hf1bitllm-tiny', tokenizer: false }, (t) => setBits(t, name, 0, 0x3d80)); // 0.0625
    await refused(
      ckpt,
      'E_CONFIG',
      `If this checkpoint stores multiplicative scales, set quantization_config.linear_class to "autobitlinear" in ${path.join(ckpt.dir, 'config.json')}.`,
      `${path.join(ckpt.dir, 'model.safetensors')}: tensor '${name}' is 0.0625, too small for an inverted scale (< 0.1) although ${path.join(ckpt.dir, 'config.json')} declares linear_class "bitlinear".`,
    );
  });

  it("a layer's overflow bound: the refusal lists each linear's weight scale and the layer's norm maxima", async () => {
    const ckpt = modelWith({ preset: 'bitnet-tiny-packed', tokenizer: false }, (t) => setBits(t, 'model.layers.0.input_layernorm.weight', 2, 0x7f7f));
    const err = await refused(ckpt, 'E_NUMERICS', /^Check the checkpoint/, 'the worst-case magnitude of the layer 0 ');
    expect(err.message).toMatch(/ Layer 0: weight scales q_proj [0-9.e+-]+, k_proj [0-9.e+-]+, v_proj [0-9.e+-]+, o_proj [0-9.e+-]+, gate_proj [0-9.e+-]+, up_proj [0-9.e+-]+, down_proj [0-9.e+-]+; max \|norm weight\| \{"input":3\.3895313892515355e\+38,/);
  });
});

describe('an all-zero model (norm weights and embedding zero)', () => {
  // Why the weight writer's initial worst case ({ bound 0, where '' }) never reaches the manifest:
  // even with every norm weight and the embedding zero, a layer's bound is positive (the residual
  // stream's), so the first layer replaces it.
  it('converts; the worst case is still a positive bound in a layer', async () => {
    const ckpt = modelWith({ preset: 'bitnet-tiny-packed', tokenizer: false }, (tensors) => {
      for (const t of tensors) if (t.name.endsWith('norm.weight') || t.name === 'model.embed_tokens.weight') t.data = new Uint8Array((t.data as Uint8Array).length);
    });
    const { manifest } = await convert(ckpt, 'kv260');
    expect(manifest.numerics.worst.bound).toBeGreaterThan(0);
    expect(manifest.numerics.worst.where).toMatch(/^layer \d+ /);
  });
});
