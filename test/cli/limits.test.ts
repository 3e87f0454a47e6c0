/**
 * Implausible shapes and contexts (issue 11, crashes and hangs): a config.json claiming 100000
 * layers is refused before any plan is built or anything is allocated; a model claiming 1e9
 * positions runs with a capped default context (and says so), and a context that cannot be
 * allocated is refused with the largest one that can.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONTEXT_CAP } from '../../host/src/golden/model.js';
import { implausibleSpec, MODEL_LIMITS } from '../../host/src/model/spec.js';
import { builtinShape } from '../../host/src/plan/shapes.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import { rewriteManifest } from '../image/helpers.js';
import { ERROR_STYLE, tellmeInProcess as tellme } from './run-in-process.js';

let tmp: string;
let base: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-limits-'));
  base = path.join(tmp, 'base');
  writeTestModel(base, { preset: 'bitnet-tiny-packed' });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function withConfig(tag: string, edit: Record<string, unknown>): string {
  const dir = path.join(tmp, tag);
  fs.cpSync(base, dir, { recursive: true });
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), ...edit }));
  return dir;
}

describe('implausible model shapes', () => {
  it.each([
    [{ num_hidden_layers: 100000 }, /num_hidden_layers 100000 is not an integer in 1\.\.1024/],
    [{ hidden_size: 1 << 20, num_attention_heads: 1 << 14, num_key_value_heads: 1 << 14 }, /hidden_size 1048576 is not an integer in 1\.\.65536/],
    [{ vocab_size: 1e9 }, /vocab_size 1000000000/],
    [{ max_position_embeddings: 2 ** 40 }, /max_position_embeddings 1099511627776/],
    [{ rms_norm_eps: 5 }, /rms_norm_eps 5 is outside/],
    [{ rope_theta: 1e300 }, /rope_theta 1e\+300 is outside/],
  ])('%j is refused by plan, inspect and convert before anything is built', async (edit, words) => {
    const dir = withConfig(Object.keys(edit).join('-'), edit);
    for (const args of [['plan', dir], ['inspect', dir], ['convert', dir, '-o', path.join(tmp, 'x.tlm')]]) {
      const r = await tellme(...args);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(ERROR_STYLE);
      expect(r.stderr).toMatch(words);
      expect(r.stderr).toContain('config.json');
    }
  });

  it('every built-in shape is plausible, and each limit is exactly where it refuses', () => {
    for (const name of ['bitnet-large', 'bitnet-2b4t']) expect(implausibleSpec(builtinShape(name))).toEqual([]);
    const s = builtinShape('bitnet-large');
    expect(implausibleSpec({ ...s, numLayers: MODEL_LIMITS.numLayers })).toEqual([]);
    expect(implausibleSpec({ ...s, numLayers: MODEL_LIMITS.numLayers + 1 })).toHaveLength(1);
    expect(implausibleSpec({ ...s, numLayers: 1.5 })).toHaveLength(1);
    expect(implausibleSpec({ ...s, headDim: 95 })).toEqual(['head_dim 95 is odd; RoPE rotates pairs']);
    expect(implausibleSpec({ ...s, rmsNormEps: NaN })).toHaveLength(1);
  });
});

describe('implausible image manifests', () => {
  it('spec.numLayers 1e6 (with fresh checksums) is refused by inspect and generate at once', async () => {
    const img = path.join(tmp, 'layers.tlm');
    expect((await tellme('convert', base, '-o', img)).exitCode).toBe(0);
    rewriteManifest(img, (m) => void ((m['spec'] as Record<string, unknown>)['numLayers'] = 1e6));
    for (const args of [['inspect', img], ['generate', img, '--ids', '1', '-n', '1']]) {
      const r = await tellme(...args);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(ERROR_STYLE);
      expect(r.stderr).toContain('the model spec is implausible: num_hidden_layers 1000000 is not an integer in 1..1024');
    }
  });
});

describe('max_position_embeddings 1e9', () => {
  it('generate runs with a capped default context and says so; an unallocatable --context is refused', async () => {
    const dir = withConfig('positions', { max_position_embeddings: 1e9 });
    const ok = await tellme('generate', dir, '--ids', '1,2', '-n', '2', '--threads', '1', '--json');
    expect(ok.exitCode).toBe(0);
    expect(ok.stderr).toContain(`allows 1000000000 positions (max_position_embeddings); allocating ${DEFAULT_CONTEXT_CAP}`);
    expect(JSON.parse(ok.stdout).ids).toHaveLength(2);
    const r = await tellme('generate', dir, '--ids', '1,2', '-n', '2', '--context', '100000000');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(ERROR_STYLE);
    expect(r.stderr).toMatch(/--context 100000000 needs [\d.]+ GiB .*\n {2}fix: Pass --context \d+ or less\./);
  });
});
