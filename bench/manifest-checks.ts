/**
 * Benchmark: what the manifest checks (host/src/image/manifest-checks.ts, issue 11) add to
 * opening an image, against the checksum verification every open already does.
 *
 *   npx tsx bench/manifest-checks.ts [--preset bitnet-large-shape] [--board kv260] [--reps 5] [--json]
 *
 * Without --preset: the bundled demo model (models/tellme-shakespeare-6l). With --preset: a
 * generated checkpoint in build/bench/<preset> (the one bench/convert.ts uses, generated once).
 * The image is converted once into build/bench/; each repetition opens it without verification,
 * then times image.verifyChecksums() (every section's sha256 and the padding) and
 * checkManifestAgainstSections() separately. Reported: median and min of each, in ms.
 */

import { existsSync, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openCheckpoint } from '../host/src/checkpoint/open.js';
import { loadHwConfig } from '../host/src/hwconfig/index.js';
import { convertCheckpoint, openImage } from '../host/src/image/index.js';
import { checkManifestAgainstSections } from '../host/src/image/manifest-checks.js';
import { writeTestModel, type TestModelPresetName } from '../host/src/testmodels/index.js';

const { values } = parseArgs({
  options: {
    preset: { type: 'string' },
    board: { type: 'string', default: 'kv260' },
    reps: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});

const board = values.board!;
const reps = Number(values.reps);
const name = values.preset ?? 'tellme-shakespeare-6l';
let dir = 'models/tellme-shakespeare-6l';
if (values.preset) {
  dir = `build/bench/${values.preset}`;
  if (!existsSync(`${dir}/config.json`)) {
    process.stderr.write(`generating ${dir} (once) ...\n`);
    writeTestModel(dir, { preset: values.preset as TestModelPresetName });
  }
}
mkdirSync('build/bench', { recursive: true });
const image = `build/bench/${name}.${board}.checks.tlm`;
if (!existsSync(image)) await convertCheckpoint(openCheckpoint(dir), image, { hw: loadHwConfig(board), force: true });

const verifyMs: number[] = [];
const checksMs: number[] = [];
for (let i = 0; i < reps; i++) {
  const img = openImage(image, { verifyChecksums: false });
  let t = performance.now();
  img.verifyChecksums();
  verifyMs.push(performance.now() - t);
  t = performance.now();
  checkManifestAgainstSections(img);
  checksMs.push(performance.now() - t);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const result = {
  model: name,
  board,
  reps,
  verify_ms: { median: median(verifyMs), min: Math.min(...verifyMs) },
  checks_ms: { median: median(checksMs), min: Math.min(...checksMs) },
};
if (values.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
else {
  process.stdout.write(
    `${name} on ${board}, ${reps} reps: checksums ${result.verify_ms.median.toFixed(1)} ms (min ${result.verify_ms.min.toFixed(1)}), ` +
      `manifest checks ${result.checks_ms.median.toFixed(1)} ms (min ${result.checks_ms.min.toFixed(1)}), ` +
      `+${((100 * result.checks_ms.median) / result.verify_ms.median).toFixed(0)}% of the checksum time\n`,
  );
}
