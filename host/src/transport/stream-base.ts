/**
 * What every transport shares: one data receiver and one close receiver (bytes that arrive
 * before the receiver is set are kept), close reported once, writes refused after close.
 */

import { TellmeError } from '../errors.js';

export abstract class StreamBase {
  private dataCb: ((chunk: Uint8Array) => void) | null = null;
  private closeCb: ((reason: Error | null) => void) | null = null;
  private early: Uint8Array[] = [];
  private closedReason: Error | null | undefined = undefined;

  constructor(readonly description: string) {}

  get closed(): boolean {
    return this.closedReason !== undefined;
  }

  onData(cb: (chunk: Uint8Array) => void): void {
    this.dataCb = cb;
    for (const c of this.early.splice(0)) cb(c);
  }

  onClose(cb: (reason: Error | null) => void): void {
    this.closeCb = cb;
    if (this.closedReason !== undefined) cb(this.closedReason);
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.closed) throw new TellmeError('E_LINK', `${this.description} is closed`, 'reconnect to the board');
    await this.writeBytes(bytes);
  }

  async close(): Promise<void> {
    if (!this.closed) this.emitClose(null);
    await this.closeTransport();
  }

  protected emitData(chunk: Uint8Array): void {
    if (this.dataCb) this.dataCb(chunk);
    else this.early.push(chunk);
  }

  protected emitClose(reason: Error | null): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.closeCb?.(reason);
  }

  protected abstract writeBytes(bytes: Uint8Array): Promise<void>;
  protected abstract closeTransport(): Promise<void>;
}
