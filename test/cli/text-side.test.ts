/**
 * The tokenizer, the chat template and unused tensors (issue 11, poisoned input): convert refuses
 * a tokenizer.json that is not a tokenizer, has merges it cannot use, or ids past the model's
 * vocabulary, and a chat template that does not parse, fails or never ends (rendering is bounded);
 * a broken tokenizer never blocks --ids; tensors the config does not use are warned about, and
 * refused with --strict.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTemplateBounded } from '../../host/src/checkpoint/template-render.js';
import { tokenizerJsonProblems } from '../../host/src/checkpoint/tokenizer-check.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { ERROR_STYLE, tellmeInProcess as tellme } from './run-in-process.js';

let tmp: string;
let base: string;
let tokenizer: Record<string, unknown>;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-text-'));
  base = path.join(tmp, 'base');
  writeTestModel(base, { preset: 'bitnet-tiny-packed' });
  tokenizer = JSON.parse(fs.readFileSync(path.join(base, 'tokenizer.json'), 'utf8'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function variant(tag: string, file: string, edit: (j: Record<string, unknown>) => void): string {
  const dir = path.join(tmp, tag);
  fs.cpSync(base, dir, { recursive: true });
  const p = path.join(dir, file);
  const j = JSON.parse(fs.readFileSync(p, 'utf8'));
  edit(j);
  fs.writeFileSync(p, JSON.stringify(j));
  return dir;
}

const model = (j: Record<string, unknown>) => j['model'] as { merges: unknown[]; vocab: Record<string, number> };
const added = (j: Record<string, unknown>) => j['added_tokens'] as { id: number }[];

describe('tokenizer.json checks', () => {
  it('the test model tokenizer has no problem; broken ones are named', () => {
    expect(tokenizerJsonProblems(tokenizer)).toEqual([]);
    expect(tokenizerJsonProblems({})).toEqual(['no "model" object (the vocabulary and merges)']);
    const c = structuredClone(tokenizer);
    model(c).merges.unshift('a b c', ['zz', 'qq'], 5);
    expect(tokenizerJsonProblems(c)).toEqual([
      'model.merges[0] is "a b c", not two tokens ("a b" or ["a", "b"])',
      'model.merges[1] ["zz","qq"] uses a token that is not in model.vocab ("zz", "qq", "zzqq")',
      'model.merges[2] is 5, not two tokens ("a b" or ["a", "b"])',
    ]);
    const d = structuredClone(tokenizer);
    added(d)[0]!.id = -1;
    expect(tokenizerJsonProblems(d)[0]).toMatch(/^added_tokens\[0\] is .* not \{"id": <non-negative integer>/);
  });

  it.each([
    ['empty', (j: Record<string, unknown>) => { for (const k of Object.keys(j)) delete j[k]; }, /tokenizer\.json: not a usable tokenizer: no "model" object/],
    ['bad-merges', (j: Record<string, unknown>) => void model(j).merges.unshift('nope nada'), /tokenizer\.json: not a usable tokenizer: model\.merges\[0\]/],
    ['added-neg', (j: Record<string, unknown>) => void (added(j)[0]!.id = -1), /tokenizer\.json: not a usable tokenizer: added_tokens\[0\]/],
    ['added-big', (j: Record<string, unknown>) => void (added(j)[0]!.id = 100000), /tokenizer\.json: token ids reach 100000, but the model's vocabulary is 0\.\.511/],
    ['vocab-big', (j: Record<string, unknown>) => void (model(j).vocab['zzz'] = 4096), /tokenizer\.json: token ids reach 4096/],
  ])('%s: convert refuses it naming tokenizer.json; text prompts fail, --ids works', async (tag, edit, words) => {
    const dir = variant(tag, 'tokenizer.json', edit);
    const out = path.join(tmp, `${tag}.tlm`);
    const r = await tellme('convert', dir, '-o', out);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(ERROR_STYLE);
    expect(r.stderr).toMatch(words);
    expect(r.stderr).toContain('the image then takes --ids only');
    expect(fs.existsSync(out)).toBe(false);
    const text = await tellme('generate', dir, '--prompt', 'hi', '-n', '1', '--threads', '1');
    expect(text.exitCode).toBe(1);
    expect(text.stderr).toMatch(words);
    const ids = await tellme('generate', dir, '--ids', '1,2', '-n', '2', '--threads', '1', '--json');
    expect(ids.exitCode).toBe(0);
    expect(JSON.parse(ids.stdout).ids).toHaveLength(2);
    const insp = await tellme('inspect', dir, '--json');
    expect(insp.exitCode).toBe(0);
    expect(JSON.parse(insp.stdout).tokenizer_problem).toMatch(words);
  });
});

describe('chat templates', () => {
  const ctx = { messages: [{ role: 'user', content: 'hi' }], add_generation_prompt: true };
  const tight = { timeoutMs: 4000, maxChars: 1000, heapMb: 64 };

  it('rendering is bounded in time, memory and output size, and reports template errors', () => {
    expect(renderTemplateBounded('{% for m in messages %}{{ m.role }}: {{ m.content }}{% endfor %}', ctx, tight)).toEqual({ kind: 'ok', text: 'user: hi' });
    const t0 = Date.now();
    expect(renderTemplateBounded('{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}', ctx, tight)).toMatchObject({ kind: 'error', message: expect.stringContaining('did not finish within 4 s') });
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(renderTemplateBounded('{% for i in range(100000000) %}x{% endfor %}', ctx, tight).kind).toBe('error');
    expect(renderTemplateBounded('{% for i in range(2000) %}x{% endfor %}', ctx, tight)).toEqual({ kind: 'error', message: 'the rendered prompt has 2000 characters, more than the 1000 allowed' });
    expect(renderTemplateBounded('{{ raise_exception("no system role") }}', ctx, tight)).toEqual({ kind: 'error', message: 'no system role' });
  });

  it('convert refuses a template that does not parse or does not finish, naming tokenizer_config.json', async () => {
    for (const [tag, template, words] of [
      ['syntax', '{% for x in %}', /tokenizer_config\.json: chat_template does not parse/],
      ['loop', '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}', /tokenizer_config\.json: chat_template failed to render: rendering did not finish/],
    ] as const) {
      const dir = variant(`tpl-${tag}`, 'tokenizer_config.json', (j) => void (j['chat_template'] = template));
      const r = await tellme('convert', dir, '-o', path.join(tmp, `tpl-${tag}.tlm`));
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toMatch(ERROR_STYLE);
      expect(r.stderr).toMatch(words);
      expect((await tellme('generate', dir, '--ids', '1', '-n', '1', '--threads', '1')).exitCode).toBe(0);
    }
  }, 60_000);
});

describe('tensors the config does not use', () => {
  it('a 2-layer checkpoint with num_hidden_layers 1: a warning, or refused with --strict', async () => {
    const dir = variant('unused', 'config.json', (j) => void (j['num_hidden_layers'] = 1));
    const ok = await tellme('convert', dir, '-o', path.join(tmp, 'unused.tlm'), '--json');
    expect(ok.exitCode).toBe(0);
    expect(ok.stderr).toMatch(/^tellme: warning: 18 tensor\(s\) of .* are not used by its config\.json: model\.layers\.1\./);
    const strict = await tellme('convert', dir, '-o', path.join(tmp, 'unused-strict.tlm'), '--strict');
    expect(strict.exitCode).toBe(1);
    expect(strict.stderr).toMatch(ERROR_STYLE);
    expect(strict.stderr).toContain('not used by its config.json');
    expect(fs.existsSync(path.join(tmp, 'unused-strict.tlm'))).toBe(false);
    expect((await tellme('convert', base, '-o', path.join(tmp, 'clean.tlm'), '--strict', '--json')).stderr).toBe('');
  });
});
