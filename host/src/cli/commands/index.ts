/**
 * The list of commands. Add a command by writing commands/<name>.ts exporting
 * `register(program: Command): void` and listing it here.
 */
import type { Command } from 'commander';
import { register as chat } from './chat.js';
import { register as convert } from './convert.js';
import { register as doctor } from './doctor.js';
import { register as evalCommand } from './eval.js';
import { register as exportGguf } from './export-gguf.js';
import { register as generate } from './generate.js';
import { register as hwgen } from './hwgen.js';
import { register as inspect } from './inspect.js';
import { register as logits } from './logits.js';
import { register as makeTestModel } from './make-test-model.js';
import { register as plan } from './plan.js';
import { register as trace } from './trace.js';
import { register as verify } from './verify.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [inspect, convert, exportGguf, plan, generate, chat, logits, evalCommand, makeTestModel, hwgen, doctor, verify, trace];
