/**
 * Shared setup of the board tests: a small test model and its kv260 image, the golden model's
 * own generation for comparison, and the virtual board under test: the C virtual board
 * (firmware + simulated accelerator, build/vboard/tellme-vboard, built here by `make vboard`;
 * $TELLME_VBOARD overrides it).
 */

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
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

let built: string | null = null;
/** Building the virtual board from scratch verilates hw/rtl: minutes on a loaded machine. */
const VBOARD_BUILD_MS = 1_200_000;

/** The virtual board executable the tests run (make caches the build; a failed build fails the test). */
export function vboardUnderTest(): string {
  if (process.env.TELLME_VBOARD) return process.env.TELLME_VBOARD;
  if (!built) {
    execFileSync('make', ['-s', 'vboard'], { cwd: projectRoot(), timeout: VBOARD_BUILD_MS, stdio: ['ignore', 'ignore', 'pipe'] });
    built = path.join(projectRoot(), 'build', 'vboard', 'tellme-vboard');
  }
  return built;
}

/** Build the virtual board in a hook of the calling test file (a build is not a test's time). */
export function buildVboardFirst(): void {
  beforeAll(() => void vboardUnderTest(), VBOARD_BUILD_MS + 60_000);
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
