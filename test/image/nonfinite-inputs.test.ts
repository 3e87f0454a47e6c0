/**
 * Why the writer's own checks of non-finite norm weights (convert-inputs.ts finiteAbsmax), LM head
 * rows (write-embedding.ts: the row absmax, NaN) and bf16 NaN embeddings cannot fire: the
 * checkpoint reader refuses such a tensor first, naming it and the element. (Not in the mutation
 * set: it kills no mutant, it shows why those mutants are equivalent.)
 */
import * as path from 'node:path';
import { describe, it } from 'vitest';
import type { TestModelInput } from '../../host/src/testmodels/index.js';
import { modelWith, refused, setBits } from './writer-helpers.js';

describe('non-finite weights never reach the writer', () => {
  it('NaN or an infinity in a norm, the embedding or the LM head: the checkpoint reader refuses it', async () => {
    const cases: [TestModelInput, string, number, number, string][] = [
      [{ preset: 'bitnet-tiny-packed' }, 'model.layers.1.post_attention_layernorm.weight', 7, 0x7fc0, 'element 7 is NaN'],
      [{ preset: 'bitnet-tiny-packed' }, 'model.norm.weight', 0, 0x7f80, 'element 0 is Infinity'],
      [{ preset: 'bitnet-tiny-packed' }, 'model.embed_tokens.weight', 5, 0xff80, 'element 5 is -Infinity'],
      [{ preset: '1bitllm-tiny', layers: 1 }, 'lm_head.weight', 389, 0x7fc00000, 'element 389 is NaN'],
    ];
    for (const [input, name, index, bits, what] of cases) {
      const ckpt = modelWith(input, (t) => setBits(t, name, index, bits));
      await refused(ckpt, 'E_NUMERICS', /re-download/, `${path.join(ckpt.dir, 'model.safetensors')}: tensor '${name}': ${what}; a model's weights must be finite`);
    }
  });
});
