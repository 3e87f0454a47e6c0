/** Small helpers to read the JSON side files of a checkpoint directory with useful errors. */

import * as path from 'node:path';
import { TellmeError, type UserErrorCode } from '../errors.js';
import { MAX_JSON_BYTES, readInputText } from '../files/input.js';

/** Parse a JSON object file; null when the file does not exist. */
export function readJsonObject(file: string, code: UserErrorCode = 'E_CONFIG'): Record<string, unknown> | null {
  // A regular file of bounded size: a FIFO, /dev/zero or a directory in its place is refused.
  const text = readInputText(file, { what: path.basename(file), limit: MAX_JSON_BYTES, code, optional: true });
  if (text === null) return null;
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
