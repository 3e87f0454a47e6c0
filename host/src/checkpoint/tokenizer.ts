/**
 * The text side of a checkpoint: tokenizer.json through @huggingface/tokenizers, the chat
 * template through @huggingface/jinja, and the bos / stop-token ids gathered from config.json,
 * generation_config.json and tokenizer_config.json (2B-4T's <|eot_id|> 128009 ends a chat turn
 * and must stop generation, although config.json names only 128001).
 */

import * as path from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { TellmeError } from '../errors.js';
import { MAX_TEXT_BYTES, readInputText } from '../files/input.js';
import { readJsonObject } from './json-file.js';
import { renderTemplateBounded } from './template-render.js';
import { tokenizerJsonProblems } from './tokenizer-check.js';
import { resolveSpecialTokens, tokenIdLookup, tokenString } from './special-tokens.js';
import type { TokenizerBundle } from './types.js';

/** Special-token strings the chat templates of HF models refer to by name. */
const TEMPLATE_TOKENS = ['bos_token', 'eos_token', 'pad_token', 'unk_token'] as const;

/**
 * tokenizer_config's chat_template: a string, or a list of named templates (use "default"), else
 * chat_template.jinja next to it. The converter embeds what this returns, so both read it alike.
 */
export function chatTemplateSource(dir: string, tokConfig: Record<string, unknown>, file: string): string | null {
  const t = tokConfig['chat_template'];
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t.find((x) => x && x.name === 'default') ?? t[0];
    if (named && typeof named.template === 'string') return named.template;
    throw new TellmeError('E_TOKENIZER', `${file}: chat_template is a list without a usable "default" template`, `Fix chat_template in ${file}.`);
  }
  if (t !== undefined && t !== null) throw new TellmeError('E_TOKENIZER', `${file}: chat_template is neither a string nor a list of templates`, `Fix chat_template in ${file}.`);
  // Newer transformers versions save the template next to the config instead.
  const jinja = path.join(dir, 'chat_template.jinja');
  return readChatTemplateFile(jinja);
}

/** chat_template.jinja, when present: a regular file of bounded size. */
function readChatTemplateFile(file: string): string | null {
  return readInputText(file, { what: 'a chat template', limit: MAX_TEXT_BYTES, code: 'E_TOKENIZER', optional: true });
}

export function loadTokenizer(dirArg: string): TokenizerBundle | null {
  const dir = path.resolve(dirArg);
  const tokenizerFile = path.join(dir, 'tokenizer.json');
  const tokenizerJson = readJsonObject(tokenizerFile, 'E_TOKENIZER');
  if (!tokenizerJson) return null;
  const tokConfigFile = path.join(dir, 'tokenizer_config.json');
  const tokConfig = readJsonObject(tokConfigFile, 'E_TOKENIZER') ?? {};

  const configFile = path.join(dir, 'config.json');
  const genFile = path.join(dir, 'generation_config.json');
  const special = resolveSpecialTokens({
    config: readJsonObject(configFile, 'E_CONFIG') ?? {},
    configFile,
    generationConfig: readJsonObject(genFile, 'E_CONFIG'),
    generationConfigFile: genFile,
    tokenizerConfig: tokConfig,
    tokenId: tokenIdLookup(tokenizerJson),
  });
  return tokenizerBundle({
    tokenizerJson,
    tokenizerConfig: tokConfig,
    chatTemplate: chatTemplateSource(dir, tokConfig, tokConfigFile),
    bosTokenId: special.bos,
    eosTokenIds: special.eos,
    where: tokenizerFile,
    templateWhere: tokConfigFile,
    fix: 'Re-download tokenizer.json and tokenizer_config.json.',
  });
}

/** A tokenizer whose ids reach past the model's embedding rows is refused, naming its file. */
export function checkTokenizerFits(tok: TokenizerBundle, vocabSize: number, where: string): void {
  if (tok.vocabSize > vocabSize) {
    throw new TellmeError(
      'E_TOKENIZER',
      `${where}: token ids reach ${tok.vocabSize - 1}, but the model's vocabulary is 0..${vocabSize - 1} (vocab_size)`,
      `Use the tokenizer.json that belongs to this model (its ids must be below ${vocabSize}).`,
    );
  }
}

export interface TokenizerParts {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  chatTemplate: string | null;
  bosTokenId: number | null;
  eosTokenIds: number[];
  /** The file (or image) errors name. */
  where: string;
  /** Where the chat template comes from (tokenizer_config.json, or the image). */
  templateWhere: string;
  /** What to do when the tokenizer does not build. */
  fix: string;
}

/** A TokenizerBundle from its parts (a checkpoint directory's files, or a model image's sections). */
export function tokenizerBundle(p: TokenizerParts): TokenizerBundle {
  const problems = tokenizerJsonProblems(p.tokenizerJson);
  if (problems.length > 0) throw new TellmeError('E_TOKENIZER', `${p.where}: not a usable tokenizer: ${problems.join('; ')}`, p.fix);
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(p.tokenizerJson, p.tokenizerConfig);
  } catch (e) {
    throw new TellmeError('E_TOKENIZER', `${p.where}: cannot build the tokenizer: ${(e as Error).message}`, p.fix);
  }
  const template = p.chatTemplate;
  if (template !== null) {
    try {
      new Template(template); // parse now: a syntax error is reported when the tokenizer loads
    } catch (e) {
      throw new TellmeError('E_TOKENIZER', `${p.templateWhere}: chat_template does not parse: ${(e as Error).message}`, `Fix chat_template in ${p.templateWhere}.`);
    }
  }
  const templateVars: Record<string, string> = {};
  for (const k of TEMPLATE_TOKENS) {
    const s = tokenString(p.tokenizerConfig[k]);
    if (s !== null) templateVars[k] = s;
  }
  let maxId = -1;
  for (const id of tokenizer.get_vocab(true).values()) if (id > maxId) maxId = id;

  return {
    encode(text, opts) {
      return tokenizer.encode(text, { add_special_tokens: opts?.addSpecialTokens ?? true }).ids;
    },
    decode(ids, opts) {
      // The library refuses an empty list; an empty sequence decodes to the empty string.
      if (ids.length === 0) return '';
      return tokenizer.decode(ids, { skip_special_tokens: opts?.skipSpecialTokens ?? false });
    },
    applyChatTemplate(messages, opts) {
      if (template === null) return null;
      const r = renderTemplateBounded(template, { ...templateVars, messages, add_generation_prompt: opts?.addGenerationPrompt ?? false });
      if (r.kind === 'error') {
        throw new TellmeError('E_TOKENIZER', `${p.templateWhere}: chat_template failed to render: ${r.message}`, 'Check the messages (role and content strings) or fix the template.');
      }
      return r.text;
    },
    bosTokenId: p.bosTokenId,
    eosTokenIds: p.eosTokenIds,
    vocabSize: maxId + 1,
  };
}
