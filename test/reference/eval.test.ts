/**
 * Golden vs float reference end to end on the generated test models, with the project's
 * acceptance thresholds: on every default prompt (two id sequences and two text prompts) the
 * logit cosine is at least 0.99 at every prompt position and the first 8 greedy tokens are
 * identical. The tiny presets cover bitnet packed and master, 1bitllm and hf1bitllm; two
 * variants complete the tied/untied x GQA/MHA matrix. Figures: docs/measurements.md (section 3).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { openCheckpoint, loadTokenizer } from '../../host/src/checkpoint/index.js';
import { register } from '../../host/src/cli/commands/eval.js';
import { evaluateCheckpoint, thresholdFailures, type EvalReport } from '../../host/src/eval/index.js';
import { isTellmeError } from '../../host/src/errors.js';
import { writeTestModel, type TestModelInput } from '../../host/src/testmodels/index.js';

const MIN_COSINE = 0.99;
const MIN_AGREE = 8;

interface Case {
  name: string;
  model: TestModelInput;
}

const CASES: Case[] = [
  { name: 'bitnet-tiny-packed (tied, GQA)', model: { preset: 'bitnet-tiny-packed' } },
  { name: 'bitnet-tiny-master (tied, GQA)', model: { preset: 'bitnet-tiny-master' } },
  { name: 'bitnet-tiny-master, MHA (tied, MHA)', model: { preset: 'bitnet-tiny-master', kvHeads: 6 } },
  { name: 'bitnet-tiny-packed, untied MHA', model: { preset: 'bitnet-tiny-packed', tied: false, kvHeads: 6, successor: 0.9 } },
  { name: '1bitllm-tiny (untied, MHA)', model: { preset: '1bitllm-tiny' } },
  { name: 'hf1bitllm-tiny (untied, GQA, no sub-norms)', model: { preset: 'hf1bitllm-tiny' } },
];

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function makeModel(input: TestModelInput): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-eval-'));
  dirs.push(dir);
  writeTestModel(dir, input);
  return dir;
}

async function evalModel(input: TestModelInput): Promise<EvalReport> {
  const dir = makeModel(input);
  return evaluateCheckpoint(openCheckpoint(dir), { steps: MIN_AGREE, tokenizer: loadTokenizer(dir), threads: 2 });
}

describe('golden vs float on the test models', () => {
  for (const c of CASES) {
    const title = `${c.name}: logit cosine >= ${MIN_COSINE}, ${MIN_AGREE} greedy tokens agree`;
    it(title, async () => {
      const r = await evalModel(c.model);
      expect(r.prompts.length).toBe(4);
      expect(thresholdFailures(r, { minAgree: MIN_AGREE })).toEqual([]);
      expect(thresholdFailures(r, { minCosine: MIN_COSINE })).toEqual([]);
    });
  }
});

/** Run `tellme eval` through commander; returns stdout and the error it threw, if any. */
async function cli(args: string[]): Promise<{ out: string; error: unknown }> {
  const program = new Command();
  program.exitOverride();
  register(program);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string | Uint8Array) => {
    out += typeof s === 'string' ? s : Buffer.from(s).toString();
    return true;
  }) as typeof process.stdout.write;
  let error: unknown = null;
  try {
    await program.parseAsync(['node', 'tellme', 'eval', ...args]);
  } catch (e) {
    error = e;
  } finally {
    process.stdout.write = write;
  }
  return { out, error };
}

describe('tellme eval', () => {
  const withTok = makeModel({ preset: 'hf1bitllm-tiny' });
  const noTok = makeModel({ preset: 'hf1bitllm-tiny', tokenizer: false });

  it('--json prints one report object; exit 0 without thresholds', async () => {
    const { out, error } = await cli(['--model', withTok, '--ids', '5,6,7,8', '--prompt', 'Hello world', '--max-new-tokens', '4', '--json', '--threads', '2']);
    expect(error).toBeNull();
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]!) as EvalReport;
    expect(r.prompts.map((p) => p.name)).toEqual(['ids', 'text']);
    expect(r.prompts[0]!.ids).toEqual([5, 6, 7, 8]);
    expect(r.prompts[1]!.text).toBe('Hello world');
    const p = r.prompts[0]!;
    expect(p.stages.map((s) => s.label)).toEqual(['embed', 'layer 0', 'layer 1', 'final norm']);
    expect(p.logits.positions).toBe(4);
    expect(p.greedy.golden).toHaveLength(4);
    expect(p.greedy.float).toHaveLength(4);
    expect(p.greedy.goldenMargins).toHaveLength(4);
    expect(r.summary.steps).toBe(4);
    expect(r.model.family).toBe('hf1bitllm');
  });

  it('prints a text report with the per-layer table and the ablations', async () => {
    const { out, error } = await cli(['--model', noTok, '--max-new-tokens', '2', '--ablations', '--threads', '2']);
    expect(error).toBeNull();
    expect(out).toMatch(/prompt ids-spread/);
    expect(out).toMatch(/prompt ids-repeat/);
    expect(out).not.toMatch(/prompt text-/);
    expect(out).toMatch(/layer 1 /);
    expect(out).toMatch(/all three +final norm cosine/);
    expect(out).toMatch(/^summary:/m);
  });

  it('exits 1 (E_NUMERICS) when a threshold is missed, after printing the report', async () => {
    // The int8 head alone keeps the logit cosine below 1.
    const { out, error } = await cli(['--model', noTok, '--ids', '5,6,7', '--max-new-tokens', '1', '--min-cosine', '1', '--threads', '2']);
    expect(out).toMatch(/summary:/);
    expect(isTellmeError(error) && error.code).toBe('E_NUMERICS');
    expect((error as Error).message).toMatch(/logit cosine .* < --min-cosine 1/);
  });

  it('passes thresholds that are met', async () => {
    const { error } = await cli(['--model', noTok, '--ids', '5,6,7', '--max-new-tokens', '3', '--min-cosine', '0.5', '--min-agree', '0', '--threads', '2']);
    expect(error).toBeNull();
  });

  it('refuses --min-agree above --max-new-tokens, and --prompt without a tokenizer', async () => {
    const a = await cli(['--model', noTok, '--max-new-tokens', '2', '--min-agree', '3']);
    expect(isTellmeError(a.error) && a.error.code).toBe('E_USAGE');
    const b = await cli(['--model', noTok, '--prompt', 'hi']);
    expect(isTellmeError(b.error) && b.error.code).toBe('E_TOKENIZER');
  });
});
