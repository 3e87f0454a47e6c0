import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '@huggingface/tokenizers';
import { loadTokenizer, openCheckpoint } from '../../host/src/checkpoint/index.js';
import { buildTokenizer, writeTestModel } from '../../host/src/testmodels/index.js';
import { editJson, expectTellme, tmpDir } from './helpers.js';

function model(extra = {}) {
  const dir = tmpDir('tok');
  const r = writeTestModel(dir, { preset: 'bitnet-tiny-packed', ...extra });
  return { dir, ids: r.ids, vocab: r.options.vocab };
}

describe('loadTokenizer', () => {
  const { dir, ids, vocab } = model();
  const tok = loadTokenizer(dir)!;

  it('round-trips text, including bytes the sample never saw', () => {
    for (const text of [
      'The quick brown fox jumps over the lazy dog.',
      "  leading spaces, tabs\tand\nnewlines\n\n",
      "It's 2024: what's new?",
      'Grüße, naïve café — 東京 🚀',
      '',
    ]) {
      const enc = tok.encode(text, { addSpecialTokens: false });
      expect(tok.decode(enc)).toBe(text);
      expect(enc.every((id) => Number.isInteger(id) && id >= 0 && id < vocab)).toBe(true);
    }
  });

  it('uses learned merges: frequent sample words are single tokens', () => {
    expect(tok.encode(' the', { addSpecialTokens: false })).toHaveLength(1);
    expect(tok.encode(' board', { addSpecialTokens: false }).length).toBeLessThan(' board'.length);
  });

  it('adds <|begin_of_text|> with special tokens and skips specials on request', () => {
    const withBos = tok.encode('Hello', { addSpecialTokens: true });
    expect(withBos[0]).toBe(ids.bos);
    expect(tok.encode('Hello')).toEqual(withBos); // HF default: add special tokens
    expect(tok.decode(withBos)).toBe('<|begin_of_text|>Hello');
    expect(tok.decode(withBos, { skipSpecialTokens: true })).toBe('Hello');
    expect(tok.decode([ids.eot])).toBe('<|eot_id|>');
  });

  it('renders the chat template (2B-4T format)', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: '  What is your favourite food? ' },
    ];
    expect(tok.applyChatTemplate(messages, { addGenerationPrompt: true })).toBe(
      '<|begin_of_text|>System: Be brief.<|eot_id|>User: What is your favourite food?<|eot_id|>Assistant: ',
    );
    expect(tok.applyChatTemplate(messages)).toBe('<|begin_of_text|>System: Be brief.<|eot_id|>User: What is your favourite food?<|eot_id|>');
    // The rendered prompt tokenises with the specials as single ids.
    const enc = tok.encode(tok.applyChatTemplate(messages, { addGenerationPrompt: true })!, { addSpecialTokens: false });
    expect(enc[0]).toBe(ids.bos);
    expect(enc.filter((x) => x === ids.eot)).toHaveLength(2);
  });

  it('gathers bos and stop ids from config, generation_config and tokenizer_config', () => {
    expect(tok.bosTokenId).toBe(ids.bos);
    expect(tok.eosTokenIds).toEqual([ids.eos, ids.eot]);
    expect(tok.vocabSize).toBe(vocab);
    expect(openCheckpoint(dir).spec.eosTokenIds).toEqual([ids.eos, ids.eot]);
  });

  it('is loadable by @huggingface/tokenizers directly, with ids inside the vocabulary', () => {
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));
    const t = new Tokenizer(json, cfg);
    const vocabMap = t.get_vocab(true);
    expect(vocabMap.size).toBe(vocab); // no holes: every id names a token
    expect(Math.max(...vocabMap.values())).toBe(vocab - 1);
    expect(t.token_to_id('<|eot_id|>')).toBe(ids.eot);
  });
});

describe('loadTokenizer edge cases', () => {
  it('returns null without tokenizer.json (raw ids still work)', () => {
    const { dir } = model({ tokenizer: false });
    expect(loadTokenizer(dir)).toBeNull();
    expect(openCheckpoint(dir).spec.eosTokenIds.length).toBeGreaterThan(0);
  });

  it('reads a list-form chat_template and falls back to chat_template.jinja', () => {
    const { dir } = model();
    const cfg = path.join(dir, 'tokenizer_config.json');
    editJson(cfg, (c) => {
      c['chat_template'] = [{ name: 'tool_use', template: 'TOOLS' }, { name: 'default', template: 'D:{{ messages[0].content }}' }];
    });
    expect(loadTokenizer(dir)!.applyChatTemplate([{ role: 'user', content: 'x' }])).toBe('D:x');
    editJson(cfg, (c) => {
      delete c['chat_template'];
    });
    expect(loadTokenizer(dir)!.applyChatTemplate([{ role: 'user', content: 'x' }])).toBeNull();
    fs.writeFileSync(path.join(dir, 'chat_template.jinja'), '[{{ messages[0].role }}]');
    expect(loadTokenizer(dir)!.applyChatTemplate([{ role: 'user', content: 'x' }])).toBe('[user]');
  });

  it('reports a broken tokenizer.json and a template that does not parse', () => {
    const { dir } = model();
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), '{"model": ');
    expectTellme(() => loadTokenizer(dir), 'E_TOKENIZER', 'tokenizer.json', 'invalid JSON');
    const b = model();
    editJson(path.join(b.dir, 'tokenizer_config.json'), (c) => {
      c['chat_template'] = '{% for m in messages %}';
    });
    expectTellme(() => loadTokenizer(b.dir), 'E_TOKENIZER', 'tokenizer_config.json', 'chat_template');
  });

  it('buildTokenizer refuses a vocabulary too small for bytes + specials', () => {
    expectTellme(() => buildTokenizer(200, 64), 'E_USAGE', 'at least 272');
  });

  it('fills ids the sample cannot learn with reserved specials (large vocabularies)', () => {
    const t = buildTokenizer(4096, 64);
    const added = t.tokenizerJson['added_tokens'] as { id: number }[];
    const model = (t.tokenizerJson['model'] as { vocab: Record<string, number> }).vocab;
    const all = new Set([...added.map((a) => a.id), ...Object.values(model)]);
    expect(all.size).toBe(4096);
    expect(Math.max(...all)).toBe(4095);
  });
});
