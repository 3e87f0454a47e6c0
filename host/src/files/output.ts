/**
 * The one output-path policy of every command (README, "Command-line conventions"):
 *  - the parent directory must exist; tellme never creates it;
 *  - an output is never one of the command's inputs (the same file by any path: a symlink, a
 *    hard link, `dir/../dir/config.json`);
 *  - an output file is written under a temporary name in its directory and renamed over the
 *    target only when complete, so a failed run leaves an existing file intact; the target must
 *    be absent or a regular file (a directory, symlink, FIFO or device is refused, never replaced);
 *  - an output directory must be absent (it is created) or empty, or hold an earlier output of the
 *    same command, which is replaced only with --overwrite and only file by file: tellme never
 *    deletes what it did not write.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TellmeError } from '../errors.js';

export interface OutputOptions {
  /** Files the command reads (absent ones are fine): the output may be none of them. */
  inputs?: readonly string[];
  /** The flag that names the output, for the fix line (default -o). */
  flag?: string;
  /** What is written, for messages ("the image", "the HTML report"). */
  what?: string;
}

function kindOf(st: fs.Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'a regular file';
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TellmeError('E_USAGE', `${p}: cannot examine the output path (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'Pass an output path in a directory you can read and write.');
  }
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

/** The parent directory of an output, which must exist; returns its real path. */
function existingParent(abs: string, flag: string): string {
  const parent = path.dirname(abs);
  const st = statOrNull(parent);
  if (!st) throw new TellmeError('E_NOT_FOUND', `output directory ${parent} does not exist`, `Create it first (mkdir -p ${parent}), or pass another ${flag} path.`);
  if (!st.isDirectory()) throw new TellmeError('E_USAGE', `${parent} is not a directory, so ${abs} cannot be written`, `Pass another ${flag} path.`);
  return fs.realpathSync(parent);
}

/** A path with its symbolic links resolved as far as it exists (the last component may be missing). */
function realPathOf(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realPathOf(parent), path.basename(abs));
  }
}

/** Refuse an output that is (or would replace) one of the inputs. `real` is the output's path with its parent resolved. */
function refuseInputs(abs: string, real: string, existing: fs.Stats | null, opts: OutputOptions): void {
  for (const input of opts.inputs ?? []) {
    const ist = statOrNull(input);
    const sameInode = ist !== null && existing !== null && existing.isFile() && ist.dev === existing.dev && ist.ino === existing.ino;
    if (sameInode || realPathOf(input) === real) {
      throw new TellmeError(
        'E_USAGE',
        `${abs} is one of this command's inputs (${input}); writing ${opts.what ?? 'the output'} there would destroy it`,
        'Pass an output path outside the files the command reads.',
      );
    }
  }
}

/**
 * Check an output file path against the policy; returns its absolute path. Does not write.
 */
export function checkOutputFile(target: string, opts: OutputOptions = {}): string {
  const flag = opts.flag ?? '-o';
  const abs = path.resolve(target);
  const realParent = existingParent(abs, flag);
  const st = lstatOrNull(abs);
  if (st && !st.isFile()) {
    const fix = st.isDirectory() ? `Pass a file name, e.g. ${flag} ${path.join(target, 'out')}.` : `Pass the path of a regular file (tellme replaces only regular files; ${st.isSymbolicLink() ? 'pass the link target instead' : 'a pipe or device cannot hold the output'}).`;
    throw new TellmeError('E_USAGE', `${abs} is ${kindOf(st)}; ${opts.what ?? 'the output'} is written as one regular file`, fix);
  }
  refuseInputs(abs, path.join(realParent, path.basename(abs)), st, opts);
  return abs;
}

/** A temporary file next to `abs`, opened for writing (exclusive); with a clear error when the directory is not writable. */
export function openTemporary(abs: string, flag = '-o'): { tmp: string; fd: number } {
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.partial-${process.pid}`);
  try {
    return { tmp, fd: fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new TellmeError('E_USAGE', `cannot create a file in ${path.dirname(abs)} (${code}: ${(e as Error).message})`, `Pass a ${flag} path in a directory you can write to${code === 'EEXIST' ? `, or remove the stale ${tmp}` : ''}.`);
  }
}

/** Write a whole output file by the policy: checked, written to a temporary file, renamed over the target. */
export function writeOutputFile(target: string, data: string | Uint8Array, opts: OutputOptions = {}): string {
  const abs = checkOutputFile(target, opts);
  const { tmp, fd } = openTemporary(abs, opts.flag);
  let ok = false;
  try {
    fs.writeFileSync(fd, data);
    fs.closeSync(fd);
    fs.renameSync(tmp, abs);
    ok = true;
  } finally {
    if (!ok) {
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
      fs.rmSync(tmp, { force: true });
    }
  }
  return abs;
}

export interface OutputDirOptions extends OutputOptions {
  /** Replace an earlier output of the same command (--overwrite). */
  overwrite?: boolean;
  /** True when a non-empty directory holds an earlier output of this command (and nothing would be lost by rewriting its files). */
  isOwnOutput: (dir: string) => boolean;
  /** The command, for messages ("make-test-model"). */
  command: string;
}

/** Check (and create when absent) an output directory by the policy; returns its absolute path. */
export function prepareOutputDir(target: string, opts: OutputDirOptions): string {
  const flag = opts.flag ?? '-o';
  const abs = path.resolve(target);
  const realParent = existingParent(abs, flag);
  const st = lstatOrNull(abs);
  refuseInputs(abs, path.join(realParent, path.basename(abs)), st, opts);
  if (!st) {
    try {
      fs.mkdirSync(abs);
    } catch (e) {
      throw new TellmeError('E_USAGE', `cannot create ${abs} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, `Pass a ${flag} path in a directory you can write to.`);
    }
    return abs;
  }
  if (!st.isDirectory()) {
    throw new TellmeError('E_USAGE', `${abs} is ${kindOf(st)}; ${opts.what ?? 'the output'} is a directory`, `Pass the path of a new or empty directory with ${flag}.`);
  }
  try {
    fs.accessSync(abs, fs.constants.W_OK);
  } catch {
    throw new TellmeError('E_USAGE', `${abs} is not writable`, `Pass a ${flag} directory you can write to.`);
  }
  if (fs.readdirSync(abs).length === 0) return abs;
  if (!opts.isOwnOutput(abs)) {
    throw new TellmeError(
      'E_USAGE',
      `${abs} is not empty and does not hold an earlier output of tellme ${opts.command}; tellme never deletes files it did not write`,
      `Pass a new or empty directory with ${flag}.`,
    );
  }
  if (!opts.overwrite) {
    throw new TellmeError('E_USAGE', `${abs} already holds an output of tellme ${opts.command}`, `Pass --overwrite to replace its files (other files there are kept), or pass another ${flag} directory.`);
  }
  return abs;
}
