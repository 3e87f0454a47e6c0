/** The prompts `tellme eval` runs: the user's, or a fixed default set derived from the model. */

import type { TokenizerBundle } from '../checkpoint/types.js';
import { TellmeError } from '../errors.js';
import type { ModelSpec } from '../model/spec.js';

export interface EvalPrompt {
  /** A short label for reports ("ids-spread", "text-1", "ids", ...). */
  name: string;
  ids: number[];
  /** The text it was encoded from, when it came from text. */
  text?: string;
}

/** Text prompts of the default set (used when the model has a tokenizer). */
export const DEFAULT_TEXT_PROMPTS = ['The quick brown fox jumps over the lazy dog.', 'Once upon a time, in a small village by the sea,'];

/** Length of the default id prompts (before the BOS token). */
const DEFAULT_ID_PROMPT_LENGTH = 11;

/**
 * The range of ordinary token ids: from 3 (llama-style vocabularies keep unk/bos/eos at 0..2) up
 * to the first special id (bos, eos, pad) in the upper half of the vocabulary, where
 * tokenizers put their added tokens.
 */
export function ordinaryIdRange(spec: ModelSpec): { lo: number; hi: number } {
  const V = spec.vocabSize;
  let hi = V;
  for (const id of [spec.bosTokenId, spec.padTokenId, ...spec.eosTokenIds]) {
    if (id !== null && id >= V / 2 && id < hi) hi = id;
  }
  const lo = Math.min(3, hi - 1);
  return { lo, hi };
}

function withBos(spec: ModelSpec, ids: number[]): number[] {
  return spec.bosTokenId !== null ? [spec.bosTokenId, ...ids] : ids;
}

/**
 * Two fixed id sequences (ids spread over the ordinary range by the golden ratio; a short
 * pattern repeated three times, which exercises attention to repeated keys) and, with a
 * tokenizer, the DEFAULT_TEXT_PROMPTS. Deterministic for a given spec.
 */
export function defaultPrompts(spec: ModelSpec, tokenizer: TokenizerBundle | null): EvalPrompt[] {
  const { lo, hi } = ordinaryIdRange(spec);
  const span = hi - lo;
  const at = (x: number) => lo + Math.min(span - 1, Math.floor(x * span));
  const spread = Array.from({ length: DEFAULT_ID_PROMPT_LENGTH }, (_, i) => at(((i + 1) * 0.6180339887498949) % 1));
  const pattern = [0.11, 0.53, 0.29, 0.87].map(at);
  const prompts: EvalPrompt[] = [
    { name: 'ids-spread', ids: withBos(spec, spread) },
    { name: 'ids-repeat', ids: withBos(spec, [...pattern, ...pattern, ...pattern]) },
  ];
  if (tokenizer) {
    DEFAULT_TEXT_PROMPTS.forEach((text, i) => {
      prompts.push({ name: `text-${i + 1}`, ids: tokenizer.encode(text, { addSpecialTokens: true }), text });
    });
  }
  return prompts;
}

/** Check prompts against the model and the generation length; returns the context length needed. */
export function checkPrompts(spec: ModelSpec, prompts: readonly EvalPrompt[], steps: number): number {
  if (prompts.length === 0) throw new TellmeError('E_USAGE', 'no prompts to evaluate', 'Pass --ids or --prompt, or leave both out for the default prompt set.');
  let need = 0;
  for (const p of prompts) {
    if (p.ids.length === 0) throw new TellmeError('E_USAGE', `prompt "${p.name}" has no tokens`, 'Give a prompt of at least one token.');
    for (const id of p.ids) {
      if (!Number.isInteger(id) || id < 0 || id >= spec.vocabSize) {
        throw new TellmeError('E_USAGE', `prompt "${p.name}": token id ${id} is outside the vocabulary (0..${spec.vocabSize - 1})`, `Pass token ids in 0..${spec.vocabSize - 1}.`);
      }
    }
    // The last generated token is never fed back, so a generation of `steps` tokens needs
    // prompt + steps - 1 positions.
    const len = p.ids.length + Math.max(0, steps - 1);
    if (len > spec.maxPositions) {
      throw new TellmeError(
        'E_USAGE',
        `prompt "${p.name}" (${p.ids.length} tokens) plus ${steps} generated tokens exceeds max_position_embeddings ${spec.maxPositions}`,
        'Shorten the prompt or pass a smaller --max-new-tokens.',
      );
    }
    need = Math.max(need, len);
  }
  return need;
}
