/** Run `tellme` in this process (the same main() the binary runs), capturing stdout, stderr and the exit code. */
import { main } from '../../host/src/cli/main.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function tellmeInProcess(...args: string[]): Promise<CliResult> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let stdout = '';
  let stderr = '';
  const text = (s: string | Uint8Array) => (typeof s === 'string' ? s : Buffer.from(s).toString());
  process.stdout.write = ((s: string | Uint8Array) => ((stdout += text(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((stderr += text(s)), true)) as typeof process.stderr.write;
  let exitCode: number;
  try {
    exitCode = await main(['node', 'tellme', ...args]);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return { exitCode, stdout, stderr };
}

/** The error style of every failure: "tellme: <message>" then "  fix: <what to do>", nothing on stdout. */
export const ERROR_STYLE = /^tellme: \S.*\n {2}fix: \S.*\n$/s;
