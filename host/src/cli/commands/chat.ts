/**
 * `tellme chat --model <dir|image> [--device … | --tcp … | --pcie … | --sim …]`: a conversation
 * with the checkpoint's chat template (@huggingface/jinja through the tokenizer bundle). The KV
 * cache is kept across turns: each turn renders the whole conversation, and when the tokens in
 * the cache are a prefix of it only the rest is prefilled; otherwise (a tokenizer that merges
 * across the boundary, a full context) the session is reset and the conversation prefilled
 * again. Turn k samples with seed + k. On the golden model without a target, on a board with one.
 */

import * as readline from 'node:readline';
import type { Command } from 'commander';
import type { TokenizerBundle } from '../../checkpoint/types.js';
import type { Board } from '../../device/board.js';
import { TellmeError } from '../../errors.js';
import type { GoldenModel } from '../../golden/model.js';
import { goldenSession } from '../../golden/session.js';
import { generate } from '../../runtime/generate.js';
import { commandTarget, connectBoard, modelOnBoard, withInterrupt } from '../board-session.js';
import { addModelInput, modelPath, SHARED_OPTIONS } from '../conventions.js';
import { BOARD_OPTION_HELP, loadGolden, openModel, requireTokenizer } from '../model-source.js';
import { parseFloatOption, parseIntOption } from '../options.js';
import { withTargetOptions, type TargetOptionFlags } from '../target-options.js';
import { TokenPrinter } from '../token-printer.js';

interface ChatFlags extends TargetOptionFlags {
  model: string;
  system?: string;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  board?: string;
  threads?: number;
  context?: number;
}

interface TurnOptions {
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  stopIds: readonly number[];
  onToken: (id: number) => void;
}

/** What a chat needs from a backend: a generation that continues the cached tokens, and a reset. */
interface ChatBackend {
  readonly contextLength: number;
  turn(prompt: number[], o: TurnOptions): Promise<{ ids: number[]; stopReason: string }>;
  reset(): Promise<void>;
  cancel(): Promise<unknown>;
  close(): Promise<void>;
}

function goldenBackend(model: GoldenModel): ChatBackend {
  const session = goldenSession(model);
  return {
    contextLength: model.contextLength,
    turn: (prompt, o) => generate(session, prompt, o),
    reset: async () => model.reset(),
    cancel: async () => undefined,
    close: () => model.close(),
  };
}

function boardBackend(board: Board, contextLength: number): ChatBackend {
  return {
    contextLength,
    turn: (prompt, o) => board.generate(prompt, o),
    reset: async () => void (await board.resetSession()),
    cancel: () => board.cancel(),
    close: () => board.close(),
  };
}

/** Keeps the conversation and which of its tokens are in the KV cache. */
export class Conversation {
  readonly messages: { role: string; content: string }[] = [];
  /** Tokens in the backend's KV cache. */
  private cached: number[] = [];

  constructor(
    private readonly tok: TokenizerBundle,
    system: string | undefined,
  ) {
    if (system !== undefined) this.messages.push({ role: 'system', content: system });
  }

  /** The ids to prefill for the next turn, and whether the cache must be reset first. */
  next(user: string, context: number): { prompt: number[]; reset: boolean } {
    this.messages.push({ role: 'user', content: user });
    const text = this.tok.applyChatTemplate(this.messages, { addGenerationPrompt: true });
    if (text === null) throw new TellmeError('E_TOKENIZER', 'the model has no chat_template in tokenizer_config.json', 'Use tellme generate --prompt instead.');
    const full = this.tok.encode(text, { addSpecialTokens: false });
    if (full.length > context) {
      throw new TellmeError('E_USAGE', `the conversation (${full.length} tokens) no longer fits the context (${context})`, 'type /reset to start a new conversation, or pass a larger --context');
    }
    const prefix = this.cached.length > 0 && this.cached.length < full.length && this.cached.every((t, i) => full[i] === t);
    if (prefix) return { prompt: full.slice(this.cached.length), reset: false };
    return { prompt: full, reset: this.cached.length > 0 };
  }

  /** After a turn: the prompt and all generated tokens but the last are in the cache. */
  answered(prompt: number[], reset: boolean, ids: number[], text: string): void {
    this.cached = [...(reset ? [] : this.cached), ...prompt, ...ids.slice(0, -1)];
    this.messages.push({ role: 'assistant', content: text });
  }

  clear(): void {
    this.messages.splice(this.messages[0]?.role === 'system' ? 1 : 0);
    this.cached = [];
  }
}

export function register(program: Command): void {
  const cmd = withTargetOptions(program.command('chat')).description(
    'chat with a model (its chat template), on the golden model or on a board; the KV cache is kept across turns',
  );
  addModelInput(cmd, 'checkpoint directory or model image (with a tokenizer and a chat template)')
    .option('--system <text>', 'a system message')
    .option(SHARED_OPTIONS['max-new-tokens'], 'tokens per answer at most', parseIntOption('--max-new-tokens', 1), 256)
    .option(SHARED_OPTIONS.temperature, 'sampling temperature; 0 is greedy', parseFloatOption('--temperature', 0, 100), 0)
    .option(SHARED_OPTIONS['top-k'], 'keep the k most likely tokens (0: off)', parseIntOption('--top-k', 0), 0)
    .option(SHARED_OPTIONS['top-p'], 'nucleus sampling mass (1: off)', parseFloatOption('--top-p', Number.MIN_VALUE, 1), 1)
    .option(SHARED_OPTIONS.seed, 'PRNG seed; turn k uses seed + k', parseIntOption('--seed', 0, 2 ** 32 - 1), 0)
    .option(SHARED_OPTIONS.board, BOARD_OPTION_HELP)
    .option(SHARED_OPTIONS.threads, 'compute threads for the golden model (default: all cores)', parseIntOption('--threads', 1, 64))
    .option(SHARED_OPTIONS.context, 'positions of the RoPE table and KV cache (default: the model\'s, at most 4096)', parseIntOption('--context', 1))
    .addHelpText('after', '\nType a message and Enter; /reset starts a new conversation, /exit (or end of input) leaves.\n')
    .action(async (model: string | undefined, f: ChatFlags) => {
      f.model = modelPath(model, f, 'chat')!;
      const m = openModel(f.model, f.board !== undefined && commandTarget(f) === null ? { board: f.board } : {});
      const tok = requireTokenizer(m);
      const target = commandTarget(f);
      let backend: ChatBackend;
      if (target) {
        const board = await connectBoard(target, f);
        try {
          const { session } = await modelOnBoard(board, m.path, f);
          backend = boardBackend(board, session.context);
        } catch (e) {
          await board.close();
          throw e;
        }
      } else {
        backend = goldenBackend(
          await loadGolden(m, {
            ...(f.threads !== undefined ? { threads: f.threads } : {}),
            ...(f.board !== undefined ? { board: f.board } : {}),
            ...(f.context !== undefined ? { context: f.context } : {}),
          }),
        );
      }
      const conv = new Conversation(tok, f.system);
      const tty = process.stdin.isTTY === true;
      const rl = readline.createInterface({ input: process.stdin, terminal: tty });
      let turn = 0;
      try {
        if (tty) process.stderr.write('> ');
        for await (const line of rl) {
          const text = line.trim();
          if (text === '/exit') break;
          if (text === '/reset') {
            conv.clear();
            await backend.reset();
            process.stderr.write('(new conversation)\n');
          } else if (text !== '') {
            const { prompt, reset } = conv.next(text, backend.contextLength);
            if (reset) await backend.reset();
            const printer = new TokenPrinter(tok, false);
            const { value: r } = await withInterrupt(
              () => backend.cancel(),
              () =>
                backend.turn(prompt, {
                  maxNewTokens: f.maxNewTokens,
                  temperature: f.temperature,
                  topK: f.topK,
                  topP: f.topP,
                  seed: (f.seed + turn) >>> 0,
                  stopIds: m.spec.eosTokenIds,
                  onToken: (id) => printer.token(id),
                }),
            );
            printer.finish({ ids: r.ids, stopReason: r.stopReason, promptTokens: prompt.length });
            conv.answered(prompt, reset, r.ids, tok.decode(r.ids, { skipSpecialTokens: true }));
            turn++;
          }
          if (tty) process.stderr.write('> ');
        }
      } finally {
        rl.close();
        await backend.close();
      }
    });
}
