/**
 * The command-line contract other tools rely on (issue: foundation §7), through a real process:
 * flags, JSON shapes, --help everywhere, errors on stderr with a non-zero exit code.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTestModel } from '../../host/src/testmodels/index.js';

/** Runs host/src/cli/run.ts with tsx: the same code as the built `tellme`, no build needed. */
function tellme(...args: string[]) {
  return execa('node', ['--import', 'tsx', 'host/src/cli/run.ts', ...args], { reject: false, timeout: 120_000 });
}

let withTok: string;
let noTok: string;
beforeAll(() => {
  withTok = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-cli-'));
  writeTestModel(withTok, { preset: 'hf1bitllm-tiny' });
  noTok = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-cli-'));
  writeTestModel(noTok, { preset: 'hf1bitllm-tiny', tokenizer: false });
});
afterAll(() => {
  for (const d of [withTok, noTok]) fs.rmSync(d, { recursive: true, force: true });
});

describe('tellme CLI contract', () => {
  it('logits --json prints {"argmax": [one id per position], "logits": [last position]}', async () => {
    const r = await tellme('logits', '--model', noTok, '--ids', '1,2,3', '--json');
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(r.stdout) as { argmax: number[]; logits: number[] };
    expect(j.argmax).toHaveLength(3);
    expect(j.logits).toHaveLength(320);
    expect(j.argmax[2]).toBe(j.logits.indexOf(Math.max(...j.logits)));
    const f = await tellme('logits', '--model', noTok, '--ids', '1,2,3', '--backend', 'float', '--json');
    expect(f.exitCode).toBe(0);
    expect((JSON.parse(f.stdout) as { argmax: number[] }).argmax).toHaveLength(3);
  });

  it('generate --json prints {"ids": [...]}; temperature 0 is greedy; a seed reproduces sampling', async () => {
    const g = await tellme('generate', '--model', noTok, '--ids', '1,2,3', '--max-new-tokens', '6', '--temperature', '0', '--json');
    expect(g.exitCode).toBe(0);
    const ids = (JSON.parse(g.stdout) as { ids: number[] }).ids;
    expect(ids).toHaveLength(6);
    const l = await tellme('logits', '--model', noTok, '--ids', '1,2,3', '--json');
    expect(ids[0]).toBe((JSON.parse(l.stdout) as { argmax: number[] }).argmax[2]);
    const s1 = await tellme('generate', '--model', noTok, '--ids', '1,2,3', '-n', '6', '--temperature', '30', '--top-k', '50', '--top-p', '0.9', '--seed', '5', '--json');
    const s2 = await tellme('generate', '--model', noTok, '--ids', '1,2,3', '-n', '6', '--temperature', '30', '--top-k', '50', '--top-p', '0.9', '--seed', '5', '--json');
    expect(s1.stdout).toBe(s2.stdout);
  });

  it('streams text with a tokenizer; without one, --ids still works and --prompt says what to do', async () => {
    const t = await tellme('generate', '--model', withTok, '--prompt', 'Hello', '-n', '4');
    expect(t.exitCode).toBe(0);
    expect(t.stdout.startsWith('Hello')).toBe(true);
    const e = await tellme('generate', '--model', noTok, '--prompt', 'Hello', '-n', '4');
    expect(e.exitCode).toBe(1);
    expect(e.stdout).toBe('');
    expect(e.stderr).toMatch(/has no tokenizer/);
    expect(e.stderr).toMatch(/fix: pass token ids with --ids/);
  });

  it('inspect describes a checkpoint; --json for scripts', async () => {
    const r = await tellme('inspect', '--model', noTok, '--json');
    expect(r.exitCode).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(j).toMatchObject({ architecture: 'LlamaForCausalLM', family: 'hf1bitllm', quantization: { weights: 'packed', weight_scale: 'divide' } });
    expect(typeof j['parameters']).toBe('number');
  });

  // --help of every command, in-process: test/cli/conventions.test.ts.
  it('has --help, and bad input exits non-zero with the message on stderr', async () => {
    const top = await tellme('--help');
    const names = [...top.stdout.matchAll(/^ {2}([a-z-]+) /gm)].map((m) => m[1]!).filter((n) => n !== 'help');
    expect(names).toEqual(expect.arrayContaining(['inspect', 'convert', 'plan', 'generate', 'logits', 'eval', 'make-test-model']));
    const h = await tellme('generate', '--help');
    expect(h.exitCode).toBe(0);
    expect(h.stdout).toMatch(/^Usage: tellme generate /);
    for (const args of [
      ['logits', '--model', '/nonexistent', '--ids', '1'],
      ['logits', '--model', noTok, '--ids', 'a,b'],
      ['logits', '--model', noTok, '--ids', '99999'],
      ['generate', '--model', noTok, '--ids', '1', '--top-p', '2'],
      ['nosuchcommand'],
    ]) {
      const r = await tellme(...args);
      expect(r.exitCode, args.join(' ')).not.toBe(0);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr.length, args.join(' ')).toBeGreaterThan(0);
    }
  }, 600_000); // seven processes: seconds on an idle machine, minutes when the machine is loaded
});
