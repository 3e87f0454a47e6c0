/**
 * A real byte-level BPE tokenizer in Hugging Face's tokenizer.json format, built from scratch:
 * 256 byte tokens (GPT-2's bytes-to-unicode alphabet), merges learned from SAMPLE_TEXT, and a
 * Llama-3-style block of special tokens at the top of the vocabulary. Deterministic: ties between
 * equally frequent pairs are broken by the pair's text.
 */

import { bytesToUnicode } from '../checkpoint/byte-level.js';
import { TellmeError } from '../errors.js';
import { SAMPLE_TEXT } from './sample-text.js';

/** Llama-3's special-token block (relative ids), placed at the end of the vocabulary. */
const SPECIAL_BLOCK = [
  '<|begin_of_text|>',
  '<|end_of_text|>',
  '<|reserved_special_token_0|>',
  '<|reserved_special_token_1|>',
  '<|reserved_special_token_2|>',
  '<|reserved_special_token_3|>',
  '<|start_header_id|>',
  '<|end_header_id|>',
  '<|reserved_special_token_4|>',
  '<|eot_id|>',
  '<|reserved_special_token_5|>',
  '<|reserved_special_token_6|>',
  '<|reserved_special_token_7|>',
  '<|reserved_special_token_8|>',
  '<|reserved_special_token_9|>',
  '<|reserved_special_token_10|>',
] as const;
export const SPECIAL_BLOCK_SIZE = SPECIAL_BLOCK.length;
/** Smallest vocabulary that holds the byte alphabet and the special block. */
export const MIN_TOKENIZER_VOCAB = 256 + SPECIAL_BLOCK_SIZE;

export interface SpecialIds {
  bos: number;
  eos: number;
  eot: number;
}

/** The special ids of a vocabulary of `vocab` ids (also used when no tokenizer.json is written). */
export function specialIds(vocab: number): SpecialIds {
  const base = vocab - SPECIAL_BLOCK_SIZE;
  return { bos: base, eos: base + 1, eot: base + 9 };
}

/** The ByteLevel pre-tokenizer's split pattern (GPT-2), as tokenizers uses with use_regex. */
const BYTE_LEVEL_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Learn up to maxMerges merges from text; stops when no pair occurs twice. */
export function learnMerges(text: string, maxMerges: number): [string, string][] {
  const byteChar = bytesToUnicode();
  const enc = new TextEncoder();
  const counts = new Map<string, number>();
  for (const piece of text.match(BYTE_LEVEL_PATTERN) ?? []) {
    const w = Array.from(enc.encode(piece), (b) => byteChar[b]!).join('\u0000');
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  let words = [...counts].map(([w, c]) => ({ syms: w.split('\u0000'), count: c }));
  const merges: [string, string][] = [];
  while (merges.length < maxMerges) {
    const pairs = new Map<string, number>();
    for (const { syms, count } of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const k = syms[i] + '\u0000' + syms[i + 1];
        pairs.set(k, (pairs.get(k) ?? 0) + count);
      }
    }
    let best: string | null = null;
    let bestCount = 1;
    for (const [k, c] of pairs) {
      if (c > bestCount || (c === bestCount && best !== null && k < best)) {
        best = k;
        bestCount = c;
      }
    }
    if (best === null) break;
    const [a, b] = best.split('\u0000') as [string, string];
    merges.push([a, b]);
    words = words.map(({ syms, count }) => {
      const out: string[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(syms[i]!);
      }
      return { syms: out, count };
    });
  }
  return merges;
}

export interface BuiltTokenizer {
  /** tokenizer.json content. */
  tokenizerJson: Record<string, unknown>;
  /** tokenizer_config.json content (chat template included). */
  tokenizerConfig: Record<string, unknown>;
  ids: SpecialIds;
  merges: number;
}

/** The 2B-4T chat format: "User: ...<|eot_id|>Assistant: " after one <|begin_of_text|>. */
export const CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}" +
  "{% if message['role'] == 'system' %}{{ 'System: ' }}{% elif message['role'] == 'user' %}{{ 'User: ' }}{% else %}{{ 'Assistant: ' }}{% endif %}" +
  "{{ message['content'] | trim }}<|eot_id|>{% endfor %}" +
  "{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}";

export function tokenizerConfigJson(vocab: number, maxPositions: number, withDecoder: boolean): Record<string, unknown> {
  const base = vocab - SPECIAL_BLOCK_SIZE;
  const added: Record<string, unknown> = {};
  if (withDecoder) {
    SPECIAL_BLOCK.forEach((content, i) => {
      added[String(base + i)] = { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
    });
  }
  return {
    ...(withDecoder ? { added_tokens_decoder: added } : {}),
    bos_token: '<|begin_of_text|>',
    eos_token: '<|end_of_text|>',
    chat_template: CHAT_TEMPLATE,
    // Keep decode(encode(x)) == x: the cleanup would rewrite " ." and " 's".
    clean_up_tokenization_spaces: false,
    model_input_names: ['input_ids', 'attention_mask'],
    model_max_length: maxPositions,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
}

/** Build tokenizer.json + tokenizer_config.json for a vocabulary of exactly `vocab` ids. */
export function buildTokenizer(vocab: number, maxPositions: number): BuiltTokenizer {
  if (!Number.isInteger(vocab) || vocab < MIN_TOKENIZER_VOCAB) {
    throw new TellmeError('E_USAGE', `a test tokenizer needs a vocabulary of at least ${MIN_TOKENIZER_VOCAB} ids (256 bytes + ${SPECIAL_BLOCK_SIZE} specials), got ${vocab}`, 'Raise vocab or write the model without a tokenizer.');
  }
  const byteChar = bytesToUnicode();
  const merges = learnMerges(SAMPLE_TEXT, vocab - MIN_TOKENIZER_VOCAB);
  const model: Record<string, number> = {};
  for (let b = 0; b < 256; b++) model[byteChar[b]!] = b;
  // Two merges can spell the same string ("ab"+"c", "a"+"bc"); it keeps its first id.
  let nextId = 256;
  for (const [a, b] of merges) if (!Object.prototype.hasOwnProperty.call(model, a + b)) model[a + b] = nextId++;
  const ids = specialIds(vocab);
  const base = vocab - SPECIAL_BLOCK_SIZE;
  // Ids the sample text could not fill become reserved specials, so the vocabulary has no holes.
  const addedTokens: { id: number; content: string }[] = [];
  for (let id = nextId, k = 0; id < base; id++, k++) addedTokens.push({ id, content: `<|reserved_special_token_${11 + k}|>` });
  SPECIAL_BLOCK.forEach((content, i) => addedTokens.push({ id: base + i, content }));
  addedTokens.sort((x, y) => x.id - y.id);

  const specialToken = (content: string) => ({ id: content, ids: [base + SPECIAL_BLOCK.indexOf(content as (typeof SPECIAL_BLOCK)[number])], tokens: [content] });
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens.map(({ id, content }) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<|begin_of_text|>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '<|begin_of_text|>', type_id: 1 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { '<|begin_of_text|>': specialToken('<|begin_of_text|>') },
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: model,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  return { tokenizerJson, tokenizerConfig: tokenizerConfigJson(vocab, maxPositions, true), ids, merges: merges.length };
}
