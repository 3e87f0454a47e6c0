/**
 * The command-line conventions of `tellme` (README, "Command-line conventions"), as code: one
 * spelling per concept, shared by every command, and checked across all registered commands by
 * test/cli/conventions.test.ts. A new command takes its shared flags from here.
 */

import type { Command } from 'commander';
import { TellmeError } from '../errors.js';

/** The one spelling (flags and value name) of each shared option, by long name. */
export const SHARED_OPTIONS = {
  model: '-m, --model <path>',
  output: '-o, --output <path>',
  board: '-b, --board <name|file>',
  shape: '-s, --shape <name>',
  context: '--context <n>',
  prompt: '-p, --prompt <text>',
  ids: '--ids <ids>',
  'max-new-tokens': '-n, --max-new-tokens <n>',
  temperature: '-t, --temperature <t>',
  'top-k': '--top-k <k>',
  'top-p': '--top-p <p>',
  seed: '--seed <n>',
  threads: '--threads <n>',
  json: '--json',
  force: '--force',
  overwrite: '--overwrite',
  strict: '--strict',
} as const;

/** Spellings that are not used (another name holds the concept), with the one to use. */
export const RETIRED_OPTIONS: Readonly<Record<string, string>> = {
  '--out': '--output',
  '--output-dir': '--output',
  '--outdir': '--output',
  '--steps': '--max-new-tokens',
  '--tokens': '--max-new-tokens',
  '--num-tokens': '--max-new-tokens',
  '--max-tokens': '--max-new-tokens',
  '--top': '--show-top (logits) or --top-k (sampling)',
  '--hw': '--board',
  '--hardware': '--board',
  '--ctx': '--context',
  '--checkpoint': '--model',
  '--image': '--model',
};

export const MODEL_ARGUMENT = '[model]';

/**
 * The model input of a command: the positional argument or -m/--model, the same thing two ways.
 * `what` says which models the command takes (e.g. "checkpoint directory or model image").
 */
export function addModelInput(cmd: Command, what: string): Command {
  return cmd.argument(MODEL_ARGUMENT, `${what} (or -m/--model)`).option(SHARED_OPTIONS.model, what);
}

/** The model path from the positional argument or --model; refuses none, or two different ones. */
export function modelPath(positional: string | undefined, flags: { model?: string }, command: string, required = true): string | undefined {
  const flag = flags.model;
  if (positional !== undefined && flag !== undefined && positional !== flag) {
    throw new TellmeError('E_USAGE', `two models given: ${positional} (argument) and ${flag} (--model)`, `Name the model once: tellme ${command} <model>, or tellme ${command} --model <model>.`);
  }
  const p = positional ?? flag;
  if (p === undefined && required) {
    throw new TellmeError('E_USAGE', 'no model given', `Name the model: tellme ${command} <model> (or --model <model>); see tellme ${command} --help.`);
  }
  if (p !== undefined && p.trim() === '') throw new TellmeError('E_USAGE', 'the model path is empty', `Name the model: tellme ${command} <model>.`);
  return p;
}
