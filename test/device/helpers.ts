/**
 * Shared setup of the board tests: a small test model and its kv260 image, the golden model's
 * own generation for comparison, and the virtual board under test (the C virtual board when it
 * is built, else the TypeScript reference board of test/helpers/ts-vboard.sh).
 */

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { loadHwConfig } from '../../host/src/hwconfig/index.js';
import { convertCheckpoint } from '../../host/src/image/writer.js';
import { goldenModelFromImage } from '../../host/src/golden/weights-image.js';
import { openImage } from '../../host/src/image/reader.js';
import { goldenSession } from '../../host/src/golden/session.js';
import { generate, type GenerateOptions } from '../../host/src/runtime/generate.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { projectRoot } from '../../host/src/paths.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

export function tmpDir(tag: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `tellme-device-${tag}-`));
  dirs.push(d);
  return d;
}

/** The virtual board executable the tests run. */
export function vboardUnderTest(): string {
  const real = path.join(projectRoot(), 'build', 'vboard', 'tellme-vboard');
  return process.env.TELLME_VBOARD ?? (fs.existsSync(real) ? real : path.join(projectRoot(), 'test', 'helpers', 'ts-vboard.sh'));
}

export interface TestImage {
  dir: string;
  image: string;
}

/** A tiny checkpoint (with tokenizer) and its image for `board`. */
export async function testImage(board = 'kv260', context = 64): Promise<TestImage> {
  const dir = tmpDir('model');
  writeTestModel(dir, { preset: 'bitnet-tiny-packed' });
  const image = path.join(tmpDir('image'), `tiny.${board}.tlm`);
  await convertCheckpoint(openCheckpoint(dir), image, { hw: loadHwConfig(board), context, force: true });
  return { dir, image };
}

/** What the golden model generates from the image (the reference every board must equal). */
export async function goldenIds(image: string, prompt: number[], o: Omit<GenerateOptions, 'onToken'>): Promise<number[]> {
  const model = await goldenModelFromImage(openImage(image), { threads: 1 });
  try {
    return (await generate(goldenSession(model), prompt, o)).ids;
  } finally {
    await model.close();
  }
}
