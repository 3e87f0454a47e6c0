/**
 * Transport edges that need no board: listing serial ports without udevadm is reported, not
 * thrown; a missing tty, a refused TCP port and missing XDMA devices are E_LINK errors with a fix;
 * the virtual board's announcements parse; --tcp addresses parse.
 */
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { SerialStream } from '../../host/src/transport/serial.js';
import { parseAnnouncement } from '../../host/src/transport/sim.js';
import { parseHostPort, TcpStream } from '../../host/src/transport/tcp.js';
import { projectRoot } from '../../host/src/paths.js';

describe('transports without a board', () => {
  it('SerialPort.list() without udevadm gives a problem line, not an exception', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-list-'));
    const script = path.join(dir, 'list.mts');
    fs.writeFileSync(script, `import { listSerialPorts } from ${JSON.stringify(path.join(projectRoot(), 'host/src/transport/serial.ts'))};\nprocess.stdout.write(JSON.stringify(await listSerialPorts()));\n`);
    const r = await execa(process.execPath, ['--import', 'tsx', script], { env: { PATH: '/nonexistent' }, extendEnv: false, cwd: projectRoot() });
    fs.rmSync(dir, { recursive: true, force: true });
    const j = JSON.parse(r.stdout) as { ports: unknown[]; problem: string };
    expect(j.ports).toEqual([]);
    expect(j.problem).toMatch(/cannot list serial ports .*udevadm.*pass the port with --device/);
  });

  it('a missing tty and a refused TCP port are clear E_LINK errors', async () => {
    await expect(SerialStream.open('/dev/tellme-no-such-tty')).rejects.toMatchObject({ code: 'E_LINK', message: expect.stringMatching(/cannot open the serial port \/dev\/tellme-no-such-tty/) });
    await expect(TcpStream.open('127.0.0.1:1', 2000)).rejects.toMatchObject({ code: 'E_LINK', fix: expect.stringMatching(/check the address/) });
  });

  it('parses --tcp addresses and the virtual board announcements', () => {
    expect(parseHostPort('10.0.0.2:9000')).toEqual({ host: '10.0.0.2', port: 9000 });
    expect(parseHostPort('board.local')).toEqual({ host: 'board.local', port: 7260 });
    expect(parseHostPort('[::1]:7')).toEqual({ host: '::1', port: 7 });
    expect(() => parseHostPort('a:b:c')).toThrow(/expected host:port/);
    expect(parseAnnouncement('TELLME-VBOARD pty /dev/pts/3')).toEqual({ key: 'pty', value: '/dev/pts/3' });
    expect(parseAnnouncement('TELLME-VBOARD ready')).toEqual({ key: 'ready', value: '' });
    expect(parseAnnouncement('some log line')).toBeNull();
  });
});
