/**
 * The command-line conventions (README, "Command-line conventions"), checked on every registered
 * command, so a command added later is held to them too: flag spellings, the model argument,
 * --help, and one error style (tellme's errors and commander's alike) with a fix line.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command as CommanderCommand, type Command, type Option } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_ARGUMENT, RETIRED_OPTIONS, SHARED_OPTIONS } from '../../host/src/cli/conventions.js';
import { buildProgram, reportError } from '../../host/src/cli/main.js';
import { TellmeError } from '../../host/src/errors.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { ERROR_STYLE, tellmeInProcess as tellme } from './run-in-process.js';

const commands: Command[] = buildProgram().commands.filter((c) => c.name() !== 'help');
const SHORT_FLAGS = new Map(
  Object.values(SHARED_OPTIONS)
    .map((f) => /^(-[a-zA-Z]), (--[a-z-]+)/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!, m[2]!]),
);

let tmp: string;
let model: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-conv-'));
  model = path.join(tmp, 'model');
  writeTestModel(model, { preset: 'hf1bitllm-tiny', tokenizer: false });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Commands whose result is a report of checks, printed (each failed check with its own fix) before they exit 1. */
const REPORTS_BEFORE_FAILING = new Set(['doctor']);

/** A valid value for each required option a command may have; a new required option needs one here. */
function sampleValue(o: Option): string {
  const values: Record<string, () => string> = {
    '--ids': () => '1,2',
    '--output': () => path.join(tmp, `out-${Math.random().toString(36).slice(2)}`),
    '--preset': () => 'bitnet-tiny-packed',
    '--prompt': () => 'hi',
    // Not a real target: these checks must never start a simulation.
    '--target': () => 'no-such-target',
  };
  const v = values[o.long!];
  if (!v) throw new Error(`no sample value for the required option ${o.flags}: add one to sampleValue in test/cli/conventions.test.ts`);
  return v();
}

function requiredArgs(cmd: Command): string[] {
  return cmd.options.filter((o) => o.mandatory).flatMap((o) => [o.long!, sampleValue(o)]);
}

function hasModel(cmd: Command): boolean {
  return cmd.options.some((o) => o.long === '--model');
}

/** What breaks the spelling conventions in a command's declaration (flags, short forms, the model argument). */
function conventionProblems(cmd: Command): string[] {
  const name = cmd.name();
  const out: string[] = [];
  for (const o of cmd.options) {
    if (!/^--[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(o.long ?? '')) out.push(`${name} ${o.flags}: long options are lower-case and hyphenated`);
    const retired = RETIRED_OPTIONS[o.long ?? ''];
    if (retired) out.push(`${name} ${o.long}: use ${retired}`);
    const shared = (SHARED_OPTIONS as Record<string, string>)[(o.long ?? '').slice(2)];
    if (shared !== undefined && o.flags !== shared) out.push(`${name} ${o.flags}: spell it ${shared}`);
    if (o.short && SHORT_FLAGS.get(o.short) !== o.long) out.push(`${name} ${o.flags}: ${o.short} is ${SHORT_FLAGS.has(o.short) ? `reserved for ${SHORT_FLAGS.get(o.short)}` : 'not a one-letter form of the conventions'}`);
  }
  const args = cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`));
  if (hasModel(cmd) && (args.length !== 1 || args[0] !== MODEL_ARGUMENT)) out.push(`${name}: with --model the one argument is ${MODEL_ARGUMENT}`);
  if (!hasModel(cmd) && args.includes(MODEL_ARGUMENT)) out.push(`${name}: ${MODEL_ARGUMENT} without --model`);
  return out;
}

describe('every command follows the conventions', () => {
  it('the list of commands is the one the top-level help shows', async () => {
    const r = await tellme('--help');
    expect(r.exitCode).toBe(0);
    for (const c of commands) expect(r.stdout).toContain(`  ${c.name()}`);
    expect(commands.length).toBeGreaterThanOrEqual(7);
  });

  for (const cmd of commands) {
    const name = cmd.name();
    describe(name, () => {
      it('has a description and --help (stdout, exit 0)', async () => {
        expect(cmd.description().length).toBeGreaterThan(10);
        const r = await tellme(name, '--help');
        expect(r.exitCode).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^Usage: tellme ${name} `));
        expect(r.stderr).toBe('');
      });

      it('spells its options and its model argument by the conventions', () => {
        expect(conventionProblems(cmd)).toEqual([]);
      });

      it('an unknown option is an error in the one style, with a fix line', async () => {
        const r = await tellme(name, ...requiredArgs(cmd), '--no-such-option');
        expect(r.exitCode).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(ERROR_STYLE);
        expect(r.stderr).toContain("unknown option '--no-such-option'");
        expect(r.stderr).toContain(`fix: Run \`tellme ${name} --help\``);
      });

      it('a missing required option or a bad value is an error in the one style', async () => {
        const required = cmd.options.filter((o) => o.mandatory);
        if (required.length > 0) {
          const r = await tellme(name, ...(hasModel(cmd) ? [model] : []));
          expect(r.exitCode).toBe(1);
          expect(r.stderr).toMatch(ERROR_STYLE);
          expect(r.stderr).toMatch(/required option '.*' not specified/);
        }
        const withValue = cmd.options.find((o) => o.required && !o.mandatory);
        if (withValue) {
          const r = await tellme(name, ...(hasModel(cmd) ? [model] : []), ...requiredArgs(cmd), withValue.long!);
          expect(r.exitCode).toBe(1);
          expect(r.stderr).toMatch(ERROR_STYLE);
        }
      });

      if (cmd.options.some((o) => o.long === '--model')) {
        it('the model: a missing path, and two different models, are errors in the one style', async () => {
          const missing = await tellme(name, path.join(tmp, 'no-such-model'), ...requiredArgs(cmd));
          expect(missing.exitCode).toBe(1);
          if (!REPORTS_BEFORE_FAILING.has(name)) expect(missing.stdout).toBe('');
          expect(missing.stderr).toMatch(ERROR_STYLE);
          const two = await tellme(name, model, '--model', path.join(tmp, 'other'), ...requiredArgs(cmd));
          expect(two.exitCode).toBe(1);
          expect(two.stderr).toMatch(ERROR_STYLE);
          expect(two.stderr).toContain('two models given');
        });
      }
    });
  }

  it('the spelling check catches planted violations', () => {
    const c = new CommanderCommand('planted');
    c.option('-o, --out <dir>', 'retired spelling').option('-x, --threads <n>', 'wrong short form').option('--JSON', 'upper case').option('--board <b>', 'not the shared flags');
    c.option(SHARED_OPTIONS.model, 'model without the argument');
    expect(conventionProblems(c)).toEqual([
      'planted --out: use --output',
      'planted -o, --out <dir>: -o is reserved for --output',
      'planted -x, --threads <n>: spell it --threads <n>',
      'planted -x, --threads <n>: -x is not a one-letter form of the conventions',
      'planted --JSON: long options are lower-case and hyphenated',
      'planted --board <b>: spell it -b, --board <name|file>',
      'planted: with --model the one argument is [model]',
    ]);
  });
});

describe('the top level', () => {
  it('tellme alone prints the help and exits 0', async () => {
    const r = await tellme();
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tellme /);
    expect(r.stderr).toBe('');
  });

  it('an unknown command and an invalid value are errors in the one style', async () => {
    const u = await tellme('nosuchcommand');
    expect(u.exitCode).toBe(1);
    expect(u.stderr).toMatch(ERROR_STYLE);
    expect(u.stderr).toContain("unknown command 'nosuchcommand'");
    expect(u.stderr).toContain('fix: Run `tellme --help` for the list of commands.');
    const v = await tellme('generate', model, '--ids', '1', '--top-p', '2');
    expect(v.exitCode).toBe(1);
    expect(v.stderr).toMatch(ERROR_STYLE);
    expect(v.stderr).toContain("option '--top-p <p>' argument '2' is invalid. --top-p must be between");
  });

  it('the model by argument and by --model are the same', async () => {
    const a = await tellme('logits', model, '--ids', '1,2,3', '--json', '--threads', '1');
    const b = await tellme('logits', '--model', model, '--ids', '1,2,3', '--json', '--threads', '1');
    expect(a.exitCode).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  it('an internal error is exit 2 with a fix line and no stack trace; user errors are exit 1', () => {
    let out = '';
    expect(reportError(new RangeError('Invalid typed array length: -1'), (s) => (out += s))).toBe(2);
    expect(out).toBe('tellme: internal error: RangeError: Invalid typed array length: -1\n  fix: This is a bug in tellme: please report it with the command line that caused it (TELLME_DEBUG=1 prints the stack trace).\n');
    out = '';
    expect(reportError(new TellmeError('E_USAGE', 'bad', 'Do this.'), (s) => (out += s))).toBe(1);
    expect(out).toBe('tellme: bad\n  fix: Do this.\n');
  });

  it('text generation cut short by the context says so on stderr; --json says it in stop_reason', async () => {
    const t = await tellme('generate', model, '--ids', '1,2', '-n', '10', '--context', '4', '--threads', '1');
    expect(t.exitCode).toBe(0);
    expect(t.stdout.trim().split(',')).toHaveLength(3);
    expect(t.stderr).toContain('stopped after 3 of 10 tokens: the context of 4 positions is full');
    const j = await tellme('generate', model, '--ids', '1,2', '-n', '10', '--context', '4', '--threads', '1', '--json');
    expect(JSON.parse(j.stdout).stop_reason).toBe('context');
    expect(j.stderr).toBe('');
  });
});
