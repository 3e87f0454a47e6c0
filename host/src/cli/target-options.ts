/**
 * The options that send a command to a board instead of the golden model: --device, --baud,
 * --tcp, --pcie, --sim [csim|rtl] (with --board naming the virtual board's hardware set), and
 * --image-on-board. One definition for generate, chat, verify and doctor.
 */

import type { Command } from 'commander';
import { parseIntOption } from './options.js';

export interface TargetOptionFlags {
  device?: string;
  baud?: number;
  tcp?: string;
  pcie?: string;
  sim?: string | boolean;
  imageOnBoard?: string;
}

export function withTargetOptions(cmd: Command, opts: { imageOnBoard?: boolean } = {}): Command {
  cmd
    .option('--device <tty>', 'run on a board over its serial console (e.g. /dev/ttyUSB1)')
    .option('--baud <rate>', 'serial baud rate for --device (default 115200)', parseIntOption('--baud', 1200, 4_000_000))
    .option('--tcp <host:port>', 'run on a board reached over TCP')
    .option('--pcie <dev>', 'run on a PCIe card through its XDMA devices (e.g. /dev/xdma0)')
    .option('--sim [fidelity]', 'run on the virtual board: csim (the HLS C simulation, default) or rtl (the Verilated TLMM core); --board picks its hardware set');
  if (opts.imageOnBoard !== false) cmd.option('--image-on-board <path>', "load the model image from this path on the board's own disk instead of uploading it");
  return cmd;
}
