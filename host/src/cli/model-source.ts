/**
 * Opening the model a command names — a Hugging Face checkpoint directory or a model image made
 * by `tellme convert` — with a progress bar and clear errors.
 */

import { existsSync, statSync } from 'node:fs';
import { openCheckpoint } from '../checkpoint/open.js';
import { loadTokenizer } from '../checkpoint/tokenizer.js';
import type { Checkpoint, TokenizerBundle } from '../checkpoint/types.js';
import { TellmeError } from '../errors.js';
import { DEFAULT_CONTEXT_CAP, GoldenModel } from '../golden/model.js';
import { goldenModelFromImage } from '../golden/weights-image.js';
import { boardNumerics, DEFAULT_BOARD } from '../hwconfig/index.js';
import { isModelImage, openImage, type ModelImage } from '../image/reader.js';
import { imageTokenizer } from '../image/tokenizer.js';
import type { ModelSpec } from '../model/spec.js';
import { progressBar } from './progress.js';

export type LoadedModel =
  | { kind: 'checkpoint'; path: string; spec: ModelSpec; checkpoint: Checkpoint; tokenizer: TokenizerBundle | null }
  | { kind: 'image'; path: string; spec: ModelSpec; image: ModelImage; tokenizer: TokenizerBundle | null };

/**
 * A checkpoint directory, or a model image file (validated, checksums verified). `board`: the
 * hardware build the caller asked for; an image must have been converted for it.
 */
export function openModel(path: string, opts: { board?: string } = {}): LoadedModel {
  if (!existsSync(path)) {
    throw new TellmeError(
      'E_NOT_FOUND',
      `${path} does not exist`,
      'pass --model <directory with config.json and model.safetensors> or a model image made by tellme convert',
    );
  }
  if (statSync(path).isDirectory()) {
    const checkpoint = openCheckpoint(path);
    return { kind: 'checkpoint', path, spec: checkpoint.spec, checkpoint, tokenizer: loadTokenizer(path) };
  }
  if (isModelImage(path)) {
    const image = openImage(path, opts.board !== undefined ? { hw: opts.board } : {});
    return { kind: 'image', path, spec: image.spec, image, tokenizer: imageTokenizer(image) };
  }
  throw new TellmeError(
    'E_USAGE',
    `${path} is neither a checkpoint directory nor a model image`,
    'pass the directory that holds config.json, or an image made by tellme convert',
  );
}

/** The checkpoint behind a model, for what needs the original weights (the float reference). */
export function requireCheckpoint(m: LoadedModel, what: string): Checkpoint {
  if (m.kind !== 'checkpoint') {
    throw new TellmeError('E_USAGE', `${what} needs the Hugging Face checkpoint, not a model image (${m.path})`, 'pass the checkpoint directory with --model');
  }
  return m.checkpoint;
}

/**
 * The golden model of a checkpoint or an image. A checkpoint runs with the contract choices of
 * `board` (default: DEFAULT_BOARD); an image with those of the build it was converted for.
 */
export async function loadGolden(m: LoadedModel, opts: { threads?: number; context?: number; board?: string }): Promise<GoldenModel> {
  if (m.kind === 'checkpoint' && opts.context === undefined && m.spec.maxPositions > DEFAULT_CONTEXT_CAP) {
    process.stderr.write(
      `tellme: note: ${m.path} allows ${m.spec.maxPositions} positions (max_position_embeddings); allocating ${DEFAULT_CONTEXT_CAP} (pass --context for another length)\n`,
    );
  }
  const bar = progressBar('loading');
  const common = {
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.context !== undefined ? { contextLength: opts.context } : {}),
    progress: (d: number, t: number, w: string) => bar.update(d, t, w),
  };
  try {
    return m.kind === 'checkpoint'
      ? await GoldenModel.fromCheckpoint(m.checkpoint, { ...common, numerics: boardNumerics(opts.board ?? DEFAULT_BOARD) })
      : await goldenModelFromImage(m.image, common);
  } finally {
    bar.stop();
  }
}

export function requireTokenizer(m: LoadedModel): TokenizerBundle {
  if (!m.tokenizer) {
    throw new TellmeError(
      'E_TOKENIZER',
      `${m.path} has no tokenizer, so text cannot be encoded or decoded`,
      'pass token ids with --ids instead of --prompt, or add tokenizer.json to the checkpoint (and convert again)',
    );
  }
  return m.tokenizer;
}

/** The `--board` option of the commands that run the golden model. */
export const BOARD_OPTION_HELP = `hardware build whose numerics a checkpoint runs with (hw/boards/<name>.json or a file; default ${DEFAULT_BOARD}); an image runs with its own build and must match it`;
