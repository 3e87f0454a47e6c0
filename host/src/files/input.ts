/**
 * The input-file policy of every command: a file tellme reads must be a regular file (a
 * directory, FIFO, socket or device is refused before it is opened, so `/dev/zero` or a named pipe
 * never blocks or reads forever), and a whole-file read is bounded by a size limit given by the
 * caller. Files are opened non-blocking and re-checked after opening, so a path swapped for a FIFO
 * between the check and the open is refused too.
 */

import * as fs from 'node:fs';
import { TellmeError, type UserErrorCode } from '../errors.js';

/** The largest JSON side file tellme reads whole (real tokenizer.json files are ~10-20 MB). */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;
/** The largest text file (a chat template) read whole. */
export const MAX_TEXT_BYTES = 4 * 1024 * 1024;

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function notRegular(file: string, st: fs.Stats, what: string, code: UserErrorCode): TellmeError {
  return new TellmeError(code, `${file} is ${kindOf(st)}; ${what} must be a regular file`, `Pass (or put in place) a regular file for ${what}.`);
}

/** stat of an input (following links), or null when it does not exist. */
export function statInput(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new TellmeError('E_NOT_FOUND', `${file}: cannot examine (${code ?? (e as Error).message})`, 'Check the path and its permissions.');
  }
}

/**
 * Open an input file for reading after checking that it is a regular file; returns the fd and
 * its size. `what` names the file's role in messages ("the safetensors file").
 */
export function openInputFile(file: string, what: string, code: UserErrorCode = 'E_USAGE'): { fd: number; size: number } {
  const st = statInput(file);
  if (!st) throw new TellmeError('E_NOT_FOUND', `${file}: no such file`, `Check the path of ${what}.`);
  if (!st.isFile()) throw notRegular(file, st, what, code);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    throw new TellmeError('E_NOT_FOUND', `${file}: cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'Check the path and file permissions.');
  }
  const fst = fs.fstatSync(fd);
  if (!fst.isFile()) {
    fs.closeSync(fd);
    throw notRegular(file, fst, what, code);
  }
  return { fd, size: fst.size };
}

/**
 * The whole content of a regular input file of at most `limit` bytes; null when it does not
 * exist (and `optional`), an error naming the file otherwise.
 */
export function readInputFile(file: string, opts: { what: string; limit: number; code?: UserErrorCode; optional?: boolean }): Buffer | null {
  const code = opts.code ?? 'E_USAGE';
  if (opts.optional && statInput(file) === null) return null;
  const { fd, size } = openInputFile(file, opts.what, code);
  try {
    if (size > opts.limit) {
      throw new TellmeError(code, `${file} is ${size} bytes, more than the ${opts.limit} bytes tellme reads for ${opts.what}`, `Check that ${file} is ${opts.what} (it is far larger than any real one).`);
    }
    const buf = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const n = fs.readSync(fd, buf, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return done === size ? buf : buf.subarray(0, done);
  } finally {
    fs.closeSync(fd);
  }
}

/** readInputFile as UTF-8 text. */
export function readInputText(file: string, opts: { what: string; limit: number; code?: UserErrorCode; optional?: boolean }): string | null {
  const b = readInputFile(file, opts);
  return b === null ? null : b.toString('utf8');
}
