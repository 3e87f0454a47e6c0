/**
 * bos / eos / pad ids from the three places a HF checkpoint keeps them: config.json,
 * generation_config.json (whose eos_token_id may be a list, e.g. [128001, 128009]) and
 * tokenizer_config.json (token strings, resolved to ids through tokenizer.json).
 * Generation stops on any of the eos ids, so they are unioned; bos is a single id, and
 * config.json wins over the others because that is what transformers' model config uses.
 */

import { TellmeError } from '../errors.js';

/** End-of-turn tokens of common chat formats; one counts as a stop token when the tokenizer config uses it. */
export const END_OF_TURN_TOKENS = ['<|eot_id|>', '<|im_end|>', '<end_of_turn>', '<|end|>'] as const;

export interface SpecialTokenSources {
  config: Readonly<Record<string, unknown>>;
  configFile: string;
  generationConfig: Readonly<Record<string, unknown>> | null;
  generationConfigFile: string;
  tokenizerConfig: Readonly<Record<string, unknown>> | null;
  /** Token string -> id (from tokenizer.json); undefined when there is no tokenizer or no such token. */
  tokenId?: (token: string) => number | undefined;
}

export interface SpecialTokens {
  bos: number | null;
  eos: number[];
  pad: number | null;
}

function idList(v: unknown, file: string, key: string): number[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  for (const x of list) {
    if (!Number.isSafeInteger(x) || (x as number) < 0) {
      throw new TellmeError('E_CONFIG', `${file}: ${key} ${JSON.stringify(v)} is not a token id or a list of token ids`, `Fix ${key} in ${file}.`);
    }
  }
  return list as number[];
}

/** tokenizer_config.json stores special tokens as a string or as an AddedToken dict {content}. */
export function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return null;
}

export function resolveSpecialTokens(src: SpecialTokenSources): SpecialTokens {
  const { config, generationConfig: gen, tokenizerConfig: tok } = src;
  const lookup = (v: unknown): number | null => {
    const s = tokenString(v);
    if (s === null || !src.tokenId) return null;
    return src.tokenId(s) ?? null;
  };

  const eos: number[] = [];
  const add = (ids: number[]) => {
    for (const id of ids) if (!eos.includes(id)) eos.push(id);
  };
  add(idList(config['eos_token_id'], src.configFile, 'eos_token_id'));
  if (gen) add(idList(gen['eos_token_id'], src.generationConfigFile, 'eos_token_id'));
  if (tok) {
    const id = lookup(tok['eos_token']);
    if (id !== null) add([id]);
    const template = typeof tok['chat_template'] === 'string' ? (tok['chat_template'] as string) : JSON.stringify(tok['chat_template'] ?? '');
    for (const t of END_OF_TURN_TOKENS) {
      const tid = src.tokenId?.(t);
      if (tid !== undefined && (template.includes(t) || tokenString(tok['eos_token']) === t)) add([tid]);
    }
  }

  const first = (...c: (number | null)[]): number | null => c.find((x) => x !== null) ?? null;
  const bos = first(
    idList(config['bos_token_id'], src.configFile, 'bos_token_id')[0] ?? null,
    gen ? (idList(gen['bos_token_id'], src.generationConfigFile, 'bos_token_id')[0] ?? null) : null,
    tok ? lookup(tok['bos_token']) : null,
  );
  const pad = first(
    idList(config['pad_token_id'], src.configFile, 'pad_token_id')[0] ?? null,
    gen ? (idList(gen['pad_token_id'], src.generationConfigFile, 'pad_token_id')[0] ?? null) : null,
    tok ? lookup(tok['pad_token']) : null,
  );
  return { bos, eos, pad };
}

/** Token string -> id over tokenizer.json's added tokens and BPE/WordPiece vocab object. */
export function tokenIdLookup(tokenizerJson: Readonly<Record<string, unknown>> | null): ((t: string) => number | undefined) | undefined {
  if (!tokenizerJson) return undefined;
  const added = new Map<string, number>();
  const list = tokenizerJson['added_tokens'];
  if (Array.isArray(list)) {
    for (const a of list) {
      if (a && typeof a.content === 'string' && Number.isSafeInteger(a.id)) added.set(a.content, a.id);
    }
  }
  const model = tokenizerJson['model'] as { vocab?: unknown } | undefined;
  const vocab = model && model.vocab && typeof model.vocab === 'object' && !Array.isArray(model.vocab) ? (model.vocab as Record<string, unknown>) : null;
  return (t: string) => {
    const a = added.get(t);
    if (a !== undefined) return a;
    const v = vocab && Object.prototype.hasOwnProperty.call(vocab, t) ? vocab[t] : undefined;
    return Number.isSafeInteger(v) ? (v as number) : undefined;
  };
}
