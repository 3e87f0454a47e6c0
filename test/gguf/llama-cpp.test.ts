/**
 * `tellme export-gguf` end to end: llama.cpp (the build node-llama-cpp ships) loads the exported
 * file, reads back the metadata and tensor table we wrote, tokenizes like the checkpoint's
 * tokenizer.json, and computes logits that match the float reference (training-time semantics).
 * llama.cpp quantises activations per 256-value block (Q8_K) rather than per token, stores the
 * matrix scales as binary16 and the KV cache in binary16, so bits differ; the thresholds are
 * cosine >= 0.99 at the last position and the same greedy token wherever the float reference's
 * margin exceeds twice the largest logit difference.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { readGgufFileInfo } from 'node-llama-cpp';
import type { LlamaModel, Token } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { loadTokenizer } from '../../host/src/checkpoint/tokenizer.js';
import type { Checkpoint } from '../../host/src/checkpoint/types.js';
import { exportGguf, type ExportGgufOptions } from '../../host/src/gguf/export.js';
import { FloatReference } from '../../host/src/reference/index.js';
import { writeTestModel, type TestModelInput } from '../../host/src/testmodels/index.js';
import { llamaCpp, loadGguf, logitsAfter, newContext } from '../helpers/llama-cpp.js';
import { spmTokenizerFiles } from './spm-tokenizer.js';

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-gguf-'));
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

async function exported(name: string, model: TestModelInput, opts: ExportGgufOptions = {}): Promise<{ ckpt: Checkpoint; file: string }> {
  const dir = path.join(root, name);
  if (!fs.existsSync(dir)) writeTestModel(dir, model);
  const ckpt = openCheckpoint(dir);
  const file = path.join(root, `${name}.${opts.type ?? 'tq2_0'}.${opts.embeddingType ?? 'q8_0'}.gguf`);
  await exportGguf(ckpt, file, opts);
  return { ckpt, file };
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let x = 0;
  let y = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    x += a[i]! * a[i]!;
    y += b[i]! * b[i]!;
  }
  return d / Math.sqrt(x * y);
}

function argmax(a: ArrayLike<number>): number {
  let j = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[j]!) j = i;
  return j;
}

async function llamaLogits(model: LlamaModel, ids: readonly number[], vocab: number): Promise<Float32Array> {
  // One thread: the logits do not depend on it, and it does not wait on a busy second core.
  const ctx = await newContext(model, 64, 1);
  try {
    return await logitsAfter(ctx, ids, vocab);
  } finally {
    await ctx.dispose();
  }
}

const PROMPTS = (bos: number) => [[bos, 5, 77, 300, 12, 9], [100], [bos, 7, 7, 7], [200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211], [bos, 250, 40, 41]];
const STEPS = 8;

describe('tellme export-gguf -> llama.cpp', () => {
  it('llama.cpp reads back the metadata and the tensor table', async () => {
    const { ckpt, file } = await exported('tied', { preset: '1bitllm-tiny-tied' });
    const info = await readGgufFileInfo(file, { logWarnings: false });
    const md = info.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(info.version).toBe(3);
    expect(md['general']).toMatchObject({ architecture: 'bitnet', file_type: 37, quantization_version: 2 });
    const s = ckpt.spec;
    expect(md['bitnet']).toMatchObject({
      context_length: s.maxPositions,
      embedding_length: 256,
      block_count: 2,
      feed_forward_length: 512,
      vocab_size: 512,
      attention: { head_count: 4, head_count_kv: 4, key_length: 64, value_length: 64, layer_norm_rms_epsilon: Math.fround(1e-5) },
      rope: { dimension_count: 64, freq_base: 10000 },
    });
    const tok = md['tokenizer']!['ggml'] as Record<string, unknown>;
    expect(tok).toMatchObject({ model: 'gpt2', pre: 'gpt-2', bos_token_id: s.bosTokenId, eos_token_id: s.eosTokenIds[0], add_bos_token: true });
    expect((tok['tokens'] as string[]).length).toBe(512);
    const tensors = new Map(info.tensorInfo!.map((t) => [t.name, t]));
    expect(tensors.size).toBe(2 + 2 * 11);
    const dims = (n: string) => tensors.get(n)!.dimensions.map(Number);
    expect(dims('token_embd.weight')).toEqual([256, 512]);
    expect(tensors.get('token_embd.weight')!.ggmlType).toBe(8); // Q8_0
    expect(dims('blk.1.ffn_down.weight')).toEqual([512, 256]);
    expect(dims('blk.1.ffn_gate.weight')).toEqual([256, 512]);
    expect(tensors.get('blk.0.attn_q.weight')!.ggmlType).toBe(35); // TQ2_0
    expect(tensors.get('blk.0.ffn_sub_norm.weight')!.ggmlType).toBe(0); // F32
    expect(dims('blk.0.ffn_sub_norm.weight')).toEqual([512]);
    for (const t of tensors.values()) expect(Number(t.offset) % 32, t.name).toBe(0);
  });

  for (const variant of [
    { name: 'tied', model: { preset: '1bitllm-tiny-tied' }, opts: {} },
    { name: 'tied-gqa', model: { preset: '1bitllm-tiny-tied', kvHeads: 2 }, opts: { embeddingType: 'f16' } },
    { name: 'tied', model: { preset: '1bitllm-tiny-tied' }, opts: { embeddingType: 'q6_k' } },
  ] as const) {
    it(`${variant.name} (${variant.opts.embeddingType ?? 'q8_0'} embedding): cosine >= 0.99 with the float reference; greedy agrees where the margin is clear`, async () => {
      const { ckpt, file } = await exported(variant.name, variant.model, variant.opts);
      const model = await loadGguf(file);
      const ref = await FloatReference.fromCheckpoint(ckpt);
      const V = ckpt.spec.vocabSize;
      const rows: string[] = [];
      let clear = 0;
      let worstLast = 1;
      try {
        for (const prompt of PROMPTS(ckpt.spec.bosTokenId!)) {
          const ids = [...prompt];
          const cosines: number[] = [];
          for (let step = 0; step < STEPS; step++) {
            const fl = (await ref.forward(ids, { logits: 'last' }))[0]!;
            const ll = await llamaLogits(model, ids, V);
            cosines.push(cosine(fl, ll));
            let maxDiff = 0;
            for (let i = 0; i < V; i++) maxDiff = Math.max(maxDiff, Math.abs(fl[i]! - ll[i]!));
            const sorted = [...fl].sort((a, b) => b - a);
            if (sorted[0]! - sorted[1]! > 2 * maxDiff) {
              clear++;
              expect(argmax(ll), `prompt ${prompt.join(',')} step ${step}`).toBe(argmax(fl));
            }
            ids.push(argmax(fl));
          }
          worstLast = Math.min(worstLast, cosines[0]!);
          expect(cosines[0], `prompt ${prompt.join(',')}`).toBeGreaterThanOrEqual(0.99);
          rows.push(`${prompt.length} tokens: last-position cosine ${cosines[0]!.toFixed(6)}, along the greedy run min ${Math.min(...cosines).toFixed(6)}`);
        }
      } finally {
        ref.dispose();
        await model.dispose();
      }
      // Enough steps had a clear margin for the greedy check to mean something.
      expect(clear).toBeGreaterThanOrEqual(10);
      console.info(`[gguf ${variant.name}, ${variant.opts.embeddingType ?? 'q8_0'}] worst last-position cosine ${worstLast.toFixed(6)}; greedy steps with a clear margin: ${clear}/${STEPS * 5}, all equal\n  ${rows.join('\n  ')}`);
    });
  }

  it('TQ1_0, TQ2_0 and a tokenizer-less export give identical logits; a one-bit change to one TQ2_0 weight changes them', async () => {
    const two = await exported('tied', { preset: '1bitllm-tiny-tied' });
    const one = await exported('tied', { preset: '1bitllm-tiny-tied' }, { type: 'tq1_0' });
    const bare = await exported('tied-notok', { preset: '1bitllm-tiny-tied', tokenizer: false });
    const ids = [500, 5, 77, 300, 12, 9];
    const V = two.ckpt.spec.vocabSize;
    const logitsOf = async (file: string) => {
      const m = await loadGguf(file);
      try {
        return await llamaLogits(m, ids, V);
      } finally {
        await m.dispose();
      }
    };
    const ref = await logitsOf(two.file);
    expect(await logitsOf(one.file)).toEqual(ref);
    expect(await logitsOf(bare.file)).toEqual(ref);
    expect((await readGgufFileInfo(bare.file, { logWarnings: false })).metadata.tokenizer.ggml.tokens[300]).toBe('<|tellme_id_300|>');

    // Plant a change: in blk.0.attn_q, turn one weight's code 1 (0) into code 0 (-1).
    const info = await readGgufFileInfo(two.file, { logWarnings: false });
    const q = info.tensorInfo!.find((t) => t.name === 'blk.0.attn_q.weight')!;
    const bytes = new Uint8Array(fs.readFileSync(two.file));
    let at = Number(q.fileOffset);
    while ((bytes[at]! & 3) !== 1) at++;
    bytes[at]! ^= 1;
    const planted = path.join(root, 'planted.gguf');
    fs.writeFileSync(planted, bytes);
    const changed = await logitsOf(planted);
    expect(changed).not.toEqual(ref);
  });

  it('llama.cpp tokenizes text as the checkpoint tokenizer does', async () => {
    const { ckpt, file } = await exported('tied', { preset: '1bitllm-tiny-tied' });
    const hf = loadTokenizer(ckpt.dir)!;
    const llama = await loadGguf(file);
    try {
      for (const text of ['To be, or not to be: that is the question.', "  What's 1234 + 56?\n\nThe  quick brown fox", 'Ünïcödé and emoji 🙂 too']) {
        const ids = hf.encode(text, { addSpecialTokens: false });
        expect(llama.tokenize(text), text).toEqual(ids);
        expect(llama.detokenize(ids as Token[]), text).toBe(text);
      }
      expect(llama.tokens.bos).toBe(ckpt.spec.bosTokenId);
      expect(llama.tokens.eos).toBe(ckpt.spec.eosTokenIds[0]);
      expect(llama.tokenize('<|begin_of_text|>Hi', true)).toEqual(hf.encode('Hi'));
    } finally {
      await llama.dispose();
    }
  });

  it('a SentencePiece-style tokenizer.json (Llama-2 / 1bitLLM) becomes a llama.cpp SPM vocabulary that tokenizes the same', async () => {
    const dir = path.join(root, 'spm');
    writeTestModel(dir, { preset: '1bitllm-tiny-tied', tokenizer: false });
    const { tokenizerJson, tokenizerConfig } = spmTokenizerFiles(512);
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson));
    fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
    const configFile = path.join(dir, 'config.json');
    fs.writeFileSync(configFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(configFile, 'utf8')), bos_token_id: 1, eos_token_id: 2 }));
    const ckpt = openCheckpoint(dir);
    const file = path.join(root, 'spm.gguf');
    expect((await exportGguf(ckpt, file)).vocab).toBe('llama');
    const hf = loadTokenizer(dir)!;
    const llama = await (await llamaCpp()).loadModel({ modelPath: file, vocabOnly: true });
    try {
      for (const text of ['The board reads the weights from memory.', 'Hello  world, twice  spaced', 'zebra quartz: unseen words fall back to bytes 🙂', 'the']) {
        const ids = hf.encode(text, { addSpecialTokens: false });
        expect(llama.tokenize(text), text).toEqual(ids);
        expect(llama.detokenize(ids as Token[]), text).toBe(text);
      }
      expect(llama.tokenize('<s>The board', true)).toEqual(hf.encode('The board'));
    } finally {
      await llama.dispose();
    }
  });

  it("refuses checkpoints llama.cpp's bitnet graph cannot run, saying why", async () => {
    const cases = [
      { preset: 'bitnet-tiny-packed', why: [/ReLU²/, /hidden_size 96 is not a multiple of 256/] },
      { preset: 'hf1bitllm-tiny', why: [/no attention\/FFN sub-norms/, /separate lm_head/] },
      { preset: '1bitllm-tiny', why: [/separate lm_head/, /hidden_size 128 is not a multiple of 256/] },
    ] as const;
    for (const c of cases) {
      const dir = path.join(root, c.preset);
      writeTestModel(dir, { preset: c.preset, tokenizer: false });
      const out = path.join(root, `${c.preset}.gguf`);
      const err = await exportGguf(openCheckpoint(dir), out).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, c.preset).toMatchObject({ code: 'E_USAGE' });
      for (const w of c.why) expect((err as Error).message, c.preset).toMatch(w);
      expect((err as { fix: string }).fix).toMatch(/1bitLLM-style/);
      expect(fs.existsSync(out)).toBe(false);
    }
  });

  it('refuses to write over one of its inputs, and leaves it untouched', async () => {
    const { ckpt } = await exported('tied', { preset: '1bitllm-tiny-tied' });
    for (const victim of ['model.safetensors', 'config.json', 'tokenizer.json']) {
      const f = path.join(ckpt.dir, victim);
      const before = crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
      await expect(exportGguf(ckpt, f)).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringMatching(/is one of this command's inputs/) });
      expect(crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex')).toBe(before);
    }
    expect(fs.readdirSync(ckpt.dir).filter((n) => n.includes('partial'))).toEqual([]);
  });

  it('the CLI: --help, --json summary, and a clear error with a fix line', async () => {
    const { ckpt } = await exported('tied', { preset: '1bitllm-tiny-tied' });
    const tellme = (...args: string[]) => execa('node', ['--import', 'tsx', 'host/src/cli/run.ts', ...args], { reject: false, timeout: 120_000 });
    const help = await tellme('export-gguf', '--help');
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toMatch(/--type <type>/);
    const out = path.join(root, 'cli.gguf');
    const ok = await tellme('export-gguf', '--model', ckpt.dir, '-o', out, '--type', 'tq1_0', '--json');
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ path: out, type: 'tq1_0', embeddingType: 'q8_0', vocab: 'gpt2', tensors: 24 });
    expect(fs.statSync(out).size).toBe((JSON.parse(ok.stdout) as { bytes: number }).bytes);
    const bad = await tellme('export-gguf', '--model', ckpt.dir, '-o', path.join(ckpt.dir, 'config.json'));
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/is one of this command's inputs/);
    expect(bad.stderr).toMatch(/fix: Pass an output path outside the files the command reads/);
    const badType = await tellme('export-gguf', '--model', ckpt.dir, '-o', out, '--type', 'q4_0');
    expect(badType.exitCode).not.toBe(0);
    expect(badType.stderr).toMatch(/--type must be one of tq2_0, tq1_0/);
  });
});
