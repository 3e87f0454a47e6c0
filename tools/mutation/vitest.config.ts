// The vitest configuration of a mutation run: the main one, with the folder's tests only
// (tools/mutation/folders.mjs; the folder comes from TELLME_MUTATE, set by run.sh).
import { defineConfig } from 'vitest/config';
import { FOLDERS } from './folders.mjs';

const folder = process.env.TELLME_MUTATE ?? '';
// TELLME_MUTATE_TESTS (comma-separated) narrows a run to some of the folder's tests, e.g. a file's
// own fast tests, so that mutants every conversion reaches are not re-tested by whole conversions.
const include = process.env.TELLME_MUTATE_TESTS?.split(',') ?? (FOLDERS as Record<string, string[]>)[folder];
if (!include) throw new Error(`TELLME_MUTATE must be one of ${Object.keys(FOLDERS).join(', ')} (got "${folder}")`);

export default defineConfig({
  test: {
    include,
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // TELLME_MUTATION_ISOLATE=off: test files share one module graph (about 1.5x faster on image's
    // reader tests). Sound only when the mutated files keep no module state a test could change.
    isolate: process.env['TELLME_MUTATION_ISOLATE'] !== 'off',
  },
});
