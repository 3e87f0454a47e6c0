/**
 * The generation loop: prefill the prompt, then sample and decode until a stop token, the token
 * budget or the context limit. Token selection follows docs/numerics.md §10 so that a seed
 * reproduces a generation on any backend.
 */

import { TellmeError } from '../errors.js';
import { sample, validateSampling, Xoshiro128, type SamplingOptions } from './sampling.js';
import type { InferenceSession } from './session.js';

export type StopReason = 'eos' | 'max_new_tokens' | 'context';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  seed: number;
  /** Ids that end generation; the stop id itself is the last element of `ids`. */
  stopIds: readonly number[];
  /** Called with each generated id as soon as it is chosen. */
  onToken?: (id: number) => void;
}

export interface GenerateResult {
  ids: number[];
  stopReason: StopReason;
  promptTokens: number;
  /** Seconds spent in prefill and in decode. */
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
  const t0 = performance.now();
  let logits = await session.prefill(promptIds);
  const t1 = performance.now();
  let stopReason: StopReason = 'max_new_tokens';
  while (ids.length < opts.maxNewTokens) {
    const id = sample(logits, opts, rng);
    ids.push(id);
    opts.onToken?.(id);
    if (stop.has(id)) {
      stopReason = 'eos';
      break;
    }
    if (ids.length >= opts.maxNewTokens) break;
    if (session.position >= session.contextLength) {
      stopReason = 'context';
      break;
    }
    logits = await session.decode(id);
  }
  const t2 = performance.now();
  return {
    ids,
    stopReason,
    promptTokens: promptIds.length,
    prefillSeconds: (t1 - t0) / 1000,
    decodeSeconds: (t2 - t1) / 1000,
  };
}
