/** evaluate() on a checkpoint: opens the golden model and the float reference, closes them after. */

import type { Checkpoint, TokenizerBundle } from '../checkpoint/types.js';
import { GoldenModel } from '../golden/model.js';
import type { ContractNumerics } from '../hwconfig/index.js';
import { FloatReference, type ReferenceOptions } from '../reference/model.js';
import { checkPrompts, defaultPrompts, type EvalPrompt } from './prompts.js';
import { DEFAULT_EVAL_STEPS, evaluate, type EvalOptions, type EvalReport } from './run.js';

export interface EvaluateCheckpointOptions extends EvalOptions {
  /** Default: defaultPrompts(spec, tokenizer). */
  prompts?: EvalPrompt[];
  tokenizer?: TokenizerBundle | null;
  /** Golden model threads (default: all cores). */
  threads?: number;
  /** The build's contract choices (default: the default board's). */
  numerics?: ContractNumerics;
  reference?: ReferenceOptions;
}

export async function evaluateCheckpoint(ckpt: Checkpoint, opts: EvaluateCheckpointOptions = {}): Promise<EvalReport> {
  const steps = opts.steps ?? DEFAULT_EVAL_STEPS;
  const prompts = opts.prompts ?? defaultPrompts(ckpt.spec, opts.tokenizer ?? null);
  const context = checkPrompts(ckpt.spec, prompts, steps);
  const golden = await GoldenModel.fromCheckpoint(ckpt, {
    contextLength: context,
    ...(opts.numerics !== undefined ? { numerics: opts.numerics } : {}),
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
  });
  try {
    const reference = await FloatReference.fromCheckpoint(ckpt, opts.reference ?? {});
    try {
      return await evaluate(golden, reference, prompts, { ...opts, steps });
    } finally {
      reference.dispose();
    }
  } finally {
    await golden.close();
  }
}
