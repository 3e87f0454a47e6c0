/**
 * The deframer (host/src/protocol/frame.ts) where framing.test.ts does not look: a stream that
 * outgrows its 4 KiB buffer (growth, and compaction when only a short tail is pending), what it
 * keeps of bytes without a frame (`discarded` and `pending` exactly: the last 3 bytes may start a
 * magic, a near-magic is not one), a header-long tail with a bad header CRC, and expiry (it drops
 * an incomplete tail, and after a truncated frame a later incomplete one waits again).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_FORMAT, Deframer, encodeFrame, HEADER_BYTES, type DeframeEvent } from '../../host/src/protocol/frame.js';

const MAGIC = DEFAULT_FORMAT.magic;

function frame(requestId: number, payloadBytes: number): Uint8Array {
  const payload = new Uint8Array(payloadBytes);
  for (let i = 0; i < payloadBytes; i++) payload[i] = (i * 7 + requestId) & 0xff;
  return encodeFrame({ type: 0x8002, seq: requestId, requestId, payload });
}

const kinds = (ev: DeframeEvent[]) => ev.map((e) => (e.kind === 'frame' ? `frame ${e.frame.requestId}` : `${e.kind} ${e.header.requestId}`));

/** `n` bytes that hold no magic and no byte of it (so no tail can start one). */
function noise(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let v = 0x11;
  for (let i = 0; i < n; i++) {
    do v = (v * 5 + 3) & 0xff;
    while (MAGIC.includes(v));
    out[i] = v;
  }
  return out;
}

describe('deframer: buffer growth and compaction', () => {
  it('a frame larger than the initial 4 KiB buffer, pushed in 1000-byte chunks after another frame, is found whole', () => {
    expect(DEFAULT_FORMAT.maxPayload).toBeGreaterThanOrEqual(10_000);
    const d = new Deframer();
    const small = frame(1, 10);
    const big = frame(2, 10_000);
    const stream = new Uint8Array(small.length + big.length);
    stream.set(small, 0);
    stream.set(big, small.length);
    const events: DeframeEvent[] = [];
    for (let p = 0; p < stream.length; p += 1000) events.push(...d.push(stream.subarray(p, p + 1000)));
    expect(kinds(events)).toEqual(['frame 1', 'frame 2']);
    const got = events[1]!.kind === 'frame' ? events[1]!.frame.payload : null;
    expect(got).toEqual(frame(2, 10_000).subarray(HEADER_BYTES, HEADER_BYTES + 10_000));
    expect(d.pending).toBe(false);
    expect(d.discarded).toBe(0);
  });

  it('a frame that arrives across the buffer end after 4000 bytes of noise (compaction of the kept tail) is found', () => {
    const d = new Deframer();
    expect(d.push(noise(4000))).toEqual([]);
    expect(d.discarded).toBe(3997); // the last 3 bytes could start a magic
    expect(d.pending).toBe(true);
    const f = frame(3, 300);
    const events = [...d.push(f.subarray(0, 150)), ...d.push(f.subarray(150))];
    expect(kinds(events)).toEqual(['frame 3']);
    expect(d.discarded).toBe(4000);
    expect(d.pending).toBe(false);
  });

  it('a 10 000-byte frame in one push (the buffer grows to hold the whole chunk at once)', () => {
    const d = new Deframer();
    d.push(noise(100));
    const events = d.push(frame(4, 10_000));
    expect(kinds(events)).toEqual(['frame 4']);
    expect(d.discarded).toBe(100);
  });

  it('the start of a frame kept at the end of the buffer survives the compaction that makes room for its rest', () => {
    const d = new Deframer();
    const f = frame(5, 300);
    // 4000 bytes of noise and the first 2 bytes of the frame's magic: the 3-byte tail kept is one
    // noise byte and those 2; the next push does not fit behind them and moves them to the front.
    expect(d.push(Uint8Array.from([...noise(4000), ...f.subarray(0, 2)]))).toEqual([]);
    expect(d.discarded).toBe(3999);
    expect(kinds(d.push(f.subarray(2)))).toEqual(['frame 5']);
    expect(d.discarded).toBe(4000);
  });

  it('a frame split across many pushes, each of which makes the buffer compact or grow, keeps its bytes in order', () => {
    const d = new Deframer();
    const events: DeframeEvent[] = [];
    for (let k = 0; k < 6; k++) {
      events.push(...d.push(noise(1500)));
      const f = frame(10 + k, 2500 + 300 * k);
      for (let p = 0; p < f.length; p += 700) events.push(...d.push(f.subarray(p, p + 700)));
    }
    expect(kinds(events)).toEqual(['frame 10', 'frame 11', 'frame 12', 'frame 13', 'frame 14', 'frame 15']);
    for (const [k, e] of events.entries()) {
      if (e.kind !== 'frame') throw new Error('not a frame');
      expect(e.frame.payload).toEqual(frame(10 + k, 2500 + 300 * k).subarray(HEADER_BYTES, HEADER_BYTES + 2500 + 300 * k));
    }
    expect(d.discarded).toBe(6 * 1500);
  });
});

describe('deframer: what it keeps of bytes that are not a frame', () => {
  it('keeps the last 3 bytes of noise (a magic may start there) and counts the rest as discarded', () => {
    for (const n of [1, 3, 4, 10, 30]) {
      const d = new Deframer();
      expect(d.push(noise(n))).toEqual([]);
      expect(d.discarded, `${n} bytes`).toBe(Math.max(0, n - 3));
      expect(d.pending, `${n} bytes`).toBe(true);
    }
  });

  it('a magic with any one byte changed is not a magic: only 3 bytes are kept', () => {
    for (let j = 0; j < 4; j++) {
      const near = [...MAGIC];
      near[j] = (near[j]! ^ 0x40) & 0xff;
      const d = new Deframer();
      expect(d.push(Uint8Array.from([...noise(6), ...near, 0, 0]))).toEqual([]);
      expect(d.discarded, `magic byte ${j} changed`).toBe(12 - 3);
    }
  });

  it('a real magic followed by fewer than a header of bytes waits for the rest (nothing discarded from it)', () => {
    const d = new Deframer();
    expect(d.push(Uint8Array.from([...noise(5), ...MAGIC, 1, 2, 3]))).toEqual([]);
    expect(d.discarded).toBe(5);
    expect(d.pending).toBe(true);
  });

  it('exactly a header of bytes after a magic with a bad header CRC is skipped at once, not waited on', () => {
    const d = new Deframer();
    const bytes = new Uint8Array(HEADER_BYTES);
    bytes.set(MAGIC, 0); // bytes 4..23 zero: the header CRC (0) does not match
    expect(d.push(bytes)).toEqual([]);
    // Past the false magic, 23 bytes without one: 3 kept.
    expect(d.discarded).toBe(HEADER_BYTES - 3);
  });
});

describe('deframer: expiry', () => {
  it('drops an incomplete tail shorter than a header', () => {
    const d = new Deframer();
    d.push(Uint8Array.from([...MAGIC, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    expect(d.pending).toBe(true);
    expect(d.expire()).toEqual([]);
    expect(d.pending).toBe(false);
    expect(d.discarded).toBe(14);
  });

  it('after a truncated frame is reported, a good frame is found and a later incomplete one waits again', () => {
    const d = new Deframer();
    // A header that declares 400 payload bytes, then only 16 of them: everything after it fits
    // inside what it declares, so the deframer waits for it until the timeout.
    const cut = frame(20, 400).subarray(0, 40);
    const good = frame(21, 8);
    const tail = frame(22, 8).subarray(0, 30); // a header and 6 payload bytes: incomplete
    expect(d.push(Uint8Array.from([...cut, ...good, ...tail]))).toEqual([]);
    expect(kinds(d.expire())).toEqual(['truncated 20', 'frame 21']);
    expect(d.pending).toBe(true);
    const rest = frame(22, 8).subarray(30);
    expect(kinds(d.push(rest))).toEqual(['frame 22']);
    expect(d.pending).toBe(false);
  });
});
