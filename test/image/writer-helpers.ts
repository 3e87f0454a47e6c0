/** Helpers of the writer-side image tests: test models with one tensor or file changed, and refused conversions. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import type { WriterTensor } from '../../host/src/checkpoint/index.js';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import type { Checkpoint } from '../../host/src/checkpoint/types.js';
import { loadHwConfig } from '../../host/src/hwconfig/index.js';
import { convertCheckpoint } from '../../host/src/image/index.js';
import { writeTestModel, type TestModelInput } from '../../host/src/testmodels/index.js';
import { rewriteSafetensors } from '../checkpoint/helpers.js';
import { expectTellme, tmpDir } from './helpers.js';

export const CORRUPT = 'The checkpoint is corrupt; re-download it.';

/** A test model whose safetensors file `edit` changed (one file: the presets' default). */
export function modelWith(input: TestModelInput, edit: (tensors: WriterTensor[]) => void, files: (dir: string) => void = () => {}): Checkpoint {
  const dir = tmpDir('model');
  writeTestModel(dir, input);
  rewriteSafetensors(path.join(dir, 'model.safetensors'), edit);
  files(dir);
  return openCheckpoint(dir);
}

/** Set element `index` of tensor `name` to the raw bits `bits` (bf16: 16 bits, float32: 32 bits). */
export function setBits(tensors: WriterTensor[], name: string, index: number, bits: number): void {
  const t = tensors.find((x) => x.name === name);
  if (!t) throw new Error(`no tensor ${name}`);
  const bytes = (t.data as Uint8Array).slice();
  const dv = new DataView(bytes.buffer);
  if (t.dtype === 'BF16') dv.setUint16(2 * index, bits, true);
  else if (t.dtype === 'F32') dv.setUint32(4 * index, bits >>> 0, true);
  else throw new Error(`setBits: ${t.dtype}`);
  t.data = bytes;
}

/** Convert for kv260 into a fresh directory, expect the refusal, and that nothing was left there. */
export async function refused(ckpt: Checkpoint, code: Parameters<typeof expectTellme>[1], fix: string | RegExp, ...fragments: (string | RegExp)[]) {
  const dir = tmpDir('refused');
  const err = await expectTellme(() => convertCheckpoint(ckpt, path.join(dir, 'm.tlm'), { hw: loadHwConfig('kv260') }), code, ...fragments);
  if (typeof fix === 'string') expect(err.fix).toBe(fix);
  else expect(err.fix).toMatch(fix);
  expect(fs.readdirSync(dir)).toEqual([]);
  return err;
}

