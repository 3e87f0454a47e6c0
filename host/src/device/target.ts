/**
 * Which board a command talks to (--device, --tcp, --pcie, --sim) and opening the byte stream
 * to it. Exactly one target per command; none means the golden model on this machine.
 */

import { TellmeError } from '../errors.js';
import type { ByteStream } from '../protocol/client.js';
import { PcieStream } from '../transport/pcie.js';
import { SerialStream } from '../transport/serial.js';
import { SimStream, type SimFidelity, type SimLink } from '../transport/sim.js';
import { TcpStream } from '../transport/tcp.js';

export type Target =
  | { kind: 'serial'; path: string; baud?: number }
  | { kind: 'tcp'; address: string }
  | { kind: 'pcie'; device: string }
  | { kind: 'sim'; fidelity: SimFidelity; board?: string; link?: SimLink; args?: string[]; executable?: string };

export interface TargetFlags {
  device?: string;
  baud?: number;
  tcp?: string;
  pcie?: string;
  /** `--sim` alone is true (csim). */
  sim?: string | boolean;
  simBoard?: string;
}

export function parseSimFidelity(v: string | boolean): SimFidelity {
  if (v === true || v === 'csim') return 'csim';
  if (v === 'rtl') return 'rtl';
  throw new TellmeError('E_USAGE', `--sim ${String(v)}: expected csim or rtl`, 'use --sim csim (the HLS C simulation) or --sim rtl (the Verilated TLMM core)');
}

/** The target the flags name, or null for none; several is an error. */
export function targetFromFlags(f: TargetFlags): Target | null {
  const given = [f.device !== undefined && '--device', f.tcp !== undefined && '--tcp', f.pcie !== undefined && '--pcie', f.sim !== undefined && f.sim !== false && '--sim'].filter(Boolean);
  if (given.length > 1) throw new TellmeError('E_USAGE', `${given.join(' and ')} name different boards`, 'give one of --device, --tcp, --pcie or --sim');
  if (f.device !== undefined) return { kind: 'serial', path: f.device, ...(f.baud !== undefined ? { baud: f.baud } : {}) };
  if (f.tcp !== undefined) return { kind: 'tcp', address: f.tcp };
  if (f.pcie !== undefined) return { kind: 'pcie', device: f.pcie };
  if (f.sim !== undefined && f.sim !== false) return { kind: 'sim', fidelity: parseSimFidelity(f.sim), ...(f.simBoard ? { board: f.simBoard } : {}) };
  return null;
}

export function describeTarget(t: Target): string {
  switch (t.kind) {
    case 'serial':
      return `the board on ${t.path}`;
    case 'tcp':
      return `the board at ${t.address}`;
    case 'pcie':
      return `the card ${t.device}`;
    case 'sim':
      return `the virtual board (${t.fidelity})`;
  }
}

export async function openTarget(t: Target): Promise<ByteStream> {
  switch (t.kind) {
    case 'serial':
      return SerialStream.open(t.path, t.baud);
    case 'tcp':
      return TcpStream.open(t.address);
    case 'pcie':
      return PcieStream.open(t.device);
    case 'sim':
      return SimStream.start({
        fidelity: t.fidelity,
        ...(t.board ? { board: t.board } : {}),
        ...(t.link ? { link: t.link } : {}),
        ...(t.args ? { args: t.args } : {}),
        ...(t.executable ? { executable: t.executable } : {}),
      });
  }
}
