/**
 * The generation loop: prefill the prompt, then select tokens until a stop token, the token
 * budget or the context limit. Token selection follows docs/numerics.md §10 so that a seed
 * reproduces a generation on any backend.
 *
 * With draftTokens > 0 every pass after the prompt is a verify pass (§10.1): the last emitted
 * token plus up to draftTokens prompt-lookup drafts run together, the longest prefix the model
 * itself chooses is accepted, and the KV cache is rolled back over the rest. The emitted tokens
 * (and, when sampling, the PRNG draws) are exactly those of plain decoding; only `passes` changes.
 */

import { TellmeError } from '../errors.js';
import { promptLookupDrafts } from './drafts.js';
import { sample, validateSampling, Xoshiro128, type SamplingOptions } from './sampling.js';
import type { InferenceSession } from './session.js';

export type StopReason = 'eos' | 'max_new_tokens' | 'context';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  seed: number;
  /** Ids that end generation; the stop id itself is the last element of `ids`. */
  stopIds: readonly number[];
  /** Draft tokens per pass (multi-token verification); 0 (default): plain decoding. */
  draftTokens?: number;
  /** Called with each generated id as soon as it is chosen. */
  onToken?: (id: number) => void;
}

export interface GenerateResult {
  ids: number[];
  stopReason: StopReason;
  promptTokens: number;
  /** Accelerator passes after the prompt (decode or verify calls). */
  passes: number;
  /** Seconds spent in prefill and in the passes after it. */
  prefillSeconds: number;
  decodeSeconds: number;
}

export async function generate(
  session: InferenceSession,
  promptIds: readonly number[],
  opts: GenerateOptions,
): Promise<GenerateResult> {
  validateSampling(opts);
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0) {
    throw new TellmeError('E_USAGE', `max-new-tokens must be an integer >= 0 (got ${opts.maxNewTokens})`, 'Pass --max-new-tokens as a whole number, 0 or more.');
  }
  const draftTokens = opts.draftTokens ?? 0;
  if (!Number.isInteger(draftTokens) || draftTokens < 0) {
    throw new TellmeError('E_USAGE', `draft-tokens must be an integer >= 0 (got ${draftTokens})`, 'Pass --draft-tokens as a whole number, 0 (plain decoding) or more.');
  }
  if (promptIds.length === 0) throw new TellmeError('E_USAGE', 'the prompt is empty', 'Give --prompt text or --ids with at least one token.');
  if (session.position + promptIds.length > session.contextLength) {
    throw new TellmeError(
      'E_USAGE',
      `the prompt (${promptIds.length} tokens) does not fit the context (${session.contextLength} tokens)`,
      'shorten the prompt or pass a larger --context',
    );
  }
  const rng = new Xoshiro128(opts.seed);
  const stop = new Set(opts.stopIds);
  const ids: number[] = [];
  /** Prompt and emitted tokens: where the drafts are looked up. */
  const text = [...promptIds];
  let stopReason: StopReason = 'max_new_tokens';
  let passes = 0;
  /** Emit a selected token; true when the generation ends with it. */
  const emit = (id: number): boolean => {
    ids.push(id);
    text.push(id);
    opts.onToken?.(id);
    if (stop.has(id)) {
      stopReason = 'eos';
      return true;
    }
    return ids.length >= opts.maxNewTokens;
  };

  const t0 = performance.now();
  const first = await session.prefill(promptIds);
  const t1 = performance.now();
  if (opts.maxNewTokens > 0 && !emit(sample(first, opts, rng))) {
    // Invariant here: the last emitted token x is not in the KV cache yet.
    for (;;) {
      const L = session.position;
      if (L >= session.contextLength) {
        stopReason = 'context';
        break;
      }
      const x = ids[ids.length - 1]!;
      const room = Math.min(draftTokens, session.contextLength - L - 1, opts.maxNewTokens - ids.length - 1);
      const drafts = room > 0 ? promptLookupDrafts(text, room) : [];
      const results = drafts.length > 0 ? await session.verify([x, ...drafts], L) : [await session.decode(x)];
      passes++;
      let done = false;
      for (let i = 0; i <= drafts.length; i++) {
        const y = sample(results[i]!, opts, rng);
        done = emit(y);
        if (done || i === drafts.length || y !== drafts[i]) {
          // Keep x and the i accepted drafts; y is the next pass's first token.
          if (session.position !== L + i + 1) await session.setKvLength(L + i + 1);
          break;
        }
      }
      if (done) break;
    }
  }
  const t2 = performance.now();
  return {
    ids,
    stopReason,
    promptTokens: promptIds.length,
    passes,
    prefillSeconds: (t1 - t0) / 1000,
    decodeSeconds: (t2 - t1) / 1000,
  };
}
