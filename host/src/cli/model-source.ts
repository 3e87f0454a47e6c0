/**
 * Opening the model a command names — a Hugging Face checkpoint directory or a model image made
 * by `tellme convert` — with a progress bar and clear errors.
 */

import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint } from '../checkpoint/open.js';
import { checkTokenizerFits, loadTokenizer } from '../checkpoint/tokenizer.js';
import type { Checkpoint, TokenizerBundle } from '../checkpoint/types.js';
import { TellmeError } from '../errors.js';
import { DEFAULT_CONTEXT_CAP, GoldenModel } from '../golden/model.js';
import { goldenModelFromImage } from '../golden/weights-image.js';
import { boardNumerics, DEFAULT_BOARD } from '../hwconfig/index.js';
import { isModelImage, openImage, type ModelImage } from '../image/reader.js';
import { imageTokenizer } from '../image/tokenizer.js';
import type { ModelSpec } from '../model/spec.js';
import { progressBar } from './progress.js';

/**
 * `tokenizer` is null when the model has none or when it is unusable; `tokenizerError` then says
 * why. A broken tokenizer fails only what needs text (requireTokenizer), never --ids.
 */
export type LoadedModel = (
  | { kind: 'checkpoint'; path: string; spec: ModelSpec; checkpoint: Checkpoint }
  | { kind: 'image'; path: string; spec: ModelSpec; image: ModelImage }
) & { tokenizer: TokenizerBundle | null; tokenizerError: TellmeError | null };

/** Load a tokenizer and check it against the model, keeping a user error instead of throwing it. */
function tolerantTokenizer(load: () => TokenizerBundle | null, spec: ModelSpec, where: string): { tokenizer: TokenizerBundle | null; tokenizerError: TellmeError | null } {
  try {
    const tokenizer = load();
    if (tokenizer) checkTokenizerFits(tokenizer, spec.vocabSize, where);
    return { tokenizer, tokenizerError: null };
  } catch (e) {
    if (e instanceof TellmeError && e.code !== 'E_INTERNAL') return { tokenizer: null, tokenizerError: e };
    throw e;
  }
}

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
    reportUnusedTensors(checkpoint);
    return { kind: 'checkpoint', path, spec: checkpoint.spec, checkpoint, ...tolerantTokenizer(() => loadTokenizer(path), checkpoint.spec, join(path, 'tokenizer.json')) };
  }
  if (isModelImage(path)) {
    const image = openImage(path, opts.board !== undefined ? { hw: opts.board } : {});
    return { kind: 'image', path, spec: image.spec, image, ...tolerantTokenizer(() => imageTokenizer(image), image.spec, `${path} (its tokenizer.json)`) };
  }
  throw new TellmeError(
    'E_USAGE',
    `${path} is neither a checkpoint directory nor a model image`,
    'pass the directory that holds config.json, or an image made by tellme convert',
  );
}

/**
 * Tensors a checkpoint holds that its config does not use: a warning on stderr (as transformers
 * warns), or with `strict` an error, so that a wrong num_hidden_layers is not silently accepted.
 */
export function reportUnusedTensors(ckpt: Checkpoint, strict = false): void {
  const names = ckpt.unusedTensors;
  if (names.length === 0) return;
  const shown = names.slice(0, 4).join(', ') + (names.length > 4 ? `, … (${names.length - 4} more)` : '');
  const what = `${names.length} tensor(s) of ${ckpt.dir} are not used by its config.json: ${shown}`;
  if (strict) throw new TellmeError('E_CHECKPOINT', what, 'Fix config.json (num_hidden_layers, tie_word_embeddings, …) to match the weights, or drop --strict to ignore them.');
  process.stderr.write(`tellme: warning: ${what}; they are ignored (--strict refuses them)\n`);
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
  if (m.tokenizerError) throw m.tokenizerError;
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
