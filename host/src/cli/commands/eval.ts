/** tellme eval: measure the golden model against the float reference (training-time semantics). */

import type { Command } from 'commander';
import { TellmeError } from '../../errors.js';
import { checkPrompts, defaultPrompts, type EvalPrompt } from '../../eval/prompts.js';
import { DEFAULT_EVAL_STEPS, evaluate, thresholdFailures } from '../../eval/run.js';
import { formatReport } from '../../eval/format.js';
import { FloatReference } from '../../reference/model.js';
import { addModelInput, modelPath, SHARED_OPTIONS } from '../conventions.js';
import { BOARD_OPTION_HELP, loadGolden, openModel, requireCheckpoint, requireTokenizer } from '../model-source.js';
import { parseFloatOption, parseIds, parseIntOption } from '../options.js';
import { progressBar } from '../progress.js';

interface EvalFlags {
  model: string;
  ids: number[][];
  prompt: string[];
  maxNewTokens: number;
  json?: boolean;
  threads?: number;
  board?: string;
  minCosine?: number;
  minAgree?: number;
  ablations?: boolean;
  layers: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('eval')
    .description(
      'compare the golden model (bit-accurate accelerator) with the float reference (training-time fake-quant semantics): ' +
        'per-layer residual stream, logits, and greedy generation',
    );
  addModelInput(cmd, 'checkpoint directory')
    .option(SHARED_OPTIONS.ids, 'a prompt as comma-separated token ids (repeatable)', (v: string, prev: number[][]) => [...prev, parseIds(v)], [] as number[][])
    .option(SHARED_OPTIONS.prompt, 'a text prompt, encoded with the model\'s tokenizer (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option(SHARED_OPTIONS['max-new-tokens'], 'greedy tokens to generate per prompt', parseIntOption('--max-new-tokens', 0, 100000), DEFAULT_EVAL_STEPS)
    .option(SHARED_OPTIONS.json, 'print the whole report as one JSON object')
    .option(SHARED_OPTIONS.board, BOARD_OPTION_HELP)
    .option(SHARED_OPTIONS.threads, 'golden model threads (default: all cores)', parseIntOption('--threads', 1, 64))
    .option('--min-cosine <x>', 'exit 1 unless every prompt position\'s logit cosine is at least x', parseFloatOption('--min-cosine', -1, 1))
    .option('--min-agree <n>', 'exit 1 unless every prompt\'s first n greedy tokens agree', parseIntOption('--min-agree', 0, 100000))
    .option('--ablations', 'also run the float reference with the accelerator\'s storage formats (bf16 embedding, binary16 q/k/v, int8 head) to attribute the difference')
    .option('--no-layers', 'leave the per-layer table out of the text report')
    .addHelpText(
      'after',
      '\nWithout --ids or --prompt a default set runs: two fixed id sequences, plus two text prompts when the model has a tokenizer.\n' +
        'Disagreement is a measurement, not an error: the exit code is 0 unless --min-cosine or --min-agree is given and missed.',
    )
    .action(async (model: string | undefined, flags: EvalFlags) => {
      if (flags.minAgree !== undefined && flags.minAgree > flags.maxNewTokens) {
        throw new TellmeError('E_USAGE', `--min-agree ${flags.minAgree} is more than --max-new-tokens ${flags.maxNewTokens}`, `Pass --max-new-tokens ${flags.minAgree} or more.`);
      }
      const m = openModel(modelPath(model, flags, 'eval')!, flags.board !== undefined ? { board: flags.board } : {});
      const checkpoint = requireCheckpoint(m, 'tellme eval (the float reference)');
      const spec = checkpoint.spec;
      let prompts: EvalPrompt[] = [];
      flags.ids.forEach((ids, i) => prompts.push({ name: flags.ids.length > 1 ? `ids-${i + 1}` : 'ids', ids }));
      if (flags.prompt.length > 0) {
        const tok = requireTokenizer(m);
        flags.prompt.forEach((text, i) =>
          prompts.push({ name: flags.prompt.length > 1 ? `text-${i + 1}` : 'text', ids: tok.encode(text, { addSpecialTokens: true }), text }),
        );
      }
      if (prompts.length === 0) prompts = defaultPrompts(spec, m.tokenizer);
      const context = checkPrompts(spec, prompts, flags.maxNewTokens);

      const golden = await loadGolden(m, {
        ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
        ...(flags.board !== undefined ? { board: flags.board } : {}),
        context,
      });
      try {
        const refBar = progressBar('float reference');
        let reference: FloatReference;
        try {
          reference = await FloatReference.fromCheckpoint(checkpoint, { progress: (d, t, w) => refBar.update(d, t, w) });
        } finally {
          refBar.stop();
        }
        try {
          const bar = progressBar('evaluating');
          let report;
          try {
            report = await evaluate(golden, reference, prompts, {
              steps: flags.maxNewTokens,
              ablations: flags.ablations === true,
              progress: (d, t, w) => bar.update(d, t, w),
            });
          } finally {
            bar.stop();
          }
          process.stdout.write(flags.json ? JSON.stringify(report) + '\n' : formatReport(report, { layers: flags.layers }));
          const failures = thresholdFailures(report, {
            ...(flags.minCosine !== undefined ? { minCosine: flags.minCosine } : {}),
            ...(flags.minAgree !== undefined ? { minAgree: flags.minAgree } : {}),
          });
          if (failures.length > 0) {
            throw new TellmeError(
              'E_NUMERICS',
              `golden and float reference differ more than the thresholds allow: ${failures.join('; ')}`,
              'this is a measurement of the golden numerics; see the report above (and --ablations) for where the difference comes from',
            );
          }
        } finally {
          reference.dispose();
        }
      } finally {
        await golden.close();
      }
    });
}
