import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { register, runPlan, type PlanCommandOptions } from '../../host/src/cli/commands/plan.js';
import { TellmeError } from '../../host/src/errors.js';
import { BUILTIN_SHAPES, specFromConfigJson } from '../../host/src/plan/shapes.js';

const tmpDirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-plan-'));
  tmpDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

function run(opts: Partial<PlanCommandOptions>): { out: string; error: TellmeError | null } {
  let out = '';
  try {
    runPlan({ board: 'kv260', ...opts }, (s) => (out += s));
    return { out, error: null };
  } catch (e) {
    if (!(e instanceof TellmeError)) throw e;
    return { out, error: e };
  }
}

const CONFIG_2B4T = {
  architectures: ['BitNetForCausalLM'],
  model_type: 'bitnet',
  hidden_size: 2560,
  intermediate_size: 6912,
  num_hidden_layers: 30,
  num_attention_heads: 20,
  num_key_value_heads: 5,
  hidden_act: 'relu2',
  max_position_embeddings: 4096,
  rms_norm_eps: 1e-5,
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  vocab_size: 128256,
  bos_token_id: 128000,
  eos_token_id: 128001,
  quantization_config: { quant_method: 'bitnet', linear_class: 'autobitlinear', quantization_mode: 'offline' },
};

describe('tellme plan', () => {
  it('--json prints one object with the contract fields', () => {
    const { out, error } = run({ shape: 'bitnet-large', json: true });
    expect(error).toBeNull();
    const j = JSON.parse(out) as Record<string, unknown>;
    expect(j['fits']).toBe(true);
    expect(typeof j['decode_tokens_per_s']).toBe('number');
    expect(Object.keys(j['ttft_s'] as object)).toEqual(['64', '128', '512']);
    for (const v of Object.values(j['ttft_s'] as Record<string, number>)) expect(v).toBeGreaterThan(0);
    // 32 weight buffer + 2 int8 attention score buffer + 8 norm vectors (two, on chip in prefill too).
    expect(j['uram_used']).toBe(42);
    expect(j['uram_total']).toBe(64);
    expect(j['board']).toBe('kv260');
    expect(j['hw_hash']).toMatch(/^[0-9a-f]{64}$/);
    const lb = j['layer_breakdown'] as { decode: { step: string }[] };
    expect(lb.decode.map((r) => r.step)).toContain('attention');
    // Multi-token verification: the rate assumed (measured on the demo model, 4 drafts) and the projection.
    expect(j['accepted_tokens_per_pass']).toBe(2.63);
    expect(j['accepted_tokens_per_pass_source']).toMatch(/^measured/);
    expect(j['draft_tokens']).toBe(4);
    expect(typeof j['decode_tokens_per_s_multi_token']).toBe('number');
    expect(j['clock_mhz']).toBeGreaterThan(0);
  });

  it('--accepted-per-pass and --set change the projection; bad values are usage errors', () => {
    const a = JSON.parse(run({ shape: 'bitnet-large', json: true, acceptedPerPass: '2', set: ['numerics.kv_format=fp16'] }).out);
    expect(a.accepted_tokens_per_pass).toBe(2);
    expect(a.numerics.kv_format).toBe('fp16');
    expect(run({ shape: 'bitnet-large', acceptedPerPass: '0.5' }).error?.code).toBe('E_USAGE');
    expect(run({ shape: 'bitnet-large', acceptedPerPass: '7' }).error?.message).toMatch(/outside \[1, 5\]/);
    expect(run({ shape: 'bitnet-large', draftTokens: 'x' }).error?.code).toBe('E_USAGE');
    expect(run({ shape: 'bitnet-large', set: ['memory.weight_portz=3'] }).error?.code).toBe('E_HWCONFIG');
  });

  it('text report says FITS and shows the per-layer table', () => {
    const { out } = run({ shape: 'bitnet-2b4t' });
    expect(out).toMatch(/^FITS$/m);
    expect(out).toMatch(/Decode at context 128: [\d.]+ tokens\/s/);
    expect(out).toMatch(/gate_proj\s+7\s/);
  });

  it('a model over the maxima: report printed, E_FIT names the dimension and the excess', () => {
    const { out, error } = run({ shape: 'bitnet-2b4t', board: 'kv260-paper', json: true });
    expect(JSON.parse(out)['fits']).toBe(false);
    expect(error?.code).toBe('E_FIT');
    expect(error?.message).toContain('hidden_size 2560 exceeds the synthesised maximum 1536 of kv260-paper by 1024');
  });

  it('unknown board lists the known boards', () => {
    const { error } = run({ shape: 'bitnet-large', board: 'kv270' });
    expect(error?.code).toBe('E_HWCONFIG');
    expect(error?.message).toMatch(/known boards: .*kv260.*kv260-paper/);
  });

  it('usage errors', () => {
    expect(run({}).error?.code).toBe('E_USAGE');
    expect(run({ shape: 'bitnet-large', model: 'x' }).error?.code).toBe('E_USAGE');
    expect(run({ shape: 'bitnet-9b' }).error?.message).toContain(Object.keys(BUILTIN_SHAPES).join(', '));
    expect(run({ shape: 'bitnet-large', kvLength: 'lots' }).error?.message).toContain('--kv-length "lots" is not a positive integer');
    expect(run({ model: '/nonexistent/dir' }).error?.code).toBe('E_NOT_FOUND');
  });

  it('a directory holding only config.json is enough; so is the file', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(CONFIG_2B4T));
    const a = run({ model: dir, json: true });
    const b = run({ model: path.join(dir, 'config.json'), json: true });
    const c = run({ shape: 'bitnet-2b4t', json: true });
    expect(a.error).toBeNull();
    const ja = JSON.parse(a.out);
    expect(ja.model.num_key_value_heads).toBe(5);
    expect(ja.model.head_dim).toBe(128);
    expect(ja.decode_tokens_per_s).toBe(JSON.parse(b.out).decode_tokens_per_s);
    expect(ja.decode_tokens_per_s).toBe(JSON.parse(c.out).decode_tokens_per_s);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ foo: 1 }));
    expect(run({ model: dir }).error?.code).toBe('E_CONFIG');
  });

  it('specFromConfigJson reads the shapes through the checkpoint parser', () => {
    const s = specFromConfigJson(CONFIG_2B4T);
    expect([s.family, s.hiddenSize, s.intermediateSize, s.numLayers, s.numHeads, s.numKvHeads, s.headDim, s.vocabSize, s.activation, s.tiedEmbeddings, s.weightStorage]).toEqual([
      'bitnet', 2560, 6912, 30, 20, 5, 128, 128256, 'relu2', true, 'packed',
    ]);
    const b2 = BUILTIN_SHAPES['bitnet-2b4t']!;
    expect([b2.hiddenSize, b2.intermediateSize, b2.numLayers, b2.numHeads, b2.numKvHeads, b2.headDim, b2.vocabSize]).toEqual([2560, 6912, 30, 20, 5, 128, 128256]);
  });

  it('--html writes a self-contained report with the URAM map and latency charts', () => {
    const file = path.join(tmpDir(), 'report.html');
    const { error } = run({ shape: 'bitnet-large', board: 'zcu104', html: file });
    expect(error).toBeNull();
    const html = fs.readFileSync(file, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(4);
    expect(html).toContain('aria-label="URAM map"');
    expect(html).toContain('gate_proj tile 1');
    expect(html).toContain('fitted (remainder of the paper totals)');
    expect(html).not.toContain('before/after');
    expect(html).not.toMatch(/<script|<link|\bsrc=|\bhref=|@import|url\(/);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')).not.toMatch(/https?:\/\//);
  });

  it('--html on kv260 adds the before/after tables of every change for the model', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...CONFIG_2B4T, hidden_size: 256, intermediate_size: 512, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 1000 }));
    const file = path.join(dir, 'report.html');
    expect(run({ model: dir, html: file }).error).toBeNull();
    const html = fs.readFileSync(file, 'utf8');
    expect(html).toContain('before/after of each change');
    expect(html).toContain('The final build without one change');
    expect(html).toContain('without int8 LM head on the fabric');
    expect(html).not.toContain('From the paper build'); // this model is not the paper's shape
  });

  it('registers a "plan" command', () => {
    const program = new Command();
    register(program);
    const cmd = program.commands.find((c) => c.name() === 'plan')!;
    expect(cmd).toBeDefined();
    const flags = cmd.options.map((o) => o.long);
    for (const f of ['--model', '--shape', '--board', '--json', '--html', '--kv-length', '--prompts', '--set', '--draft-tokens', '--accepted-per-pass']) expect(flags).toContain(f);
  });
});
