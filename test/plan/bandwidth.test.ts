import { describe, expect, it } from 'vitest';
import { hwConfigFromObject, loadHwConfig, memoryBandwidth } from '../../host/src/hwconfig/index.js';
import { achievableClockMhz, achievedFor, bram18For, estimateResources, applySettings, parseSetting } from '../../host/src/plan/index.js';
import { TellmeError } from '../../host/src/errors.js';

const paper = loadHwConfig('kv260-paper');
const ours = loadHwConfig('kv260');

describe('weight-stream bandwidth (lanes in lockstep)', () => {
  it('kv260: four 4 GB/s lanes, two of them on a shared controller port 19 % late, so all four go at 4/1.19', () => {
    const b = memoryBandwidth(ours.config, 250);
    expect(b.laneBandwidthBps).toBe(4e9);
    expect(b.portBandwidthBps).toBe(16e9);
    expect(b.lockstepBandwidthBps).toBeCloseTo(16e9 / 1.19, 0);
    expect(b.ddrBandwidthBps).toBeCloseTo(19.2e9 * 0.833, 0);
    expect(b.kernelSideBandwidthBps).toBe(16e9);
    expect(b.effectiveBandwidthBps).toBeCloseTo(16e9 / 1.19, 0);
  });

  it('no shared lanes: the ports bind (the paper: 3 x 4 GB/s); a derated kernel clock narrows only the kernel side', () => {
    expect(memoryBandwidth(paper.config, 250).effectiveBandwidthBps).toBe(12e9);
    // kv260 at 200 MHz: the 4 x 16-byte kernel side carries 12.8 GB/s < 13.45 GB/s of the lanes.
    expect(memoryBandwidth(ours.config, 200).effectiveBandwidthBps).toBeCloseTo(12.8e9, 0);
    const unshared = { ...ours.config, memory: { ...ours.config.memory, shared_port_lanes: 0 } };
    expect(memoryBandwidth(unshared, 250).effectiveBandwidthBps).toBeCloseTo(Math.min(16e9, 19.2e9 * 0.833), 0);
  });

  it('rejects more shared lanes than weight ports', () => {
    const bad = { ...ours.config, memory: { ...ours.config.memory, shared_port_lanes: 5 } };
    expect(() => hwConfigFromObject(bad, 'b.json')).toThrow(/memory.shared_port_lanes/);
  });
});

describe('achievable clock', () => {
  it('holds the target up to 84 % LUT, then loses 1.25 % of it per point, floored at half', () => {
    expect(achievableClockMhz(ours, 0.5)).toBe(250);
    expect(achievableClockMhz(ours, 0.84)).toBe(250);
    expect(achievableClockMhz(ours, 0.92)).toBeCloseTo(225, 9);
    expect(achievableClockMhz(ours, 1.0)).toBeCloseTo(200, 9);
    expect(achievableClockMhz(ours, 3)).toBe(125);
  });

  it('the planned clock follows the LUT estimate; bytes per cycle follow the clock', () => {
    const a = achievedFor(ours);
    const lut = estimateResources(ours).utilisation.lut;
    expect(a.lutUtilisation).toBe(lut);
    expect(a.clockMhz).toBeCloseTo(achievableClockMhz(ours, lut), 9);
    expect(a.bytesPerCycle).toBeCloseTo(a.bandwidthBps / (a.clockMhz * 1e6), 9);
    // The paper's own build (84 % LUT) keeps its 250 MHz.
    expect(achievedFor(paper).clockMhz).toBe(250);
  });
});

describe('resource model', () => {
  it('BRAM18 aspect ratios (UG573)', () => {
    expect(bram18For(256, 256)).toBe(8); // 512 x 36
    expect(bram18For(540, 22)).toBe(2); // 1K x 18
    expect(bram18For(288, 20)).toBe(1);
    expect(bram18For(20000, 3)).toBe(6); // two 16K x 1 deep, 3 wide
  });

  it("the paper's HLS engine costs the wide multiplexers: ping-pong table read 2,240 LUT, double-buffer read 1,152 + 300, gearbox 652 x 4 + 200", () => {
    const r = estimateResources(applySettings(ours, ['architecture.tlmm_engine=paper-hls']));
    const core = r.modules.find((m) => m.module.startsWith('TLMM core'))!;
    expect(core.lut).toBe(Math.round(r.tlmmCore.total + 28 * 16 * 10 * 0.5));
    const wbmu = r.modules.find((m) => m.module.startsWith('weight buffer'))!;
    expect(wbmu.lut).toBe(Math.round(6885 * (0.5 + 0.5 * (512 / 768)) + (652 * 4 + 200) + (16 * 144 * 0.5 + 300)));
  });

  // Known answers: the yosys figures of docs/measurements.md ("The RTL TLMM engine"), not derived
  // from the planner's constants.
  it('hw/rtl: the core, loader and buffer land on their yosys figures (kv260 and the paper parameters)', () => {
    const within = (got: number, measured: number) => expect(Math.abs(got - measured) / measured).toBeLessThan(0.01);
    const r = estimateResources(ours);
    const core = r.modules.find((m) => m.module.startsWith('TLMM core'))!;
    within(core.lut, 13921);
    expect(core.dsp).toBe(3);
    expect(core.bram36).toBe(10);
    const wb = r.modules.find((m) => m.module.startsWith('weight buffer'))!;
    expect(wb.lut).toBe(5930 + 2467);
    expect(wb.dsp).toBe(4);
    within(core.lut + wb.lut, 22371);
    const paperRtl = estimateResources(applySettings(paper, ['architecture.tlmm_engine=hw-rtl', 'architecture.activation_read=parallel']));
    const pc = paperRtl.modules.find((m) => m.module.startsWith('TLMM core'))!;
    within(pc.lut, 10206);
    expect(pc.bram36).toBe(4.5);
    // The paper's own build keeps its HLS engine, calibrated to the paper's totals.
    expect(estimateResources(paper).modules.find((m) => m.module.startsWith('TLMM core'))!.lut).toBe(23083);
  });

  it('hw/rtl reads a chunk a cycle and looks up one token per weight read: other builds are refused', () => {
    expect(() => applySettings(ours, ['architecture.prefill_token_block=2'])).toThrow(/tlmm_engine/);
    expect(() => applySettings(ours, ['architecture.activation_read=serial'])).toThrow(/tlmm_engine/);
  });

  it('BRAM scales with the synthesised maxima; every module says how it was estimated', () => {
    const small = applySettings(ours, ['maxima.hidden=1536', 'maxima.ffn=4096', 'maxima.heads=16', 'maxima.kv_heads=16', 'maxima.head_dim=96']);
    expect(estimateResources(small).bram36).toBeLessThan(estimateResources(ours).bram36);
    for (const m of estimateResources(ours).modules) expect(m.basis.length).toBeGreaterThan(5);
    expect(estimateResources(paper).modules.find((m) => m.module.startsWith('control'))!.basis).toMatch(/^fitted/);
  });
});

describe('--set variants', () => {
  it('parses dotted FIELD=VALUE (JSON values, else strings)', () => {
    expect(parseSetting('memory.weight_ports=3')).toEqual({ memory: { weight_ports: 3 } });
    expect(parseSetting('numerics.kv_format=int8')).toEqual({ numerics: { kv_format: 'int8' } });
    expect(parseSetting('architecture.double_buffering=false')).toEqual({ architecture: { double_buffering: false } });
  });

  it('validates the result like a board file and names what is wrong', () => {
    const v = applySettings(ours, ['numerics.kv_format=fp16']);
    expect(v.config.numerics.kv_format).toBe('fp16');
    expect(v.hash).not.toBe(ours.hash);
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as TellmeError;
      }
      throw new Error('no error');
    };
    expect(err(() => applySettings(ours, ['memory.weight_portz=3'])).code).toBe('E_HWCONFIG');
    expect(err(() => applySettings(ours, ['numerics.kv_format=int4'])).message).toMatch(/kv_format/);
    expect(err(() => parseSetting('weight_ports')).code).toBe('E_USAGE');
  });
});
