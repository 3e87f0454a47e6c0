/**
 * Frames (docs/protocol.md §2): a 24-byte header with its own CRC-32, the payload, and the
 * payload's CRC-32. The header CRC lets a receiver reject a false magic inside garbage after 24
 * bytes instead of waiting for a bogus length, and tells it which request a frame with a
 * corrupted payload belonged to, so the error can be answered.
 *
 *   0  magic (4)   4  u16 type   6  u16 protocol_major   8  u32 seq   12  u32 request_id
 *   16 u32 length  20 u32 header_crc (of bytes 0..19)     24 payload   24+length u32 payload_crc
 */

import { crc32 } from './crc32.js';
import * as P from './gen/protocol.js';

export const HEADER_BYTES = 24;
export const TRAILER_BYTES = 4;
/** Offsets of the header fields; the generator checks hw/spec/protocol.json says the same. */
export const HEADER_LAYOUT = [
  ['magic', 0, 4],
  ['type', 4, 2],
  ['protocol_major', 6, 2],
  ['seq', 8, 4],
  ['request_id', 12, 4],
  ['length', 16, 4],
  ['header_crc', 20, 4],
] as const;

export interface FrameHeader {
  type: number;
  protocolMajor: number;
  seq: number;
  requestId: number;
  length: number;
}

export interface Frame extends FrameHeader {
  payload: Uint8Array;
}

/** What a frame format depends on: the spec's magic, the sender's major version, the payload limit. */
export interface FrameFormat {
  magic: readonly number[];
  major: number;
  maxPayload: number;
}

export const DEFAULT_FORMAT: FrameFormat = { magic: P.MAGIC, major: P.PROTOCOL_MAJOR, maxPayload: P.MAX_PAYLOAD };

export function encodeFrame(
  f: { type: number; seq: number; requestId: number; payload: Uint8Array },
  fmt: FrameFormat = DEFAULT_FORMAT,
): Uint8Array {
  const n = f.payload.length;
  const out = new Uint8Array(HEADER_BYTES + n + TRAILER_BYTES);
  const dv = new DataView(out.buffer);
  out.set(fmt.magic, 0);
  dv.setUint16(4, f.type, true);
  dv.setUint16(6, fmt.major, true);
  dv.setUint32(8, f.seq >>> 0, true);
  dv.setUint32(12, f.requestId >>> 0, true);
  dv.setUint32(16, n, true);
  dv.setUint32(20, crc32(out, 0, 20), true);
  out.set(f.payload, HEADER_BYTES);
  dv.setUint32(HEADER_BYTES + n, crc32(f.payload), true);
  return out;
}

export type DeframeEvent =
  | { kind: 'frame'; frame: Frame }
  /** A frame whose header was good but whose payload was not: answerable by request id. */
  | { kind: 'bad_crc' | 'truncated' | 'too_large'; header: FrameHeader };

/**
 * Turns a byte stream into frames, resynchronising after anything else: bytes before a magic
 * are skipped; a header whose CRC fails is skipped one byte at a time; a frame whose payload
 * CRC fails, or that stops arriving (`expire`, called by the owner after the inter-byte
 * timeout), is reported and the scan restarts one byte after its magic, so a good frame that
 * follows a truncated one is still found.
 */
export class Deframer {
  private buf = new Uint8Array(4096);
  private start = 0;
  private end = 0;
  /** Bytes skipped while looking for frames. */
  discarded = 0;

  constructor(private readonly fmt: FrameFormat = DEFAULT_FORMAT) {}

  /** Whether an incomplete frame (or a possible start of one) is waiting for bytes. */
  get pending(): boolean {
    return this.end > this.start;
  }

  push(chunk: Uint8Array): DeframeEvent[] {
    this.append(chunk);
    return this.scan(false);
  }

  /** No byte came for the inter-byte timeout: drop the incomplete frame, if any. */
  expire(): DeframeEvent[] {
    return this.scan(true);
  }

  private append(chunk: Uint8Array): void {
    const used = this.end - this.start;
    if (this.end + chunk.length > this.buf.length) {
      const cap = Math.max(this.buf.length, (used + chunk.length) * 2);
      if (cap > this.buf.length) {
        const next = new Uint8Array(cap);
        next.set(this.buf.subarray(this.start, this.end), 0);
        this.buf = next;
      } else {
        this.buf.copyWithin(0, this.start, this.end);
      }
      this.end = used;
      this.start = 0;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  private skip(n: number): void {
    this.start += n;
    this.discarded += n;
  }

  private findMagic(): number {
    const m = this.fmt.magic;
    for (let i = this.start; i + 4 <= this.end; i++) {
      if (this.buf[i] === m[0] && this.buf[i + 1] === m[1] && this.buf[i + 2] === m[2] && this.buf[i + 3] === m[3]) return i;
    }
    return -1;
  }

  private scan(expired: boolean): DeframeEvent[] {
    const events: DeframeEvent[] = [];
    const dv = new DataView(this.buf.buffer);
    let expire = expired;
    for (;;) {
      const at = this.findMagic();
      if (at < 0) {
        // Keep a tail that may be the start of a magic.
        const keep = expire ? 0 : Math.min(3, this.end - this.start);
        this.skip(this.end - this.start - keep);
        break;
      }
      this.skip(at - this.start);
      if (this.end - this.start < HEADER_BYTES) {
        if (!expire) break;
        this.skip(1);
        continue;
      }
      const h = this.start;
      if (dv.getUint32(h + 20, true) !== crc32(this.buf, h, h + 20)) {
        this.skip(1);
        continue;
      }
      const header: FrameHeader = {
        type: dv.getUint16(h + 4, true),
        protocolMajor: dv.getUint16(h + 6, true),
        seq: dv.getUint32(h + 8, true),
        requestId: dv.getUint32(h + 12, true),
        length: dv.getUint32(h + 16, true),
      };
      if (header.length > this.fmt.maxPayload) {
        events.push({ kind: 'too_large', header });
        this.skip(HEADER_BYTES);
        continue;
      }
      const total = HEADER_BYTES + header.length + TRAILER_BYTES;
      if (this.end - h < total) {
        if (!expire) break;
        events.push({ kind: 'truncated', header });
        this.skip(1);
        // Frames inside the dropped bytes are complete already; the incomplete tail waits again.
        expire = false;
        continue;
      }
      const p0 = h + HEADER_BYTES;
      if (dv.getUint32(p0 + header.length, true) !== crc32(this.buf, p0, p0 + header.length)) {
        events.push({ kind: 'bad_crc', header });
        this.skip(1);
        continue;
      }
      events.push({ kind: 'frame', frame: { ...header, payload: this.buf.slice(p0, p0 + header.length) } });
      this.start += total;
    }
    if (this.start === this.end) this.start = this.end = 0;
    return events;
  }
}
