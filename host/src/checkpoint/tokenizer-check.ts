/**
 * Structural checks of a tokenizer.json that the tokenizer library does not make: it builds a
 * tokenizer from `{}`-like files with missing parts, silently drops merges it cannot use (so text
 * encodes to bytes), and keeps added tokens with ids -1 or 100000. Hugging Face's own (Rust)
 * loader refuses these; so do we, naming the file and the entry.
 */

const MODEL_TYPES = ['BPE', 'WordPiece', 'WordLevel', 'Unigram'] as const;
/** Problems reported at most (a broken file has thousands). */
const MAX_PROBLEMS = 3;

function isId(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/** A merge as "left right" or ["left", "right"]; null when it is neither. */
function mergePair(m: unknown): [string, string] | null {
  if (typeof m === 'string') {
    const parts = m.split(' ');
    return parts.length === 2 && parts[0] !== '' && parts[1] !== '' ? [parts[0]!, parts[1]!] : null;
  }
  if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string' && m[0] !== '' && m[1] !== '') return [m[0], m[1]];
  return null;
}

function bpeProblems(model: Record<string, unknown>, out: string[]): void {
  const vocab = model['vocab'];
  if (vocab === null || typeof vocab !== 'object' || Array.isArray(vocab)) {
    out.push('model.vocab is not an object of token -> id');
    return;
  }
  for (const [token, id] of Object.entries(vocab)) {
    if (!isId(id)) out.push(`model.vocab[${JSON.stringify(token)}] is ${JSON.stringify(id)}, not a non-negative integer id`);
    if (out.length >= MAX_PROBLEMS) return;
  }
  const merges = model['merges'] ?? [];
  if (!Array.isArray(merges)) {
    out.push('model.merges is not a list');
    return;
  }
  const has = (t: string) => Object.prototype.hasOwnProperty.call(vocab, t);
  merges.forEach((m, i) => {
    if (out.length >= MAX_PROBLEMS) return;
    const pair = mergePair(m);
    if (!pair) out.push(`model.merges[${i}] is ${JSON.stringify(m)}, not two tokens ("a b" or ["a", "b"])`);
    else if (!has(pair[0]) || !has(pair[1]) || !has(pair[0] + pair[1])) {
      out.push(`model.merges[${i}] ${JSON.stringify(pair)} uses a token that is not in model.vocab (${[pair[0], pair[1], pair[0] + pair[1]].filter((t) => !has(t)).map((t) => JSON.stringify(t)).join(', ')})`);
    }
  });
}

/** Why a parsed tokenizer.json is not a usable tokenizer (at most a few reasons); empty when it is. */
export function tokenizerJsonProblems(json: Record<string, unknown>): string[] {
  const out: string[] = [];
  const model = json['model'];
  if (model === null || typeof model !== 'object' || Array.isArray(model)) return ['no "model" object (the vocabulary and merges)'];
  const m = model as Record<string, unknown>;
  const type = m['type'] ?? 'BPE';
  if (!(MODEL_TYPES as readonly unknown[]).includes(type)) out.push(`model.type ${JSON.stringify(type)} is not one of ${MODEL_TYPES.join(', ')}`);
  else if (type === 'BPE') bpeProblems(m, out);
  const added = json['added_tokens'] ?? [];
  if (!Array.isArray(added)) out.push('added_tokens is not a list');
  else {
    added.forEach((t, i) => {
      if (out.length >= MAX_PROBLEMS) return;
      const e = t as Record<string, unknown> | null;
      if (!e || typeof e !== 'object' || !isId(e['id']) || typeof e['content'] !== 'string') {
        out.push(`added_tokens[${i}] is ${JSON.stringify(t).slice(0, 80)}, not {"id": <non-negative integer>, "content": <string>}`);
      }
    });
  }
  return out.slice(0, MAX_PROBLEMS);
}
