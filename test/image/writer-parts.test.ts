/**
 * The writer's parts on their own: the plan's context (its range, the default, the board's
 * maximum) and fit problems, the small inputs (norm lookup, the source record of a sharded
 * checkpoint), the ternary head writer's checks of its own row count (the tokenizer's parts:
 * writer-tokenizer.test.ts).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { hwConfigFromObject, loadHwConfig } from '../../host/src/hwconfig/index.js';
import { normOf, readConvertInputs } from '../../host/src/image/convert-inputs.js';
import { ImageFile } from '../../host/src/image/image-file.js';
import { planImage } from '../../host/src/image/index.js';
import { sectionTable } from '../../host/src/image/section-table.js';
import { TernaryHeadWriter } from '../../host/src/image/write-ternary-head.js';
import { writeTestModel, type TestModelInput } from '../../host/src/testmodels/index.js';
import { expectTellme, tmpDir } from './helpers.js';

function checkpoint(input: TestModelInput) {
  const dir = tmpDir('model');
  writeTestModel(dir, input);
  return openCheckpoint(dir);
}

describe('planImage: the context', () => {
  const ckpt = () => checkpoint({ preset: 'hf1bitllm-tiny', tokenizer: false });
  it('1 and max_position_embeddings are accepted; 0, one more, a fraction and NaN are refused with the range', async () => {
    const c = ckpt();
    const hw = loadHwConfig('kv260');
    const max = c.spec.maxPositions;
    expect(max).toBe(256);
    expect(planImage(c.spec, hw, 1).context).toBe(1);
    expect(planImage(c.spec, hw, max).context).toBe(max);
    expect(planImage(c.spec, hw).context).toBe(max); // default: min(max_position_embeddings, the board's 4096)
    for (const bad of [0, max + 1, 1.5, Number.NaN]) {
      const err = await expectTellme(() => planImage(c.spec, hw, bad), 'E_USAGE', `--context must be an integer in 1..${max} (max_position_embeddings), got ${bad}`);
      expect(err.fix).toBe(`Pass --context between 1 and ${max}.`);
    }
  });

  it("a context past the board's maximum is a fit problem (not at the maximum); the default stops at the maximum", () => {
    const hw = loadHwConfig('kv260');
    const boardMax = hw.config.maxima.context;
    const spec = { ...ckpt().spec, maxPositions: boardMax + 1 };
    expect(planImage(spec, hw).context).toBe(boardMax);
    expect(planImage(spec, hw, boardMax).problems).toEqual([]);
    expect(planImage(spec, hw, boardMax + 1).problems).toEqual([`context ${boardMax + 1} exceeds the ${boardMax} positions kv260 is built for`]);
  });
});

describe('the small inputs', () => {
  it('normOf: a role the model has, and an internal error for one it has not', async () => {
    const c = checkpoint({ preset: 'hf1bitllm-tiny', tokenizer: false });
    const inputs = readConvertInputs(c);
    expect(normOf(inputs.norms, 'final', 0)).toBe(inputs.norms.final);
    expect(normOf(inputs.norms, 'input', 1)).toBe(inputs.norms.layers[1]!.input);
    await expectTellme(() => normOf(inputs.norms, 'attn_sub', 1), 'E_INTERNAL', 'no attn_sub norm in layer 1');
    expect(inputs.normAbsmax[1]!.attn_sub).toBeNull();
    expect(inputs.tokenizerJson).toBeNull();
  });

  it('the source record of a sharded checkpoint: every file by name and size, in order, and the config hash', () => {
    const c = checkpoint({ preset: 'bitnet-tiny-packed', shards: 3, tokenizer: false });
    const src = readConvertInputs(c).source;
    const names = fs.readdirSync(c.dir).filter((f) => f.endsWith('.safetensors')).sort();
    expect(names).toHaveLength(3);
    expect(src.files).toEqual(names.map((name) => ({ name, bytes: fs.statSync(path.join(c.dir, name)).size })));
    expect(src.config_sha256).toBe(createHash('sha256').update(fs.readFileSync(path.join(c.dir, 'config.json'))).digest('hex'));
    expect({ kind: src.kind, path: src.path, family: src.family, weight_storage: src.weight_storage, scale_convention: src.scale_convention, dtype: src.dtype }).toEqual({
      kind: 'hf-checkpoint',
      path: c.dir,
      family: 'bitnet',
      weight_storage: 'packed',
      scale_convention: 'multiply',
      dtype: 'bfloat16',
    });
  });
});

describe('the ternary head writer counts its rows', () => {
  it('more rows than the head has, and finishing before every tile is written, are internal errors', async () => {
    const c = checkpoint({ preset: 'hf1bitllm-tiny', tokenizer: false, vocab: 40 });
    const base = loadHwConfig('kv260');
    const hw = hwConfigFromObject({ ...base.config, numerics: { ...base.config.numerics, lm_head: 'ternary-shortlist', shortlist_k: 4 } }, 'shortlist');
    const plan = planImage(c.spec, hw);
    const head = plan.uram.head!;
    const table = sectionTable(c.spec, plan.ddr, false, readConvertInputs(c));
    const h = c.spec.hiddenSize;
    const out = path.join(tmpDir('head'), 'x.tlm');
    const done = new Error('stop here');
    await expect(
      ImageFile.write(out, table.sections, table.manifestOffset, async (file) => {
        const w = new TernaryHeadWriter(head, hw, file);
        w.rows(new Float32Array(7 * h).fill(0.5));
        await expectTellme(() => w.finish(), 'E_INTERNAL', `ternary head: 0 of ${head.tiles.length} tiles written`);
        w.rows(new Float32Array(33 * h).fill(-0.25));
        await expectTellme(() => w.rows(new Float32Array(h)), 'E_INTERNAL', 'ternary head: more than 40 rows');
        throw done;
      }),
    ).rejects.toBe(done);
    expect(fs.existsSync(out)).toBe(false);
  });
});
