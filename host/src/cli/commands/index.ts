/**
 * The list of commands. Add a command by writing commands/<name>.ts exporting
 * `register(program: Command): void` and listing it here.
 */
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [];
