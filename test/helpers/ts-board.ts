/**
 * A reference board in TypeScript: the protocol's board side (docs/protocol.md) on top of the
 * golden model, for testing the host's protocol library, transports and commands while the C
 * firmware's virtual board (sim/) does not exist, and as an executable statement of what the
 * firmware's command processor does. Not product code: the virtual board is the firmware.
 * Unimplemented here: VERIFY and GENERATE with drafts (answered BAD_REQUEST).
 */

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePayload, encodePayload, type Fields } from '../../host/src/protocol/codec.js';
import { crc32 } from '../../host/src/protocol/crc32.js';
import { Deframer, encodeFrame, type Frame } from '../../host/src/protocol/frame.js';
import { Err, INTERBYTE_TIMEOUT_MS, MESSAGE_BY_ID, MESSAGES, PROTOCOL_MAJOR, PROTOCOL_MINOR, StopReason, StepFlags, type MsgName } from '../../host/src/protocol/gen/protocol.js';
import { loadHwConfig } from '../../host/src/hwconfig/index.js';
import { openImage, type ModelImage } from '../../host/src/image/reader.js';
import { goldenModelFromImage } from '../../host/src/golden/weights-image.js';
import type { GoldenModel } from '../../host/src/golden/model.js';
import { sample, validateSampling, Xoshiro128 } from '../../host/src/runtime/sampling.js';

class BoardError extends Error {
  constructor(
    readonly code: number,
    detail: string,
  ) {
    super(detail);
  }
}

export interface TsBoardOptions {
  board: string;
  backend?: string;
  window?: number;
  maxPayload?: number;
  stateDir?: string;
  /** Milliseconds to sleep per generated token (fault tests: time to cancel or kill mid-decode). */
  tokenDelayMs?: number;
  threads?: number;
  /** Fault injection: flip the lowest bit of this token's logit in LOGITS events. */
  flipLogit?: number;
}

export class TsBoard {
  private readonly deframer: Deframer;
  private txSeq = 0;
  private readonly hw;
  private image: { img: ModelImage; model: GoldenModel; sha: Uint8Array; name: string } | null = null;
  private upload: { size: number; sha: string; name: string; file: string; received: number } | null = null;
  private session: { context: number; rng: Xoshiro128; sampling: { temperature: number; topK: number; topP: number } } | null = null;
  private running: { id: number; cancel: boolean } | null = null;
  /** Requests accepted and not yet answered (the running one included). */
  private queued = 0;
  private busyChain: Promise<void> = Promise.resolve();
  private readonly started = Date.now();
  readonly counters = { rx: 0, crc: 0, truncated: 0, gaps: 0, tx: 0 };
  private rxSeq: number | null = null;
  private interbyte: NodeJS.Timeout | null = null;

  constructor(
    private readonly send: (b: Uint8Array) => void,
    private readonly o: TsBoardOptions,
  ) {
    this.hw = loadHwConfig(o.board);
    this.deframer = new Deframer({ magic: [0xa5, 0x54, 0x4c, 0x4b], major: PROTOCOL_MAJOR, maxPayload: o.maxPayload ?? 65536 });
  }

  receive(chunk: Uint8Array): void {
    for (const ev of this.deframer.push(chunk)) this.onEvent(ev);
    if (this.interbyte) clearTimeout(this.interbyte);
    this.interbyte = this.deframer.pending
      ? setTimeout(() => {
          for (const ev of this.deframer.expire()) this.onEvent(ev);
        }, INTERBYTE_TIMEOUT_MS)
      : null;
  }

  private onEvent(ev: ReturnType<Deframer['push']>[number]): void {
    if (ev.kind === 'frame') {
      this.counters.rx++;
      if (this.rxSeq !== null && ev.frame.seq !== this.rxSeq) this.counters.gaps++;
      this.rxSeq = ev.frame.seq + 1;
      this.dispatch(ev.frame);
      return;
    }
    if (ev.kind === 'bad_crc') this.counters.crc++;
    if (ev.kind === 'truncated') this.counters.truncated++;
    const code = ev.kind === 'bad_crc' ? Err.FRAME_CRC : ev.kind === 'truncated' ? Err.FRAME_TRUNCATED : Err.FRAME_TOO_LARGE;
    this.reply(ev.header.requestId, 'ERROR', { code, detail: `frame of request ${ev.header.requestId}: ${ev.kind}` });
  }

  private reply(requestId: number, name: MsgName, fields: Record<string, unknown>): void {
    const frame = encodeFrame({ type: MESSAGES[name].id, seq: this.txSeq, requestId, payload: encodePayload(MESSAGES[name], fields) });
    this.txSeq = (this.txSeq + 1) >>> 0;
    this.counters.tx++;
    this.send(frame);
  }

  private dispatch(f: Frame): void {
    const msg = MESSAGE_BY_ID.get(f.type);
    if (f.protocolMajor !== PROTOCOL_MAJOR) return this.reply(f.requestId, 'ERROR', { code: Err.VERSION, detail: `protocol major ${f.protocolMajor}; this board speaks ${PROTOCOL_MAJOR}` });
    if (!msg || msg.kind !== 'request') return this.reply(f.requestId, 'ERROR', { code: Err.UNKNOWN_MESSAGE, detail: `message type ${f.type}` });
    let fields: Fields;
    try {
      fields = decodePayload(msg, f.payload);
    } catch (e) {
      return this.reply(f.requestId, 'ERROR', { code: Err.BAD_PAYLOAD, detail: (e as Error).message });
    }
    if (msg.name === 'HELLO' && this.running) this.running.cancel = true;
    if (msg.name === 'CANCEL') {
      const found = this.running !== null && this.running.id === fields.target;
      if (found) this.running!.cancel = true;
      return this.reply(f.requestId, 'CANCEL_OK', { found: found ? 1 : 0 });
    }
    if (msg.control) {
      // Control requests are answered at once, even while a request runs.
      return void this.handle(msg.name as MsgName, fields, f.requestId).catch((e) => this.fail(f.requestId, e));
    }
    const window = this.o.window ?? 2;
    if (this.queued >= window) return this.reply(f.requestId, 'ERROR', { code: Err.BUSY, detail: `${this.queued} requests are queued (window ${window})` });
    this.queued++;
    this.busyChain = this.busyChain
      .then(() => {
        this.running = { id: f.requestId, cancel: false };
        return this.handle(msg.name as MsgName, fields, f.requestId);
      })
      .catch((e) => this.fail(f.requestId, e))
      .finally(() => {
        this.running = null;
        this.queued--;
      });
  }

  private fail(requestId: number, e: unknown): void {
    if (e instanceof BoardError) this.reply(requestId, 'ERROR', { code: e.code, detail: e.message });
    else this.reply(requestId, 'ERROR', { code: Err.INTERNAL, detail: String((e as Error)?.message ?? e).slice(0, 500) });
  }

  private requireSession() {
    if (!this.image) throw new BoardError(Err.NO_IMAGE, 'no image is loaded');
    if (!this.session) throw new BoardError(Err.NO_SESSION, 'no session is open');
    return { model: this.image.model, s: this.session };
  }

  private async handle(name: MsgName, f: Fields, rid: number): Promise<void> {
    switch (name) {
      case 'HELLO':
        this.reply(rid, 'HELLO_OK', {
          major: PROTOCOL_MAJOR,
          minor: PROTOCOL_MINOR,
          max_payload: Math.min(this.o.maxPayload ?? 65536, f.max_payload as number),
          window: this.o.window ?? 2,
          firmware: 'tellme ts reference board 0',
          backend: this.o.backend ?? 'ts-golden',
          board: this.hw.config.name,
          hw_hash: Buffer.from(this.hw.hash, 'hex'),
          image_loaded: this.image ? 1 : 0,
          image_sha256: this.image?.sha ?? new Uint8Array(32),
          image_name: this.image?.name ?? '',
        });
        this.txSeq = 0;
        this.rxSeq = 0;
        return;
      case 'PING':
        return this.reply(rid, 'PONG', { data: f.data });
      case 'INFO':
        return this.reply(rid, 'INFO_OK', {
          clock_khz: 0,
          max_image_bytes: 1 << 30,
          context_max: this.hw.config.maxima.context,
          accel_timeout_ms: 5000,
          uptime_ms: Date.now() - this.started,
          session_open: this.session ? 1 : 0,
          context: this.session?.context ?? 0,
          kv_len: this.image?.model.position ?? 0,
          rx_frames: this.counters.rx,
          rx_crc_errors: this.counters.crc,
          rx_truncated: this.counters.truncated,
          rx_discarded_bytes: this.deframer.discarded,
          rx_seq_gaps: this.counters.gaps,
          tx_frames: this.counters.tx,
        });
      case 'UPLOAD_BEGIN': {
        const sha = Buffer.from(f.image_sha256 as Uint8Array).toString('hex');
        const dir = this.o.stateDir ?? os.tmpdir();
        const file = path.join(dir, `upload-${sha}.part`);
        if (!this.upload || this.upload.sha !== sha || this.upload.size !== f.size) {
          const received = fs.existsSync(file) ? Math.min(fs.statSync(file).size, f.size as number) : 0;
          this.upload = { size: f.size as number, sha, name: f.name as string, file, received };
          if (received === 0) fs.writeFileSync(file, new Uint8Array(0));
        }
        return this.reply(rid, 'UPLOAD_STATUS', { received: this.upload.received, chunk_max: 65520 });
      }
      case 'UPLOAD_CHUNK': {
        const u = this.upload;
        if (!u) throw new BoardError(Err.UPLOAD_STATE, 'no upload in progress (send UPLOAD_BEGIN)');
        if (f.offset !== u.received) throw new BoardError(Err.UPLOAD_STATE, `chunk at ${f.offset}, expected ${u.received}`);
        const data = f.data as Uint8Array;
        if (crc32(data) !== f.crc32) throw new BoardError(Err.UPLOAD_CRC, `chunk at ${f.offset}: crc32 mismatch`);
        if (u.received + data.length > u.size) throw new BoardError(Err.UPLOAD_STATE, 'chunk beyond the declared size');
        fs.appendFileSync(u.file, data);
        u.received += data.length;
        return this.reply(rid, 'UPLOAD_ACK', { received: u.received });
      }
      case 'UPLOAD_COMMIT': {
        const u = this.upload;
        if (!u || u.received !== u.size) throw new BoardError(Err.UPLOAD_STATE, u ? `${u.received} of ${u.size} bytes received` : 'no upload in progress');
        this.upload = null;
        try {
          await this.load(u.file, u.name);
        } finally {
          if (!this.image || this.image.img.path !== u.file) fs.rmSync(u.file, { force: true });
        }
        return this.imageOk(rid);
      }
      case 'IMAGE_LOAD_PATH':
        if (!fs.existsSync(f.path as string)) throw new BoardError(Err.IMAGE_IO, `${f.path}: no such file`);
        await this.load(f.path as string, path.basename(f.path as string));
        return this.imageOk(rid);
      case 'SESSION_OPEN': {
        if (!this.image) throw new BoardError(Err.NO_IMAGE, 'no image is loaded');
        const ctx = (f.context as number) || this.image.model.contextLength;
        if (ctx > this.image.model.contextLength) throw new BoardError(Err.CONTEXT, `context ${ctx} is more than the image's ${this.image.model.contextLength}`);
        this.image.model.reset();
        this.session = { context: ctx, rng: new Xoshiro128(0), sampling: { temperature: 0, topK: 0, topP: 1 } };
        return this.sessionOk(rid);
      }
      case 'SESSION_RESET':
        this.requireSession().model.reset();
        return this.sessionOk(rid);
      case 'SAMPLER': {
        const { s } = this.requireSession();
        const sampling = { temperature: f.temperature as number, topK: f.top_k as number, topP: f.top_p as number };
        try {
          validateSampling(sampling);
        } catch (e) {
          throw new BoardError(Err.SAMPLING, (e as Error).message);
        }
        s.sampling = sampling;
        s.rng = new Xoshiro128(f.seed as number);
        return this.sessionOk(rid);
      }
      case 'PREFILL':
      case 'DECODE': {
        const { model, s } = this.requireSession();
        const ids = name === 'PREFILL' ? (f.ids as number[]) : [f.id as number];
        this.checkIds(ids, model);
        if (model.position + ids.length > s.context) throw new BoardError(Err.CONTEXT, `${ids.length} tokens after ${model.position} cached do not fit the context of ${s.context}`);
        const logits = name === 'PREFILL' ? model.prefill(ids)[0]! : model.decode(ids[0]!);
        if ((f.flags as number) & StepFlags.LOGITS) this.sendLogits(rid, 0, logits);
        const tokens = (f.flags as number) & StepFlags.SELECT ? [sample(logits, s.sampling, s.rng)] : [];
        return this.reply(rid, 'STEP_OK', { kv_len: model.position, tokens });
      }
      case 'GENERATE':
        return this.generate(f, rid);
      default:
        throw new BoardError(Err.BAD_REQUEST, `${name} is not implemented by the TypeScript reference board`);
    }
  }

  private checkIds(ids: readonly number[], model: GoldenModel): void {
    const bad = ids.find((x) => x >= model.spec.vocabSize);
    if (bad !== undefined) throw new BoardError(Err.TOKEN_RANGE, `token ${bad} is not below the vocabulary size ${model.spec.vocabSize}`);
  }

  private sendLogits(rid: number, position: number, computed: Float32Array): void {
    const logits = computed.slice();
    const flip = this.o.flipLogit;
    if (flip !== undefined && flip < logits.length) {
      const u = new Uint32Array(logits.buffer);
      u[flip]! ^= 1;
    }
    for (let first = 0; first < logits.length; first += 16000) {
      this.reply(rid, 'LOGITS', { position, first, values: logits.subarray(first, first + 16000) });
    }
  }

  private async generate(f: Fields, rid: number): Promise<void> {
    const { model, s } = this.requireSession();
    const prompt = f.prompt as number[];
    if (prompt.length === 0) throw new BoardError(Err.BAD_REQUEST, 'prompt: at least one id');
    if ((f.draft_tokens as number) > 0) throw new BoardError(Err.BAD_REQUEST, 'draft_tokens: not implemented by the TypeScript reference board');
    this.checkIds(prompt, model);
    const sampling = { temperature: f.temperature as number, topK: f.top_k as number, topP: f.top_p as number };
    try {
      validateSampling(sampling);
    } catch (e) {
      throw new BoardError(Err.SAMPLING, (e as Error).message);
    }
    if (model.position + prompt.length > s.context) {
      throw new BoardError(Err.CONTEXT, `prompt of ${prompt.length} tokens after ${model.position} cached does not fit the context of ${s.context}`);
    }
    s.sampling = sampling;
    s.rng = new Xoshiro128(f.seed as number);
    const stop = new Set(f.stop_ids as number[]);
    const t0 = performance.now();
    let logits = model.prefill(prompt)[0]!;
    const t1 = performance.now();
    let n = 0;
    let passes = 0;
    let reason: number = StopReason.MAX_NEW_TOKENS;
    const max = f.max_new_tokens as number;
    while (n < max) {
      if (this.running?.cancel) {
        reason = StopReason.CANCELLED;
        break;
      }
      const id = sample(logits, s.sampling, s.rng);
      this.reply(rid, 'TOKEN', { index: n, id, pass: passes });
      n++;
      if (this.o.tokenDelayMs) await new Promise((r) => setTimeout(r, this.o.tokenDelayMs));
      if (stop.has(id)) {
        reason = StopReason.EOS;
        break;
      }
      if (n >= max) break;
      if (model.position >= s.context) {
        reason = StopReason.CONTEXT;
        break;
      }
      if (this.running?.cancel) {
        reason = StopReason.CANCELLED;
        break;
      }
      logits = model.decode(id);
      passes++;
    }
    const t2 = performance.now();
    this.reply(rid, 'GENERATE_DONE', {
      stop_reason: reason,
      tokens: n,
      prompt_tokens: prompt.length,
      passes,
      kv_len: model.position,
      prefill_us: Math.round((t1 - t0) * 1000),
      decode_us: Math.round((t2 - t1) * 1000),
    });
  }

  private async load(file: string, name: string): Promise<void> {
    let img: ModelImage;
    try {
      img = openImage(file);
    } catch (e) {
      throw new BoardError(Err.IMAGE_INVALID, (e as Error).message.split('\n')[0]!);
    }
    if (img.hw.hash !== this.hw.hash) {
      throw new BoardError(Err.IMAGE_HW_MISMATCH, `image built for ${img.hw.config.name} (hash ${img.hw.hash.slice(0, 12)}…), this board is ${this.hw.config.name} (hash ${this.hw.hash.slice(0, 12)}…)`);
    }
    await this.image?.model.close();
    this.image = null;
    this.session = null;
    const model = await goldenModelFromImage(img, { threads: this.o.threads ?? 1 });
    this.image = { img, model, sha: Buffer.from(img.header.manifestSha256, 'hex'), name };
  }

  private imageOk(rid: number): void {
    const im = this.image!;
    this.reply(rid, 'IMAGE_OK', { image_sha256: im.sha, name: im.name, size: fs.statSync(im.img.path).size, vocab: im.model.spec.vocabSize, context: im.model.contextLength });
  }

  private sessionOk(rid: number): void {
    const { model, s } = this.requireSession();
    this.reply(rid, 'SESSION_OK', { context: s.context, kv_len: model.position, vocab: model.spec.vocabSize });
  }

  async close(): Promise<void> {
    await this.image?.model.close();
  }
}
