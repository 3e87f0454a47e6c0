/**
 * Loading hardware parameter sets: a board name (hw/boards/<name>.json) or a path to a JSON file.
 * Validation is JSON Schema (ajv, draft 2020-12) followed by the cross-field rules of derive.ts;
 * every error names the file and the field.
 */
import { describeSchemaError, schemaValidator } from '../json-schema.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TellmeError } from '../errors.js';
import { MAX_JSON_BYTES, readInputText } from '../files/input.js';
import { projectRoot } from '../paths.js';
import { checkConsistency, deriveHw } from './derive.js';
import { hwConfigHash } from './hash.js';
import type { ContractNumerics, HwConfig, LoadedHwConfig } from './types.js';

/** The build a checkpoint is run as when no board is named (CLI `--board`, the golden model). */
export const DEFAULT_BOARD = 'kv260';

export function boardsDir(): string {
  return path.join(projectRoot(), 'hw', 'boards');
}

export function schemaPath(): string {
  return path.join(projectRoot(), 'hw', 'spec', 'hwconfig.schema.json');
}

/** Names of the bundled board profiles (hw/boards/*.json), sorted. */
export function listBoards(): string[] {
  return fs
    .readdirSync(boardsDir())
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** Validate a parsed object against the schema and the consistency rules. */
export function validateHwConfig(obj: unknown, file: string): HwConfig {
  const validate = schemaValidator(schemaPath());
  if (!validate(obj)) {
    const errs = (validate.errors ?? []).map(describeSchemaError);
    throw new TellmeError(
      'E_HWCONFIG',
      `${file}: invalid hardware description:\n  ${errs.join('\n  ')}`,
      `Fix the fields above; the format is hw/spec/hwconfig.schema.json.`,
    );
  }
  const cfg = obj as HwConfig;
  checkConsistency(cfg, file);
  return cfg;
}

/** Build a LoadedHwConfig from an already-parsed object (tests, generated variants). */
export function hwConfigFromObject(obj: unknown, file = '<object>'): LoadedHwConfig {
  const config = validateHwConfig(obj, file);
  return { config, derived: deriveHw(config), hash: hwConfigHash(config), file };
}

function looksLikePath(s: string): boolean {
  return s.includes('/') || s.includes(path.sep) || s.endsWith('.json');
}

/** Load a board profile by name ("kv260") or a hardware description file by path. */
export function loadHwConfig(nameOrPath: string): LoadedHwConfig {
  let file: string;
  if (looksLikePath(nameOrPath)) {
    file = path.resolve(nameOrPath);
    if (!fs.existsSync(file)) {
      throw new TellmeError('E_NOT_FOUND', `hardware description ${nameOrPath} does not exist`, `Give a board name (${listBoards().join(', ')}) or an existing JSON file.`);
    }
  } else {
    file = path.join(boardsDir(), `${nameOrPath}.json`);
    if (!fs.existsSync(file)) {
      throw new TellmeError(
        'E_HWCONFIG',
        `unknown board "${nameOrPath}"; known boards: ${listBoards().join(', ')}`,
        'Use one of the known boards, or pass the path of a hardware description JSON file.',
      );
    }
  }
  let obj: unknown;
  try {
    obj = JSON.parse(readInputText(file, { what: 'a hardware description', limit: MAX_JSON_BYTES, code: 'E_HWCONFIG' })!);
  } catch (e) {
    if (e instanceof TellmeError) throw e;
    throw new TellmeError('E_HWCONFIG', `${file}: not valid JSON: ${(e as Error).message}`, 'Fix the JSON syntax.');
  }
  const loaded = hwConfigFromObject(obj, file);
  if (!looksLikePath(nameOrPath) && loaded.config.name !== nameOrPath) {
    throw new TellmeError('E_HWCONFIG', `${file}: name: "${loaded.config.name}" does not match the file name "${nameOrPath}"`, 'Make "name" equal to the file\'s base name.');
  }
  return loaded;
}

/** The contract choices (docs/numerics.md) of a board profile or hardware description file. */
export function boardNumerics(nameOrPath: string = DEFAULT_BOARD): ContractNumerics {
  return loadHwConfig(nameOrPath).config.numerics;
}
