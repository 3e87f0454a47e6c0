/**
 * The C-simulation shims (hls/include): the bounded stream model with its dataflow scheduler,
 * and the ap_uint/ap_int model. Real builds, real processes: the failure cases must abort with
 * the shim's message, an undersized FIFO must deadlock where an adequate one runs.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDriver, runDriver } from './build.js';

describe('bounded hls::stream model and dataflow scheduler', () => {
  let exe: string;
  beforeAll(async () => {
    exe = await buildDriver('stream_tb');
  });

  it('runs a pipeline and a nested region through depth-2 FIFOs', async () => {
    for (const c of ['pipeline', 'nested']) {
      const r = await runDriver(exe, [c]);
      expect(r.stdout.trim(), r.stderr).toBe('ok');
      expect(r.exitCode).toBe(0);
    }
  });

  it('catches an undersized FIFO: the reconvergent fork needs depth 32, depth 8 deadlocks', async () => {
    const ok = await runDriver(exe, ['fork-join', '32']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    const bad = await runDriver(exe, ['fork-join', '8']);
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toMatch(/deadlock/);
    expect(bad.stderr).toMatch(/waits to write 'bypass' \(full, depth 8\)/);
  });

  it('fails loudly on overflow, on a read from an empty stream and on data left over', async () => {
    const cases: [string, RegExp][] = [
      ['overflow', /overflow: write to a full stream on stream 'main\.s' \(depth 2, holding 2\)/],
      ['empty-read', /read from an empty stream on stream 'main\.s'/],
      ['leftover', /data left in stream 'left' when its call ended: 1 item/],
    ];
    for (const [c, msg] of cases) {
      const r = await runDriver(exe, [c]);
      expect(r.exitCode, c).not.toBe(0);
      expect(r.stderr).toMatch(msg);
    }
  });
});

describe('ap_uint/ap_int model', () => {
  it('has the vendor semantics the kernels use', async () => {
    const r = await runDriver(await buildDriver('ap_int_tb'), []);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok');
    expect(r.exitCode).toBe(0);
  });
});
