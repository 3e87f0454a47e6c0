/**
 * The TypeScript reference board (ts-board.ts) as an executable that follows the virtual
 * board's command-line contract (docs/protocol.md §12), so the host's sim transport, serial
 * transport and commands can be exercised before the C virtual board exists:
 *   tsx test/helpers/ts-vboard.ts --fidelity csim --board kv260 [--tcp 0] [--state-dir D]
 *       [--token-delay-ms N] [--flip-logit ID] [--xdma]
 * It listens on a loopback TCP port; for the pseudo-terminal it runs socat between a pty and
 * that port. It prints "TELLME-VBOARD pty|tcp …" and "TELLME-VBOARD ready", and exits on SIGTERM
 * or when its stdin ends.
 */

import * as net from 'node:net';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileMailbox } from './ts-mailbox.js';
import { TsBoard } from './ts-board.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
let mailbox: FileMailbox | null = null;
const board = new TsBoard((b) => (mailbox ? mailbox.send(b) : current?.write(b)), {
  board: opt('--board') ?? 'kv260',
  backend: `ts-${opt('--fidelity') ?? 'csim'}`,
  ...(opt('--state-dir') ? { stateDir: opt('--state-dir')! } : {}),
  ...(opt('--token-delay-ms') ? { tokenDelayMs: Number(opt('--token-delay-ms')) } : {}),
  ...(opt('--flip-logit') ? { flipLogit: Number(opt('--flip-logit')) } : {}),
});
let current: net.Socket | null = null;

const server = net.createServer((sock) => {
  current?.destroy();
  current = sock;
  sock.setNoDelay(true);
  sock.on('data', (b) => board.receive(b));
  sock.on('close', () => {
    if (current === sock) current = null;
  });
  sock.on('error', () => undefined);
});

let socat: ReturnType<typeof spawn> | null = null;
const quit = async () => {
  mailbox?.close();
  socat?.kill('SIGTERM');
  server.close();
  current?.destroy();
  await board.close();
  process.exit(0);
};
process.on('SIGTERM', () => void quit());
process.stdin.on('end', () => void quit());
process.stdin.resume();

server.listen(Number(opt('--tcp') ?? 0), '127.0.0.1', () => {
  const port = (server.address() as net.AddressInfo).port;
  process.stdout.write(`TELLME-VBOARD tcp 127.0.0.1:${port}\n`);
  if (args.includes('--xdma')) {
    // The board then speaks through the mailbox only (one link at a time, as on a card).
    const dir = opt('--state-dir') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ts-vboard-'));
    mailbox = new FileMailbox(dir, (b) => board.receive(b));
    process.stdout.write(`TELLME-VBOARD xdma ${mailbox.prefix}\n`);
  }
  socat = spawn('socat', ['-d', '-d', 'PTY,raw,echo=0,ignoreeof', `TCP:127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  socat.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
    const m = /PTY is (\S+)/.exec(err);
    if (m) {
      process.stdout.write(`TELLME-VBOARD pty ${m[1]}\nTELLME-VBOARD ready\n`);
      err = '';
      socat!.stderr!.removeAllListeners('data');
      socat!.stderr!.resume();
    }
  });
  socat.on('exit', () => undefined);
});
