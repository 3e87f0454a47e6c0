/** A board on the network (or the virtual board's --tcp port): one TCP connection. */

import * as net from 'node:net';
import { TellmeError } from '../errors.js';
import { TCP_PORT } from '../protocol/gen/protocol.js';
import { StreamBase } from './stream-base.js';

export const CONNECT_TIMEOUT_MS = 5000;

/** "host:port", "host" (default port) or "[v6]:port". */
export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
  const port = m?.[2] !== undefined ? Number(m[2]) : TCP_PORT;
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new TellmeError('E_USAGE', `--tcp ${s}: expected host:port (e.g. 192.168.1.20:${TCP_PORT})`, `give the board's address; the port defaults to ${TCP_PORT}`);
  }
  return { host: m[1]!, port };
}

export class TcpStream extends StreamBase {
  private constructor(private readonly socket: net.Socket, where: string) {
    super(`tcp ${where}`);
    socket.on('data', (b: Buffer) => this.emitData(b));
    socket.on('close', () => this.emitClose(null));
    socket.on('error', (e) => this.emitClose(e));
  }

  static async open(hostPort: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<TcpStream> {
    const { host, port } = parseHostPort(hostPort);
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.createConnection({ host, port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new TellmeError('E_LINK', `no connection to ${host}:${port} within ${timeoutMs} ms`, 'check the address and that the board (or virtual board) listens there'));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(new TellmeError('E_LINK', `cannot connect to ${host}:${port}: ${e.message}`, 'check the address and that the board (or virtual board) listens there'));
      });
    });
    socket.setNoDelay(true);
    return new TcpStream(socket, `${host}:${port}`);
  }

  protected writeBytes(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  protected async closeTransport(): Promise<void> {
    if (this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 1000).unref();
    });
  }
}
