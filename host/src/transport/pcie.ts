/**
 * PCIe through the XDMA character devices (docs/protocol.md §10): the byte streams run through
 * two rings in card memory. Requests are written with pwrite on /dev/xdmaN_h2c_C at the H2C
 * ring's card address, replies read with pread on /dev/xdmaN_c2h_C; the ring counters are 32-bit
 * registers in the user BAR (/dev/xdmaN_user), read and written 4 bytes at a time as the XDMA
 * driver's user device requires. The virtual board can expose the same three paths as files.
 */

import * as fs from 'node:fs';
import { TellmeError } from '../errors.js';
import { Mailbox, PROTOCOL_MAJOR } from '../protocol/gen/protocol.js';
import { StreamBase } from './stream-base.js';

/** The three device paths of card N: `/dev/xdma0` -> /dev/xdma0_user, _h2c_0, _c2h_0. */
export function xdmaPaths(prefix: string): { user: string; h2c: string; c2h: string } {
  return { user: `${prefix}_user`, h2c: `${prefix}_h2c_${Mailbox.H2C_CHANNEL}`, c2h: `${prefix}_c2h_${Mailbox.C2H_CHANNEL}` };
}

/** Poll interval while bytes move, and when idle. */
const BUSY_POLL_MS = 1;
const IDLE_POLL_MS = 5;

interface Ring {
  base: number;
  size: number;
}

export class PcieStream extends StreamBase {
  private readonly word = Buffer.alloc(4);
  private pendingOut: Uint8Array[] = [];
  private writers: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  private constructor(
    private readonly fds: { user: number; h2c: number; c2h: number },
    private readonly h2c: Ring,
    private readonly c2h: Ring,
    prefix: string,
  ) {
    super(`pcie ${prefix}`);
    this.schedule(0);
  }

  static open(prefix: string): PcieStream {
    const p = xdmaPaths(prefix);
    const fds: { user: number; h2c: number; c2h: number } = { user: -1, h2c: -1, c2h: -1 };
    try {
      fds.user = fs.openSync(p.user, fs.constants.O_RDWR | fs.constants.O_SYNC);
      fds.h2c = fs.openSync(p.h2c, fs.constants.O_WRONLY);
      fds.c2h = fs.openSync(p.c2h, fs.constants.O_RDONLY);
    } catch (e) {
      for (const fd of Object.values(fds)) if (fd >= 0) fs.closeSync(fd);
      const err = e as NodeJS.ErrnoException;
      throw new TellmeError(
        'E_LINK',
        `cannot open the XDMA devices ${p.user}, ${p.h2c}, ${p.c2h}: ${err.message}`,
        err.code === 'ENOENT' ? 'load the XDMA driver (Xilinx dma_ip_drivers, XDMA/linux-kernel) and check the card number (ls /dev/xdma*)' : `check the permissions of ${prefix}_* (tellme doctor)`,
      );
    }
    const reg = (r: number) => {
      const b = Buffer.alloc(4);
      fs.readSync(fds.user, b, 0, 4, Mailbox.USER_OFFSET + r);
      return b.readUInt32LE(0);
    };
    const magic = reg(Mailbox.REG.MAGIC);
    const close = () => Object.values(fds).forEach((fd) => fs.closeSync(fd));
    if (magic !== Mailbox.MAGIC) {
      close();
      throw new TellmeError('E_LINK', `${p.user}: no tellme mailbox (MAGIC register reads 0x${magic.toString(16)}, expected 0x${Mailbox.MAGIC.toString(16)})`, 'load the tellme bitstream and start the firmware, then retry');
    }
    const version = reg(Mailbox.REG.VERSION);
    if (version !== PROTOCOL_MAJOR) {
      close();
      throw new TellmeError('E_LINK', `${p.user}: the mailbox speaks protocol major ${version}, this tellme ${PROTOCOL_MAJOR}`, 'update tellme or the firmware');
    }
    const ring = (lo: number, hi: number, size: number): Ring => ({ base: reg(lo) + reg(hi) * 2 ** 32, size: reg(size) });
    const h2c = ring(Mailbox.REG.H2C_BASE_LO, Mailbox.REG.H2C_BASE_HI, Mailbox.REG.H2C_SIZE);
    const c2h = ring(Mailbox.REG.C2H_BASE_LO, Mailbox.REG.C2H_BASE_HI, Mailbox.REG.C2H_SIZE);
    for (const [name, r] of [['H2C', h2c], ['C2H', c2h]] as const) {
      if (r.size < 64 || (r.size & (r.size - 1)) !== 0) {
        close();
        throw new TellmeError('E_LINK', `${p.user}: the ${name} ring size ${r.size} is not a power of two >= 64`, 'the firmware initialised the mailbox wrongly; restart it');
      }
    }
    return new PcieStream(fds, h2c, c2h, prefix);
  }

  private reg(r: number): number {
    fs.readSync(this.fds.user, this.word, 0, 4, Mailbox.USER_OFFSET + r);
    return this.word.readUInt32LE(0);
  }

  private setReg(r: number, v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0, 0);
    fs.writeSync(this.fds.user, b, 0, 4, Mailbox.USER_OFFSET + r);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.poll(), ms);
  }

  private poll(): void {
    let moved = false;
    try {
      if (this.reg(Mailbox.REG.MAGIC) !== Mailbox.MAGIC) {
        this.emitClose(new Error('the mailbox was shut down (MAGIC cleared): the firmware stopped'));
        this.stop();
        return;
      }
      moved = this.pollRead() || moved;
      moved = this.pollWrite() || moved;
    } catch (e) {
      this.emitClose(e as Error);
      this.stop();
      return;
    }
    this.schedule(moved ? BUSY_POLL_MS : IDLE_POLL_MS);
  }

  private pollRead(): boolean {
    const wr = this.reg(Mailbox.REG.C2H_WRITE);
    const rd = this.reg(Mailbox.REG.C2H_READ);
    const avail = (wr - rd) >>> 0;
    if (avail === 0) return false;
    if (avail > this.c2h.size) throw new Error(`C2H ring counters are inconsistent (write ${wr}, read ${rd}, size ${this.c2h.size})`);
    const at = rd % this.c2h.size;
    const n = Math.min(avail, this.c2h.size - at);
    const buf = Buffer.alloc(n);
    const got = fs.readSync(this.fds.c2h, buf, 0, n, this.c2h.base + at);
    if (got !== n) throw new Error(`short DMA read from the card (${got} of ${n} bytes)`);
    this.setReg(Mailbox.REG.C2H_READ, rd + n);
    this.emitData(new Uint8Array(buf.buffer, buf.byteOffset, n));
    return true;
  }

  private pollWrite(): boolean {
    if (this.pendingOut.length === 0) return false;
    const wr = this.reg(Mailbox.REG.H2C_WRITE);
    const rd = this.reg(Mailbox.REG.H2C_READ);
    const space = this.h2c.size - ((wr - rd) >>> 0);
    if (space <= 0) return false;
    const head = this.pendingOut[0]!;
    const at = wr % this.h2c.size;
    const n = Math.min(space, this.h2c.size - at, head.length);
    const put = fs.writeSync(this.fds.h2c, head, 0, n, this.h2c.base + at);
    if (put !== n) throw new Error(`short DMA write to the card (${put} of ${n} bytes)`);
    this.setReg(Mailbox.REG.H2C_WRITE, wr + n);
    if (n === head.length) {
      this.pendingOut.shift();
      this.writers.shift()?.();
    } else {
      this.pendingOut[0] = head.subarray(n);
    }
    return true;
  }

  protected writeBytes(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      this.pendingOut.push(bytes);
      this.writers.push(resolve);
      if (this.timer) clearTimeout(this.timer);
      this.schedule(0);
    });
  }

  private stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.writers.splice(0)) w();
    this.pendingOut = [];
  }

  protected async closeTransport(): Promise<void> {
    this.stop();
    for (const fd of Object.values(this.fds)) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already closed */
      }
    }
  }
}
