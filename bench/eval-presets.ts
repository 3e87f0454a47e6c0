/**
 * Golden vs float on the generated test models: one table row per (preset, seed), the figures of
 * docs/measurements.md (section 3). Not a test (no assertions); run it directly:
 *
 *   npx tsx bench/eval-presets.ts [--presets a,b] [--seeds 1,2] [--max-new-tokens 16]
 *       [--set '{"weightScale":[0.2,0.3]}'] [--detail] [--json]
 *
 * --set applies generator overrides (TestModelOptions) to every preset, to try knob settings.
 * --detail also runs the storage-format ablations and prints, per model, the per-layer cosines
 * (worst prompt) and what each ablation leaves of the gap.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCheckpoint, loadTokenizer } from '../host/src/checkpoint/index.js';
import { evaluateCheckpoint, type EvalReport } from '../host/src/eval/index.js';
import { TEST_MODEL_PRESET_NAMES, writeTestModel, type TestModelInput, type TestModelPresetName } from '../host/src/testmodels/index.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const presets = (arg('--presets')?.split(',') ?? TEST_MODEL_PRESET_NAMES.filter((p) => p.includes('tiny'))) as TestModelPresetName[];
const seeds = (arg('--seeds') ?? '1').split(',').map(Number);
const steps = Number(arg('--max-new-tokens') ?? 16);
const overrides = JSON.parse(arg('--set') ?? '{}') as Partial<TestModelInput>;
const json = process.argv.includes('--json');
const detail = process.argv.includes('--detail');

const f = (x: number | null, d = 4) => (x === null ? 'n/a' : x.toFixed(d));

if (!json) {
  console.log('| preset | seed | logit cosine (worst position) | logit cosine (last positions) | max abs err / max abs logit | argmax agree | greedy tokens agreed (min over prompts, of ' + steps + ') | smallest margin | lowest layer cosine |');
  console.log('|---|---|---|---|---|---|---|---|---|');
}
const all: { preset: string; seed: number; report: EvalReport }[] = [];
for (const preset of presets) {
  for (const seed of seeds) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-eval-'));
    try {
      writeTestModel(dir, { ...overrides, preset, seed });
      const ckpt = openCheckpoint(dir);
      const report = await evaluateCheckpoint(ckpt, { steps, tokenizer: loadTokenizer(dir), ablations: detail });
      all.push({ preset, seed, report });
      const s = report.summary;
      const refMax = Math.max(...report.prompts.map((p) => p.logits.refMaxAbs));
      const agreed = report.prompts.map((p) => p.greedy.agreed).join('/');
      if (!json) {
        console.log(
          `| ${preset} | ${seed} | ${f(s.minLogitCosine, 6)} | ${f(s.minLastLogitCosine, 6)} | ${f(s.maxLogitAbsErr)} / ${f(refMax, 2)} | ${s.argmaxAgree}/${s.argmaxPositions} | ${s.minAgreed} (${agreed}) | ${f(s.minMargin)} | ${s.worstStage ? `${f(s.worstStage.cosine, 6)} (${s.worstStage.label})` : 'n/a'} |`,
        );
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}
if (detail && !json) {
  for (const { preset, seed, report } of all) {
    const worst = (label: string) => Math.min(...report.prompts.map((p) => p.stages.find((s) => s.label === label)!.cosine));
    const labels = report.prompts[0]!.stages.map((s) => s.label);
    console.log(`\n${preset} seed ${seed}: residual-stream cosine per stage (worst prompt): ` + labels.map((l) => `${l} ${f(worst(l), 6)}`).join(', '));
    const names = report.prompts[0]!.ablations!.map((a) => a.name);
    console.log(
      '  golden vs float with one storage format emulated (worst prompt; final norm / logits): ' +
        names
          .map((n) => {
            const rs = report.prompts.map((p) => p.ablations!.find((a) => a.name === n)!);
            return `${n} ${f(Math.min(...rs.map((r) => r.finalNorm.cosine)), 6)} / ${f(Math.min(...rs.map((r) => r.logitsMinCosine)), 6)}`;
          })
          .join('; '),
    );
  }
}
if (json) console.log(JSON.stringify(all));
