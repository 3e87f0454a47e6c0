/** tellme generate: stream text (or ids) from a checkpoint with the golden model, or on a board. */

import type { Command } from 'commander';
import { TellmeError } from '../../errors.js';
import { goldenSession } from '../../golden/session.js';
import { generate } from '../../runtime/generate.js';
import { commandTarget } from '../board-session.js';
import { generateOnBoard } from '../board-generate.js';
import { addModelInput, modelPath, SHARED_OPTIONS } from '../conventions.js';
import { BOARD_OPTION_HELP, loadGolden, openModel, requireTokenizer } from '../model-source.js';
import { parseFloatOption, parseIds, parseIntOption } from '../options.js';
import { withTargetOptions, type TargetOptionFlags } from '../target-options.js';
import { TokenPrinter } from '../token-printer.js';

interface GenerateFlags extends TargetOptionFlags {
  model: string;
  prompt?: string;
  ids?: number[];
  chat?: boolean;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  draftTokens: number;
  json?: boolean;
  threads?: number;
  board?: string;
  context?: number;
  stats?: boolean;
}

export function register(program: Command): void {
  const cmd = withTargetOptions(program.command('generate')).description(
    'generate tokens from a Hugging Face BitNet checkpoint or a model image with the bit-accurate golden model, or on a board (--device, --tcp, --pcie, --sim)',
  );
  addModelInput(cmd, 'checkpoint directory (config.json, model.safetensors, tokenizer.json) or model image')
    .option(SHARED_OPTIONS.prompt, 'prompt text (needs tokenizer.json)')
    .option(SHARED_OPTIONS.ids, 'prompt as comma-separated token ids', parseIds)
    .option('--chat', 'wrap the prompt in the tokenizer chat template as a user message')
    .option(SHARED_OPTIONS['max-new-tokens'], 'tokens to generate', parseIntOption('--max-new-tokens', 0), 64)
    .option(SHARED_OPTIONS.temperature, 'sampling temperature; 0 is greedy', parseFloatOption('--temperature', 0, 100), 0)
    .option(SHARED_OPTIONS['top-k'], 'keep the k most likely tokens (0: off)', parseIntOption('--top-k', 0), 0)
    .option(SHARED_OPTIONS['top-p'], 'nucleus sampling mass (1: off)', parseFloatOption('--top-p', Number.MIN_VALUE, 1), 1)
    .option(SHARED_OPTIONS.seed, 'PRNG seed for sampling', parseIntOption('--seed', 0, 2 ** 32 - 1), 0)
    .option('--draft-tokens <n>', 'draft tokens verified per pass (multi-token verification with prompt-lookup drafts); 0: plain decoding. The output is the same either way', parseIntOption('--draft-tokens', 0, 64), 0)
    .option(SHARED_OPTIONS.json, 'print {"ids": [...], "passes": P, ...} instead of streaming text (P: passes after the prompt)')
    .option(SHARED_OPTIONS.board, BOARD_OPTION_HELP)
    .option(SHARED_OPTIONS.threads, 'compute threads (default: all cores)', parseIntOption('--threads', 1, 64))
    .option(SHARED_OPTIONS.context, 'positions of the RoPE table and KV cache (default: max_position_embeddings)', parseIntOption('--context', 1))
    .option('--stats', 'print timing to stderr')
    .action(async (modelArg: string | undefined, flags: GenerateFlags) => {
      flags.model = modelPath(modelArg, flags, 'generate')!;
      if ((flags.prompt === undefined) === (flags.ids === undefined)) {
        throw new TellmeError('E_USAGE', 'give exactly one of --prompt or --ids', 'Pass the prompt as text (--prompt "...", needs a tokenizer) or as token ids (--ids 1,2,3), not both.');
      }
      const target = commandTarget(flags);
      const m = openModel(flags.model, flags.board !== undefined && target === null ? { board: flags.board } : {});
      let promptIds: number[];
      if (flags.ids) {
        promptIds = flags.ids;
      } else {
        const tok = requireTokenizer(m);
        let text = flags.prompt!;
        if (flags.chat) {
          const rendered = tok.applyChatTemplate([{ role: 'user', content: text }], { addGenerationPrompt: true });
          if (rendered === null) throw new TellmeError('E_TOKENIZER', `${flags.model} has no chat_template in tokenizer_config.json`, 'drop --chat');
          text = rendered;
          promptIds = tok.encode(text, { addSpecialTokens: false });
        } else {
          promptIds = tok.encode(text, { addSpecialTokens: true });
        }
      }
      if (target) return generateOnBoard(target, m, promptIds, flags);
      const model = await loadGolden(m, {
        ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
        ...(flags.board !== undefined ? { board: flags.board } : {}),
        ...(flags.context !== undefined ? { context: flags.context } : {}),
      });
      if (m.tokenizerError && !flags.json) process.stderr.write(`tellme: note: printing token ids, because ${m.tokenizerError.message}\n`);
      const printer = new TokenPrinter(m.tokenizer, flags.json === true);
      if (!flags.ids) printer.prompt(flags.prompt);
      const result = await generate(goldenSession(model), promptIds, {
        maxNewTokens: flags.maxNewTokens,
        temperature: flags.temperature,
        topK: flags.topK,
        topP: flags.topP,
        seed: flags.seed,
        draftTokens: flags.draftTokens,
        stopIds: m.spec.eosTokenIds,
        onToken: (id) => printer.token(id),
      });
      await model.close();
      printer.finish(result);
      if (!flags.json && result.stopReason === 'context') {
        // JSON output says so in stop_reason; text output must not end silently.
        process.stderr.write(
          `tellme: stopped after ${result.ids.length} of ${flags.maxNewTokens} tokens: the context of ${model.contextLength} positions is full (pass a larger --context, at most ${m.kind === 'image' ? m.image.context : m.spec.maxPositions})\n`,
        );
      }
      if (flags.stats) {
        const n = result.ids.length;
        process.stderr.write(
          `prompt ${result.promptTokens} tokens in ${result.prefillSeconds.toFixed(3)} s; ` +
            `${n} tokens in ${result.decodeSeconds.toFixed(3)} s (${n > 1 ? ((n - 1) / result.decodeSeconds).toFixed(2) : '-'} tok/s decode); ` +
            `${result.passes} passes after the prompt (${result.passes > 0 ? ((n - 1) / result.passes).toFixed(2) : '-'} tokens per pass); stop: ${result.stopReason}\n`,
        );
      }
    });
}
