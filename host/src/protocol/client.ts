/**
 * Requests, replies and events over a byte stream (docs/protocol.md §2-§9): request ids, the
 * request window, a timeout on every wait, resending a request the board received corrupted,
 * reporting a corrupted or lost reply, and turning ERROR replies into TellmeErrors that carry
 * the spec's fix text. Transport-independent: anything with write/onData/onClose is a link.
 */

import { TellmeError } from '../errors.js';
import { decodePayload, encodePayload, type Fields } from './codec.js';
import { Deframer, encodeFrame, DEFAULT_FORMAT, type DeframeEvent, type Frame, type FrameHeader } from './frame.js';
import {
  DEFAULT_WINDOW,
  Err,
  ERRORS,
  INTERBYTE_TIMEOUT_MS,
  MAX_PAYLOAD,
  MESSAGE_BY_ID,
  MESSAGES,
  PROTOCOL_MAJOR,
  PROTOCOL_MINOR,
  REPLY_TIMEOUT_MS,
  type HelloOkFields,
  type MessageFields,
  type MsgName,
  type RequestName,
  type RequestReply,
} from './gen/protocol.js';

/** A byte stream to a board (host/src/transport implements it for serial, TCP, PCIe, sim). */
export interface ByteStream {
  /** For messages: "serial /dev/ttyUSB1", "tcp 10.0.0.2:7260", … */
  readonly description: string;
  write(bytes: Uint8Array): Promise<void>;
  /** Set the receiver of incoming bytes (once). */
  onData(cb: (chunk: Uint8Array) => void): void;
  /** Set the receiver of the stream's end; reason null for an orderly close. */
  onClose(cb: (reason: Error | null) => void): void;
  close(): Promise<void>;
}

/** A board's ERROR reply. */
export class DeviceError extends TellmeError {
  constructor(
    readonly errorName: string,
    readonly errorCode: number,
    readonly detail: string,
    request: string,
    fix: string,
  ) {
    super('E_DEVICE', `the board refused ${request}: ${errorName}: ${detail}`, fix);
  }
}

export type EventHandler = (name: MsgName, fields: Fields) => void;

export interface RequestOptions {
  /** Idle timeout: the longest wait for the reply or the next event (default reply_timeout_ms). */
  timeoutMs?: number;
  onEvent?: EventHandler;
  /**
   * Link self-tests (tellme doctor, fault tests): change the frame's bytes before they are sent
   * (corrupt, cut, retype it); the request then waits for the board's verdict as usual, and is
   * not resent when the board reports the damage.
   */
  mangle?: (frame: Uint8Array) => Uint8Array;
}

export interface LinkStats {
  framesIn: number;
  framesOut: number;
  badCrc: number;
  truncated: number;
  tooLarge: number;
  discardedBytes: number;
  seqGaps: number;
  resent: number;
  strays: number;
}

interface Pending {
  id: number;
  name: RequestName;
  payload: Uint8Array;
  mangle: ((frame: Uint8Array) => Uint8Array) | undefined;
  control: boolean;
  resends: number;
  timeoutMs: number;
  timer: NodeJS.Timeout | null;
  onEvent: EventHandler | undefined;
  resolve: (f: Fields) => void;
  reject: (e: Error) => void;
  sent: boolean;
}

export interface LinkClientOptions {
  replyTimeoutMs?: number;
  interbyteTimeoutMs?: number;
  /** The largest payload this host accepts (HELLO.max_payload). */
  maxPayload?: number;
}

const RESENDABLE = new Set<number>([Err.FRAME_CRC, Err.FRAME_TRUNCATED]);

export class LinkClient {
  readonly stats: LinkStats = { framesIn: 0, framesOut: 0, badCrc: 0, truncated: 0, tooLarge: 0, discardedBytes: 0, seqGaps: 0, resent: 0, strays: 0 };
  /** The negotiated payload limit (the board's HELLO_OK lowers it). */
  maxPayload: number;
  /** Requests that may be outstanding (HELLO_OK sets it). */
  window = DEFAULT_WINDOW;
  private readonly deframer: Deframer;
  private readonly pending = new Map<number, Pending>();
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private txSeq = 0;
  private rxSeq: number | null = null;
  private closed: Error | null = null;
  private interbyte: NodeJS.Timeout | null = null;
  private writeChain: Promise<void> = Promise.resolve();
  private readonly replyTimeoutMs: number;
  private readonly interbyteTimeoutMs: number;

  constructor(
    readonly stream: ByteStream,
    opts: LinkClientOptions = {},
  ) {
    this.replyTimeoutMs = opts.replyTimeoutMs ?? REPLY_TIMEOUT_MS;
    this.interbyteTimeoutMs = opts.interbyteTimeoutMs ?? INTERBYTE_TIMEOUT_MS;
    this.maxPayload = opts.maxPayload ?? MAX_PAYLOAD;
    this.deframer = new Deframer({ ...DEFAULT_FORMAT, maxPayload: this.maxPayload });
    stream.onData((chunk) => this.receive(chunk));
    stream.onClose((reason) => this.fail(reason ?? new Error('closed by the other end')));
  }

  get isClosed(): boolean {
    return this.closed !== null;
  }

  /**
   * Send a request; resolves with its reply's fields, rejects with a DeviceError (ERROR reply) or
   * an E_LINK TellmeError (timeout, closed link, corrupted reply). `id` is known at once, for
   * cancel().
   */
  start<N extends RequestName>(name: N, fields: MessageFields[N], opts: RequestOptions = {}): { id: number; reply: Promise<MessageFields[RequestReply[N]]> } {
    const msg = MESSAGES[name];
    const payload = encodePayload(msg, fields as unknown as Record<string, unknown>);
    if (payload.length > this.maxPayload) {
      throw new TellmeError('E_PROTOCOL', `${name}: ${payload.length} bytes, more than the link's max_payload ${this.maxPayload}`, 'send less per request (shorter prompt, smaller chunks)');
    }
    const id = this.allocateId();
    let p!: Pending;
    const reply = new Promise<Fields>((resolve, reject) => {
      p = {
        id,
        name,
        payload,
        mangle: opts.mangle,
        control: msg.control === true,
        resends: 0,
        timeoutMs: opts.timeoutMs ?? this.replyTimeoutMs,
        timer: null,
        onEvent: opts.onEvent,
        resolve,
        reject,
        sent: false,
      };
    });
    if (this.closed) {
      p.reject(this.closedError());
    } else {
      this.pending.set(id, p);
      if (p.control || this.outstanding() < this.window) this.send(p);
      else this.queue.push(p);
    }
    return { id, reply: reply as unknown as Promise<MessageFields[RequestReply[N]]> };
  }

  request<N extends RequestName>(name: N, fields: MessageFields[N], opts: RequestOptions = {}): Promise<MessageFields[RequestReply[N]]> {
    return this.start(name, fields, opts).reply;
  }

  /** The handshake: checks the major version and adopts the board's limits. */
  async hello(host: string): Promise<HelloOkFields> {
    const r = await this.request('HELLO', { major: PROTOCOL_MAJOR, minor: PROTOCOL_MINOR, max_payload: this.maxPayload, host });
    if (r.major !== PROTOCOL_MAJOR) {
      throw new TellmeError('E_LINK', `the board speaks protocol ${r.major}.${r.minor}, this tellme ${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`, 'update tellme or the firmware so that both speak the same major version');
    }
    this.maxPayload = Math.min(this.maxPayload, r.max_payload);
    this.window = Math.max(1, r.window);
    this.pump();
    return r;
  }

  /** Ask the board to stop a running request (its own reply still ends it). */
  cancel(target: number, timeoutMs?: number): Promise<MessageFields['CANCEL_OK']> {
    return this.request('CANCEL', { target }, timeoutMs !== undefined ? { timeoutMs } : {});
  }

  /** Bytes outside any frame (link self-tests: garbage the board must skip). */
  writeRaw(bytes: Uint8Array): Promise<void> {
    this.writeChain = this.writeChain.then(() => this.stream.write(bytes));
    return this.writeChain;
  }

  async close(): Promise<void> {
    this.fail(new Error('closed by tellme'));
    await this.stream.close();
  }

  // --- internals ---

  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  private outstanding(): number {
    let n = 0;
    for (const p of this.pending.values()) if (p.sent && !p.control) n++;
    return n;
  }

  private pump(): void {
    // A closed link sends nothing more: settling its requests must not start the queued ones.
    if (this.closed) return;
    while (this.queue.length > 0 && this.outstanding() < this.window) this.send(this.queue.shift()!);
  }

  private send(p: Pending): void {
    p.sent = true;
    // A HELLO restarts the host's direction (docs/protocol.md §2): it is frame 0, the next is 1,
    // which is what the firmware expects after it (HELLO's seq + 1).
    if (p.name === 'HELLO') this.txSeq = 0;
    const encoded = encodeFrame({ type: MESSAGES[p.name].id, seq: this.txSeq, requestId: p.id, payload: p.payload });
    const frame = p.mangle ? p.mangle(encoded) : encoded;
    this.txSeq = (this.txSeq + 1) >>> 0;
    this.stats.framesOut++;
    this.armTimer(p);
    this.writeChain = this.writeChain
      .then(() => this.stream.write(frame))
      .catch((e: Error) => this.fail(e));
  }

  private armTimer(p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      this.settle(p, new TellmeError('E_LINK', `no reply to ${p.name} (request ${p.id}) within ${p.timeoutMs} ms from ${this.stream.description}`, 'check that the board is powered and running the tellme firmware (tellme doctor), and that nothing else uses the port'));
    }, p.timeoutMs);
  }

  private settle(p: Pending, result: Error | Fields): void {
    if (!this.pending.has(p.id)) return;
    this.pending.delete(p.id);
    if (p.timer) clearTimeout(p.timer);
    const qi = this.queue.indexOf(p);
    if (qi >= 0) this.queue.splice(qi, 1);
    if (result instanceof Error) p.reject(result);
    else p.resolve(result);
    this.pump();
  }

  private closedError(): TellmeError {
    return new TellmeError('E_LINK', `the link to the board (${this.stream.description}) is closed: ${this.closed?.message ?? ''}`, 'start the board (or the virtual board) again and re-run the command');
  }

  private fail(reason: Error): void {
    if (this.closed) return;
    this.closed = reason;
    if (this.interbyte) clearTimeout(this.interbyte);
    for (const p of [...this.pending.values()]) this.settle(p, this.closedError());
  }

  private receive(chunk: Uint8Array): void {
    this.handle(this.deframer.push(chunk));
    if (this.interbyte) clearTimeout(this.interbyte);
    this.interbyte = this.deframer.pending ? setTimeout(() => this.handle(this.deframer.expire()), this.interbyteTimeoutMs) : null;
  }

  private handle(events: DeframeEvent[]): void {
    this.stats.discardedBytes = this.deframer.discarded;
    for (const ev of events) {
      if (ev.kind === 'frame') this.onFrame(ev.frame);
      else this.onBadFrame(ev.kind, ev.header);
    }
  }

  private onBadFrame(kind: 'bad_crc' | 'truncated' | 'too_large', h: FrameHeader): void {
    if (kind === 'bad_crc') this.stats.badCrc++;
    else if (kind === 'truncated') this.stats.truncated++;
    else this.stats.tooLarge++;
    const p = this.pending.get(h.requestId);
    if (!p) return;
    const what = MESSAGE_BY_ID.get(h.type)?.name ?? `message ${h.type}`;
    if (p.control && !p.mangle && (h.type === MESSAGES[MESSAGES[p.name].reply as MsgName].id || h.type === MESSAGES.ERROR.id) && p.resends < 2) {
      p.resends++;
      this.stats.resent++;
      this.send(p);
      return;
    }
    this.settle(
      p,
      new TellmeError('E_LINK', `the board's ${what} for ${p.name} (request ${p.id}) arrived ${kind === 'bad_crc' ? 'corrupted (payload CRC)' : kind === 'truncated' ? 'truncated' : 'with an oversized length'}; the link has resynchronised`, 'run the command again; if it repeats, check the cable and the baud rate (tellme doctor)'),
    );
  }

  private onFrame(f: Frame): void {
    this.stats.framesIn++;
    // HELLO_OK restarts the board's direction (it is the board's frame 0): no gap, as the
    // firmware counts none for a HELLO; the board's next frame is HELLO_OK's seq + 1.
    if (this.rxSeq !== null && f.seq !== this.rxSeq && f.type !== MESSAGES.HELLO_OK.id) this.stats.seqGaps++;
    this.rxSeq = (f.seq + 1) >>> 0;
    const p = this.pending.get(f.requestId);
    if (!p) {
      this.stats.strays++;
      return;
    }
    const msg = MESSAGE_BY_ID.get(f.type);
    if (f.protocolMajor !== PROTOCOL_MAJOR && f.type !== MESSAGES.ERROR.id) {
      this.settle(p, new TellmeError('E_LINK', `the board answered ${p.name} in protocol major version ${f.protocolMajor}; this tellme speaks ${PROTOCOL_MAJOR}`, 'update tellme or the firmware so that both speak the same major version'));
      return;
    }
    if (!msg) {
      this.settle(p, new TellmeError('E_PROTOCOL', `the board answered ${p.name} with an unknown message type ${f.type}`, 'update tellme: the firmware is newer'));
      return;
    }
    let fields: Fields;
    try {
      fields = decodePayload(msg, f.payload);
    } catch (e) {
      this.settle(p, e as Error);
      return;
    }
    if (msg.name === 'ERROR') {
      const code = fields.code as number;
      if (RESENDABLE.has(code) && !p.mangle && p.resends < 2) {
        p.resends++;
        this.stats.resent++;
        this.send(p);
        return;
      }
      const spec = ERRORS.find((e) => e.code === code);
      this.settle(p, new DeviceError(spec?.name ?? `error ${code}`, code, fields.detail as string, p.name, spec?.fix ?? 'update tellme: the firmware reports an error this version does not know'));
      return;
    }
    if (msg.kind === 'event') {
      this.armTimer(p);
      try {
        p.onEvent?.(msg.name as MsgName, fields);
      } catch (e) {
        this.settle(p, e as Error);
      }
      return;
    }
    if (msg.name !== MESSAGES[p.name].reply) {
      this.settle(p, new TellmeError('E_PROTOCOL', `the board answered ${p.name} with ${msg.name}`, 'update tellme or the firmware (they disagree on the protocol)'));
      return;
    }
    this.settle(p, fields);
  }
}
