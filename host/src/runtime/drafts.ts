/**
 * Draft tokens for multi-token verification by prompt lookup (docs/numerics.md §10.1): the text
 * often repeats itself (names, code, quoted prompt), so the tokens that followed an earlier
 * occurrence of the last few tokens are a cheap guess of what comes next. Drafts only decide how
 * many tokens a pass accepts; the output never depends on them.
 */

/** Longest n-gram tried first. */
export const DRAFT_MAX_NGRAM = 3;

/**
 * For n = DRAFT_MAX_NGRAM … 1: the last n tokens of `text`, their most recent earlier occurrence,
 * and up to `count` tokens that followed it. [] when nothing matches or count ≤ 0.
 */
export function promptLookupDrafts(text: readonly number[], count: number, maxNgram = DRAFT_MAX_NGRAM): number[] {
  const len = text.length;
  if (count <= 0) return [];
  for (let n = Math.min(maxNgram, len - 1); n >= 1; n--) {
    const tail = len - n;
    for (let s = tail - 1; s >= 0; s--) {
      let k = 0;
      while (k < n && text[s + k] === text[tail + k]) k++;
      if (k === n) return text.slice(s + n, Math.min(s + n + count, len));
    }
  }
  return [];
}
