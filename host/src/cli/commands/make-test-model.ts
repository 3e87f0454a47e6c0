/** tellme make-test-model: write a deterministic BitNet checkpoint (tests, demos, benchmarks). */

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { TellmeError } from '../../errors.js';
import { prepareOutputDir } from '../../files/output.js';
import { TEST_MODEL_PRESET_NAMES, writeTestModel, type TestModelInput, type TestModelPresetName } from '../../testmodels/index.js';
import { SHARED_OPTIONS } from '../conventions.js';
import { parseIntOption } from '../options.js';
import { progressBar } from '../progress.js';

interface Flags {
  preset: string;
  output: string;
  seed?: number;
  layers?: number;
  shards?: number;
  overwrite?: boolean;
  json?: boolean;
}

/**
 * The record make-test-model leaves in its output directory: what it wrote, so that --overwrite
 * recognises its own checkpoint and a directory that holds anything else is never touched.
 */
export const MARKER_FILE = 'tellme-test-model.json';

/** The files an earlier run recorded in its marker, or null when dir holds no marker of ours. */
function ownFiles(dir: string): string[] | null {
  const marker = path.join(dir, MARKER_FILE);
  try {
    const st = fs.lstatSync(marker);
    if (!st.isFile() || st.size > 1 << 20) return null;
    const j = JSON.parse(fs.readFileSync(marker, 'utf8')) as { written_by?: unknown; files?: unknown };
    if (j.written_by !== 'tellme make-test-model') return null;
    return Array.isArray(j.files) ? j.files.filter((f): f is string => typeof f === 'string') : [];
  } catch {
    return null;
  }
}

function isOwnCheckpoint(dir: string): boolean {
  return ownFiles(dir) !== null;
}

export function register(program: Command): void {
  program
    .command('make-test-model')
    .description('write a deterministic random BitNet checkpoint in Hugging Face format')
    .requiredOption('--preset <name>', `one of: ${TEST_MODEL_PRESET_NAMES.join(', ')}`)
    .requiredOption(SHARED_OPTIONS.output, 'checkpoint directory to write (absent or empty; its parent must exist)')
    .option(SHARED_OPTIONS.seed, 'PRNG seed', parseIntOption('--seed', 0, 2 ** 32 - 1))
    .option('--layers <n>', 'override the number of layers', parseIntOption('--layers', 1, 1000))
    .option('--shards <n>', 'split the weights into n safetensors shards', parseIntOption('--shards', 1, 1000))
    .option(SHARED_OPTIONS.overwrite, 'replace a checkpoint this command wrote earlier in that directory (other files there are kept)')
    .option(SHARED_OPTIONS.json, 'print a JSON summary')
    .action((flags: Flags) => {
      if (!(TEST_MODEL_PRESET_NAMES as string[]).includes(flags.preset)) {
        throw new TellmeError('E_USAGE', `unknown preset "${flags.preset}"`, `Use one of: ${TEST_MODEL_PRESET_NAMES.join(', ')}.`);
      }
      const dir = prepareOutputDir(flags.output, { what: 'the checkpoint', command: 'make-test-model', isOwnOutput: isOwnCheckpoint, overwrite: flags.overwrite === true });
      const input: TestModelInput = { preset: flags.preset as TestModelPresetName };
      if (flags.seed !== undefined) input.seed = flags.seed;
      if (flags.layers !== undefined) input.layers = flags.layers;
      if (flags.shards !== undefined) input.shards = flags.shards;
      const bar = progressBar('writing');
      const t0 = performance.now();
      let r;
      try {
        // Replace only what the earlier run recorded: a file it did not write is never deleted.
        r = writeTestModel(dir, input, { replaceFiles: ownFiles(dir) ?? [], onProgress: (w, t) => bar.update(w, t, `${(w / 2 ** 20).toFixed(0)} MiB`) });
      } finally {
        bar.stop();
      }
      fs.writeFileSync(path.join(dir, MARKER_FILE), JSON.stringify({ written_by: 'tellme make-test-model', options: r.options, files: r.files.map((f) => path.relative(dir, f)) }, null, 2) + '\n');
      const secs = (performance.now() - t0) / 1000;
      if (flags.json) {
        process.stdout.write(JSON.stringify({ dir: r.dir, files: r.files, bytes: r.bytes, seconds: secs }) + '\n');
      } else {
        process.stdout.write(`wrote ${r.dir} (${(r.bytes / 2 ** 20).toFixed(1)} MiB of weights, ${r.files.length} files) in ${secs.toFixed(1)} s\n`);
      }
    });
}
