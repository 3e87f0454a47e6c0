/**
 * The `tellme` command line. Each command lives in commands/<name>.ts and exports
 * `register(program)`; this file only wires them and turns errors into exit codes.
 *
 * One error style for everything (README, "Command-line conventions"): stderr gets
 * "tellme: <message>" and a "  fix: <what to do>" line, stdout nothing more. Commander's own
 * errors (unknown option, missing value, invalid value, unknown command) are rewritten into it.
 * Exit codes: 0 success (also `tellme` alone, --help, --version), 1 a user error, 2 a bug in
 * tellme (an internal error; TELLME_DEBUG=1 adds the stack trace).
 */

import { Command, CommanderError } from 'commander';
import { isTellmeError, TellmeError } from '../errors.js';
import { commands } from './commands/index.js';
import { packageVersion } from './version.js';

const SUCCESS_CODES = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

/** Commander's error for command `name` (undefined: the top level) as a TellmeError with a fix line. */
export function usageError(err: CommanderError, name: string | undefined): TellmeError {
  const message = err.message
    .replace(/^error: /, '')
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .join(' ');
  const help = name ? `tellme ${name} --help` : 'tellme --help';
  const fix =
    err.code === 'commander.unknownCommand'
      ? `Run \`${help}\` for the list of commands.`
      : err.code === 'commander.invalidArgument'
        ? `Run \`${help}\` for the values each option takes.`
        : `Run \`${help}\` for its arguments and options.`;
  return new TellmeError('E_USAGE', message, fix);
}

function rewriteErrors(cmd: Command, name: string | undefined): void {
  cmd.exitOverride((err) => {
    if (SUCCESS_CODES.has(err.code) && err.exitCode === 0) throw err;
    throw usageError(err, name);
  });
  cmd.configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: () => {} });
  for (const sub of cmd.commands) rewriteErrors(sub, name ? `${name} ${sub.name()}` : sub.name());
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('tellme')
    .description('Toolchain for the TeLLMe ternary LLM accelerator: convert, plan, run and verify BitNet b1.58 models.')
    .version(packageVersion(), '-V, --version');
  for (const register of commands) register(program);
  rewriteErrors(program, undefined);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  if (argv.length <= 2) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    return reportError(e);
  }
}

export function reportError(e: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  if (e instanceof CommanderError) {
    if (e.exitCode === 0) return 0;
    return reportError(usageError(e, undefined), write);
  }
  const debug = process.env['TELLME_DEBUG'] === '1';
  if (isTellmeError(e) && e.code !== 'E_INTERNAL') {
    write(`tellme: ${e.message}\n  fix: ${e.fix}\n`);
    if (debug) write(`${e.stack}\n`);
    return 1;
  }
  // A bug: an internal error, or an exception tellme did not anticipate (each one is a missing check).
  const err = e as Error | undefined;
  const message = err instanceof Error ? `${err.name === 'Error' || err.name === 'TellmeError' ? '' : `${err.name}: `}${err.message}` : String(e);
  write(`tellme: internal error: ${message}\n`);
  write(`  fix: ${isTellmeError(e) && e.fix ? e.fix : 'This is a bug in tellme: please report it with the command line that caused it (TELLME_DEBUG=1 prints the stack trace).'}\n`);
  if (debug && err instanceof Error) write(`${err.stack}\n`);
  return 2;
}
