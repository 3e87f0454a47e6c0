/**
 * One error type for everything a user can get wrong. The CLI prints `message`, then the
 * `fix` line, and exits non-zero; tests assert on `code` and on the words of the message.
 * A message names the file (and the tensor or field) and says what was expected.
 */

export type ErrorCode =
  | 'E_USAGE'
  | 'E_NOT_FOUND'
  | 'E_CHECKPOINT'
  | 'E_SAFETENSORS'
  | 'E_CONFIG'
  | 'E_TOKENIZER'
  | 'E_IMAGE'
  | 'E_HWCONFIG'
  | 'E_FIT'
  | 'E_NUMERICS'
  /** The link to a board: transport, framing, timeouts (host/src/protocol, host/src/transport). */
  | 'E_LINK'
  /** A malformed protocol message (host/src/protocol/codec.ts). */
  | 'E_PROTOCOL'
  /** The board answered a request with an ERROR reply. */
  | 'E_DEVICE'
  /** The user stopped the command (Ctrl-C); what was done so far is printed. */
  | 'E_CANCELLED'
  /** An implementation (RTL, C simulation, board) differs from the golden model (tellme verify). */
  | 'E_MISMATCH'
  | 'E_INTERNAL';

/** The codes of errors a user can act on (every code but E_INTERNAL). */
export type UserErrorCode = Exclude<ErrorCode, 'E_INTERNAL'>;

export class TellmeError extends Error {
  readonly code: ErrorCode;
  /** What to do about it, in one sentence. */
  readonly fix: string | undefined;

  /** Every user-facing error says what to do about it; only an internal error (a bug) may leave `fix` out. */
  constructor(code: UserErrorCode, message: string, fix: string);
  constructor(code: 'E_INTERNAL', message: string, fix?: string);
  constructor(code: ErrorCode, message: string, fix?: string) {
    super(message);
    this.name = 'TellmeError';
    this.code = code;
    this.fix = fix;
  }
}

export function isTellmeError(e: unknown): e is TellmeError {
  return e instanceof TellmeError;
}
