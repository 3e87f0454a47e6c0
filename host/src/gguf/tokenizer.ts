/**
 * A checkpoint's tokenizer.json as GGUF tokenizer metadata (the `tokenizer.ggml.*` keys that
 * llama.cpp's vocabulary loader reads). Two kinds of Hugging Face BPE tokenizers map onto
 * llama.cpp vocabularies:
 *
 * - byte-level BPE (GPT-2 / Llama-3 style: a ByteLevel pre-tokenizer) -> model "gpt2", the
 *   merges as "left right" strings, and a pre-tokenizer name that selects the same split regex
 *   ("gpt-2" for ByteLevel's own regex, "llama-bpe" for Llama-3's Split pattern);
 * - SentencePiece-converted BPE (Llama-2 / 1bitLLM style: byte_fallback, "▁" for spaces) ->
 *   model "llama" (SPM). llama.cpp's SPM tokenizer merges the adjacent pair whose concatenation
 *   has the highest score, where HF merges the pair of lowest merge rank, so a token's score is
 *   minus the rank of the first merge that produces it.
 *
 * Without a tokenizer the file still needs a vocabulary (llama.cpp's "none" vocabulary aborts as
 * soon as anything asks it to tokenize): a placeholder byte-level one, the 256 byte symbols as the
 * first ids and `<|tellme_id_N|>` for the rest, no merges. It is for running token ids; its text
 * means nothing.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { bytesToUnicode } from '../checkpoint/byte-level.js';
import { readJsonObject } from '../checkpoint/json-file.js';
import { END_OF_TURN_TOKENS } from '../checkpoint/special-tokens.js';
import { TellmeError } from '../errors.js';
import type { ModelSpec } from '../model/spec.js';
import { gguf, type GgufValue } from './container.js';

/** llama_token_type values. */
const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

/** Llama-3's pre-tokenizer split pattern (llama.cpp's "llama-bpe"). */
const LLAMA3_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export type GgufVocabKind = 'gpt2' | 'llama' | 'placeholder';

export interface GgufTokenizer {
  kind: GgufVocabKind;
  /** The `tokenizer.ggml.pre` value (gpt2 vocabularies). */
  pre: string | null;
  metadata: Map<string, GgufValue>;
}

type Json = Record<string, unknown>;

function obj(v: unknown): Json | null {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
}

function tokError(file: string, msg: string): TellmeError {
  return new TellmeError('E_TOKENIZER', `${file}: ${msg}`, 'Export without the tokenizer (--no-tokenizer): llama.cpp then takes token ids only.');
}

/** The pre-tokenizers of a tokenizer.json, flattened (a Sequence lists several). */
function preTokenizers(tj: Json): Json[] {
  const p = obj(tj['pre_tokenizer']);
  if (!p) return [];
  if (p['type'] === 'Sequence' && Array.isArray(p['pretokenizers'])) return (p['pretokenizers'] as unknown[]).map(obj).filter((x): x is Json => x !== null);
  return [p];
}

function normalizers(tj: Json): Json[] {
  const n = obj(tj['normalizer']);
  if (!n) return [];
  if (n['type'] === 'Sequence' && Array.isArray(n['normalizers'])) return (n['normalizers'] as unknown[]).map(obj).filter((x): x is Json => x !== null);
  return [n];
}

/** Which llama.cpp pre-tokenizer reproduces a byte-level tokenizer's splitting, or null. */
function byteLevelPre(pres: Json[]): string | null {
  if (pres.length === 1 && pres[0]!['type'] === 'ByteLevel' && pres[0]!['use_regex'] !== false && pres[0]!['add_prefix_space'] !== true) return 'gpt-2';
  if (pres.length === 2 && pres[0]!['type'] === 'Split' && pres[1]!['type'] === 'ByteLevel' && pres[1]!['use_regex'] === false) {
    const pattern = obj(pres[0]!['pattern']);
    if (pattern && pattern['Regex'] === LLAMA3_SPLIT) return 'llama-bpe';
  }
  return null;
}

/** True for a SentencePiece-converted BPE: byte fallback and "▁" standing for spaces. */
function isSentencePieceBpe(model: Json, tj: Json): { addSpacePrefix: boolean } | null {
  if (model['byte_fallback'] !== true) return null;
  const norms = normalizers(tj);
  const replacesSpace = norms.some((n) => n['type'] === 'Replace' && obj(n['pattern'])?.['String'] === ' ' && n['content'] === '\u2581');
  const prepends = norms.some((n) => n['type'] === 'Prepend' && n['prepend'] === '\u2581');
  const meta = preTokenizers(tj).find((p) => p['type'] === 'Metaspace' && p['replacement'] === '\u2581');
  if (replacesSpace) return { addSpacePrefix: prepends };
  if (meta) return { addSpacePrefix: meta['prepend_scheme'] !== 'never' && meta['add_prefix_space'] !== false };
  return null;
}

/** add_bos / add_eos from a TemplateProcessing post-processor: a special token first / last. */
function templateSpecials(tj: Json): { bos: boolean; eos: boolean } {
  const pp = obj(tj['post_processor']);
  const single = pp && pp['type'] === 'TemplateProcessing' && Array.isArray(pp['single']) ? (pp['single'] as unknown[]) : [];
  const isSpecial = (x: unknown) => obj(x)?.['SpecialToken'] !== undefined;
  return { bos: single.length > 0 && isSpecial(single[0]), eos: single.length > 1 && isSpecial(single[single.length - 1]) };
}

function mergeStrings(model: Json, file: string): string[] {
  const merges = model['merges'];
  if (!Array.isArray(merges)) throw tokError(file, 'model.merges is missing');
  return merges.map((m, i) => {
    if (typeof m === 'string') return m;
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return `${m[0]} ${m[1]}`;
    throw tokError(file, `model.merges[${i}] is neither "a b" nor ["a", "b"]`);
  });
}

/** tokenizer_config.json's chat_template (a string, or the "default" of a list), else chat_template.jinja. */
function chatTemplate(dir: string, tokConfig: Json | null): string | null {
  const t = tokConfig?.['chat_template'];
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t.map(obj).find((x) => x?.['name'] === 'default') ?? obj(t[0]);
    if (typeof named?.['template'] === 'string') return named['template'] as string;
  }
  const jinja = path.join(dir, 'chat_template.jinja');
  return fs.existsSync(jinja) ? fs.readFileSync(jinja, 'utf8') : null;
}

function placeholderVocabulary(spec: ModelSpec): GgufTokenizer {
  const bytes = bytesToUnicode();
  const tokens: string[] = [];
  const types: number[] = [];
  for (let id = 0; id < spec.vocabSize; id++) {
    tokens.push(id < 256 ? bytes[id]! : `<|tellme_id_${id}|>`);
    types.push(id < 256 ? TOKEN_TYPE.normal : TOKEN_TYPE.control);
  }
  const metadata = new Map<string, GgufValue>([
    ['tokenizer.ggml.model', gguf.string('gpt2')],
    ['tokenizer.ggml.pre', gguf.string('gpt-2')],
    ['tokenizer.ggml.tokens', gguf.strings(tokens)],
    ['tokenizer.ggml.token_type', gguf.i32s(types)],
    ['tokenizer.ggml.merges', gguf.strings([])],
    ['tokenizer.ggml.add_bos_token', gguf.bool(false)],
    ['tokenizer.ggml.add_eos_token', gguf.bool(false)],
  ]);
  if (spec.bosTokenId !== null && spec.bosTokenId < spec.vocabSize) metadata.set('tokenizer.ggml.bos_token_id', gguf.u32(spec.bosTokenId));
  const eos = spec.eosTokenIds[0];
  if (eos !== undefined && eos < spec.vocabSize) metadata.set('tokenizer.ggml.eos_token_id', gguf.u32(eos));
  return { kind: 'placeholder', pre: 'gpt-2', metadata };
}

/** Tokenizer metadata for a checkpoint directory; a placeholder vocabulary when it has no tokenizer.json or `use` is false. */
export function ggufTokenizer(dir: string, spec: ModelSpec, use = true): GgufTokenizer {
  const file = path.join(dir, 'tokenizer.json');
  const tj = use ? readJsonObject(file, 'E_TOKENIZER') : null;
  const metadata = new Map<string, GgufValue>();
  if (!tj) return placeholderVocabulary(spec);
  const model = obj(tj['model']);
  if (!model || model['type'] !== 'BPE') {
    throw tokError(file, `model.type ${JSON.stringify(model?.['type'])} is not supported (BPE only: byte-level or SentencePiece-converted)`);
  }
  const pre = byteLevelPre(preTokenizers(tj));
  const spm = pre === null ? isSentencePieceBpe(model, tj) : null;
  if (pre === null && !spm) {
    throw tokError(file, `the pre-tokenizer ${JSON.stringify(tj['pre_tokenizer'])} matches no llama.cpp vocabulary this exporter knows (ByteLevel, Llama-3's Split + ByteLevel, or SentencePiece-style byte-fallback BPE)`);
  }

  // id -> token text and type; added tokens override the model vocabulary.
  const n = spec.vocabSize;
  const tokens: (string | undefined)[] = new Array(n);
  const types: number[] = new Array(n).fill(TOKEN_TYPE.normal);
  const vocab = obj(model['vocab']);
  if (!vocab) throw tokError(file, 'model.vocab is missing');
  const place = (id: unknown, text: string, where: string) => {
    if (!Number.isSafeInteger(id) || (id as number) < 0) throw tokError(file, `${where}: id ${JSON.stringify(id)} is not a token id`);
    if ((id as number) >= n) {
      throw new TellmeError('E_TOKENIZER', `${file}: ${where} has id ${id as number}, but the model's embedding has ${n} rows (vocab_size)`, 'Use the tokenizer that belongs to this checkpoint, or export with --no-tokenizer.');
    }
    tokens[id as number] = text;
  };
  for (const [text, id] of Object.entries(vocab)) place(id, text, `model.vocab[${JSON.stringify(text)}]`);
  const added = Array.isArray(tj['added_tokens']) ? (tj['added_tokens'] as unknown[]).map(obj).filter((x): x is Json => x !== null) : [];
  for (const a of added) {
    if (typeof a['content'] !== 'string') continue;
    place(a['id'], a['content'], `added token ${JSON.stringify(a['content'])}`);
    types[a['id'] as number] = a['special'] === true ? TOKEN_TYPE.control : TOKEN_TYPE.userDefined;
  }
  // Embedding rows no token names (padding to a round vocab_size) get unique unused names.
  for (let id = 0; id < n; id++) {
    if (tokens[id] === undefined) {
      tokens[id] = `<|tellme_unused_${id}|>`;
      types[id] = TOKEN_TYPE.unused;
    }
  }
  const special = templateSpecials(tj);
  const tokConfig = readJsonObject(path.join(dir, 'tokenizer_config.json'), 'E_TOKENIZER');

  if (spm) {
    const merges = mergeStrings(model, file);
    const scores = new Array<number>(n).fill(0);
    const rank = new Map<string, number>();
    merges.forEach((m, r) => {
      const joined = m.replace(' ', '');
      if (!rank.has(joined)) rank.set(joined, r);
    });
    const unk = typeof model['unk_token'] === 'string' ? model['unk_token'] : null;
    for (let id = 0; id < n; id++) {
      const t = tokens[id]!;
      if (types[id] !== TOKEN_TYPE.normal) continue;
      if (t === unk) types[id] = TOKEN_TYPE.unknown;
      else if (/^<0x[0-9A-F]{2}>$/.test(t)) types[id] = TOKEN_TYPE.byte;
      else if ([...t].length > 1) scores[id] = -(rank.get(t) ?? merges.length + id);
    }
    metadata.set('tokenizer.ggml.model', gguf.string('llama'));
    metadata.set('tokenizer.ggml.tokens', gguf.strings(tokens as string[]));
    metadata.set('tokenizer.ggml.scores', gguf.f32s(scores));
    metadata.set('tokenizer.ggml.token_type', gguf.i32s(types));
    metadata.set('tokenizer.ggml.add_space_prefix', gguf.bool(spm.addSpacePrefix));
    if (unk !== null && vocab[unk] !== undefined) metadata.set('tokenizer.ggml.unknown_token_id', gguf.u32(vocab[unk] as number));
  } else {
    metadata.set('tokenizer.ggml.model', gguf.string('gpt2'));
    metadata.set('tokenizer.ggml.pre', gguf.string(pre!));
    metadata.set('tokenizer.ggml.tokens', gguf.strings(tokens as string[]));
    metadata.set('tokenizer.ggml.token_type', gguf.i32s(types));
    metadata.set('tokenizer.ggml.merges', gguf.strings(mergeStrings(model, file)));
  }
  if (spec.bosTokenId !== null) metadata.set('tokenizer.ggml.bos_token_id', gguf.u32(spec.bosTokenId));
  const eos = spec.eosTokenIds[0];
  if (eos !== undefined) metadata.set('tokenizer.ggml.eos_token_id', gguf.u32(eos));
  const eot = spec.eosTokenIds.find((id) => (END_OF_TURN_TOKENS as readonly string[]).includes(tokens[id] ?? ''));
  if (eot !== undefined) metadata.set('tokenizer.ggml.eot_token_id', gguf.u32(eot));
  if (spec.padTokenId !== null && spec.padTokenId < n) metadata.set('tokenizer.ggml.padding_token_id', gguf.u32(spec.padTokenId));
  const addBos = typeof tokConfig?.['add_bos_token'] === 'boolean' ? (tokConfig['add_bos_token'] as boolean) : special.bos;
  const addEos = typeof tokConfig?.['add_eos_token'] === 'boolean' ? (tokConfig['add_eos_token'] as boolean) : special.eos;
  metadata.set('tokenizer.ggml.add_bos_token', gguf.bool(addBos));
  metadata.set('tokenizer.ggml.add_eos_token', gguf.bool(addEos));
  const template = chatTemplate(dir, tokConfig);
  if (template !== null) metadata.set('tokenizer.chat_template', gguf.string(template));
  return { kind: spm ? 'llama' : 'gpt2', pre: spm ? null : pre, metadata };
}
