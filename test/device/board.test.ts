/**
 * The host side end to end against a virtual board: handshake, upload (and resume after an
 * interruption), generation equal to the golden model's (greedy and seeded sampling), over the
 * pseudo-terminal through serialport and over TCP; and the faults of issue 10, each bounded in
 * time and each followed by a request that works: a corrupted frame, a truncated frame, an
 * unknown message, garbage between frames, an image for another hardware set, a context
 * overflow, a cancel mid-decode, the board killed mid-decode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { Board } from '../../host/src/device/board.js';
import { imageForBoard, prepareModel } from '../../host/src/device/model.js';
import { DeviceError } from '../../host/src/protocol/client.js';
import { crc32 } from '../../host/src/protocol/crc32.js';
import { openImage } from '../../host/src/image/reader.js';
import { SimStream } from '../../host/src/transport/sim.js';
import { TcpStream } from '../../host/src/transport/tcp.js';
import { loadHwConfig } from '../../host/src/hwconfig/index.js';
import { goldenIds, testImage, vboardUnderTest, type TestImage, buildVboardFirst } from './helpers.js';

buildVboardFirst();

let img: TestImage;
let sim: SimStream;
let board: Board;
const prompt = [1, 5, 9, 17, 33];

async function startBoard(args: string[] = []): Promise<{ sim: SimStream; board: Board }> {
  const s = await SimStream.start({ fidelity: 'csim', board: 'kv260', executable: vboardUnderTest(), args });
  return { sim: s, board: await Board.connect(s, 'tellme test') };
}

beforeAll(async () => {
  img = await testImage();
  ({ sim, board } = await startBoard(['--tcp', '0', '--token-delay-ms', '0']));
}, 300_000);
afterAll(async () => {
  await board?.close();
});

/** Replace a frame's type and fix its header CRC (an unknown message, well framed). */
function retype(frame: Uint8Array, type: number): Uint8Array {
  const f = frame.slice();
  const dv = new DataView(f.buffer);
  dv.setUint16(4, type, true);
  dv.setUint32(20, crc32(f, 0, 20), true);
  return f;
}

describe('a virtual board over its pseudo-terminal', () => {
  it('answers the handshake with its hardware set and no image', () => {
    const h = board.hello!;
    expect(h.board).toBe('kv260');
    expect(board.hwHash).toBe(loadHwConfig('kv260').hash);
    expect(h.image_loaded).toBe(0);
    expect(board.description).toMatch(/serial \/dev\/pts\//);
  });

  it('after the handshake neither side counts a sequence gap (HELLO and HELLO_OK are each side\'s frame 0)', async () => {
    await board.link.request('PING', { data: Uint8Array.of(1) });
    const info = await board.info();
    expect(info.rx_seq_gaps).toBe(0);
    expect(board.link.stats.seqGaps).toBe(0);
  });

  it('takes the image by upload, opens a session and generates the golden model\'s tokens (greedy and seeded)', async () => {
    const sent: number[] = [];
    const prepared = await prepareModel(board, img.image, { onUpload: (s) => sent.push(s) });
    expect(prepared.uploaded).toBe(true);
    expect(sent.at(-1)).toBe(fs.statSync(img.image).size);
    expect(board.hasImage(openImage(img.image))).toBe(true);
    for (const s of [
      { temperature: 0, topK: 0, topP: 1, seed: 0 },
      { temperature: 0.8, topK: 20, topP: 0.9, seed: 7 },
    ]) {
      await board.resetSession();
      const streamed: number[] = [];
      const r = await board.generate(prompt, { ...s, maxNewTokens: 12, stopIds: [], onToken: (id) => streamed.push(id) });
      const want = await goldenIds(img.image, prompt, { ...s, maxNewTokens: 12, stopIds: [] });
      expect(r.ids).toEqual(want);
      expect(streamed).toEqual(want);
      expect(r.stopReason).toBe('max_new_tokens');
      expect(r.kvLen).toBe(prompt.length + 11);
    }
  });

  it('a corrupted frame gets FRAME_CRC, a truncated one FRAME_TRUNCATED, an unknown message UNKNOWN_MESSAGE; then PING works', async () => {
    const flip = (f: Uint8Array) => {
      const g = f.slice();
      g[g.length - 6] ^= 0x01;
      return g;
    };
    await expect(board.link.request('PING', { data: Uint8Array.of(9, 9, 9, 9) }, { mangle: flip })).rejects.toMatchObject({ errorName: 'FRAME_CRC' });
    await board.ping();
    await expect(board.link.request('PING', { data: new Uint8Array(32) }, { mangle: (f) => f.subarray(0, 40), timeoutMs: 5000 })).rejects.toMatchObject({ errorName: 'FRAME_TRUNCATED' });
    await board.ping();
    await expect(board.link.request('PING', { data: new Uint8Array(4) }, { mangle: (f) => retype(f, 0x0999) })).rejects.toMatchObject({ errorName: 'UNKNOWN_MESSAGE' });
    await board.ping();
  });

  it('skips garbage between frames', async () => {
    const before = (await board.info()).rx_discarded_bytes;
    await board.link.writeRaw(Uint8Array.from([0xa5, 0x54, 0x4c, 0x4b, 0, 1, 2, 3, 0x55, 0xaa, 0xa5, 0x54]));
    await board.ping();
    await board.link.writeRaw(new TextEncoder().encode('AT+RESET\r\n'));
    await board.ping();
    expect((await board.info()).rx_discarded_bytes).toBeGreaterThanOrEqual(before + 22);
  });

  it('refuses a context overflow before any work, and the next generation works', async () => {
    await board.resetSession();
    const long = Array.from({ length: 80 }, (_, i) => 1 + (i % 50));
    const err = await board.generate(long, { temperature: 0, topK: 0, topP: 1, seed: 0, maxNewTokens: 4, stopIds: [] }).catch((e) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect(err).toMatchObject({ errorName: 'CONTEXT' });
    expect(err.message).toMatch(/80 tokens .* context of 64/);
    expect(err.fix).toMatch(/shorten the prompt/);
    const r = await board.generate(prompt, { temperature: 0, topK: 0, topP: 1, seed: 0, maxNewTokens: 3, stopIds: [] });
    expect(r.ids).toEqual(await goldenIds(img.image, prompt, { temperature: 0, topK: 0, topP: 1, seed: 0, maxNewTokens: 3, stopIds: [] }));
  });

  it('refuses an image for another hardware set: on the host before uploading, and on the board', async () => {
    const paper = await testImage('kv260-paper');
    await expect(imageForBoard(board, paper.image)).rejects.toThrow(/converted for kv260-paper .* but the board is kv260/);
    const image = openImage(paper.image);
    const err = await board.upload(image, 'paper.tlm').catch((e) => e);
    expect(err).toMatchObject({ errorName: 'IMAGE_HW_MISMATCH' });
    expect(err.fix).toMatch(/tellme convert --board/);
    await board.ping();
  });
});

/** A copy of image with its manifest (same length) and header edited, every checksum made consistent again. */
function edited(image: string, o: { version?: number; manifest?: (json: string) => string }): string {
  const b = fs.readFileSync(image);
  const off = Number(b.readBigUInt64LE(16)), len = Number(b.readBigUInt64LE(24));
  if (o.manifest) {
    const m = Buffer.from(o.manifest(b.subarray(off, off + len).toString('utf8')), 'utf8');
    expect(m.length).toBe(len);
    m.copy(b, off);
    createHash('sha256').update(m).digest().copy(b, 32);
  }
  if (o.version !== undefined) b.writeUInt32LE(o.version, 8);
  createHash('sha256').update(b.subarray(0, 96)).digest().copy(b, 96);
  const out = image.replace(/\.tlm$/, `.edited${++editedCount}.tlm`);
  fs.writeFileSync(out, b);
  return out;
}
let editedCount = 0;

describe('the firmware reads image format v2 only, with the host reader\'s checks', () => {
  it('a version-1 image is refused with "re-convert"; a wrong numerics.rms_norm_eps_bits is named', async () => {
    const v1 = edited(img.image, { version: 1 });
    await expect(board.loadPath(v1)).rejects.toMatchObject({ errorName: 'IMAGE_INVALID', message: expect.stringMatching(/version 1 .*re-convert the model/) });
    const eps = edited(img.image, { manifest: (j) => j.replace(/"rms_norm_eps_bits":"0x([0-9a-f]{7})([0-9a-f])"/, (_m, h: string, l: string) => `"rms_norm_eps_bits":"0x${h}${((parseInt(l, 16) + 1) % 16).toString(16)}"`) });
    await expect(board.loadPath(eps)).rejects.toMatchObject({ errorName: 'IMAGE_INVALID', message: expect.stringMatching(/numerics\.rms_norm_eps_bits is 0x[0-9a-f]{8}, but spec\.rmsNormEps .* is 0x/) });
    await board.ping();
  });
});

describe('an accelerator that never finishes (--accel-hang: every pass hangs)', () => {
  it('the image loads, a generation fails with ACCEL_TIMEOUT after --accel-timeout-ms, and the board still answers', async () => {
    const hung = await startBoard(['--accel-hang', '--accel-timeout-ms', '300']);
    try {
      await prepareModel(hung.board, img.image, { imageOnBoard: img.image });
      await hung.board.resetSession();
      const t0 = Date.now();
      const err = await hung.board.generate(prompt, { temperature: 0, topK: 0, topP: 1, seed: 0, maxNewTokens: 2, stopIds: [] }).catch((e) => e);
      expect(err).toMatchObject({ errorName: 'ACCEL_TIMEOUT', message: expect.stringMatching(/did not finish within 300 ms/) });
      expect(Date.now() - t0).toBeLessThan(30_000);
      await hung.board.ping();
    } finally {
      await hung.board.close();
    }
  });
});

describe("an image on the board's own disk", () => {
  it('loads by path without uploading, and a missing path is IMAGE_IO', async () => {
    const other = await testImage('kv260', 40);
    const p = await prepareModel(board, img.image, { imageOnBoard: other.image }).catch((e) => e);
    expect(p.message).toMatch(/is not the image of --model/); // the board's file is another image
    const ok = await prepareModel(board, other.image, { imageOnBoard: other.image });
    expect(ok.uploaded).toBe(false);
    expect(ok.session.context).toBe(40);
    await expect(board.loadPath('/nonexistent/model.tlm')).rejects.toMatchObject({ errorName: 'IMAGE_IO', fix: expect.stringMatching(/check the path/) });
    await board.ping();
  });
});

describe('the same board over TCP: an upload interrupted and resumed', () => {
  it('resumes from what the board holds and loads the image', async () => {
    const addr = sim.endpoints.get('tcp')!;
    const other = await testImage('kv260', 48);
    const image = openImage(other.image);
    // First connection: upload a few chunks, then drop the link.
    const b1 = await Board.connect(await TcpStream.open(addr), 'first');
    const status = await b1.link.request('UPLOAD_BEGIN', { size: fs.statSync(other.image).size, image_sha256: Buffer.from(image.header.manifestSha256, 'hex'), name: 'x.tlm' });
    expect(status.received).toBe(0);
    const fd = fs.openSync(other.image, 'r');
    const chunk = new Uint8Array(4096);
    for (let off = 0; off < 3 * 4096; off += 4096) {
      fs.readSync(fd, chunk, 0, 4096, off);
      await b1.link.request('UPLOAD_CHUNK', { offset: off, crc32: crc32(chunk), data: chunk });
    }
    fs.closeSync(fd);
    await b1.close();
    // Second connection: the upload resumes at 12288.
    const b2 = await Board.connect(await TcpStream.open(addr), 'second');
    let resumedFrom = -1;
    await b2.upload(image, 'x.tlm', undefined, (from) => (resumedFrom = from));
    expect(resumedFrom).toBe(3 * 4096);
    expect(b2.hasImage(image)).toBe(true);
    await b2.openSession();
    const r = await b2.generate(prompt, { temperature: 0, topK: 0, topP: 1, seed: 0, maxNewTokens: 4, stopIds: [] });
    expect(r.ids).toEqual(await goldenIds(other.image, prompt, { temperature: 0, topK: 0, topP: 1, seed: 0, maxNewTokens: 4, stopIds: [] }));
    await b2.close();
  });
});

describe('cancel and death mid-decode', () => {
  let slow: { sim: SimStream; board: Board };
  beforeAll(async () => {
    slow = await startBoard(['--token-delay-ms', '150']);
    await prepareModel(slow.board, img.image);
  }, 300_000);

  it('cancel ends the generation with its tokens so far, and the board is usable at once', async () => {
    const ids: number[] = [];
    const run = slow.board.generate(prompt, { temperature: 0, topK: 0, topP: 1, seed: 0, maxNewTokens: 40, stopIds: [], onToken: (id) => ids.push(id) });
    while (ids.length < 3) await new Promise((r) => setTimeout(r, 20));
    expect(await slow.board.cancel()).toBe(true);
    const r = await run;
    expect(r.stopReason).toBe('cancelled');
    expect(r.ids.length).toBeLessThan(40);
    const want = await goldenIds(img.image, prompt, { temperature: 0, topK: 0, topP: 1, seed: 0, maxNewTokens: r.ids.length, stopIds: [] });
    expect(r.ids).toEqual(want);
    await slow.board.resetSession();
    const again = await slow.board.generate(prompt, { temperature: 0, topK: 0, topP: 1, seed: 0, maxNewTokens: 2, stopIds: [] });
    expect(again.ids).toEqual(want.slice(0, 2));
  });

  it('a board killed mid-decode fails the generation at once with a clear error', async () => {
    const ids: number[] = [];
    const run = slow.board.generate(prompt, { temperature: 0, topK: 0, topP: 1, seed: 0, maxNewTokens: 40, stopIds: [], onToken: (id) => ids.push(id) }).catch((e) => e);
    while (ids.length < 2) await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    slow.sim.kill('SIGKILL');
    const err = await run;
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(err).toMatchObject({ code: 'E_LINK' });
    expect(err.message).toMatch(/closed|exited/);
    // A fresh board works.
    const fresh = await startBoard();
    await prepareModel(fresh.board, img.image);
    const r = await fresh.board.generate(prompt, { temperature: 0, topK: 0, topP: 1, seed: 0, maxNewTokens: 2, stopIds: [] });
    expect(r.ids.length).toBe(2);
    await fresh.board.close();
  });
});
