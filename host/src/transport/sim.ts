/**
 * The virtual board (sim/, the firmware linked with the accelerator model): started with execa,
 * it prints where it can be reached (docs/protocol.md §12) and is then spoken to exactly like a
 * board — over its pseudo-terminal through the serial transport by default, or its TCP port or
 * XDMA-like files. Closing the stream ends the process (SIGTERM, then SIGKILL after a grace
 * period); it also exits by itself when its stdin closes, so a killed tellme leaves nothing behind.
 */

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { TellmeError } from '../errors.js';
import { projectRoot } from '../paths.js';
import { PcieStream } from './pcie.js';
import { SerialStream } from './serial.js';
import { StreamBase } from './stream-base.js';
import { TcpStream } from './tcp.js';

export type SimFidelity = 'csim' | 'rtl';
export type SimLink = 'pty' | 'tcp' | 'xdma';

export interface SimOptions {
  fidelity: SimFidelity;
  /** Hardware set the virtual board implements (default kv260). */
  board?: string;
  link?: SimLink;
  /** The executable (default: $TELLME_VBOARD, else build/vboard/tellme-vboard). */
  executable?: string;
  /** Extra arguments (tests: fault injection). */
  args?: string[];
  startTimeoutMs?: number;
  /** Directory for the virtual board's state (partial uploads) and XDMA files. */
  stateDir?: string;
}

export const VBOARD_LINE_PREFIX = 'TELLME-VBOARD';
const STOP_GRACE_MS = 3000;

export function vboardExecutable(explicit?: string): string {
  const exe = explicit ?? process.env.TELLME_VBOARD ?? path.join(projectRoot(), 'build', 'vboard', 'tellme-vboard');
  if (!fs.existsSync(exe)) {
    throw new TellmeError('E_NOT_FOUND', `the virtual board ${exe} is not built`, 'run `make vboard` (or set TELLME_VBOARD to its path)');
  }
  return exe;
}

/** The announced endpoints: "TELLME-VBOARD pty /dev/pts/3", "… tcp 127.0.0.1:7260", "… xdma /tmp/x/xdma0", "… ready". */
export function parseAnnouncement(line: string): { key: string; value: string } | null {
  const m = new RegExp(`^${VBOARD_LINE_PREFIX} (\\w+)(?: (.*))?$`).exec(line.trim());
  return m ? { key: m[1]!, value: m[2] ?? '' } : null;
}

export class SimStream extends StreamBase {
  private stderrTail = '';

  private constructor(
    private readonly child: ResultPromise,
    private readonly inner: StreamBase,
    /** Every endpoint the board announced (pty, tcp, xdma). */
    readonly endpoints: ReadonlyMap<string, string>,
    description: string,
  ) {
    super(description);
    inner.onData((c) => this.emitData(c));
    inner.onClose((reason) => this.emitClose(reason ? new Error(`${reason.message}${this.exitNote()}`) : null));
    child.stderr?.on('data', (b: Buffer) => (this.stderrTail = (this.stderrTail + b.toString()).slice(-2000)));
    child.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.emitClose(new Error(`the virtual board exited (${signal ?? `code ${code}`})${this.stderrNote()}`));
    });
  }

  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  get pid(): number | undefined {
    return this.child.pid;
  }

  private stderrNote(): string {
    const t = this.stderrTail.trim();
    return t ? `; its last words: ${t.split('\n').slice(-3).join(' | ')}` : '';
  }

  private exitNote(): string {
    return this.exit ? ` (the virtual board exited: ${this.exit.signal ?? `code ${this.exit.code}`})` : '';
  }

  static async start(opts: SimOptions): Promise<SimStream> {
    const exe = vboardExecutable(opts.executable);
    const link = opts.link ?? 'pty';
    const args = ['--fidelity', opts.fidelity, '--board', opts.board ?? 'kv260'];
    if (link === 'tcp') args.push('--tcp', '0');
    if (link === 'xdma' || opts.stateDir) args.push('--state-dir', opts.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-vboard-')));
    if (link === 'xdma') args.push('--xdma');
    args.push(...(opts.args ?? []));
    // Detached: Ctrl-C in the terminal reaches tellme only, which cancels and then stops the
    // board; stdin is a pipe whose end tells the board that tellme is gone.
    const child = execa(exe, args, { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', detached: true, reject: false, buffer: false });
    const endpoints = await readAnnouncements(child, opts.startTimeoutMs ?? 30_000, exe);
    const want = link === 'pty' ? 'pty' : link;
    const at = endpoints.get(want);
    if (!at) {
      child.kill('SIGKILL');
      throw new TellmeError('E_LINK', `the virtual board did not announce a ${want} endpoint`, 'rebuild it (make vboard)');
    }
    let inner: StreamBase;
    try {
      inner = link === 'pty' ? await SerialStream.open(at) : link === 'tcp' ? await TcpStream.open(at) : PcieStream.open(at);
    } catch (e) {
      child.kill('SIGKILL');
      throw e;
    }
    return new SimStream(child, inner, endpoints, `virtual board (${opts.fidelity}, ${opts.board ?? 'kv260'}) ${inner.description}`);
  }

  protected writeBytes(bytes: Uint8Array): Promise<void> {
    return this.inner.write(bytes);
  }

  /** Kill the board without a goodbye (fault tests: a board that dies mid-decode). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }

  protected async closeTransport(): Promise<void> {
    await this.inner.close();
    if (this.exit) return;
    this.child.stdin?.end();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.child.catch(() => undefined);
    clearTimeout(timer);
  }
}

async function readAnnouncements(child: ResultPromise, timeoutMs: number, exe: string): Promise<Map<string, string>> {
  const endpoints = new Map<string, string>();
  let buffered = '';
  let errText = '';
  child.stderr?.on('data', (b: Buffer) => (errText = (errText + b.toString()).slice(-2000)));
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new TellmeError('E_LINK', `the virtual board (${exe}) ${why}${errText.trim() ? `: ${errText.trim().split('\n').slice(-3).join(' | ')}` : ''}`, 'rebuild it (make vboard) and check its output'));
    };
    const timer = setTimeout(() => fail(`did not report ready within ${timeoutMs} ms`), timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => fail(`exited before it was ready (${signal ?? `code ${code}`})`);
    child.on('exit', onExit);
    child.stdout?.on('data', (b: Buffer) => {
      buffered += b.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const a = parseAnnouncement(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        if (!a) continue;
        if (a.key === 'ready') {
          clearTimeout(timer);
          child.removeListener('exit', onExit);
          resolve(endpoints);
          return;
        }
        endpoints.set(a.key, a.value);
      }
    });
  });
}
