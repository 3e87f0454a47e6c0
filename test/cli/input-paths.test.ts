/**
 * The input-file policy (issue 11, crashes and hangs): a directory, FIFO or device where a file
 * is read is refused with a message naming it (no EISDIR stack trace, no read that blocks or
 * never ends), and a JSON file far larger than any real one is refused before it is read.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_BYTES } from '../../host/src/files/input.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { ERROR_STYLE, tellmeInProcess as tellme } from './run-in-process.js';

let tmp: string;
let base: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-in-'));
  base = path.join(tmp, 'base');
  writeTestModel(base, { preset: 'bitnet-tiny-packed', shards: 2 });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A copy of the base checkpoint with `file` replaced by what `make` puts there. */
function withReplaced(tag: string, file: string, make: (p: string) => void): string {
  const dir = path.join(tmp, tag);
  fs.cpSync(base, dir, { recursive: true });
  fs.rmSync(path.join(dir, file));
  make(path.join(dir, file));
  return dir;
}

async function refused(args: string[], words: RegExp) {
  const r = await tellme(...args);
  expect(r.exitCode, args.join(' ')).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(ERROR_STYLE);
  expect(r.stderr).toMatch(words);
}

const fifo = (p: string) => execFileSync('mkfifo', [p]);
const dir = (p: string) => fs.mkdirSync(p);

describe('inputs must be regular files', () => {
  it('a directory or FIFO in place of a shard, the index or a side file is refused, never read or waited on', async () => {
    const shard = fs.readdirSync(base).find((f) => /^model-00001-of-00002/.test(f))!;
    for (const [file, make, kind] of [
      [shard, dir, 'is a directory'],
      [shard, fifo, 'is a FIFO \\(named pipe\\)'],
      ['model.safetensors.index.json', fifo, 'is a FIFO \\(named pipe\\)'],
      ['config.json', fifo, 'is a FIFO \\(named pipe\\)'],
      ['config.json', dir, 'is a directory'],
      ['tokenizer_config.json', fifo, 'is a FIFO \\(named pipe\\)'],
      ['generation_config.json', dir, 'is a directory'],
    ] as const) {
      const d = withReplaced(`${file}-${make.name}`, file, make);
      await refused(['inspect', d], new RegExp(`${file.replace(/\./g, '\\.')} ${kind}; .* must be a regular file`));
    }
  });

  it('/dev/zero as the model or the board description is refused at once', async () => {
    await refused(['plan', '--model', '/dev/zero'], /\/dev\/zero is a device/);
    await refused(['plan', base, '--board', '/dev/zero'], /\/dev\/zero is a device/);
    await refused(['inspect', '/dev/zero'], /\/dev\/zero/);
    await refused(['generate', '/dev/zero', '--ids', '1'], /\/dev\/zero/);
  });

  it('a JSON file larger than the limit is refused before it is read', async () => {
    const d = withReplaced('huge-config', 'config.json', (p) => {
      fs.writeFileSync(p, '{}');
      fs.truncateSync(p, MAX_JSON_BYTES + 1); // sparse: no disk, but larger than any real config
    });
    await refused(['inspect', d], /config\.json is \d+ bytes, more than the \d+ bytes tellme reads/);
    await refused(['plan', '--model', path.join(d, 'config.json')], /config\.json is \d+ bytes/);
  });
});
