/**
 * CRC-32, the codec and the framer against independent expectations: the CRC's check value and
 * node's zlib.crc32, known-answer frames built with Python's struct + zlib
 * (test/fixtures/protocol/known-frames.json), and resynchronisation after garbage, corrupted,
 * truncated and oversized frames, with the bytes fed in every split.
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { crc32, crc32Update } from '../../host/src/protocol/crc32.js';
import { decodePayload, encodePayload } from '../../host/src/protocol/codec.js';
import { Deframer, encodeFrame, type DeframeEvent } from '../../host/src/protocol/frame.js';
import { CRC32_CHECK, MESSAGES, type MsgName } from '../../host/src/protocol/gen/protocol.js';

interface Known {
  name: MsgName;
  seq: number;
  request_id: number;
  fields: Record<string, unknown>;
  frame: string;
}
const known: Known[] = JSON.parse(fs.readFileSync(new URL('../fixtures/protocol/known-frames.json', import.meta.url), 'utf8')).frames;
const fromHex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const fieldValues = (k: Known) =>
  Object.fromEntries(
    Object.entries(k.fields).map(([n, v]) => {
      if (typeof v === 'string' && v.startsWith('hex:')) return [n, fromHex(v.slice(4))];
      if (n === 'values') return [n, Float32Array.from(v as number[])];
      return [n, v];
    }),
  );

describe('crc32', () => {
  it('has the spec check value and agrees with zlib on random buffers', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(CRC32_CHECK);
    expect(CRC32_CHECK).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (b, cut) => {
        const k = Math.min(cut, b.length);
        expect(crc32(b)).toBe(zlib.crc32(b));
        expect(crc32Update(crc32(b.subarray(0, k)), b.subarray(k))).toBe(zlib.crc32(b));
      }),
      { seed: 1, numRuns: 200 },
    );
  });
});

describe('codec and frames: known answers', () => {
  for (const k of known) {
    it(`${k.name} encodes and decodes as the fixture`, () => {
      const msg = MESSAGES[k.name];
      const payload = encodePayload(msg, fieldValues(k));
      const frame = encodeFrame({ type: msg.id, seq: k.seq, requestId: k.request_id, payload });
      expect(Buffer.from(frame).toString('hex')).toBe(k.frame);
      const [ev] = new Deframer().push(fromHex(k.frame));
      expect(ev!.kind).toBe('frame');
      const f = (ev as Extract<DeframeEvent, { kind: 'frame' }>).frame;
      expect([f.type, f.seq, f.requestId]).toEqual([msg.id, k.seq, k.request_id]);
      const decoded = decodePayload(msg, f.payload);
      expect(decoded).toEqual(fieldValues(k));
    });
  }

  it('a planted one-bit change in any byte of a known frame is caught', () => {
    const good = fromHex(known[3]!.frame);
    for (let i = 0; i < good.length; i++) {
      const bad = good.slice();
      bad[i] ^= 1 << i % 8;
      const evs = new Deframer().push(bad);
      expect(evs.some((e) => e.kind === 'frame'), `byte ${i}`).toBe(false);
    }
  });
});

describe('codec: refusals', () => {
  const gen = MESSAGES.GENERATE;
  const good = { max_new_tokens: 1, temperature: 0, top_k: 0, top_p: 1, seed: 0, draft_tokens: 0, prompt: [1], stop_ids: [] };
  it('refuses missing, unknown and out-of-range fields when encoding', () => {
    expect(() => encodePayload(gen, { ...good, seed: -1 })).toThrow(/GENERATE.seed: -1 is not a u32/);
    expect(() => encodePayload(gen, { ...good, colour: 1 })).toThrow(/unknown field "colour"/);
    const { seed: _s, ...noSeed } = good;
    expect(() => encodePayload(gen, noSeed)).toThrow(/GENERATE.seed: missing/);
    expect(() => encodePayload(gen, { ...good, stop_ids: new Array(65).fill(1) })).toThrow(/65 elements, more than its maximum 64/);
  });
  it('refuses short, long and over-maximum payloads when decoding', () => {
    const p = encodePayload(gen, good);
    expect(() => decodePayload(gen, p.subarray(0, p.length - 1))).toThrow(/GENERATE.stop_ids: payload ends/);
    expect(() => decodePayload(gen, Uint8Array.from([...p, 0]))).toThrow(/1 bytes after the last field/);
    const over = p.slice();
    new DataView(over.buffer).setUint32(p.length - 4, 65, true);
    expect(() => decodePayload(gen, over)).toThrow(/count 65 is more than its maximum 64/);
  });
});

describe('Deframer: resynchronisation', () => {
  const ping = (rid: number, n = 4) => encodeFrame({ type: MESSAGES.PING.id, seq: rid, requestId: rid, payload: encodePayload(MESSAGES.PING, { data: new Uint8Array(n).fill(rid) }) });
  const summary = (evs: DeframeEvent[]) => evs.map((e) => (e.kind === 'frame' ? `frame ${e.frame.requestId}` : `${e.kind} ${e.header.requestId}`));
  const feed = (d: Deframer, bytes: Uint8Array, step: number) => {
    const out: DeframeEvent[] = [];
    for (let i = 0; i < bytes.length; i += step) out.push(...d.push(bytes.subarray(i, i + step)));
    return out;
  };
  const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

  it('skips garbage (including false magics) between frames, in any split', () => {
    const garbage = Uint8Array.from([0xa5, 0x54, 0x4c, 0x4b, 1, 2, 3, 0xa5, 0xa5, 0x54, 0, 9, 0xff]);
    const stream = cat(garbage, ping(1), garbage, garbage, ping(2), ping(3), garbage);
    for (const step of [1, 2, 3, 7, 24, 1000]) {
      const d = new Deframer();
      expect(summary(feed(d, stream, step)), `step ${step}`).toEqual(['frame 1', 'frame 2', 'frame 3']);
      expect(d.discarded).toBeGreaterThanOrEqual(3 * garbage.length - 3);
    }
  });

  it('reports a corrupted payload by its request id and finds the next frame', () => {
    const bad = ping(5);
    bad[30] ^= 0x10;
    expect(summary(new Deframer().push(cat(ping(4), bad, ping(6))))).toEqual(['frame 4', 'bad_crc 5', 'frame 6']);
  });

  it('reports a truncated frame on expiry and keeps the frame that followed it', () => {
    const d = new Deframer();
    const cut = ping(7, 64).subarray(0, 40);
    expect(summary(d.push(cat(cut, ping(8))))).toEqual([]); // ping 8 looks like the rest of ping 7's payload
    expect(d.pending).toBe(true);
    expect(summary(d.expire())).toEqual(['truncated 7', 'frame 8']);
    expect(d.pending).toBe(false);
    // and alone, with nothing after it
    const d2 = new Deframer();
    d2.push(cut);
    expect(summary(d2.expire())).toEqual(['truncated 7']);
    expect(summary(d2.push(ping(9)))).toEqual(['frame 9']);
  });

  it('refuses a declared length above max_payload without waiting for it', () => {
    const d = new Deframer({ magic: [0xa5, 0x54, 0x4c, 0x4b], major: 1, maxPayload: 8 });
    expect(summary(d.push(cat(ping(1, 16), ping(2, 4))))).toEqual(['too_large 1', 'frame 2']);
  });

  it('never loses a good frame among random garbage (property, fixed seed)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 50 }), (garbages, step) => {
        const parts: Uint8Array[] = [];
        garbages.forEach((g, i) => parts.push(g, ping(i + 1, i)));
        const d = new Deframer();
        const evs = [...feed(d, cat(...parts), step), ...d.expire()];
        const frames = summary(evs).filter((s) => s.startsWith('frame'));
        expect(frames).toEqual(garbages.map((_, i) => `frame ${i + 1}`));
      }),
      { seed: 7, numRuns: 150 },
    );
  });
});
