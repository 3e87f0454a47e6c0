/**
 * Writer/reader round trips: the header codec, the sections' contents against independent
 * computations from the checkpoint (reference packer, scalar conversions), the manifest's
 * records, determinism, the tokenizer, options (context, force) and a property test over random
 * model shapes. Every image is written into a fresh temp dir.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../host/src/checkpoint/tokenizer.js';
import { GoldenModel } from '../../host/src/golden/model.js';
import { permuteRopeRows, ropeTable } from '../../host/src/numerics/rope.js';
import { quantizeHead } from '../../host/src/golden/weights.js';
import { decodeImageLinear } from '../../host/src/golden/weights-image.js';
import { loadHwConfig } from '../../host/src/hwconfig/index.js';
import {
  convertCheckpoint,
  decodeHeader,
  encodeHeader,
  f32Hex,
  imageTokenizer,
  isModelImage,
  openImage,
  SECTION_ALIGNMENT,
  type ImageManifest,
} from '../../host/src/image/index.js';
import { packWeights, splitLanes, tilePackLayout } from '../../host/src/layout/index.js';
import { LINEAR_NAMES, type LinearName } from '../../host/src/model/spec.js';
import { bf16Flushed, f32ToBf16, f32ToF16Sat } from '../../host/src/numerics/f16.js';
import { ftz32 } from '../../host/src/numerics/f32.js';
import { encodeTernary, paddedGroups } from '../../host/src/tlmm/encoding.js';
import { convert, expectTellme, testModel, tmpDir } from './helpers.js';

/** A shape whose paper-packed streams have at least as many beats as the norm they carry. */
export const PAPER_CARRIED = { hidden: 420, heads: 5, kvHeads: 5, intermediate: 840, layers: 2, vocab: 300 } as const;

const bytesOf = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

describe('header', () => {
  it('round-trips any offsets and lengths', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 1, max: 2 ** 30 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (k, len, sha) => {
        const manifestOffset = k * SECTION_ALIGNMENT;
        const h = encodeHeader({ manifestOffset, manifestLength: len, manifestSha256: Buffer.from(sha).toString('hex'), fileLength: manifestOffset + len });
        expect(h.length).toBe(128);
        const d = decodeHeader(h, manifestOffset + len, 'x');
        expect(d).toEqual({ version: 2, headerBytes: 128, manifestOffset, manifestLength: len, manifestSha256: Buffer.from(sha).toString('hex'), fileLength: manifestOffset + len, alignment: 4096 });
      }),
    );
  });
});

describe('sections hold exactly what the hardware reads', () => {
  for (const board of ['kv260', 'kv260-paper'] as const) {
    it(`${board}: weights, norms, RoPE, embedding and LM head against independent computations`, async () => {
      // 1bitLLM semantics (untied, SiLU, MHA, float32 norms that binary16 cannot hold exactly), wide
      // enough (hidden 420 = 5 index vectors) that the paper beats carry the norms that follow.
      const ckpt = testModel({ preset: '1bitllm-tiny', ...PAPER_CARRIED });
      const hw = loadHwConfig(board);
      const { path: file, manifest } = await convert(ckpt, board, { context: 24 });
      expect(isModelImage(file)).toBe(true);
      expect(isModelImage(ckpt.dir)).toBe(false);
      const image = openImage(file, { hw: board });
      const spec = ckpt.spec;
      // Weights: the reference packer over the reference encoder of the loader's ternaries.
      const beatBytes = hw.derived.beatBytes;
      const P = hw.config.memory.weight_ports;
      for (let l = 0; l < spec.numLayers; l++) {
        for (const lp of image.uram.linears) {
          const m = ckpt.linear(l, lp.linear);
          const values = lp.linear === 'q_proj' || lp.linear === 'k_proj' ? permuteRopeRows(m.values, m.rows, m.cols, spec.headDim) : m.values;
          const enc = encodeTernary(values, m.rows, m.cols, hw.derived.tables);
          const carried = manifest.ddr.carried_norms.find((c) => c.layer === l && c.linear === lp.linear);
          let start = 0;
          for (const tile of lp.tiles) {
            const layout = tilePackLayout(tile, hw);
            let norms: { bits: Uint16Array; start: number } | undefined;
            if (carried) {
              const w = carried.role === 'final' ? ckpt.finalNorm() : ckpt.layerNorm(carried.norm_layer, carried.role)!;
              norms = { bits: Uint16Array.from(w, (x) => f32ToF16Sat(ftz32(x))), start };
            }
            const stream = packWeights(enc, layout, norms);
            start += stream.length / beatBytes;
            const lanes = splitLanes(stream, beatBytes, P);
            for (let p = 0; p < P; p++) expect(bytesOf(image.readSection(`weights.L${l}.${lp.linear}.t${tile.tile}.p${p}`)).equals(bytesOf(lanes[p]!))).toBe(true);
          }
          const rec = manifest.matrices.find((x) => x.layer === l && x.linear === lp.linear)!;
          expect(rec.scale).toBe(ftz32(m.scale));
          expect(rec.scale_bits).toBe(f32Hex(m.scale));
        }
      }
      // Norms: binary32 regions (kv260) or binary16 regions + binary32 host copies (paper).
      for (let l = 0; l < spec.numLayers; l++) {
        for (const role of ['input', 'post_attention', 'attn_sub', 'ffn_sub'] as const) {
          const w = Float32Array.from(ckpt.layerNorm(l, role)!, ftz32);
          const region = `norms.L${l}.${role}`;
          if (board === 'kv260') expect(bytesOf(image.readSection(region)).equals(bytesOf(w))).toBe(true);
          else {
            expect(bytesOf(image.readSection(`host.norms.L${l}.${role}`)).equals(bytesOf(w))).toBe(true);
            if (image.has(region)) expect(bytesOf(image.readSection(region)).equals(bytesOf(Uint16Array.from(w, f32ToF16Sat)))).toBe(true);
          }
        }
      }
      if (board === 'kv260-paper') {
        expect(manifest.numerics.fp16_norms!.inexact).toBeGreaterThan(0); // float32 norms in [0.8, 1.2]
        // Everything but layer 0's input norm rides in the beats of the linear before it.
        expect(manifest.ddr.carried_norms.map((c) => `${c.layer}.${c.linear}:${c.role}@${c.norm_layer}`)).toEqual([
          '0.v_proj:attn_sub@0', '0.o_proj:post_attention@0', '0.gate_proj:ffn_sub@0', '0.down_proj:input@1',
          '1.v_proj:attn_sub@1', '1.o_proj:post_attention@1', '1.gate_proj:ffn_sub@1', '1.down_proj:final@1',
        ]);
        expect(manifest.sections.filter((x) => x.kind === 'norms').map((x) => x.name)).toEqual(['norms.L0.input']);
      } else expect(manifest.numerics.fp16_norms).toBeNull();
      expect(bytesOf(image.readSection('rope')).equals(bytesOf(ropeTable(spec.headDim, spec.ropeTheta, 24)))).toBe(true);
      const emb = ckpt.embedding();
      expect(bytesOf(image.readSection('embedding')).equals(bytesOf(Uint16Array.from(emb.data, (x) => bf16Flushed(f32ToBf16(x)))))).toBe(true);
      const pool = await GoldenModel.createPool(1);
      try {
        const head = ckpt.lmHead();
        const q = quantizeHead(pool, head.data, head.rows, head.cols);
        const rows = pool.arena.u8(q.off, q.rows * q.stride);
        const want = new Uint8Array(head.rows * head.cols);
        for (let r = 0; r < head.rows; r++) want.set(rows.subarray(r * q.stride, r * q.stride + head.cols), r * head.cols);
        expect(bytesOf(image.readSection('lm_head.weight')).equals(bytesOf(want))).toBe(true);
        expect(bytesOf(image.readSection('lm_head.scale')).equals(bytesOf(q.rowAmax))).toBe(true);
      } finally {
        await pool.close();
      }
    });
  }
});

describe('manifest', () => {
  it('records the model, hardware, plan, numerics bounds and tokenizer; sections are aligned and disjoint', async () => {
    const ckpt = testModel({ preset: 'bitnet-tiny-packed' });
    const hw = loadHwConfig('kv260');
    const { manifest: m, fileBytes, path: file } = await convert(ckpt, 'kv260', { force: false });
    expect(fs.statSync(file).size).toBe(fileBytes);
    expect(m.format).toBe('tellme-image');
    expect(m.format_version).toBe(2);
    expect(m.spec.rmsNormEps).toBe(1e-5);
    expect(m.numerics.rms_norm_eps_bits).toBe('0x3727c5ac'); // binary32 of 1e-5 (numerics.md §4.1 gives the same bits for FLOOR)
    expect(m.spec).toEqual(ckpt.spec);
    expect(m.hardware).toEqual({ name: 'kv260', hash: hw.hash, config: hw.config });
    expect(m.fit).toEqual({ fits: true, problems: [] });
    expect(m.context).toBe(Math.min(ckpt.spec.maxPositions, hw.config.maxima.context));
    expect(m.source.path).toBe(ckpt.dir);
    expect(m.source.files.map((f) => f.name)).toEqual(['model.safetensors']);
    let end = 0;
    for (const s of [...m.sections].sort((a, b) => a.offset - b.offset)) {
      expect(s.offset % 4096).toBe(0);
      expect(s.offset).toBeGreaterThanOrEqual(Math.max(end, 4096));
      expect(s.sha256).toMatch(/^[0-9a-f]{64}$/);
      end = s.offset + s.size;
    }
    const dataRegions = m.ddr.regions.filter((r) => r.in_image);
    expect(dataRegions.map((r) => r.name).sort()).toEqual(m.sections.filter((s) => s.ddr_offset !== null).map((s) => s.name).sort());
    expect(m.ddr.regions.some((r) => r.name === 'kv.k' && !r.in_image)).toBe(true);
    expect(m.matrices.length).toBe(ckpt.spec.numLayers * LINEAR_NAMES.length);
    for (const x of m.matrices) expect(x.scale_bits).toBe(f32Hex(x.scale));
    expect(m.numerics.layers.length).toBe(ckpt.spec.numLayers);
    expect(m.numerics.worst.log2).toBeLessThan(127);
    expect(m.numerics.worst.bound).toBeGreaterThan(0);
    expect(m.numerics.layers[1]!.residual).toBeGreaterThan(m.numerics.layers[0]!.residual);
    expect(m.numerics.layers[0]!.gate_activation).toBeCloseTo(m.numerics.layers[0]!.gate_out ** 2 * m.numerics.layers[0]!.up_out, -5);
    expect(m.tokenizer.tokenizer_json).toBe('host.tokenizer.json');
    expect(m.tokenizer.chat_template).toContain('{%');
    expect(m.uram.linears.map((l) => l.linear)).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'up_proj', 'gate_proj', 'down_proj']);
  });

  it('is deterministic: the same checkpoint converts to the same bytes, whatever the chunk size', async () => {
    const ckpt = testModel({ preset: 'hf1bitllm-tiny' });
    const a = await convert(ckpt, 'kv260');
    const b = await convert(ckpt, 'kv260');
    expect(fs.readFileSync(a.path).equals(fs.readFileSync(b.path))).toBe(true);
    // The embedding / head chunking (bounded memory) does not change a byte either.
    const c = path.join(tmpDir('chunks'), 'c.tlm');
    await convertCheckpoint(ckpt, c, { hw: loadHwConfig('kv260'), chunkRows: 7 });
    expect(fs.readFileSync(c).equals(fs.readFileSync(a.path))).toBe(true);
  });

  it('carries the tokenizer: same ids, text and chat template as the checkpoint directory', async () => {
    const ckpt = testModel({ preset: 'bitnet-tiny-packed' });
    const image = openImage((await convert(ckpt, 'kv260')).path);
    const a = imageTokenizer(image)!;
    const b = loadTokenizer(ckpt.dir)!;
    const text = 'ROMEO: But soft, what light through yonder window breaks?';
    expect(a.encode(text)).toEqual(b.encode(text));
    expect(a.decode(a.encode(text))).toBe(b.decode(b.encode(text)));
    const msgs = [{ role: 'user', content: 'hello' }];
    expect(a.applyChatTemplate(msgs, { addGenerationPrompt: true })).toBe(b.applyChatTemplate(msgs, { addGenerationPrompt: true }));
    expect([a.bosTokenId, a.eosTokenIds, a.vocabSize]).toEqual([b.bosTokenId, b.eosTokenIds, b.vocabSize]);
  });
});

describe('options and refusals', () => {
  it('refuses a model that does not fit the board unless forced, and records the problems', async () => {
    const ckpt = testModel({ preset: 'bitnet-tiny-packed' });
    await expectTellme(() => convert(ckpt, 'kv260-paper', { force: false }), 'E_FIT', 'does not fit kv260-paper', 'hidden_size 96 differs from the 1536');
    const { manifest } = await convert(ckpt, 'kv260-paper', { force: true });
    expect(manifest.fit.fits).toBe(false);
    expect(manifest.fit.problems.join('\n')).toContain('SiLU only');
    await expectTellme(() => convert(ckpt, 'kv260', { context: 100000 }), 'E_USAGE', '--context');
  });

  it('refuses (E_NUMERICS) a model whose worst case reaches 2^127, and leaves no file behind', async () => {
    const ckpt = testModel({ preset: 'bitnet-tiny-packed', normSpread: 0 });
    // Scale layer 1's FFN sub-norm up: relu2 cubes the gate path before it, the sub-norm feeds down_proj.
    const big = testModel({ preset: 'bitnet-tiny-packed', normSpread: 0 });
    const { rewriteSafetensors } = await import('../checkpoint/helpers.js');
    rewriteSafetensors(path.join(big.dir, 'model.safetensors'), (tensors) => {
      const t = tensors.find((x) => x.name === 'model.layers.1.mlp.ffn_sub_norm.weight')!;
      const v = new Uint16Array((t.data as Uint8Array).slice().buffer);
      v[5] = 0x7f00; // bf16 1.7e38
      t.data = new Uint8Array(v.buffer);
    });
    const { openCheckpoint } = await import('../../host/src/checkpoint/open.js');
    const dir = tmpDir('numerics');
    const out = path.join(dir, 'big.tlm');
    await expectTellme(() => convertCheckpoint(openCheckpoint(big.dir), out, { hw: loadHwConfig('kv260') }), 'E_NUMERICS', 'layer 1 down_proj output', 'reaches 2^127');
    expect(fs.readdirSync(dir)).toEqual([]);
    // The unmodified model converts, with its bound recorded.
    const ok = await convert(ckpt, 'kv260');
    expect(ok.manifest.numerics.worst.log2).toBeLessThan(60);
  });

  it('--context sets the RoPE table and KV map; the golden model can use fewer positions', async () => {
    const ckpt = testModel({ preset: 'hf1bitllm-tiny' });
    const { path: file, manifest } = await convert(ckpt, 'kv260', { context: 17 });
    expect(manifest.context).toBe(17);
    expect(manifest.sections.find((s) => s.name === 'rope')!.size).toBe(17 * ckpt.spec.headDim * 4);
    const kv = manifest.ddr.regions.find((r) => r.name === 'kv.k')!;
    expect(kv.shape).toEqual([ckpt.spec.numLayers, 17, ckpt.spec.numKvHeads * ckpt.spec.headDim]);
    const { loadGoldenFromImage } = await import('../../host/src/golden/weights-image.js');
    await expectTellme(() => loadGoldenFromImage(file, { threads: 1, contextLength: 18 }), 'E_USAGE', "outside the image's 1..17 positions");
  });
});

describe('property: random model shapes round-trip through the image', () => {
  it('every linear decodes (reference decoder) to the encoding of the checkpoint ternaries', async () => {
    const shapes = fc.sample(
      fc.record({
        heads: fc.integer({ min: 1, max: 4 }),
        kvDiv: fc.constantFrom(1, 2),
        headDim: fc.constantFrom(4, 8, 14),
        intermediate: fc.integer({ min: 5, max: 130 }),
        vocab: fc.integer({ min: 32, max: 90 }),
        layers: fc.integer({ min: 1, max: 2 }),
        family: fc.constantFrom('bitnet' as const, 'hf1bitllm' as const),
        tied: fc.boolean(),
        seed: fc.integer({ min: 1, max: 1000 }),
        board: fc.constantFrom('kv260', 'kv260-paper', 'zcu104'),
      }),
      { numRuns: 8, seed: 20250101 },
    );
    for (const s of shapes) {
      const heads = s.heads * s.kvDiv;
      const ckpt = testModel({
        preset: s.family === 'bitnet' ? 'bitnet-tiny-packed' : 'hf1bitllm-tiny',
        heads,
        kvHeads: s.heads,
        headDim: s.headDim,
        hidden: heads * s.headDim + 1,
        intermediate: s.intermediate,
        vocab: s.vocab,
        layers: s.layers,
        tied: s.family === 'bitnet' ? true : s.tied,
        successor: s.family === 'bitnet' || s.tied ? 0 : 0.5,
        seed: s.seed,
        tokenizer: false,
      });
      const { path: file } = await convert(ckpt, s.board);
      const image = openImage(file, { hw: s.board });
      for (let l = 0; l < ckpt.spec.numLayers; l++) {
        for (const name of LINEAR_NAMES as readonly LinearName[]) {
          const m = ckpt.linear(l, name);
          const values = name === 'q_proj' || name === 'k_proj' ? permuteRopeRows(m.values, m.rows, m.cols, ckpt.spec.headDim) : m.values;
          const want = encodeTernary(values, m.rows, m.cols, 1);
          const got = decodeImageLinear(image, l, name, (role, layer) => {
            const w = role === 'final' ? ckpt.finalNorm() : ckpt.layerNorm(layer, role)!;
            return Float32Array.from(w, ftz32);
          });
          expect(got.groups).toBe(paddedGroups(m.cols, 1));
          expect(Buffer.from(got.indices).equals(Buffer.from(want.indices)), `${JSON.stringify(s)} layer ${l} ${name}`).toBe(true);
        }
      }
    }
  });
});

export type { ImageManifest };
