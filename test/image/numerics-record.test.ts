/**
 * The numerics record re-derived from the sections (host/src/image/manifest-checks.ts), on what
 * the edit-a-file tests (test/robust/manifest-checks, section-values) cannot reach through
 * openImage: a model without sub-norms (its absent norms are null), ties between bounds (the
 * first place keeps the worst case, as the writer names it), the difference named when the
 * recorded record is not the derived one's shape (a layer missing, an object for the layer list,
 * a number, null or a string for an object), the RoPE table's length, and an embedding past the
 * end of the file. The record, the image's context and a section record are edited in memory on
 * an opened image: the reader's own checks (checkModel) refuse such files before these run.
 */
import * as fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkNumericsRecord, checkRopeTable, deriveNumerics, sectionValues, type SectionValues } from '../../host/src/image/manifest-checks.js';
import { openImage, type ModelImage } from '../../host/src/image/index.js';
import type { LayerNormRole, LinearName } from '../../host/src/model/spec.js';
import { convert, expectTellme, testModel } from './helpers.js';

/** hf1bitllm-tiny on kv260: no sub-norms, SiLU, untied, hidden 64 (√64 = 8), 2 layers, head_dim 16, int8 KV. */
let plain: string;

beforeAll(async () => {
  plain = (await convert(testModel({ preset: 'hf1bitllm-tiny' }), 'kv260')).path;
});

const FIX = 'Re-convert the checkpoint (`tellme convert`): the image was edited or damaged after conversion and its checksums rewritten.';

function refusal(img: ModelImage, what: string): [string, string] {
  return [`${img.path}: ${what}`, FIX];
}

async function expectRefusal(img: ModelImage, fn: () => unknown, what: string): Promise<void> {
  const e = await expectTellme(fn, 'E_IMAGE');
  expect([e.message, e.fix]).toStrictEqual(refusal(img, what));
}

describe('a model without sub-norms', () => {
  it('opens; its absent norms are null in the derived record, and a recorded value for one is a difference', async () => {
    const img = openImage(plain);
    const v = sectionValues(img);
    expect(v.normAbsmax).toHaveLength(2);
    for (const rec of v.normAbsmax) {
      expect(rec.attn_sub).toBeNull();
      expect(rec.ffn_sub).toBeNull();
      expect(rec.input).toBeGreaterThan(0);
      expect(rec.post_attention).toBeGreaterThan(0);
    }
    expect([...v.norms.keys()].sort()).toStrictEqual(['final@1', 'input@0', 'input@1', 'post_attention@0', 'post_attention@1']);
    expect(img.manifest.numerics.layers[1]!.norm_absmax.ffn_sub).toBeNull();

    img.manifest.numerics.layers[1]!.norm_absmax.ffn_sub = 0;
    await expectRefusal(img, () => checkNumericsRecord(img, v), 'the numerics record does not match the weights it bounds (recorded vs re-derived from the sections: numerics.layers[1].norm_absmax.ffn_sub: 0 vs null)');
  });
});

describe('ties: the first place keeps the worst case', () => {
  const roles = (input: number, post: number): Record<LayerNormRole, number | null> => ({ input, post_attention: post, attn_sub: null, ffn_sub: null });
  const scales = (): Record<LinearName, number> => ({ q_proj: 1, k_proj: 1, v_proj: 1, o_proj: 2 ** -20, gate_proj: 1, up_proj: 1, down_proj: 2 ** -30 });

  it('two equal layers and logits equal to them: the worst is layer 0 attention score; larger logits are the worst', () => {
    const img = openImage(plain, { verifyChecksums: false });
    // Hidden 64: the RMS-MAX outputs are 8 · 1; q/k_proj 64 · 8 = 512; the score √16 · 512 · 512 = 2^20,
    // above the SiLU gate activation (512 · 512 = 2^18) and the residual (o_proj and down_proj scaled
    // down); the logits 64 · 8 · 2048 = 2^20 too.
    const v: SectionValues = {
      norms: new Map(),
      normAbsmax: [roles(1, 1), roles(1, 1)],
      finalNormAbsmax: 1,
      scales: [scales(), scales()],
      embeddingAbsmax: 1,
      rowAbsmaxMax: 2048,
    };
    const d = deriveNumerics(img, v);
    expect(d.layers.map((l) => l.attn_score)).toStrictEqual([2 ** 20, 2 ** 20]);
    expect(d.layers.map((l) => l.gate_activation)).toStrictEqual([2 ** 18, 2 ** 18]);
    expect(d.layers[1]!.residual).toBeLessThan(2);
    expect(d.logit_bound).toBe(2 ** 20);
    expect(d.worst).toStrictEqual({ bound: 2 ** 20, log2: 20, where: 'layer 0 attention score' });
    // Twice the head row scale: the logits, 2^21, are the worst.
    expect(deriveNumerics(img, { ...v, rowAbsmaxMax: 4096 }).worst).toStrictEqual({ bound: 2 ** 21, log2: 21, where: 'logits' });
  });

  it('a residual stream that ties with a layer before it is not named; a larger one is', () => {
    const img = openImage(plain, { verifyChecksums: false });
    // Layer 0's attention score is 2^20 (as above); layer 1 has norms 1/64 of layer 0's (score 2^8).
    // The embedding is 2^20 minus layer 1's residual, so that the residual with it is exactly 2^20.
    const s = scales();
    const base: SectionValues = { norms: new Map(), normAbsmax: [roles(1, 1), roles(1 / 64, 1 / 64)], finalNormAbsmax: 0, scales: [s, s], embeddingAbsmax: 0, rowAbsmaxMax: 0 };
    const r1 = deriveNumerics(img, base).layers[1]!.residual;
    const d = deriveNumerics(img, { ...base, embeddingAbsmax: 2 ** 20 - r1 });
    expect(d.layers[1]!.residual).toBe(2 ** 20);
    expect(d.layers[0]!.attn_score).toBe(2 ** 20);
    expect(d.worst).toStrictEqual({ bound: 2 ** 20, log2: 20, where: 'layer 0 attention score' });
    // A larger embedding: the residual with it is the worst (the pass without it does not decide).
    const e = deriveNumerics(img, { ...base, embeddingAbsmax: 2 ** 21 });
    expect(e.worst).toStrictEqual({ bound: r1 + 2 ** 21, log2: Math.log2(r1 + 2 ** 21), where: 'layer 1 residual stream' });
  });
});

describe('a recorded record of another shape: the first difference names it', () => {
  const numericsMismatch = (diff: string) => `the numerics record does not match the weights it bounds (recorded vs re-derived from the sections: ${diff})`;

  it('a layer missing, an object for the layer list, a number or null or a string for an object', async () => {
    const cases: [(n: Record<string, unknown>) => void, string][] = [
      [(n) => void (n['layers'] = (n['layers'] as unknown[]).slice(0, 1)), 'numerics.layers: 1 entries vs 2'],
      [(n) => void (n['layers'] = {}), 'numerics.layers: no entries vs 2'],
      [(n) => void ((n['layers'] as Record<string, unknown>[])[0]!['norm_absmax'] = 5), 'numerics.layers[0].norm_absmax: 5 vs NORMS'],
      [(n) => void ((n['layers'] as Record<string, unknown>[])[0]!['norm_absmax'] = null), 'numerics.layers[0].norm_absmax: null vs NORMS'],
      [(n) => void (n['worst'] = 'layer 0'), 'numerics.worst: "layer 0" vs WORST'],
    ];
    for (const [edit, diff] of cases) {
      const img = openImage(plain);
      const v = sectionValues(img);
      const d = deriveNumerics(img, v);
      edit(img.manifest.numerics as unknown as Record<string, unknown>);
      const want = diff.replace('NORMS', JSON.stringify(d.layers[0]!.norm_absmax)).replace('WORST', JSON.stringify(d.worst));
      await expectRefusal(img, () => checkNumericsRecord(img, v), numericsMismatch(want));
    }
  });
});

describe('the RoPE table and the file under an open image', () => {
  it("a context the rope section was not written for: the section's length against the table's", async () => {
    const img = openImage(plain);
    const values = img.section('rope').size / 4;
    expect(() => checkRopeTable(img)).not.toThrow();
    Object.defineProperty(img, 'context', { value: img.context / 2 });
    await expectRefusal(img, () => checkRopeTable(img), `the rope section holds ${values} values, ${values / 2} expected`);
    Object.defineProperty(img, 'context', { value: img.context * 4 });
    await expectRefusal(img, () => checkRopeTable(img), `the rope section holds ${values} values, ${values * 2} expected`);
  });

  it('an embedding that runs past the end of the file: the end of file is named, not read as zeros; no descriptor left open', async () => {
    // The reader refuses such a section table (checkModel); here the embedding's record is moved
    // in memory after the checks, to 100 bytes before the end of the file (the embedding itself
    // is 40960 bytes), as if the file had been cut short under the open image.
    const img = openImage(plain);
    // The descriptors of this process: the embedding's reader closes its own, also when it refuses.
    const openFds = () => fs.readdirSync('/proc/self/fd').length;
    const before = openFds();
    sectionValues(img, 1000);
    expect(openFds()).toBe(before);
    img.section('embedding').offset = fs.statSync(plain).size - 100;
    await expectRefusal(img, () => sectionValues(img), 'unexpected end of file in section embedding');
    await expectRefusal(img, () => sectionValues(img, 1000), 'unexpected end of file in section embedding');
    expect(openFds()).toBe(before);
  });
});
