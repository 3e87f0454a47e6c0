/**
 * The host's protocol client (host/src/protocol/client.ts) against a scripted peer: an in-process
 * ByteStream that reads the client's real frames with the real deframer and answers with frames
 * it builds byte for byte. test/device/board.test.ts runs the client against the virtual board's
 * firmware; a firmware does not send what this file needs — a reply in another major version, an
 * unknown message type, a reply whose payload CRC fails, an oversized length, a reply that is not
 * the request's, an event stream that keeps a request alive past its idle timeout — so each of the
 * client's answers to these is pinned here: the request window, the resend of a request the board
 * received damaged, every E_LINK / E_PROTOCOL / E_DEVICE message with its fix, the link statistics.
 */
import { describe, expect, it } from 'vitest';
import { isTellmeError } from '../../host/src/errors.js';
import { DeviceError, LinkClient, type ByteStream } from '../../host/src/protocol/client.js';
import { encodePayload } from '../../host/src/protocol/codec.js';
import { crc32 } from '../../host/src/protocol/crc32.js';
import { Deframer, encodeFrame, type Frame } from '../../host/src/protocol/frame.js';
import { Err, MESSAGES, MESSAGE_BY_ID, PROTOCOL_MAJOR, PROTOCOL_MINOR } from '../../host/src/protocol/gen/protocol.js';

type Name = keyof typeof MESSAGES;

/** A peer that records the client's frames and answers as each test scripts it. */
class ScriptedBoard implements ByteStream {
  readonly description = 'scripted board';
  readonly frames: Frame[] = [];
  onRequest: (f: Frame) => void = () => {};
  writeError: Error | null = null;
  closed = false;
  private deliver: ((c: Uint8Array) => void) | null = null;
  private ended: ((r: Error | null) => void) | null = null;
  private readonly deframer = new Deframer();
  private seq = 0;
  raw: number[] = [];

  write(bytes: Uint8Array): Promise<void> {
    if (this.writeError) return Promise.reject(this.writeError);
    this.raw.push(...bytes);
    for (const ev of this.deframer.push(bytes)) if (ev.kind === 'frame') {
      this.frames.push(ev.frame);
      this.onRequest(ev.frame);
    }
    return Promise.resolve();
  }
  onData(cb: (chunk: Uint8Array) => void): void {
    this.deliver = cb;
  }
  onClose(cb: (reason: Error | null) => void): void {
    this.ended = cb;
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** A frame of message `name` for request `requestId`, built here (seq counts up unless given). */
  frame(name: Name, requestId: number, fields: Record<string, unknown>, opts: { major?: number; type?: number; seq?: number } = {}): Uint8Array {
    const payload = encodePayload(MESSAGES[name], fields);
    const f = encodeFrame({ type: opts.type ?? MESSAGES[name].id, seq: opts.seq ?? this.seq++, requestId, payload });
    if (opts.major !== undefined) {
      const dv = new DataView(f.buffer);
      dv.setUint16(6, opts.major, true);
      dv.setUint32(20, crc32(f, 0, 20), true);
    }
    return f;
  }
  /** Bytes to the client, on a later turn of the event loop (as a stream delivers them). */
  push(bytes: Uint8Array): void {
    setImmediate(() => this.deliver!(bytes));
  }
  reply(name: Name, requestId: number, fields: Record<string, unknown>, opts: { major?: number; type?: number; seq?: number } = {}): void {
    this.push(this.frame(name, requestId, fields, opts));
  }
  end(reason: Error | null): void {
    this.ended!(reason);
  }
}

const nameOf = (f: Frame) => MESSAGE_BY_ID.get(f.type)!.name;

/** The TellmeError a promise rejects with. */
async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string; fix: string | undefined; error: Error }> {
  try {
    await p;
  } catch (e) {
    if (!isTellmeError(e)) throw e;
    return { code: e.code, message: e.message, fix: e.fix, error: e };
  }
  throw new Error('expected a rejection');
}

const pong = (b: ScriptedBoard) => (f: Frame) => {
  if (nameOf(f) === 'PING') b.reply('PONG', f.requestId, { data: Uint8Array.of(7) });
};

function setup(opts: { replyTimeoutMs?: number; interbyteTimeoutMs?: number; maxPayload?: number } = {}) {
  const board = new ScriptedBoard();
  const client = new LinkClient(board, { replyTimeoutMs: 2000, interbyteTimeoutMs: 2000, ...opts });
  return { board, client };
}

const LINK_FIX = 'run the command again; if it repeats, check the cable and the baud rate (tellme doctor)';

describe('LinkClient: requests and replies', () => {
  it('a request gets its reply; ids count from 1; frames carry the message id, seq and payload', async () => {
    const { board, client } = setup();
    board.onRequest = pong(board);
    expect(await client.request('PING', { data: Uint8Array.of(1, 2) })).toEqual({ data: Uint8Array.of(7) });
    const second = client.start('PING', { data: new Uint8Array(0) });
    expect(second.id).toBe(2);
    await second.reply;
    expect(board.frames.map((f) => [nameOf(f), f.requestId, f.seq, f.protocolMajor])).toEqual([
      ['PING', 1, 0, PROTOCOL_MAJOR],
      ['PING', 2, 1, PROTOCOL_MAJOR],
    ]);
    expect(Array.from(board.frames[0]!.payload)).toEqual([2, 0, 0, 0, 1, 2]);
    expect(client.stats).toMatchObject({ framesOut: 2, framesIn: 2, strays: 0, seqGaps: 0, resent: 0 });
  });

  it('refuses a payload over the link limit before sending anything', () => {
    const { board, client } = setup({ maxPayload: 1024 });
    let message = '';
    try {
      client.start('PING', { data: new Uint8Array(1021) });
    } catch (e) {
      message = (e as Error).message;
      expect(isTellmeError(e) && e.code).toBe('E_PROTOCOL');
    }
    expect(message).toBe("PING: 1025 bytes, more than the link's max_payload 1024");
    expect(client.isClosed).toBe(false);
    try {
      client.start('PING', { data: new Uint8Array(1021) });
    } catch (e) {
      expect((e as { fix?: string }).fix).toBe('send less per request (shorter prompt, smaller chunks)');
    }
    expect(board.frames).toEqual([]);
  });

  it('hello adopts the board window and a lower payload limit, restarts the sequence, and refuses another major version', async () => {
    const { board, client } = setup({ maxPayload: 4096 });
    const helloOk = (over: Record<string, unknown>) => ({ major: PROTOCOL_MAJOR, minor: PROTOCOL_MINOR, max_payload: 2048, window: 3, firmware: 'f', backend: 'b', board: 'kv260', hw_hash: new Uint8Array(32), image_loaded: 0, image_sha256: new Uint8Array(32), image_name: '', ...over });
    board.onRequest = (f) => {
      if (nameOf(f) === 'HELLO') board.reply('HELLO_OK', f.requestId, helloOk({}), { seq: 0 });
      else pong(board)(f);
    };
    await client.request('PING', { data: new Uint8Array(0) });
    const r = await client.hello('test host');
    expect(r.window).toBe(3);
    expect(client.window).toBe(3);
    expect(client.maxPayload).toBe(2048);
    expect(board.frames[1]!.payload.slice(0, 8)).toEqual(Uint8Array.of(PROTOCOL_MAJOR, 0, PROTOCOL_MINOR, 0, 0, 0x10, 0, 0)); // max_payload 4096 offered
    await client.request('PING', { data: new Uint8Array(0) });
    // A HELLO restarts the host's direction: the HELLO (after a PING that was frame 0) is frame 0
    // again, the frame after it frame 1 — what the firmware expects (HELLO's seq + 1).
    expect(board.frames.map((f) => f.seq)).toEqual([0, 0, 1]);
    // The board's HELLO_OK is its frame 0 again (after a PONG that was frame 0): not a gap; its
    // next frame is frame 1.
    expect(client.stats.seqGaps).toBe(0);
    // window 0 is read as 1
    const b2 = setup();
    b2.board.onRequest = (f) => b2.board.reply('HELLO_OK', f.requestId, helloOk({ window: 0, max_payload: 65536 }));
    await b2.client.hello('h');
    expect(b2.client.window).toBe(1);
    expect(b2.client.maxPayload).toBe(65536);
    const b3 = setup();
    b3.board.onRequest = (f) => b3.board.reply('HELLO_OK', f.requestId, helloOk({ major: PROTOCOL_MAJOR + 1 }), { major: PROTOCOL_MAJOR });
    const e = await rejection(b3.client.hello('h'));
    expect(e.code).toBe('E_LINK');
    expect(e.message).toBe(`the board speaks protocol ${PROTOCOL_MAJOR + 1}.${PROTOCOL_MINOR}, this tellme ${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`);
    expect(e.fix).toBe('update tellme or the firmware so that both speak the same major version');
  });

  it('keeps to the window: queued requests go out as replies come; control requests do not wait', async () => {
    const { board, client } = setup();
    client.window = 2;
    const held: Frame[] = [];
    board.onRequest = (f) => {
      if (nameOf(f) === 'PING') pong(board)(f);
      else held.push(f);
    };
    const resets = [1, 2, 3, 4].map(() => client.request('SESSION_RESET', {}));
    await new Promise((r) => setImmediate(r));
    expect(held.map((f) => f.requestId)).toEqual([1, 2]);
    await client.request('PING', { data: new Uint8Array(0) }); // a control request passes the full window
    const ok = { context: 8, kv_len: 0, vocab: 16 };
    board.reply('SESSION_OK', held[0]!.requestId, ok);
    await resets[0];
    await new Promise((r) => setImmediate(r));
    expect(held.map((f) => f.requestId)).toEqual([1, 2, 3]);
    board.reply('SESSION_OK', 2, ok);
    board.reply('SESSION_OK', 3, ok);
    await Promise.all([resets[1], resets[2]]);
    await new Promise((r) => setImmediate(r));
    expect(held.map((f) => f.requestId)).toEqual([1, 2, 3, 4]);
    board.reply('SESSION_OK', 4, ok);
    expect(await resets[3]).toEqual(ok);
  });
});

describe('LinkClient: the board refuses', () => {
  it('an ERROR reply becomes a DeviceError with the spec name, code, detail and fix; an unknown code is named by number', async () => {
    const { board, client } = setup();
    board.onRequest = (f) => board.reply('ERROR', f.requestId, { code: f.requestId === 1 ? Err.NO_IMAGE : 999, detail: 'no image is loaded' });
    const e = await rejection(client.request('SESSION_RESET', {}));
    expect(e.error).toBeInstanceOf(DeviceError);
    const d = e.error as DeviceError;
    expect([d.code, d.errorName, d.errorCode, d.detail]).toEqual(['E_DEVICE', 'NO_IMAGE', Err.NO_IMAGE, 'no image is loaded']);
    expect(d.message).toBe('the board refused SESSION_RESET: NO_IMAGE: no image is loaded');
    expect(d.fix).toMatch(/\S/);
    const u = (await rejection(client.request('SESSION_RESET', {}))).error as DeviceError;
    expect([u.errorName, u.errorCode]).toEqual(['error 999', 999]);
    expect(u.fix).toBe('update tellme: the firmware reports an error this version does not know');
  });

  it('FRAME_CRC and FRAME_TRUNCATED make the client resend the request, at most twice', async () => {
    for (const code of [Err.FRAME_CRC, Err.FRAME_TRUNCATED]) {
      const { board, client } = setup();
      let n = 0;
      board.onRequest = (f) => (++n < 3 ? board.reply('ERROR', f.requestId, { code, detail: 'damaged' }) : board.reply('SESSION_OK', f.requestId, { context: 1, kv_len: 0, vocab: 2 }));
      expect(await client.request('SESSION_RESET', {})).toEqual({ context: 1, kv_len: 0, vocab: 2 });
      expect(board.frames.map((f) => f.requestId)).toEqual([1, 1, 1]);
      expect(client.stats.resent).toBe(2);
      const again = setup();
      again.board.onRequest = (f) => again.board.reply('ERROR', f.requestId, { code, detail: 'damaged' });
      const d = (await rejection(again.client.request('SESSION_RESET', {}))).error as DeviceError;
      expect(d.errorCode).toBe(code);
      expect(again.board.frames.length).toBe(3);
      expect(again.client.stats.resent).toBe(2);
    }
  });

  it('a request sent mangled on purpose is not resent: the board verdict ends it', async () => {
    const { board, client } = setup();
    board.onRequest = (f) => board.reply('ERROR', f.requestId, { code: Err.FRAME_CRC, detail: 'crc' });
    const d = (await rejection(client.request('PING', { data: Uint8Array.of(1) }, { mangle: (b) => b }))).error as DeviceError;
    expect(d.errorName).toBe('FRAME_CRC');
    expect(board.frames.length).toBe(1);
    expect(client.stats.resent).toBe(0);
  });

  it('any other error code is not resent', async () => {
    const { board, client } = setup();
    board.onRequest = (f) => board.reply('ERROR', f.requestId, { code: Err.BUSY, detail: 'busy' });
    expect(((await rejection(client.request('SESSION_RESET', {}))).error as DeviceError).errorName).toBe('BUSY');
    expect(board.frames.length).toBe(1);
  });
});

describe('LinkClient: replies it cannot take', () => {
  /** The reply frame with one payload byte flipped (its payload CRC then fails). */
  const damaged = (b: ScriptedBoard, name: Name, id: number, fields: Record<string, unknown>) => {
    const f = b.frame(name, id, fields);
    f[24] = f[24]! ^ 1;
    return f;
  };

  it('a corrupted reply to a control request is asked for again (twice at most); to a queued request it is an E_LINK error', async () => {
    const { board, client } = setup();
    let n = 0;
    board.onRequest = (f) => (++n < 3 ? board.push(damaged(board, 'PONG', f.requestId, { data: Uint8Array.of(1) })) : pong(board)(f));
    expect(await client.request('PING', { data: new Uint8Array(0) })).toEqual({ data: Uint8Array.of(7) });
    expect(client.stats).toMatchObject({ badCrc: 2, resent: 2 });
    const b2 = setup();
    b2.board.onRequest = (f) => b2.board.push(damaged(b2.board, 'PONG', f.requestId, { data: Uint8Array.of(1) }));
    const e2 = await rejection(b2.client.request('PING', { data: new Uint8Array(0) }));
    expect(b2.board.frames.length).toBe(3);
    expect(e2.message).toBe("the board's PONG for PING (request 1) arrived corrupted (payload CRC); the link has resynchronised");
    const b3 = setup();
    b3.board.onRequest = (f) => b3.board.push(damaged(b3.board, 'SESSION_OK', f.requestId, { context: 1, kv_len: 0, vocab: 2 }));
    const e3 = await rejection(b3.client.request('SESSION_RESET', {}));
    expect([e3.code, e3.message, e3.fix]).toEqual(['E_LINK', "the board's SESSION_OK for SESSION_RESET (request 1) arrived corrupted (payload CRC); the link has resynchronised", LINK_FIX]);
    expect(b3.board.frames.length).toBe(1);
    // A damaged ERROR answer to a control request is asked for again too; a damaged frame of another type is not.
    const b4 = setup();
    let m = 0;
    b4.board.onRequest = (f) => (++m === 1 ? b4.board.push(damaged(b4.board, 'ERROR', f.requestId, { code: Err.BUSY, detail: 'x' })) : pong(b4.board)(f));
    await b4.client.request('PING', { data: new Uint8Array(0) });
    expect(b4.client.stats.resent).toBe(1);
    const b5 = setup();
    b5.board.onRequest = (f) => b5.board.push(damaged(b5.board, 'TOKEN', f.requestId, { index: 0, id: 1, pass: 0 }));
    expect((await rejection(b5.client.request('PING', { data: new Uint8Array(0) }))).message).toBe("the board's TOKEN for PING (request 1) arrived corrupted (payload CRC); the link has resynchronised");
    expect(b5.board.frames.length).toBe(1);
  });

  it('a truncated reply is reported when the inter-byte timeout passes; an oversized length at once', async () => {
    const { board, client } = setup({ interbyteTimeoutMs: 20 });
    board.onRequest = (f) => board.push(board.frame('SESSION_OK', f.requestId, { context: 1, kv_len: 0, vocab: 2 }).subarray(0, 30));
    const e = await rejection(client.request('SESSION_RESET', {}));
    expect(e.message).toBe("the board's SESSION_OK for SESSION_RESET (request 1) arrived truncated; the link has resynchronised");
    expect(client.stats.truncated).toBe(1);
    const b2 = setup({ maxPayload: 1024 });
    b2.board.onRequest = (f) => {
      const big = b2.board.frame('PONG', f.requestId, { data: new Uint8Array(1024) }); // 1028 bytes of payload > 1024
      b2.board.push(big);
    };
    const e2 = await rejection(b2.client.request('SESSION_RESET', {}));
    expect(e2.message).toBe("the board's PONG for SESSION_RESET (request 1) arrived with an oversized length; the link has resynchronised");
    expect(b2.client.stats.tooLarge).toBe(1);
    // a damaged frame of an unknown type is named by its number
    const b3 = setup();
    b3.board.onRequest = (f) => {
      const x = b3.board.frame('SESSION_OK', f.requestId, { context: 1, kv_len: 0, vocab: 2 }, { type: 0x7abc });
      x[24] = x[24]! ^ 1;
      b3.board.push(x);
    };
    expect((await rejection(b3.client.request('SESSION_RESET', {}))).message).toBe("the board's message 31420 for SESSION_RESET (request 1) arrived corrupted (payload CRC); the link has resynchronised");
  });

  it('another major version, an unknown type, an undecodable payload, or the wrong reply end the request with a clear error', async () => {
    const VERSION_FIX = 'update tellme or the firmware so that both speak the same major version';
    const cases: [(b: ScriptedBoard, id: number) => void, string, string, string?][] = [
      [(b, id) => b.reply('SESSION_OK', id, { context: 1, kv_len: 0, vocab: 2 }, { major: PROTOCOL_MAJOR + 1 }), 'E_LINK', `the board answered SESSION_RESET in protocol major version ${PROTOCOL_MAJOR + 1}; this tellme speaks ${PROTOCOL_MAJOR}`, VERSION_FIX],
      [(b, id) => b.reply('SESSION_OK', id, { context: 1, kv_len: 0, vocab: 2 }, { type: 0x7abc }), 'E_PROTOCOL', 'the board answered SESSION_RESET with an unknown message type 31420', 'update tellme: the firmware is newer'],
      [(b, id) => b.reply('PONG', id, { data: Uint8Array.of(1) }, { type: MESSAGES.SESSION_OK.id }), 'E_PROTOCOL', 'SESSION_OK.kv_len: payload ends at byte 5, the field needs bytes up to 8'],
      [(b, id) => b.reply('PONG', id, { data: Uint8Array.of(1) }), 'E_PROTOCOL', 'the board answered SESSION_RESET with PONG', 'update tellme or the firmware (they disagree on the protocol)'],
    ];
    for (const [answer, code, message, fix] of cases) {
      const { board, client } = setup();
      board.onRequest = (f) => answer(board, f.requestId);
      const e = await rejection(client.request('SESSION_RESET', {}));
      expect([e.code, e.message]).toEqual([code, message]);
      if (fix) expect(e.fix).toBe(fix);
    }
    // An ERROR in another major version is still read as the board's error.
    const { board, client } = setup();
    board.onRequest = (f) => board.reply('ERROR', f.requestId, { code: Err.VERSION, detail: 'major' }, { major: PROTOCOL_MAJOR + 1 });
    expect(((await rejection(client.request('SESSION_RESET', {}))).error as DeviceError).errorName).toBe('VERSION');
  });

  it('frames for no request are counted as strays; sequence gaps are counted, not refused', async () => {
    const { board, client } = setup();
    board.onRequest = (f) => {
      board.reply('PONG', 77, { data: new Uint8Array(0) });
      board.reply('PONG', f.requestId, { data: Uint8Array.of(7) }, { seq: 5 });
    };
    expect(await client.request('PING', { data: new Uint8Array(0) })).toEqual({ data: Uint8Array.of(7) });
    expect(client.stats).toMatchObject({ strays: 1, seqGaps: 1, framesIn: 2 });
  });

  it('a damaged frame for no pending request is counted and otherwise ignored', async () => {
    const { board, client } = setup();
    board.onRequest = (f) => {
      const stray = board.frame('PONG', 77, { data: Uint8Array.of(1) });
      stray[24] = stray[24]! ^ 1;
      board.push(stray);
      pong(board)(f);
    };
    expect(await client.request('PING', { data: new Uint8Array(0) })).toEqual({ data: Uint8Array.of(7) });
    expect(client.stats).toMatchObject({ badCrc: 1, resent: 0 });
  });

  it('request ids wrap from 2^31 - 1 to 1 and skip one still pending', async () => {
    const { board, client } = setup();
    board.onRequest = (f) => {
      if (f.requestId !== 1) pong(board)(f);
    };
    const first = client.start('PING', { data: new Uint8Array(0) }); // id 1, never answered
    (client as unknown as { nextId: number }).nextId = 0x7ffffffe;
    const ids: number[] = [];
    for (let k = 0; k < 3; k++) {
      const r = client.start('PING', { data: new Uint8Array(0) });
      ids.push(r.id);
      await r.reply;
    }
    expect([first.id, ...ids]).toEqual([1, 0x7ffffffe, 0x7fffffff, 2]);
    await client.close();
    await first.reply.catch(() => {});
  });

  it('bytes between frames are counted as discarded', async () => {
    const { board, client } = setup();
    board.onRequest = (f) => {
      board.push(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
      pong(board)(f);
    };
    await client.request('PING', { data: new Uint8Array(0) });
    expect(client.stats.discardedBytes).toBe(10);
  });
});

describe('LinkClient: events, timeouts and the end of the link', () => {
  it('events reach onEvent in order and keep a request alive past its idle timeout', async () => {
    const { board, client } = setup();
    const seen: [string, number][] = [];
    board.onRequest = (f) => {
      let k = 0;
      const tick = () => {
        if (k < 5) {
          board.reply('TOKEN', f.requestId, { index: k, id: 100 + k, pass: k });
          k++;
          setTimeout(tick, 150);
        } else board.reply('STEP_OK', f.requestId, { kv_len: 5, tokens: [1, 2] });
      };
      setTimeout(tick, 150);
    };
    // Events 150 ms apart, 900 ms in all, against an idle timeout of 400 ms (margins that a loaded
    // machine's timer delays do not eat).
    const r = await client.request('DECODE', { flags: 0, id: 3 }, { timeoutMs: 400, onEvent: (name, fields) => seen.push([name, fields.id as number]) });
    expect(r).toEqual({ kv_len: 5, tokens: [1, 2] });
    expect(seen).toEqual([0, 1, 2, 3, 4].map((k) => ['TOKEN', 100 + k]));
  });

  it('events of a request without onEvent are consumed; its reply still ends it', async () => {
    const { board, client } = setup();
    board.onRequest = (f) => {
      board.reply('TOKEN', f.requestId, { index: 0, id: 1, pass: 0 });
      board.reply('STEP_OK', f.requestId, { kv_len: 1, tokens: [1] });
    };
    expect(await client.request('DECODE', { flags: 0, id: 3 })).toEqual({ kv_len: 1, tokens: [1] });
  });

  it('the inter-byte timeout restarts with every chunk: a frame that trickles in slower than it in total is read whole', async () => {
    const { board, client } = setup({ interbyteTimeoutMs: 400 });
    board.onRequest = (f) => {
      // 72 bytes in 4 chunks 150 ms apart: 450 ms from the first to the last, over the 400 ms limit.
      const bytes = board.frame('PONG', f.requestId, { data: new Uint8Array(40) });
      for (let k = 0; k < 4; k++) setTimeout(() => board.push(bytes.subarray(k * 20, (k + 1) * 20)), 150 * k);
    };
    expect(await client.request('PING', { data: new Uint8Array(0) })).toEqual({ data: new Uint8Array(40) });
    expect(client.stats.truncated).toBe(0);
  });

  it('an onEvent that throws ends its request with that error', async () => {
    const { board, client } = setup();
    board.onRequest = (f) => board.reply('TOKEN', f.requestId, { index: 0, id: 1, pass: 0 });
    const boom = new Error('the caller gave up');
    await expect(client.request('DECODE', { flags: 0, id: 3 }, { onEvent: () => { throw boom; } })).rejects.toBe(boom);
  });

  it('no reply within the timeout is an E_LINK error naming the request and the link', async () => {
    const { client } = setup({ replyTimeoutMs: 30 });
    const e = await rejection(client.request('INFO', {}));
    expect([e.code, e.message]).toEqual(['E_LINK', 'no reply to INFO (request 1) within 30 ms from scripted board']);
    expect(e.fix).toBe('check that the board is powered and running the tellme firmware (tellme doctor), and that nothing else uses the port');
    const e2 = await rejection(client.request('INFO', {}, { timeoutMs: 10 }));
    expect(e2.message).toBe('no reply to INFO (request 2) within 10 ms from scripted board');
  });

  it('the link closing fails every pending request and every later one, with the reason', async () => {
    const { board, client } = setup();
    const a = client.request('SESSION_RESET', {});
    const queued = client.request('SESSION_RESET', {}); // behind the window of 1
    await new Promise((r) => setImmediate(r));
    board.end(new Error('cable pulled'));
    for (const p of [a, queued]) {
      const e = await rejection(p);
      expect([e.code, e.message]).toEqual(['E_LINK', 'the link to the board (scripted board) is closed: cable pulled']);
      expect(e.fix).toBe('start the board (or the virtual board) again and re-run the command');
    }
    expect(client.isClosed).toBe(true);
    expect((await rejection(client.request('PING', { data: new Uint8Array(0) }))).message).toBe('the link to the board (scripted board) is closed: cable pulled');
    expect(board.frames.length).toBe(1);
    await client.close(); // closing again keeps the first reason
    expect((await rejection(client.request('INFO', {}))).message).toBe('the link to the board (scripted board) is closed: cable pulled');
    const b2 = setup();
    b2.board.end(null);
    expect((await rejection(b2.client.request('INFO', {}))).message).toBe('the link to the board (scripted board) is closed: closed by the other end');
    const b3 = setup();
    const pending = b3.client.request('INFO', {});
    await b3.client.close();
    expect(b3.board.closed).toBe(true);
    expect((await rejection(pending)).message).toBe('the link to the board (scripted board) is closed: closed by tellme');
  });

  it('a closed link stops its inter-byte timer: a partial frame left at the close is not reported later', async () => {
    const { board, client } = setup({ interbyteTimeoutMs: 10 });
    board.push(board.frame('PONG', 5, { data: Uint8Array.of(1) }).subarray(0, 30));
    await new Promise((r) => setImmediate(r));
    await client.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(client.stats.truncated).toBe(0);
  });

  it('a write that fails closes the link with its error', async () => {
    const { board, client } = setup();
    board.writeError = new Error('EIO');
    expect((await rejection(client.request('INFO', {}))).message).toBe('the link to the board (scripted board) is closed: EIO');
  });

  it('writeRaw sends its bytes after the frames queued before it', async () => {
    const { board, client } = setup();
    board.onRequest = pong(board);
    const p = client.request('PING', { data: new Uint8Array(0) });
    await client.writeRaw(Uint8Array.of(0xee, 0xee));
    await p;
    expect(board.raw.slice(-2)).toEqual([0xee, 0xee]);
    expect(board.raw.length).toBe(board.frames[0]!.payload.length + 28 + 2);
  });

  it('cancel sends CANCEL for the target, as a control request with its own timeout', async () => {
    const { board, client } = setup({ replyTimeoutMs: 5000 });
    board.onRequest = (f) => {
      // Only a CANCEL of request 1 is answered.
      if (nameOf(f) === 'CANCEL' && f.payload[0] === 1) board.reply('CANCEL_OK', f.requestId, { found: 1 });
    };
    const run = client.start('SESSION_RESET', {});
    expect(await client.cancel(run.id)).toEqual({ found: 1 });
    expect(board.frames.map(nameOf)).toEqual(['SESSION_RESET', 'CANCEL']);
    expect(Array.from(board.frames[1]!.payload)).toEqual([run.id, 0, 0, 0]);
    const e = await rejection(client.cancel(99, 15));
    expect(e.message).toBe('no reply to CANCEL (request 3) within 15 ms from scripted board');
    await client.close();
    await run.reply.catch(() => {});
  });
});
