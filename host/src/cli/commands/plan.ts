/**
 * `tellme plan`: will a model fit a board, where do its weights go, how fast will it run.
 * Needs only the model's shapes: a checkpoint directory (config.json is enough), a config.json,
 * a model image, or a built-in shape name.
 */
import * as path from 'node:path';
import type { Command } from 'commander';
import { TellmeError } from '../../errors.js';
import { loadHwConfig } from '../../hwconfig/load.js';
import { maximaProblems } from '../../hwconfig/maxima.js';
import { makePlan, planToJson } from '../../plan/plan.js';
import { planToHtml } from '../../plan/html.js';
import { cumulativeAblation, leaveOneOut } from '../../plan/ablation-table.js';
import { planToText } from '../../plan/report.js';
import { BUILTIN_SHAPES, builtinShape, modelSpecFromPath } from '../../plan/shapes.js';
import { applySettings } from '../../plan/variant.js';
import { checkOutputFile, writeOutputFile } from '../../files/output.js';
import { addModelInput, modelPath, SHARED_OPTIONS } from '../conventions.js';

export interface PlanCommandOptions {
  model?: string;
  shape?: string;
  board: string;
  json?: boolean;
  html?: string;
  kvLength?: string;
  prompts?: string;
  set?: string[];
  draftTokens?: string;
  acceptedPerPass?: string;
}

function positiveInt(v: string, flag: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new TellmeError('E_USAGE', `${flag} ${JSON.stringify(v)} is not a positive integer`, `Pass ${flag} as a whole number, e.g. ${flag} 128.`);
  return Number(v);
}

function positiveNumber(v: string, flag: string): number {
  const x = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !(x > 0)) throw new TellmeError('E_USAGE', `${flag} ${JSON.stringify(v)} is not a positive number`, `Pass ${flag} as a number, e.g. ${flag} 1.8.`);
  return x;
}

/** Run the command; returns what it printed (for tests) and throws E_FIT when the model does not fit. */
export function runPlan(opts: PlanCommandOptions, write: (s: string) => void = (s) => process.stdout.write(s)): void {
  if (!!opts.model === !!opts.shape) {
    throw new TellmeError(
      'E_USAGE',
      opts.model ? 'give either a model or --shape, not both' : 'nothing to plan: give a model (checkpoint directory, config.json or image) or --shape <name>',
      `Built-in shapes: ${Object.keys(BUILTIN_SHAPES).join(', ')}.`,
    );
  }
  const html = opts.html !== undefined ? { flag: '--html', what: 'the HTML report', inputs: opts.model ? [opts.model, path.join(opts.model, 'config.json')] : [] } : null;
  if (html) checkOutputFile(opts.html!, html);
  const hw = applySettings(loadHwConfig(opts.board), opts.set ?? []);
  const { spec, name } = opts.shape ? { spec: builtinShape(opts.shape), name: opts.shape } : (() => {
    const r = modelSpecFromPath(opts.model!);
    // config.json -> its directory's name; an image -> its file name
    const name = path.basename(r.source) === 'config.json' ? path.basename(path.dirname(r.source)) : path.basename(r.source);
    return { spec: r.spec, name: name || r.source };
  })();
  const context = opts.kvLength !== undefined ? positiveInt(opts.kvLength, '--kv-length') : undefined;
  const prompts = opts.prompts !== undefined ? opts.prompts.split(',').map((s) => positiveInt(s.trim(), '--prompts')) : undefined;
  const draftTokens = opts.draftTokens !== undefined ? positiveInt(opts.draftTokens, '--draft-tokens') : undefined;
  const acceptedPerPass = opts.acceptedPerPass !== undefined ? positiveNumber(opts.acceptedPerPass, '--accepted-per-pass') : undefined;
  const plan = makePlan(spec, hw, { context, prompts, modelName: name, draftTokens, acceptedPerPass });
  if (opts.json) write(JSON.stringify(planToJson(plan), null, 2) + '\n');
  else write(planToText(plan));
  if (html) {
    // For the kv260 build the report also carries the before/after tables (docs §3) for this
    // model; the cumulative one starts at the paper's build, so only for models within its maxima.
    let extras = {};
    if (hw.config.name === 'kv260' && plan.fits) {
      const paper = loadHwConfig('kv260-paper');
      const o = { draftTokens, acceptedPerPass };
      extras = { cumulative: maximaProblems(spec, paper).length === 0 ? cumulativeAblation(spec, paper, hw, o) : undefined, leaveOneOut: leaveOneOut(spec, paper, hw, o) };
    }
    writeOutputFile(opts.html!, planToHtml(plan, extras), html);
    if (!opts.json) write(`\nHTML report written to ${opts.html}\n`);
  }
  if (!plan.fits) {
    throw new TellmeError('E_FIT', `${name} does not fit ${hw.config.name}: ${plan.reasons.join('; ')}`, 'Use a board with larger synthesised maxima or more resources, a smaller model, or a shorter --kv-length.');
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('plan')
    .description('say whether a model fits a board and how fast it will run: URAM/DDR layout, resources, per-layer cycles, decode tokens/s and time to first token');
  addModelInput(cmd, 'Hugging Face checkpoint directory (config.json is enough), its config.json, or a model image')
    .option(SHARED_OPTIONS.shape, `built-in model shape instead of a model (${Object.keys(BUILTIN_SHAPES).join(', ')})`)
    .option(SHARED_OPTIONS.board, 'board profile name (hw/boards/*.json) or hardware description file', 'kv260')
    .option('--kv-length <n>', 'tokens in the KV cache for the decode figure (default 128)')
    .option('--prompts <list>', 'prompt lengths for time to first token, comma-separated (default 64,128,512)')
    .option('--draft-tokens <n>', 'drafts per multi-token verify pass (default 4)')
    .option('--accepted-per-pass <x>', 'tokens a verify pass yields on average, for decode_tokens_per_s_multi_token (default: the rate measured on the demo model for the draft count, docs/performance-model.md §5.1)')
    .option('--set <field=value>', 'change one field of the hardware description before planning, e.g. numerics.kv_format=int8 (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option(SHARED_OPTIONS.json, 'print one JSON object instead of the text report')
    .option('--html <file>', 'also write a self-contained HTML report (URAM map, latency charts)')
    .addHelpText(
      'after',
      '\nExamples:\n  tellme plan --shape bitnet-2b4t --board kv260\n  tellme plan ./bitnet_b1_58-large --board kv260-paper --json\n  tellme plan --shape bitnet-large --html plan.html --kv-length 1024\n  tellme plan --shape bitnet-2b4t --set numerics.kv_format=int8 --accepted-per-pass 2\n\nExit status: 0 when the model fits, 1 when it does not (the report is still printed) or on a usage error.',
    )
    .action((model: string | undefined, opts: PlanCommandOptions) => {
      const m = modelPath(model, opts, 'plan', false);
      runPlan({ ...opts, ...(m !== undefined ? { model: m } : {}) });
    });
}
