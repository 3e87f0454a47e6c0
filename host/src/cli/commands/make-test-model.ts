/** tellme make-test-model: write a deterministic BitNet checkpoint (tests, demos, benchmarks). */

import { existsSync, readdirSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { TellmeError } from '../../errors.js';
import { TEST_MODEL_PRESET_NAMES, writeTestModel, type TestModelInput, type TestModelPresetName } from '../../testmodels/index.js';
import { parseIntOption } from '../options.js';
import { progressBar } from '../progress.js';

interface Flags {
  preset: string;
  out: string;
  seed?: number;
  layers?: number;
  shards?: number;
  force?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('make-test-model')
    .description('write a deterministic random BitNet checkpoint in Hugging Face format')
    .requiredOption('--preset <name>', `one of: ${TEST_MODEL_PRESET_NAMES.join(', ')}`)
    .requiredOption('-o, --out <dir>', 'output directory')
    .option('--seed <n>', 'PRNG seed', parseIntOption('--seed', 0, 2 ** 32 - 1))
    .option('--layers <n>', 'override the number of layers', parseIntOption('--layers', 1, 1000))
    .option('--shards <n>', 'split the weights into n safetensors shards', parseIntOption('--shards', 1, 1000))
    .option('--force', 'replace an existing output directory')
    .option('--json', 'print a JSON summary')
    .action((flags: Flags) => {
      if (!(TEST_MODEL_PRESET_NAMES as string[]).includes(flags.preset)) {
        throw new TellmeError('E_USAGE', `unknown preset "${flags.preset}"`, `use one of: ${TEST_MODEL_PRESET_NAMES.join(', ')}`);
      }
      if (existsSync(flags.out) && readdirSync(flags.out).length > 0) {
        if (!flags.force) throw new TellmeError('E_USAGE', `${flags.out} exists and is not empty`, 'pass --force to replace it');
        rmSync(flags.out, { recursive: true, force: true });
      }
      const input: TestModelInput = { preset: flags.preset as TestModelPresetName };
      if (flags.seed !== undefined) input.seed = flags.seed;
      if (flags.layers !== undefined) input.layers = flags.layers;
      if (flags.shards !== undefined) input.shards = flags.shards;
      const bar = progressBar('writing');
      const t0 = performance.now();
      const r = writeTestModel(flags.out, input, { onProgress: (w, t) => bar.update(w, t, `${(w / 2 ** 20).toFixed(0)} MiB`) });
      bar.stop();
      const secs = (performance.now() - t0) / 1000;
      if (flags.json) {
        process.stdout.write(JSON.stringify({ dir: r.dir, files: r.files, bytes: r.bytes, seconds: secs }) + '\n');
      } else {
        process.stdout.write(`wrote ${r.dir} (${(r.bytes / 2 ** 20).toFixed(1)} MiB of weights, ${r.files.length} files) in ${secs.toFixed(1)} s\n`);
      }
    });
}
