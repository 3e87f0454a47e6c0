/**
 * A board (or the virtual board) behind the protocol: the handshake, loading a model image
 * (upload with resume, or a path on the board's disk), the session, generation with streamed
 * tokens and cancel, and the step commands with logits for conformance. Every wait is bounded
 * by the link's timeouts.
 */

import * as fs from 'node:fs';
import { TellmeError } from '../errors.js';
import type { ModelImage } from '../image/reader.js';
import { crc32 } from '../protocol/crc32.js';
import { DeviceError, LinkClient, type ByteStream } from '../protocol/client.js';
import { Err, StopReason, StepFlags, type GenerateDoneFields, type HelloOkFields, type InfoOkFields, type SessionOkFields } from '../protocol/gen/protocol.js';
import type { StopReason as RuntimeStopReason } from '../runtime/generate.js';

export type BoardStopReason = RuntimeStopReason | 'cancelled';

const STOP_NAMES: Record<number, BoardStopReason> = {
  [StopReason.EOS]: 'eos',
  [StopReason.MAX_NEW_TOKENS]: 'max_new_tokens',
  [StopReason.CONTEXT]: 'context',
  [StopReason.CANCELLED]: 'cancelled',
};

export interface BoardGenerateOptions {
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  draftTokens?: number;
  stopIds: readonly number[];
  onToken?: (id: number) => void;
  onPrefillProgress?: (done: number, total: number) => void;
}

export interface BoardGenerateResult {
  ids: number[];
  stopReason: BoardStopReason;
  promptTokens: number;
  passes: number;
  kvLen: number;
  /** As measured by the board. */
  prefillSeconds: number;
  decodeSeconds: number;
}

export interface UploadProgress {
  (sent: number, total: number, resumedFrom: number): void;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

/** Commit validates a whole image on the board: allow for a slow CPU hashing it. */
const COMMIT_TIMEOUT_MS = 600_000;

export class Board {
  hello: HelloOkFields | null = null;
  private running: number | null = null;

  constructor(readonly link: LinkClient) {}

  static async connect(stream: ByteStream, host = 'tellme'): Promise<Board> {
    const b = new Board(new LinkClient(stream));
    try {
      await b.handshake(host);
    } catch (e) {
      await b.close();
      throw e;
    }
    return b;
  }

  get description(): string {
    return this.link.stream.description;
  }

  async handshake(host = 'tellme'): Promise<HelloOkFields> {
    this.hello = await this.link.hello(host);
    return this.hello;
  }

  get hwHash(): string {
    return hex(this.requireHello().hw_hash);
  }

  private requireHello(): HelloOkFields {
    if (!this.hello) throw new TellmeError('E_INTERNAL', 'Board used before its handshake');
    return this.hello;
  }

  info(): Promise<InfoOkFields> {
    return this.link.request('INFO', {});
  }

  async ping(data: Uint8Array = Uint8Array.of(1, 2, 3, 4)): Promise<void> {
    const r = await this.link.request('PING', { data });
    if (hex(r.data) !== hex(data)) throw new TellmeError('E_LINK', `PING echoed other bytes (${hex(r.data)} for ${hex(data)})`, 'check the link (tellme doctor)');
  }

  /** Whether the board has this image loaded already (manifest sha256 from the image header). */
  hasImage(image: ModelImage): boolean {
    const h = this.requireHello();
    return h.image_loaded === 1 && hex(h.image_sha256) === image.header.manifestSha256;
  }

  /** Refuse, before any byte moves, an image converted for another hardware set. */
  checkHardware(image: ModelImage): void {
    const h = this.requireHello();
    if (image.hw.hash !== this.hwHash) {
      throw new TellmeError(
        'E_IMAGE',
        `${image.path} was converted for ${image.hw.config.name} (hash ${image.hw.hash.slice(0, 12)}…) but the board is ${h.board} (hash ${this.hwHash.slice(0, 12)}…)`,
        `convert the model for this board: tellme convert --model <checkpoint> --board ${h.board} -o <image>, or pass the checkpoint directory and tellme converts it`,
      );
    }
  }

  /**
   * Upload an image over the link, resuming what the board already holds of the same image.
   * Chunks go out in order with up to `window` in flight; when the board refuses one
   * (UPLOAD_STATE, UPLOAD_CRC; or a chunk resent after the link damaged it arrives out of order)
   * the upload restarts from UPLOAD_BEGIN, which says where to resume — as often as the restarts
   * make progress, and three times without.
   */
  async upload(image: ModelImage, name: string, progress?: UploadProgress, onStart?: (resumeFrom: number, size: number) => void): Promise<void> {
    const size = fs.statSync(image.path).size;
    const fd = fs.openSync(image.path, 'r');
    try {
      let stalls = 0;
      let last = -1;
      for (let attempt = 0; ; attempt++) {
        try {
          await this.uploadFrom(fd, image, name, size, attempt === 0 ? onStart : undefined, progress, (from) => {
            stalls = from > last ? 0 : stalls + 1;
            last = from;
          });
          break;
        } catch (e) {
          const retry = e instanceof DeviceError && (e.errorCode === Err.UPLOAD_STATE || e.errorCode === Err.UPLOAD_CRC) && stalls < 3;
          if (!retry) throw e;
        }
      }
    } finally {
      fs.closeSync(fd);
    }
    const ok = await this.link.request('UPLOAD_COMMIT', {}, { timeoutMs: COMMIT_TIMEOUT_MS });
    this.noteImage(ok.image_sha256, ok.name);
  }

  private async uploadFrom(
    fd: number,
    image: ModelImage,
    name: string,
    size: number,
    onStart: ((from: number, size: number) => void) | undefined,
    progress: UploadProgress | undefined,
    onResume: (from: number) => void,
  ): Promise<void> {
    const status = await this.link.request('UPLOAD_BEGIN', { size, image_sha256: fromHex(image.header.manifestSha256), name });
    onResume(status.received);
    const chunk = Math.max(1, Math.min(status.chunk_max, this.link.maxPayload - 16));
    let offset = status.received;
    const resumedFrom = offset;
    onStart?.(resumedFrom, size);
    progress?.(offset, size, resumedFrom);
    const inFlight: Promise<void>[] = [];
    let failure: unknown = null;
    while (offset < size && failure === null) {
      const n = Math.min(chunk, size - offset);
      const data = new Uint8Array(n);
      if (fs.readSync(fd, data, 0, n, offset) !== n) throw new TellmeError('E_IMAGE', `${image.path}: short read at byte ${offset}`, 'check the file');
      const end = offset + n;
      inFlight.push(
        this.link.request('UPLOAD_CHUNK', { offset, crc32: crc32(data), data }).then(
          (ack) => progress?.(Math.max(ack.received, end), size, resumedFrom),
          (e: unknown) => {
            failure ??= e;
          },
        ),
      );
      offset = end;
      if (inFlight.length >= Math.max(1, this.link.window)) await inFlight.shift();
    }
    await Promise.all(inFlight);
    if (failure !== null) throw failure;
  }

  async loadPath(boardPath: string): Promise<void> {
    const ok = await this.link.request('IMAGE_LOAD_PATH', { path: boardPath }, { timeoutMs: COMMIT_TIMEOUT_MS });
    this.noteImage(ok.image_sha256, ok.name);
  }

  private noteImage(sha: Uint8Array, name: string): void {
    if (this.hello) this.hello = { ...this.hello, image_loaded: 1, image_sha256: sha, image_name: name };
  }

  openSession(context = 0): Promise<SessionOkFields> {
    return this.link.request('SESSION_OPEN', { context });
  }

  resetSession(): Promise<SessionOkFields> {
    return this.link.request('SESSION_RESET', {});
  }

  /**
   * The board's generation loop (GENERATE): tokens arrive through onToken as the board selects
   * them. cancel() during it ends it with stopReason 'cancelled'.
   */
  async generate(prompt: readonly number[], o: BoardGenerateOptions): Promise<BoardGenerateResult> {
    const ids: number[] = [];
    let lost: TellmeError | null = null;
    const { id, reply } = this.link.start(
      'GENERATE',
      {
        max_new_tokens: o.maxNewTokens,
        temperature: o.temperature,
        top_k: o.topK,
        top_p: o.topP,
        seed: o.seed,
        draft_tokens: o.draftTokens ?? 0,
        prompt,
        stop_ids: o.stopIds,
      },
      {
        onEvent: (name, f) => {
          if (name === 'TOKEN') {
            if (f.index !== ids.length) {
              lost = new TellmeError('E_LINK', `token ${ids.length} of the generation was lost on the link (the next one has index ${String(f.index)})`, 'run the command again; if it repeats, check the cable and the baud rate');
              throw lost;
            }
            ids.push(f.id as number);
            o.onToken?.(f.id as number);
          } else if (name === 'PREFILL_PROGRESS') {
            o.onPrefillProgress?.(f.done as number, f.total as number);
          }
        },
      },
    );
    this.running = id;
    let done: GenerateDoneFields;
    try {
      done = await reply;
    } catch (e) {
      if (lost) await this.cancelQuietly(id);
      throw e;
    } finally {
      this.running = null;
    }
    if (done.tokens !== ids.length) {
      throw new TellmeError('E_LINK', `the board generated ${done.tokens} tokens but ${ids.length} arrived`, 'run the command again; if it repeats, check the link (tellme doctor)');
    }
    return {
      ids,
      stopReason: STOP_NAMES[done.stop_reason] ?? 'cancelled',
      promptTokens: done.prompt_tokens,
      passes: done.passes,
      kvLen: done.kv_len,
      prefillSeconds: done.prefill_us / 1e6,
      decodeSeconds: done.decode_us / 1e6,
    };
  }

  /** Cancel the running GENERATE (Ctrl-C); its own reply then ends it. */
  async cancel(): Promise<boolean> {
    if (this.running === null) return false;
    const r = await this.link.cancel(this.running);
    return r.found === 1;
  }

  private async cancelQuietly(id: number): Promise<void> {
    try {
      await this.link.cancel(id, 2000);
    } catch {
      /* the error being reported is the one that matters */
    }
  }

  /** Reseed the session's sampler (for the step commands). */
  sampler(o: { temperature: number; topK: number; topP: number; seed: number }): Promise<SessionOkFields> {
    return this.link.request('SAMPLER', { temperature: o.temperature, top_k: o.topK, top_p: o.topP, seed: o.seed });
  }

  /**
   * One pass with its logits (PREFILL of ids, or DECODE of one id): what conformance compares with
   * the golden model bit for bit. Returns the logits of each computed position in order and the
   * selected tokens when `select`.
   */
  async step(kind: 'prefill' | 'decode' | 'verify', ids: readonly number[], opts: { select?: boolean; kvOffset?: number; vocab: number }): Promise<{ logits: Float32Array[]; tokens: readonly number[]; kvLen: number }> {
    const logits: Float32Array[] = [];
    const filled: number[] = [];
    const flags = StepFlags.LOGITS | (opts.select ? StepFlags.SELECT : 0);
    const onEvent = (name: string, f: Record<string, unknown>) => {
      if (name !== 'LOGITS') return;
      const pos = f.position as number;
      const values = f.values as Float32Array;
      const first = f.first as number;
      if (!logits[pos]) {
        logits[pos] = new Float32Array(opts.vocab);
        filled[pos] = 0;
      }
      if (first + values.length > opts.vocab) throw new TellmeError('E_PROTOCOL', `LOGITS beyond the vocabulary (${first}+${values.length} > ${opts.vocab})`, 'update tellme or the firmware');
      logits[pos]!.set(values, first);
      filled[pos]! += values.length;
    };
    const r =
      kind === 'prefill'
        ? await this.link.request('PREFILL', { flags, ids }, { onEvent })
        : kind === 'decode'
          ? await this.link.request('DECODE', { flags, id: ids[0]! }, { onEvent })
          : await this.link.request('VERIFY', { flags, kv_offset: opts.kvOffset ?? 0, ids }, { onEvent });
    filled.forEach((n, i) => {
      if (n !== opts.vocab) throw new TellmeError('E_LINK', `position ${i}: ${n} of ${opts.vocab} logits arrived`, 'run again; check the link');
    });
    return { logits, tokens: r.tokens, kvLen: r.kv_len };
  }

  async close(): Promise<void> {
    await this.link.close();
  }
}

