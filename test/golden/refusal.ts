/** The exact refusal a golden-model call must give: a TellmeError with this code, message and (when given) fix line. */
import { expect } from 'vitest';
import { isTellmeError, type TellmeError } from '../../host/src/errors.js';

export async function expectRefusal(fn: () => unknown, code: string, message: string, fix?: string): Promise<TellmeError> {
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  expect(isTellmeError(err), `expected a TellmeError, got ${String(err)}`).toBe(true);
  const e = err as TellmeError;
  expect(e.code).toBe(code);
  expect(e.message).toBe(message);
  if (fix !== undefined) expect(e.fix).toBe(fix);
  return e;
}
