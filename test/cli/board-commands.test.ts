/**
 * The board-facing commands through real processes against a virtual board (the C one when
 * built, else the TypeScript reference board): `generate --sim` prints exactly what the golden
 * `generate` prints (JSON and streamed text), `chat` keeps its answers equal across backends,
 * `doctor` checks machine and board, and conflicting or broken targets fail with a fix line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { testImage, vboardUnderTest, type TestImage, buildVboardFirst } from '../device/helpers.js';

buildVboardFirst();

function tellme(args: string[], input?: string) {
  return execa('node', ['--import', 'tsx', 'host/src/cli/run.ts', ...args], {
    reject: false,
    timeout: 300_000,
    env: { TELLME_VBOARD: vboardUnderTest(), XDG_CACHE_HOME: path.join(img.dir, 'cache') },
    ...(input !== undefined ? { input } : {}),
  });
}

let img: TestImage;
beforeAll(async () => {
  img = await testImage('kv260', 96);
}, 300_000);

describe('board-facing commands', () => {
  it('generate --sim prints what the golden model prints (--json, sampled; and streamed text from a checkpoint converted on the fly)', async () => {
    const args = ['generate', '--model', img.image, '--ids', '1,7,9,30', '-n', '10', '--temperature', '0.7', '--top-k', '30', '--seed', '3', '--json'];
    const [golden, sim] = await Promise.all([tellme(args), tellme([...args, '--sim'])]);
    expect(sim.stderr).toBe('');
    expect(sim.exitCode).toBe(0);
    expect(sim.stdout).toBe(golden.stdout);
    expect(JSON.parse(sim.stdout).ids).toHaveLength(10);
    const text = ['generate', '--model', img.dir, '--prompt', 'The', '-n', '8'];
    const [gt, st] = await Promise.all([tellme(text), tellme([...text, '--sim', 'csim'])]);
    expect(st.exitCode, st.stderr).toBe(0);
    expect(st.stdout).toBe(gt.stdout);
    expect(st.stdout.startsWith('The')).toBe(true);
  });

  it('chat keeps the conversation and answers on the board as on the golden model', async () => {
    const input = 'hello there\nand again\n/exit\n';
    const args = ['chat', '--model', img.image, '-n', '6', '--temperature', '0.5', '--seed', '11'];
    const [golden, sim] = await Promise.all([tellme(args, input), tellme([...args, '--sim'], input)]);
    expect(sim.exitCode, sim.stderr).toBe(0);
    expect(sim.stdout).toBe(golden.stdout);
    expect(sim.stdout.split('\n').filter((l) => l !== '').length).toBeGreaterThanOrEqual(1);
  });

  it('doctor checks the machine and the virtual board', async () => {
    const r = await tellme(['doctor', '--sim', '--model', img.image, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; status: string; detail: string }[] };
    expect(j.ok).toBe(true);
    const by = Object.fromEntries(j.checks.map((c) => [c.name, c]));
    expect(by['handshake']!.detail).toMatch(/protocol 1\.0/);
    expect(by['hardware set']!.detail).toMatch(/= hw\/boards\/kv260\.json/);
    expect(by['model image']!.status).toBe('ok');
    const bad = await tellme(['doctor', '--device', '/dev/nonexistent-tty']);
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toMatch(/fail  tty: \/dev\/nonexistent-tty: ENOENT/);
    expect(bad.stdout).toMatch(/fix: /);
  });

  it('refuses two targets, and names the fix when the board cannot be reached', async () => {
    const two = await tellme(['generate', '--model', img.image, '--ids', '1', '--sim', '--tcp', '127.0.0.1:1']);
    expect(two.exitCode).toBe(1);
    expect(two.stderr).toMatch(/--tcp and --sim name different boards/);
    const none = await tellme(['generate', '--model', img.image, '--ids', '1', '--tcp', '127.0.0.1:1']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toMatch(/cannot connect to 127\.0\.0\.1:1/);
    expect(none.stderr).toMatch(/fix: /);
  });
});

describe('Ctrl-C on a board', () => {
  it('cancels the generation at the board and prints what came', async () => {
    // A virtual board that takes 300 ms per token, so Ctrl-C lands mid-decode.
    const slow = path.join(img.dir, 'slow-vboard.sh');
    fs.writeFileSync(slow, `#!/bin/sh\nexec "${vboardUnderTest()}" "$@" --token-delay-ms 300\n`, { mode: 0o755 });
    const child = execa('node', ['--import', 'tsx', 'host/src/cli/run.ts', 'generate', '--model', img.image, '--ids', '1,2,3', '-n', '60', '--sim'], {
      reject: false,
      timeout: 300_000,
      env: { TELLME_VBOARD: slow },
    });
    // The model has a tokenizer, so text streams per token: Ctrl-C after the third piece.
    let pieces = 0;
    child.stdout!.on('data', () => {
      if (++pieces === 3) child.kill('SIGINT');
    });
    const timer = setTimeout(() => child.kill('SIGINT'), 120_000);
    const r = await child;
    clearTimeout(timer);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/cancelling/);
    expect(r.stderr).toMatch(/tellme: cancelled after (\d+) tokens \(Ctrl-C\); the board is ready for the next command/);
    const n = Number(/cancelled after (\d+) tokens/.exec(r.stderr)![1]);
    expect(n).toBeLessThan(60);
  });
});
