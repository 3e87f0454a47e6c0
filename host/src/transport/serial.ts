/**
 * A serial line (the KV260's USB-UART, or the virtual board's pseudo-terminal) through the
 * `serialport` package: raw 8N1 at the given baud rate (a pty ignores the rate).
 */

import { SerialPort } from 'serialport';
import { TellmeError } from '../errors.js';
import { SERIAL_BAUD } from '../protocol/gen/protocol.js';
import { StreamBase } from './stream-base.js';

export class SerialStream extends StreamBase {
  private constructor(private readonly port: SerialPort, path: string, baud: number) {
    super(`serial ${path} @ ${baud} baud`);
    port.on('data', (b: Buffer) => this.emitData(b));
    port.on('close', (err: Error | null) => this.emitClose(err ?? null));
    port.on('error', (err: Error) => this.emitClose(err));
  }

  static async open(path: string, baud = SERIAL_BAUD): Promise<SerialStream> {
    const port = new SerialPort({ path, baudRate: baud, autoOpen: false, dataBits: 8, stopBits: 1, parity: 'none', rtscts: false });
    await new Promise<void>((resolve, reject) =>
      port.open((err) =>
        err
          ? reject(
              new TellmeError(
                'E_LINK',
                `cannot open the serial port ${path}: ${err.message}`,
                /permission|EACCES/i.test(err.message)
                  ? `add yourself to the port's group (ls -l ${path}; usually: sudo usermod -aG dialout $USER, then log in again)`
                  : 'check the device path (tellme doctor lists the serial ports) and that no other program holds the port',
              ),
            )
          : resolve(),
      ),
    );
    return new SerialStream(port, path, baud);
  }

  protected async writeBytes(bytes: Uint8Array): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (err) => (err ? reject(err) : undefined));
      this.port.drain((err) => (err ? reject(err) : resolve()));
    });
  }

  protected async closeTransport(): Promise<void> {
    if (!this.port.isOpen) return;
    await new Promise<void>((resolve) => this.port.close(() => resolve()));
  }
}

export interface SerialPortInfo {
  path: string;
  manufacturer?: string;
  serialNumber?: string;
  vendorId?: string;
  productId?: string;
}

/**
 * The machine's serial ports. `SerialPort.list()` asks udev (udevadm) on Linux; without it the
 * list is unavailable, which is reported rather than thrown.
 */
export async function listSerialPorts(): Promise<{ ports: SerialPortInfo[]; problem: string | null }> {
  try {
    const ports = await SerialPort.list();
    return {
      ports: ports.map((p) => ({
        path: p.path,
        ...(p.manufacturer ? { manufacturer: p.manufacturer } : {}),
        ...(p.serialNumber ? { serialNumber: p.serialNumber } : {}),
        ...(p.vendorId ? { vendorId: p.vendorId } : {}),
        ...(p.productId ? { productId: p.productId } : {}),
      })),
      problem: null,
    };
  } catch (e) {
    return { ports: [], problem: `cannot list serial ports (${(e as Error).message.split('\n')[0]}); install udev (udevadm) or pass the port with --device` };
  }
}
