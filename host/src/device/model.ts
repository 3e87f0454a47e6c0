/**
 * Getting a model onto a board: a model image as it is (refused up front when it was converted
 * for another hardware set), or a checkpoint directory converted on the fly for the board's own
 * hardware set (cached by content, so the next run reuses it); then uploaded (resuming a partial
 * upload), or loaded from a path on the board's disk; then a session opened.
 */

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCheckpoint } from '../checkpoint/open.js';
import { TellmeError } from '../errors.js';
import { listBoards, loadHwConfig } from '../hwconfig/index.js';
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { convertCheckpoint } from '../image/writer.js';
import { openImage, type ModelImage } from '../image/reader.js';
import type { SessionOkFields } from '../protocol/gen/protocol.js';
import type { Board, UploadProgress } from './board.js';

export interface PrepareOptions {
  /** Session context (default: the image's). */
  context?: number;
  /** Load this path on the board's own disk instead of uploading. */
  imageOnBoard?: string;
  /** Where converted checkpoints are kept (default $XDG_CACHE_HOME/tellme/images). */
  cacheDir?: string;
  onConvert?: (done: number, total: number, what: string) => void;
  onUpload?: UploadProgress;
  /** Called when an upload starts (and where it resumes). */
  onUploadStart?: (resumeFrom: number, size: number) => void;
}

export interface PreparedModel {
  image: ModelImage;
  session: SessionOkFields;
  uploaded: boolean;
}

/** The bundled hardware set whose hash is the board's (a board's image must be converted for it). */
export function boardHardware(board: Board): LoadedHwConfig {
  const hash = board.hwHash;
  for (const name of listBoards()) {
    const hw = loadHwConfig(name);
    if (hw.hash === hash) return hw;
  }
  throw new TellmeError(
    'E_HWCONFIG',
    `the board reports hardware set "${board.hello?.board}" with hash ${hash.slice(0, 12)}…, which matches none of this tellme's hw/boards/*.json`,
    'convert the model yourself for that build (tellme convert --board <its JSON file>) and pass the image with --model, or update tellme',
  );
}

export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'tellme', 'images');
}

/** Cache key: the checkpoint's files (name, size, mtime), the hardware hash and the context. */
function conversionKey(dir: string, hw: LoadedHwConfig, context: number | undefined): string {
  const h = createHash('sha256');
  h.update(`${fs.realpathSync(dir)}\n${hw.hash}\n${context ?? 'default'}\n`);
  for (const f of fs.readdirSync(dir).sort()) {
    const st = fs.statSync(path.join(dir, f));
    if (st.isFile()) h.update(`${f} ${st.size} ${st.mtimeMs}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

/** The image for `modelPath` on this board: the image itself, or the checkpoint converted for it. */
export async function imageForBoard(board: Board, modelPath: string, opts: PrepareOptions = {}): Promise<ModelImage> {
  if (!fs.existsSync(modelPath)) {
    throw new TellmeError('E_NOT_FOUND', `${modelPath} does not exist`, 'pass --model <checkpoint directory> or a model image made by tellme convert');
  }
  if (!fs.statSync(modelPath).isDirectory()) {
    const image = openImage(modelPath);
    board.checkHardware(image);
    return image;
  }
  const hw = boardHardware(board);
  const cache = opts.cacheDir ?? defaultCacheDir();
  fs.mkdirSync(cache, { recursive: true });
  const out = path.join(cache, `${path.basename(path.resolve(modelPath))}.${hw.config.name}.${conversionKey(modelPath, hw, opts.context)}.tlm`);
  if (fs.existsSync(out)) {
    try {
      return openImage(out, { hw });
    } catch {
      fs.rmSync(out, { force: true }); // a damaged cache entry: convert again
    }
  }
  await convertCheckpoint(openCheckpoint(modelPath), out, {
    hw,
    ...(opts.context !== undefined ? { context: opts.context } : {}),
    ...(opts.onConvert ? { progress: opts.onConvert } : {}),
  });
  return openImage(out, { hw });
}

/** Load the model onto the board (unless it holds it already) and open a session. */
export async function prepareModel(board: Board, modelPath: string, opts: PrepareOptions = {}): Promise<PreparedModel> {
  const image = await imageForBoard(board, modelPath, opts);
  let uploaded = false;
  if (opts.imageOnBoard !== undefined) {
    await board.loadPath(opts.imageOnBoard);
    if (!board.hasImage(image)) {
      throw new TellmeError('E_IMAGE', `the board's ${opts.imageOnBoard} is not the image of --model ${modelPath} (their manifest hashes differ)`, 'copy the image to the board again, or pass the matching --model');
    }
  } else if (!board.hasImage(image)) {
    await board.upload(image, path.basename(image.path), opts.onUpload, opts.onUploadStart);
    uploaded = true;
  }
  const session = await board.openSession(opts.context ?? 0);
  return { image, session, uploaded };
}
