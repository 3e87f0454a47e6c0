/**
 * The tokenizer carried by a model image: tokenizer.json and tokenizer_config.json as sections,
 * the chat template and the special ids in the manifest. Builds the same TokenizerBundle as
 * checkpoint/tokenizer.ts loadTokenizer does from the checkpoint directory.
 */

import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { tokenString } from '../checkpoint/special-tokens.js';
import type { TokenizerBundle } from '../checkpoint/types.js';
import { TellmeError } from '../errors.js';
import type { ModelImage } from './reader.js';

const TEMPLATE_TOKENS = ['bos_token', 'eos_token', 'pad_token', 'unk_token'] as const;

function jsonSection(image: ModelImage, name: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(image.readSection(name)).toString('utf8')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TellmeError) throw e;
    throw new TellmeError('E_IMAGE', `${image.path}: section ${name} is not a JSON object: ${(e as Error).message}`, 'Re-run `tellme convert`.');
  }
}

/** The image's tokenizer, or null when the source checkpoint had no tokenizer.json. */
export function imageTokenizer(image: ModelImage): TokenizerBundle | null {
  const rec = image.manifest.tokenizer;
  if (rec.tokenizer_json === null) return null;
  const tokenizerJson = jsonSection(image, rec.tokenizer_json);
  const tokConfig = rec.tokenizer_config === null ? {} : jsonSection(image, rec.tokenizer_config);
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson, tokConfig);
  } catch (e) {
    throw new TellmeError('E_TOKENIZER', `${image.path}: cannot build the tokenizer from the image: ${(e as Error).message}`, 'Re-run `tellme convert` from a checkpoint with a valid tokenizer.json.');
  }
  let template: Template | null = null;
  if (rec.chat_template !== null) {
    try {
      template = new Template(rec.chat_template);
    } catch (e) {
      throw new TellmeError('E_TOKENIZER', `${image.path}: the chat template does not parse: ${(e as Error).message}`, 'Fix chat_template in the checkpoint and re-convert.');
    }
  }
  const templateVars: Record<string, string> = {};
  for (const k of TEMPLATE_TOKENS) {
    const s = tokenString(tokConfig[k]);
    if (s !== null) templateVars[k] = s;
  }
  let maxId = -1;
  for (const id of tokenizer.get_vocab(true).values()) if (id > maxId) maxId = id;
  return {
    encode(text, opts) {
      return tokenizer.encode(text, { add_special_tokens: opts?.addSpecialTokens ?? true }).ids;
    },
    decode(ids, opts) {
      if (ids.length === 0) return '';
      return tokenizer.decode(ids, { skip_special_tokens: opts?.skipSpecialTokens ?? false });
    },
    applyChatTemplate(messages, opts) {
      if (!template) return null;
      try {
        return template.render({ ...templateVars, messages, add_generation_prompt: opts?.addGenerationPrompt ?? false });
      } catch (e) {
        throw new TellmeError('E_TOKENIZER', `${image.path}: chat template failed to render: ${(e as Error).message}`, 'Check the messages (role and content strings) or fix the template.');
      }
    },
    bosTokenId: rec.bos_token_id,
    eosTokenIds: rec.eos_token_ids.slice(),
    vocabSize: maxId + 1,
  };
}
