/**
 * `tellme doctor [--device … | --tcp … | --pcie … | --sim …] [--model image]`: checks this
 * machine (Node, the serial-port binding and port list, permissions on the tty, the XDMA driver
 * and device files, the virtual board), and with a target the board itself (protocol version,
 * firmware, hardware set against tellme's and the image's, clock, buffer sizes, link health and
 * round-trip time). Each check says what to fix; exit 1 when one fails.
 */

import * as fs from 'node:fs';
import type { Command } from 'commander';
import { TellmeError } from '../../errors.js';
import { listBoards, loadHwConfig } from '../../hwconfig/index.js';
import { openImage } from '../../image/reader.js';
import { PROTOCOL_MAJOR, PROTOCOL_MINOR } from '../../protocol/gen/protocol.js';
import { xdmaPaths } from '../../transport/pcie.js';
import { listSerialPorts } from '../../transport/serial.js';
import { vboardExecutable } from '../../transport/sim.js';
import { commandTarget, connectBoard } from '../board-session.js';
import { addModelInput, modelPath, SHARED_OPTIONS } from '../conventions.js';
import { withTargetOptions, type TargetOptionFlags } from '../target-options.js';

type Status = 'ok' | 'warn' | 'fail';
interface Check {
  name: string;
  status: Status;
  detail: string;
  fix?: string;
}

interface DoctorFlags extends TargetOptionFlags {
  board?: string;
  model?: string;
  json?: boolean;
}

function access(p: string, mode: number): string | null {
  try {
    fs.accessSync(p, mode);
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'error';
  }
}

async function machineChecks(f: DoctorFlags): Promise<Check[]> {
  const out: Check[] = [];
  const [maj, min] = process.versions.node.split('.').map(Number) as [number, number];
  out.push(maj > 20 || (maj === 20 && min >= 10) ? { name: 'node', status: 'ok', detail: `Node.js ${process.versions.node}` } : { name: 'node', status: 'fail', detail: `Node.js ${process.versions.node}`, fix: 'install Node.js 20.10 or newer' });
  const { ports, problem } = await listSerialPorts();
  out.push(problem ? { name: 'serial ports', status: 'warn', detail: problem, fix: 'apt-get install udev, or pass the port with --device' } : { name: 'serial ports', status: 'ok', detail: ports.length ? ports.map((p) => p.path + (p.manufacturer ? ` (${p.manufacturer})` : '')).join(', ') : 'none found' });
  if (f.device !== undefined) {
    const e = access(f.device, fs.constants.R_OK | fs.constants.W_OK);
    out.push(
      e === null
        ? { name: 'tty', status: 'ok', detail: `${f.device} is readable and writable` }
        : { name: 'tty', status: 'fail', detail: `${f.device}: ${e}`, fix: e === 'ENOENT' ? 'check the cable and the device name (see serial ports above)' : `add yourself to its group (ls -l ${f.device}; usually sudo usermod -aG dialout $USER, then log in again)` },
    );
  }
  const xdmaLoaded = fs.existsSync('/sys/module/xdma');
  const cards = fs.existsSync('/dev') ? fs.readdirSync('/dev').filter((n) => /^xdma\d+_user$/.test(n)) : [];
  if (f.pcie !== undefined) {
    const p = xdmaPaths(f.pcie);
    const bad = [p.user, p.h2c, p.c2h].map((x) => [x, access(x, fs.constants.R_OK | fs.constants.W_OK)] as const).filter(([, e]) => e !== null);
    out.push(
      bad.length === 0
        ? { name: 'xdma', status: 'ok', detail: `${p.user}, ${p.h2c}, ${p.c2h} are accessible` }
        : { name: 'xdma', status: 'fail', detail: bad.map(([x, e]) => `${x}: ${e}`).join('; '), fix: xdmaLoaded ? `check the card number (ls /dev/xdma*) and the permissions of ${f.pcie}_*` : 'load the XDMA driver (Xilinx dma_ip_drivers, XDMA/linux-kernel: make install; modprobe xdma)' },
    );
  } else {
    out.push({ name: 'xdma', status: 'ok', detail: xdmaLoaded ? `driver loaded; cards: ${cards.map((c) => '/dev/' + c.replace(/_user$/, '')).join(', ') || 'none'}` : 'driver not loaded (needed only for PCIe cards)' });
  }
  try {
    out.push({ name: 'virtual board', status: 'ok', detail: vboardExecutable() });
  } catch (e) {
    out.push({ name: 'virtual board', status: f.sim !== undefined ? 'fail' : 'warn', detail: (e as Error).message, fix: 'make vboard' });
  }
  return out;
}

/** Without a board, --model is still checked: the image must open (and pass its checksums). */
function imageCheck(file: string): Check {
  try {
    const img = openImage(file);
    return { name: 'model image', status: 'ok', detail: `${file} is a valid image for ${img.hw.config.name}` };
  } catch (e) {
    const err = e as Error & { fix?: string };
    return { name: 'model image', status: 'fail', detail: err.message, ...(err.fix ? { fix: err.fix } : {}) };
  }
}

async function boardChecks(f: DoctorFlags): Promise<Check[]> {
  const target = commandTarget(f);
  if (!target) return f.model !== undefined ? [imageCheck(f.model)] : [];
  const out: Check[] = [];
  let board;
  try {
    board = await connectBoard(target, f);
  } catch (e) {
    const err = e as Error & { fix?: string };
    return [{ name: 'handshake', status: 'fail', detail: err.message, ...(err.fix ? { fix: err.fix } : {}) }];
  }
  try {
    const h = board.hello!;
    out.push({ name: 'handshake', status: 'ok', detail: `${board.description}: ${h.firmware}, backend ${h.backend}, protocol ${h.major}.${h.minor} (tellme speaks ${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}), max payload ${h.max_payload}, window ${h.window}` });
    const known = listBoards().find((b) => loadHwConfig(b).hash === board!.hwHash);
    out.push(
      known
        ? { name: 'hardware set', status: 'ok', detail: `${h.board} (hash ${board.hwHash.slice(0, 12)}…) = hw/boards/${known}.json` }
        : { name: 'hardware set', status: 'warn', detail: `${h.board} (hash ${board.hwHash.slice(0, 12)}…) is none of hw/boards/*.json`, fix: 'update tellme, or convert images with --board <the bitstream\'s JSON>' },
    );
    const info = await board.info();
    const clockWant = known ? loadHwConfig(known).config.clock_mhz * 1000 : 0;
    out.push(
      info.clock_khz === 0 || clockWant === 0 || info.clock_khz === clockWant
        ? { name: 'clock', status: 'ok', detail: info.clock_khz ? `${info.clock_khz / 1000} MHz` : 'not reported' }
        : { name: 'clock', status: 'warn', detail: `${info.clock_khz / 1000} MHz, the build expects ${clockWant / 1000} MHz`, fix: 'check the PL clock setting (fpgautil / the device tree overlay)' },
    );
    out.push({ name: 'buffers', status: 'ok', detail: `images up to ${(info.max_image_bytes / 2 ** 20).toFixed(0)} MiB, context up to ${info.context_max}, accelerator timeout ${info.accel_timeout_ms} ms` });
    const rtt: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await board.ping();
      rtt.push(performance.now() - t);
    }
    rtt.sort((a, b) => a - b);
    const errors = info.rx_crc_errors + info.rx_truncated;
    out.push({
      name: 'link',
      status: errors > 0 ? 'warn' : 'ok',
      detail: `ping ${rtt[2]!.toFixed(2)} ms (median of 5); board counters: ${info.rx_frames} frames in, ${info.rx_crc_errors} CRC errors, ${info.rx_truncated} truncated, ${info.rx_discarded_bytes} bytes skipped`,
      ...(errors > 0 ? { fix: 'check the cable and that nothing else uses the port' } : {}),
    });
    out.push({ name: 'image', status: 'ok', detail: h.image_loaded ? `${h.image_name} (manifest ${Buffer.from(h.image_sha256).toString('hex').slice(0, 12)}…)` : 'none loaded' });
    if (f.model !== undefined) {
      try {
        const img = openImage(f.model);
        board.checkHardware(img);
        out.push({ name: 'model image', status: 'ok', detail: `${f.model} is for ${img.hw.config.name}, as the board${board.hasImage(img) ? '; the board holds it' : ''}` });
      } catch (e) {
        const err = e as Error & { fix?: string };
        out.push({ name: 'model image', status: 'fail', detail: err.message, ...(err.fix ? { fix: err.fix } : {}) });
      }
    }
  } finally {
    await board.close();
  }
  return out;
}

export function register(program: Command): void {
  const cmd = withTargetOptions(program.command('doctor'), { imageOnBoard: false }).description(
    'check this machine (tools, serial ports and permissions, the XDMA driver, the virtual board) and, with a target, the board (firmware, hardware set, clock, buffers, link)',
  );
  addModelInput(cmd, "a model image: also check that it is for the board's hardware set")
    .option(SHARED_OPTIONS.board, "the virtual board's hardware set with --sim (default kv260)")
    .option(SHARED_OPTIONS.json, 'print {"checks": [...], "ok": bool}')
    .action(async (model: string | undefined, f: DoctorFlags) => {
      const m = modelPath(model, f, 'doctor', false);
      if (m !== undefined) f.model = m;
      const checks = [...(await machineChecks(f)), ...(await boardChecks(f))];
      const ok = checks.every((c) => c.status !== 'fail');
      if (f.json) {
        process.stdout.write(JSON.stringify({ checks, ok }) + '\n');
      } else {
        for (const c of checks) {
          process.stdout.write(`${c.status.padEnd(4)}  ${c.name}: ${c.detail}\n`);
          if (c.fix) process.stdout.write(`      fix: ${c.fix}\n`);
        }
      }
      const failed = checks.filter((c) => c.status === 'fail');
      if (failed.length > 0) {
        throw new TellmeError('E_DEVICE', `${failed.length} check${failed.length > 1 ? 's' : ''} failed: ${failed.map((c) => c.name).join(', ')}`, 'Fix what the lines marked "fail" say, then run tellme doctor again.');
      }
    });
}
