/**
 * The tokenizer carried by a model image: tokenizer.json and tokenizer_config.json as sections,
 * the chat template and the special ids in the manifest. Builds the same TokenizerBundle as
 * checkpoint/tokenizer.ts loadTokenizer does from the checkpoint directory.
 */

import { tokenizerBundle } from '../checkpoint/tokenizer.js';
import type { TokenizerBundle } from '../checkpoint/types.js';
import { TellmeError } from '../errors.js';
import type { ModelImage } from './reader.js';

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
  return tokenizerBundle({
    tokenizerJson,
    tokenizerConfig: tokConfig,
    chatTemplate: rec.chat_template,
    bosTokenId: rec.bos_token_id,
    eosTokenIds: rec.eos_token_ids.slice(),
    where: image.path,
    templateWhere: `${image.path} (the chat template carried from the checkpoint)`,
    fix: 'Re-run `tellme convert` from a checkpoint with a valid tokenizer.json.',
  });
}
