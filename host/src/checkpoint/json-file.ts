/** Small helpers to read the JSON side files of a checkpoint directory with useful errors. */

import * as fs from 'node:fs';
import { TellmeError, type UserErrorCode } from '../errors.js';

/** Parse a JSON object file; null when the file does not exist. */
export function readJsonObject(file: string, code: UserErrorCode = 'E_CONFIG'): Record<string, unknown> | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new TellmeError('E_NOT_FOUND', `${file}: cannot read (${(e as Error).message})`, 'Check file permissions.');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TellmeError(code, `${file}: invalid JSON: ${(e as Error).message}`, 'Fix or re-download the file.');
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new TellmeError(code, `${file}: expected a JSON object at the top level`, 'Fix or re-download the file.');
  }
  return json as Record<string, unknown>;
}
