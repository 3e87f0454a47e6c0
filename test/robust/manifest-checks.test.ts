/**
 * The manifest's model constants against the image's sections (issue 11, host/src/image/
 * manifest-checks.ts): a manifest or section rewritten with fresh checksums passes the checksum
 * checks, so what the sections determine is re-derived at open and a contradiction is refused,
 * naming the manifest field (or section) and saying to re-convert. One test per check; each edit
 * below opens without error when the check is taken out (the reader then trusts the manifest).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { openImage } from '../../host/src/image/reader.js';
import { convert, expectTellme, testModel, withManifest, withSection } from '../image/helpers.js';

/** bitnet-tiny-packed (tied, relu2, sub-norms) on kv260 (binary32 norms in DDR regions). */
let tied: string;
/** 1bitllm-tiny (untied, silu, fp32 masters) on kv260-paper (binary16 DDR norms, binary32 host copies). */
let untied: string;

beforeAll(async () => {
  tied = (await convert(testModel({ preset: 'bitnet-tiny-packed' }), 'kv260')).path;
  untied = (await convert(testModel({ preset: '1bitllm-tiny' }), 'kv260-paper')).path;
}, 120_000);

const FIX = /re-convert the checkpoint/i;
async function refused(file: string, ...fragments: (string | RegExp)[]) {
  const e = await expectTellme(() => openImage(file), 'E_IMAGE', ...fragments);
  expect(e.fix).toMatch(FIX);
}

describe('manifest constants re-derived from the sections', () => {
  it('the converted images open (the recorded numerics are the re-derived ones)', () => {
    expect(openImage(tied).spec.tiedEmbeddings).toBe(true);
    expect(openImage(untied).manifest.numerics.fp16_norms).not.toBeNull();
  });

  it('spec.activation edited alone contradicts the recorded bounds and is named', async () => {
    await refused(withManifest(tied, (m) => void (m.spec.activation = 'silu')), 'spec.activation is "silu", but the model was converted with "relu2"');
    await refused(withManifest(untied, (m) => void (m.spec.activation = 'relu2')), 'spec.activation is "relu2", but the model was converted with "silu"');
  });

  it('the numerics bound: any recorded value the weights do not give', async () => {
    await refused(withManifest(tied, (m) => void (m.numerics.worst.bound /= 2)), 'numerics.worst.bound');
    await refused(withManifest(tied, (m) => void (m.numerics.layers[1]!.gate_out *= 1.5)), 'numerics.layers[1].gate_out');
    await refused(withManifest(tied, (m) => void (m.numerics.embedding_absmax = 1)), 'numerics.embedding_absmax: 1 vs');
    await refused(withManifest(tied, (m) => void (m.numerics.lm_head_row_absmax *= 2)), 'numerics.lm_head_row_absmax');
    await refused(withManifest(untied, (m) => void (m.numerics.fp16_norms!.inexact += 1)), 'numerics.fp16_norms.inexact');
  });

  it('the numerics bound: weights edited under an unchanged record (a norm scaled up, a weight scale edited)', async () => {
    const norm = withSection(tied, 'norms.L0.post_attention', (b) => b.writeFloatLE(b.readFloatLE(0) > 0 ? 1e6 : -1e6, 0));
    await refused(norm, 'numerics.layers[0].norm_absmax.post_attention');
    const scale = withManifest(tied, (m) => {
      const x = m.matrices.find((r) => r.layer === 1 && r.linear === 'down_proj')!;
      x.scale *= 4;
      x.scale_bits = `0x${Buffer.from(new Float32Array([x.scale]).buffer).readUInt32LE(0).toString(16).padStart(8, '0')}`;
    });
    await refused(scale, 'numerics.layers[1].down_out');
    const host = withSection(untied, 'host.norms.final', (b) => b.writeFloatLE(3e4, 4));
    await refused(host, 'numerics.final_norm_absmax');
  });

  it('NaN and infinities in the sections the bounds are computed from', async () => {
    await refused(withSection(tied, 'norms.L1.input', (b) => b.writeFloatLE(NaN, 8)), 'section norms.L1.input element 2 is NaN');
    await refused(withSection(untied, 'host.norms.L2.input', (b) => b.writeFloatLE(-Infinity, 0)), 'section host.norms.L2.input element 0 is -Infinity');
    await refused(withSection(tied, 'embedding', (b) => b.writeUInt16LE(0x7fc0, 10)), 'embedding element 5 is NaN');
    await refused(withSection(tied, 'embedding', (b) => b.writeUInt16LE(0xff80, 10)), 'embedding element 5 is infinite');
    await refused(withSection(untied, 'lm_head.scale', (b) => b.writeFloatLE(-1, 12)), 'lm_head.scale[3] is -1');
  });

  it('spec.ropeTheta edited alone, or the rope section edited, is refused', async () => {
    await refused(withManifest(tied, (m) => void (m.spec.ropeTheta = 10000)), 'spec.ropeTheta 10000 (head_dim 16) does not give the image\'s RoPE table');
    await refused(withSection(untied, 'rope', (b) => b.writeFloatLE(0.25, 4 * 100)), /spec.ropeTheta \S+ \(head_dim 32\) does not give the image's RoPE table \(element 100/);
  });

  it('spec.tiedEmbeddings set on an untied model: the head is not the embedding', async () => {
    await refused(withManifest(untied, (m) => void (m.spec.tiedEmbeddings = true)), /LM head row 0 \(scale \S+\) is not quantised from embedding row 0 .*, as spec.tiedEmbeddings true requires/);
  });

  it('a tied head row rescaled (that token\'s logits scaled) is not the embedding row', async () => {
    await refused(withSection(tied, 'lm_head.scale', (b) => b.writeFloatLE(b.readFloatLE(12) * 0.75, 12)), /LM head row 3 \(scale \S+\) is not quantised from embedding row 3/);
  });

  it('what has only a range is range-checked: rms_norm_eps, max_position_embeddings, rope_theta', async () => {
    await expectTellme(() => openImage(withManifest(tied, (m) => void (m.spec.rmsNormEps = 0.5))), 'E_IMAGE', 'rms_norm_eps 0.5 is outside');
    await expectTellme(() => openImage(withManifest(tied, (m) => void (m.spec.maxPositions = m.context - 1))), 'E_IMAGE', 'is not within the model\'s');
    await expectTellme(() => openImage(withManifest(tied, (m) => void (m.spec.ropeTheta = 1))), 'E_IMAGE', 'rope_theta 1 is outside');
  });
});
