/**
 * Paper beats over several tiles (host/src/golden/weights-image.ts): a build with the paper's
 * 768-bit beats (5 index vectors + one binary16 norm weight each) but our tiled layout, with Q = 2
 * (one bank, 2 URAMs) so that a small model's linears and its ternary shortlist head (on the
 * fabric) are cut into two row tiles. Beat b of tile t carries norm weight (beats of tiles
 * 0..t−1) + b, and the ternary head's slots must be zero in every tile. The kv260-paper build
 * itself never shows either: its layout keeps each linear in one tile and it has no ternary head.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../host/src/checkpoint/types.js';
import { goldenWeightsFromCheckpoint } from '../../host/src/golden/weights.js';
import { goldenWeightsFromImage } from '../../host/src/golden/weights-image.js';
import { hwConfigFromObject, loadHwConfig, type LoadedHwConfig } from '../../host/src/hwconfig/index.js';
import { convertCheckpoint, openImage } from '../../host/src/image/index.js';
import { f32ToF16Sat } from '../../host/src/numerics/f16.js';
import { testModel, tmpDir, withSection } from '../image/helpers.js';
import { poolsClosedAfterAll } from './pools.js';
import { expectRefusal } from './refusal.js';
import { expectSameWeights } from './same-weights.js';

const CONTEXT = 8;
const IMAGE_FIX = 'The image is damaged or was written by a faulty converter; re-run `tellme convert`.';
let ckpt: Checkpoint;
let file: string;
let hw: LoadedHwConfig;

beforeAll(async () => {
  const base = loadHwConfig('kv260-paper').config;
  hw = hwConfigFromObject(
    {
      ...base,
      tlmm: { ...base.tlmm, parallel_vectors: 2 },
      uram: { ...base.uram, weight_buffer_urams: 2 },
      architecture: { ...base.architecture, weight_layout: 'tiled' },
      lm_head: { ...base.lm_head, placement: 'fabric' },
      numerics: { ...base.numerics, lm_head: 'ternary-shortlist', shortlist_k: 16 },
    },
    'kv260-paper, tiled with Q = 2 and a ternary-shortlist head',
  );
  // Hidden 420 (5 chunks: one beat per output row, so every norm rides in its carrier's beats);
  // 4096 words per bank hold 818 rows of 5 chunks or 408 of 10, so gate/up (840 rows), down
  // (420 rows of 10 chunks) and the head (900 rows) take two tiles each.
  ckpt = testModel({ preset: 'bitnet-tiny-packed', hidden: 420, heads: 5, kvHeads: 5, intermediate: 840, layers: 2, vocab: 900 });
  file = `${tmpDir('out')}/paper-tiled.tlm`;
  await convertCheckpoint(ckpt, file, { hw, force: true, context: CONTEXT });
});

const pool = poolsClosedAfterAll();
const load = async (f: string) => goldenWeightsFromImage(openImage(f, { hw, verifyChecksums: false }), await pool());
/** Flip bit 4 of beat `beat`'s norm slot (bits 700..715: byte 88 of the beat is byte 24 of lane 2). */
const flipSlot = (section: string, beat: number) => withSection(file, section, (b) => (b[beat * 32 + 24] = b[beat * 32 + 24]! ^ 0x01));

describe('paper beats over two row tiles', () => {
  it('the layout: gate_proj, down_proj and the ternary head in two tiles, carrying their norms', () => {
    const image = openImage(file, { hw });
    const tiles = (n: string) => image.uram.linears.find((l) => l.linear === n)!.tiles.map((t) => t.rows);
    expect([tiles('gate_proj'), tiles('down_proj'), image.uram.head!.tiles.map((t) => t.rows)]).toEqual([[420, 420], [210, 210], [450, 450]]);
    expect(image.manifest.ddr.carried_norms.filter((c) => c.layer === 0).map((c) => `${c.linear}:${c.role}@${c.norm_layer}/${c.length}`)).toEqual([
      'v_proj:attn_sub@0/420',
      'o_proj:post_attention@0/420',
      'gate_proj:ffn_sub@0/840',
      'down_proj:input@1/420',
    ]);
  });

  it('weights from the image equal the checkpoint\'s, ternary head included', async () => {
    const pi = await pool();
    const pc = await pool();
    const wi = goldenWeightsFromImage(openImage(file, { hw }), pi);
    const wc = await goldenWeightsFromCheckpoint(ckpt, pc, { contextLength: CONTEXT, ternaryHead: true });
    expectSameWeights(wc, pc, wi, pi);
    expect(wi.ternaryHead!.rows).toBe(900);
  });

  it('a norm slot of the second tile is checked against the norm weight after the first tile\'s beats', async () => {
    const norms = (await goldenWeightsFromCheckpoint(ckpt, await pool(), { contextLength: 1 })).layers[0]!.norms;
    // gate_proj's tile 1 starts at beat 420: its beat 5 carries ffn_sub weight 425.
    const f = flipSlot('weights.L0.gate_proj.t1.p2', 5);
    const want = f32ToF16Sat(norms.ffn_sub![425]!);
    await expectRefusal(() => load(f), 'E_IMAGE', `${f}: weights.L0.gate_proj tile 1 beat 5: norm slot holds 0x${(want ^ 0x10).toString(16)}, expected 0x${want.toString(16)} (ffn_sub norm of layer 0, weight 425)`, IMAGE_FIX);
  });

  it('the ternary head carries no norm: a nonzero slot in one of its two tiles is refused', async () => {
    for (const tile of [0, 1]) {
      const f = flipSlot(`weights.head.t${tile}.p2`, 3);
      await expectRefusal(() => load(f), 'E_IMAGE', `${f}: the ternary head's paper-beat norm slots must be zero (it carries no norm)`, IMAGE_FIX);
    }
  });
});
