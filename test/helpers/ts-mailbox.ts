/**
 * The board side of the PCIe mailbox (docs/protocol.md §10) over files, for the TypeScript
 * reference board: `<dir>/xdma0_user` holds the registers at Mailbox.USER_OFFSET, and
 * `<dir>/xdma0_h2c_0` and `<dir>/xdma0_c2h_0` are two names of one card-memory file, as the
 * XDMA devices of a card address one card memory. The host's PcieStream reads and writes them
 * exactly as it would the devices.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Mailbox, PROTOCOL_MAJOR } from '../../host/src/protocol/gen/protocol.js';

const RING = 1 << 18;
const H2C_BASE = 0;
const C2H_BASE = RING;

export class FileMailbox {
  readonly prefix: string;
  private readonly user: number;
  private readonly mem: number;
  private readonly out: Uint8Array[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly word = Buffer.alloc(4);

  constructor(dir: string, private readonly receive: (b: Uint8Array) => void) {
    this.prefix = path.join(dir, 'xdma0');
    const memFile = path.join(dir, 'card.mem');
    fs.writeFileSync(memFile, new Uint8Array(2 * RING));
    fs.writeFileSync(`${this.prefix}_user`, new Uint8Array(Mailbox.USER_OFFSET + 4096));
    for (const n of [`${this.prefix}_h2c_${Mailbox.H2C_CHANNEL}`, `${this.prefix}_c2h_${Mailbox.C2H_CHANNEL}`]) {
      fs.rmSync(n, { force: true });
      fs.linkSync(memFile, n);
    }
    this.user = fs.openSync(`${this.prefix}_user`, 'r+');
    this.mem = fs.openSync(memFile, 'r+');
    const R = Mailbox.REG;
    for (const [r, v] of [
      [R.VERSION, PROTOCOL_MAJOR],
      [R.H2C_BASE_LO, H2C_BASE],
      [R.H2C_BASE_HI, 0],
      [R.H2C_SIZE, RING],
      [R.C2H_BASE_LO, C2H_BASE],
      [R.C2H_BASE_HI, 0],
      [R.C2H_SIZE, RING],
    ] as const) {
      this.set(r, v);
    }
    this.set(R.MAGIC, Mailbox.MAGIC); // last: the mailbox is ready
    this.tick();
  }

  private get(r: number): number {
    fs.readSync(this.user, this.word, 0, 4, Mailbox.USER_OFFSET + r);
    return this.word.readUInt32LE(0);
  }

  private set(r: number, v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0, 0);
    fs.writeSync(this.user, b, 0, 4, Mailbox.USER_OFFSET + r);
  }

  send(bytes: Uint8Array): void {
    this.out.push(bytes);
  }

  private tick(): void {
    const R = Mailbox.REG;
    let moved = false;
    const wr = this.get(R.H2C_WRITE);
    const rd = this.get(R.H2C_READ);
    const avail = (wr - rd) >>> 0;
    if (avail > 0) {
      const at = rd % RING;
      const n = Math.min(avail, RING - at);
      const buf = Buffer.alloc(n);
      fs.readSync(this.mem, buf, 0, n, H2C_BASE + at);
      this.set(R.H2C_READ, rd + n);
      this.receive(buf);
      moved = true;
    }
    while (this.out.length > 0) {
      const cw = this.get(R.C2H_WRITE);
      const space = RING - ((cw - this.get(R.C2H_READ)) >>> 0);
      if (space === 0) break;
      const head = this.out[0]!;
      const at = cw % RING;
      const n = Math.min(space, RING - at, head.length);
      fs.writeSync(this.mem, head, 0, n, C2H_BASE + at);
      this.set(R.C2H_WRITE, cw + n);
      if (n === head.length) this.out.shift();
      else this.out[0] = head.subarray(n);
      moved = true;
    }
    this.timer = setTimeout(() => this.tick(), moved ? 0 : 2);
  }

  /** Clear MAGIC (the host sees the firmware stop) and close the files. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.set(Mailbox.REG.MAGIC, 0);
    fs.closeSync(this.user);
    fs.closeSync(this.mem);
  }
}
