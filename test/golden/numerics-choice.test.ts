/**
 * The per-build contract choices (hw/boards/*.json `numerics`, docs/numerics.md): a checkpoint runs
 * with the default board's choices or those of `--board`; an image with its own build's, and
 * `--board` naming another build is refused.
 */
import * as path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { register as registerGenerate } from '../../host/src/cli/commands/generate.js';
import { loadGolden, openModel } from '../../host/src/cli/model-source.js';
import { GoldenModel } from '../../host/src/golden/model.js';
import { goldenModelFromImage } from '../../host/src/golden/weights-image.js';
import { DEFAULT_BOARD, loadHwConfig } from '../../host/src/hwconfig/index.js';
import { openImage } from '../../host/src/image/reader.js';
import { convert, expectTellme, testModel } from '../image/helpers.js';

async function generateCli(args: string[]): Promise<void> {
  const p = new Command();
  p.exitOverride();
  registerGenerate(p);
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    await p.parseAsync(['node', 'tellme', 'generate', ...args]);
  } finally {
    process.stdout.write = write;
  }
}

describe('per-build numerics', () => {
  it('a checkpoint runs with the default board\'s choices, or those of --board', async () => {
    const ckpt = testModel({ preset: 'hf1bitllm-tiny' });
    const g = await GoldenModel.fromCheckpoint(ckpt, { threads: 1, contextLength: 8 });
    expect(g.numerics).toEqual(loadHwConfig(DEFAULT_BOARD).config.numerics);
    await g.close();
    for (const board of ['kv260', 'kv260-paper']) {
      const m = await loadGolden(openModel(ckpt.dir), { threads: 1, context: 8, board });
      expect(m.numerics).toEqual(loadHwConfig(board).config.numerics);
      await m.close();
    }
    await expectTellme(() => loadGolden(openModel(ckpt.dir), { threads: 1, board: 'no-such-board' }), 'E_HWCONFIG', 'unknown board "no-such-board"');
  });

  it('an image runs with its own build; --board naming another build is refused', async () => {
    const ckpt = testModel({ preset: 'bitnet-tiny-packed' });
    const { path: file } = await convert(ckpt, 'kv260-paper', { context: 16 });
    const g = await goldenModelFromImage(openImage(file), { threads: 1 });
    expect(g.numerics).toEqual(loadHwConfig('kv260-paper').config.numerics);
    await g.close();
    await generateCli(['--model', file, '--ids', '1,2', '-n', '1', '--json', '--threads', '1', '--board', 'kv260-paper']);
    await expectTellme(
      () => generateCli(['--model', file, '--ids', '1,2', '-n', '1', '--json', '--threads', '1', '--board', 'kv260']),
      'E_IMAGE',
      `${path.basename(file)}`,
      'image built for kv260-paper',
    );
  });
});
