/** Opening the model a command names, with a progress bar and clear errors. */

import { existsSync, statSync } from 'node:fs';
import { openCheckpoint } from '../checkpoint/open.js';
import { loadTokenizer } from '../checkpoint/tokenizer.js';
import type { Checkpoint, TokenizerBundle } from '../checkpoint/types.js';
import { TellmeError } from '../errors.js';
import { GoldenModel } from '../golden/model.js';
import { progressBar } from './progress.js';

export interface LoadedModel {
  checkpoint: Checkpoint;
  tokenizer: TokenizerBundle | null;
}

export function openModelDir(dir: string): LoadedModel {
  if (!existsSync(dir)) {
    throw new TellmeError('E_NOT_FOUND', `model directory ${dir} does not exist`, 'pass --model <directory with config.json and model.safetensors>');
  }
  if (!statSync(dir).isDirectory()) {
    throw new TellmeError('E_USAGE', `${dir} is a file, not a checkpoint directory`, 'pass the directory that holds config.json');
  }
  const checkpoint = openCheckpoint(dir);
  return { checkpoint, tokenizer: loadTokenizer(dir) };
}

export async function loadGolden(ckpt: Checkpoint, opts: { threads?: number; context?: number }): Promise<GoldenModel> {
  const bar = progressBar('loading');
  try {
    return await GoldenModel.fromCheckpoint(ckpt, {
      ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      ...(opts.context !== undefined ? { contextLength: opts.context } : {}),
      progress: (d, t, w) => bar.update(d, t, w),
    });
  } finally {
    bar.stop();
  }
}

export function requireTokenizer(m: LoadedModel, dir: string): TokenizerBundle {
  if (!m.tokenizer) {
    throw new TellmeError(
      'E_TOKENIZER',
      `${dir} has no tokenizer.json, so text cannot be encoded or decoded`,
      'pass token ids with --ids instead of --prompt, or add the tokenizer files to the directory',
    );
  }
  return m.tokenizer;
}
