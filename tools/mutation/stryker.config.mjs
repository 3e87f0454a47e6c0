// Stryker (mutation testing) for one folder of host/src: see tools/mutation/run.sh.
import { readdirSync } from 'node:fs';
import { FOLDERS } from './folders.mjs';

const folder = process.env.TELLME_MUTATE ?? '';
if (!FOLDERS[folder]) throw new Error(`TELLME_MUTATE must be one of ${Object.keys(FOLDERS).join(', ')}`);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'tools/mutation/vitest.config.ts', related: false },
  // Every source file of the folder (TypeScript, and the JavaScript kernel reference in tlmm/),
  // but generated ones (gen/: made from hw/spec by host/src/hwgen, which the generator's own
  // "up to date" test compares byte for byte, so any mutant of them fails that test trivially).
  mutate: readdirSync(`host/src/${folder}`, { recursive: true })
    .map(String)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts') && !f.split(/[\\/]/).includes('gen'))
    .map((f) => `host/src/${folder}/${f}`),
  coverageAnalysis: 'perTest',
  // Two cores shared with other work: one test process.
  concurrency: 1,
  timeoutFactor: 3,
  // A mutant that loops forever costs timeoutMS plus a restart of the test process; 15 s over
  // three times the test's own time is far beyond a slow run of these small tests.
  timeoutMS: 15_000,
  // The first run covers every test with per-test coverage on a shared 2-core machine.
  dryRunTimeoutMinutes: 120,
  reporters: ['clear-text', 'json', 'html', 'progress-append-only'],
  jsonReporter: { fileName: `build/mutation/${folder}.json` },
  htmlReporter: { fileName: `build/mutation/${folder}.html` },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0, reportMutants: true },
  // Incremental mode: a re-run (after new tests, or a source change) re-tests only the mutants
  // whose file or covering tests changed; the rest keep their earlier result. Keep the file.
  incremental: true,
  incrementalFile: `build/mutation/${folder}.incremental.json`,
  tempDirName: `build/stryker-tmp-${folder}`,
  // Another folder's run may be going on in the same tree: its sandbox is not part of this one's.
  ignorePatterns: ['/build/stryker-tmp-*'],
  cleanTempDir: true,
  thresholds: { high: 95, low: 90, break: null },
};
