/**
 * The `tellme` command line. Each command lives in commands/<name>.ts and exports
 * `register(program)`; this file only wires them and turns errors into exit codes.
 * Errors go to stderr as "tellme: <message>" plus a "fix:" line; the exit code is 1 for a
 * user error (TellmeError) and 2 for an internal one.
 */

import { Command, CommanderError } from 'commander';
import { isTellmeError } from '../errors.js';
import { commands } from './commands/index.js';
import { packageVersion } from './version.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('tellme')
    .description('Toolchain for the TeLLMe ternary LLM accelerator: convert, plan, run and verify BitNet b1.58 models.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of commands) register(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    return reportError(e);
  }
}

export function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    // Commander already printed its message (or the help / version text).
    return e.exitCode === 0 ? 0 : 1;
  }
  if (isTellmeError(e)) {
    process.stderr.write(`tellme: ${e.message}\n`);
    if (e.fix) process.stderr.write(`  fix: ${e.fix}\n`);
    return 1;
  }
  const err = e as Error;
  process.stderr.write(`tellme: internal error: ${err?.stack ?? String(e)}\n`);
  return 2;
}
