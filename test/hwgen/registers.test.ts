/**
 * The register map (hw/spec/registers.json): its address-space rules catch what Vitis would
 * silently move; the four bindings (C, HLS C++, TypeScript, SystemVerilog) say the same offsets
 * (the C and C++ headers compiled and run); docs/registers.md lists every register; and the
 * register values of a model reach every region of the planner's DDR map.
 */
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TellmeError } from '../../host/src/errors.js';
import { listBoards, loadHwConfig } from '../../host/src/hwconfig/load.js';
import { registerMapFiles } from '../../host/src/hwgen/generate.js';
import { emitRegistersHls } from '../../host/src/hwgen/registers-emit.js';
import { hex, loadRegisterMap, registerMapFromObject, registersPath } from '../../host/src/hwgen/registers.js';
import { planDdr } from '../../host/src/layout/ddr.js';
import { registerValues } from '../../host/src/layout/register-values.js';
import { planUram } from '../../host/src/layout/uram.js';
import type { ModelSpec } from '../../host/src/model/spec.js';
import { projectRoot } from '../../host/src/paths.js';
import { BUILTIN_SHAPES } from '../../host/src/plan/shapes.js';
import { REGISTERS } from '../../host/src/regmap/registers.js';

const ROOT = projectRoot();
const raw = () => JSON.parse(fs.readFileSync(registersPath(), 'utf8')) as { registers: Record<string, unknown>[]; [k: string]: unknown };

function rejects(edit: (m: ReturnType<typeof raw>) => void, msg: RegExp): void {
  const m = raw();
  edit(m);
  let err: unknown;
  try {
    registerMapFromObject(m, 'planted.json');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(TellmeError);
  expect((err as TellmeError).code).toBe('E_HWCONFIG');
  expect((err as TellmeError).message).toMatch(msg);
  expect((err as TellmeError).fix).toMatch(/registers\.json/);
}

const reg = (m: ReturnType<typeof raw>, name: string) => m.registers.find((r) => r.name === name)!;

describe('register map rules', () => {
  it('the committed map is valid', () => {
    const m = loadRegisterMap();
    expect(m.registers.length).toBeGreaterThan(50);
    expect(m.size).toBe(4096);
  });

  it('a 32-bit register needs its control word: a neighbour 4 bytes on overlaps', () => {
    rejects((m) => (reg(m, 'n_tokens').offset = '0x024'), /command reserves \[0x020, 0x028\).*overlaps n_tokens at 0x024/);
  });

  it('a 64-bit register takes three words', () => {
    rejects((m) => (reg(m, 'weights_layer_stride').offset = '0x608'), /weights_offset reserves \[0x600, 0x60c\).*overlaps weights_layer_stride/);
  });

  it('an array sits at a multiple of its power-of-two size', () => {
    rejects((m) => (reg(m, 'weight_scale').offset = '0xa00'), /must start at a multiple of 2048/);
  });

  it('arguments stay out of the block-protocol words; fields fit; enums exist', () => {
    rejects((m) => (reg(m, 'command').offset = '0x010'), /below bus.first_argument_offset/);
    rejects((m) => ((reg(m, 'status').fields as { bit: number }[])[0]!.bit = 31, ((reg(m, 'status').fields as { width?: number }[])[0]!.width = 2)), /does not fit 32 bits/);
    rejects((m) => ((reg(m, 'status').fields as { bit: number }[])[1]!.bit = 0), /overlaps another field/);
    rejects((m) => (reg(m, 'command').enum = 'nothing'), /unknown enum "nothing"/);
    rejects((m) => ((m.bus as { address_bits: number }).address_bits = 11), /weight_scale: \[0x800, 0x1000\) runs past the 2048-byte address space/);
    rejects((m) => (m.registers[0]!.bogus = 1), /unknown field "bogus"/);
  });
});

describe('register bindings', () => {
  it('C, HLS C++, TypeScript and SystemVerilog give every register the same offset', async () => {
    const map = loadRegisterMap();
    const hw = loadHwConfig('kv260');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-regs-'));
    fs.writeFileSync(path.join(dir, 'tl_registers.hpp'), emitRegistersHls(map, hw));
    // One program includes the C header and the HLS header and prints both views of every offset.
    const lines = ['#include <cstdio>', '#include "tl_registers.h"', '#include "tl_registers.hpp"', 'int main() {'];
    for (const r of map.registers) {
      const c = r.index === null ? `TL_REG_${r.name.toUpperCase()}` : `TL_REG_${r.group.toUpperCase()}(${r.index})`;
      const present = r.group !== 'ddr_w' || r.index! < hw.config.memory.weight_ports;
      const h = present ? `tl_regs::${r.name.toUpperCase()}_OFFSET` : c;
      lines.push(`  std::printf("%s %u %u\\n", "${r.name}", (unsigned)(${c}), (unsigned)(${h}));`);
    }
    lines.push('  std::printf("version %u %u\\n", (unsigned)TL_REGMAP_VERSION, tl_regs::REGMAP_VERSION);', '  return 0;', '}');
    fs.writeFileSync(path.join(dir, 'main.cpp'), lines.join('\n'));
    await execa('g++', ['-std=c++17', '-Wall', '-Werror', '-Wno-unknown-pragmas', '-I', path.join(ROOT, 'firmware/gen'), '-I', dir, path.join(dir, 'main.cpp'), '-o', path.join(dir, 'main')]);
    // The C header is C11 on its own.
    await execa('gcc', ['-std=c11', '-Wall', '-Werror', '-fsyntax-only', '-x', 'c', path.join(ROOT, 'firmware/gen/tl_registers.h')]);
    const out = (await execa(path.join(dir, 'main'))).stdout.trim().split('\n');
    const sv = fs.readFileSync(path.join(ROOT, 'hw/gen/tellme_regs_pkg.sv'), 'utf8');
    for (const line of out) {
      const [name, c, h] = line.split(' ');
      if (name === 'version') {
        expect([Number(c), Number(h)]).toEqual([map.spec.version, map.spec.version]);
        continue;
      }
      const r = map.registers.find((x) => x.name === name)!;
      expect([Number(c), Number(h)], name).toEqual([r.offset, r.offset]);
      expect(REGISTERS[name as keyof typeof REGISTERS].offset, name).toBe(r.offset);
      const camel = name!.split('_').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
      expect(sv, name).toContain(`Reg${camel} = 12'h${r.offset.toString(16)};`);
    }
    expect(out.length).toBe(map.registers.length + 1);
  });

  it('TL_CONTROL_INTERFACE() places exactly the build\'s registers; TL_WEIGHT_PORTS_INTERFACE() its weight ports', () => {
    const map = loadRegisterMap();
    for (const b of listBoards()) {
      const hw = loadHwConfig(b);
      const text = emitRegistersHls(map, hw);
      const ports = [...text.matchAll(/port=(\w+) offset=(0x[0-9a-f]+)/g)].map((m) => [m[1], m[2]]);
      const expected = map.registers.filter((r) => r.kind !== 'block' && (r.group !== 'ddr_w' || r.index! < hw.config.memory.weight_ports));
      expect(ports).toEqual(expected.map((r) => [r.name, hex(r.offset)]));
      // One m_axi bundle per weight port, with the build's burst length and word width.
      const maxi = [...text.matchAll(/mode=m_axi port=(ddr_w\d+) bundle=(w\d+) offset=slave max_widen_bitwidth=(\d+) max_read_burst_length=(\d+)/g)];
      expect(maxi.map((m) => m[1])).toEqual(Array.from({ length: hw.config.memory.weight_ports }, (_, p) => `ddr_w${p}`));
      for (const m of maxi) expect([Number(m[3]), Number(m[4]), m[2]]).toEqual([hw.config.memory.axi_data_bits, hw.config.memory.burst_beats, m[1]!.slice(4)]);
    }
  });

  it('docs/registers.md lists every register at its offset', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/registers.md'), 'utf8');
    for (const r of loadRegisterMap().registers) {
      const name = r.index === null ? r.name : `${r.group}0 .. ${r.group}31`;
      expect(doc, r.name).toMatch(new RegExp(`\\| ${hex(r.offset - (r.index ?? 0) * 16)} \\| \`${name}\` \\|`));
    }
  });

  it('the bindings that do not depend on the build are committed as generated', () => {
    for (const f of registerMapFiles()) expect(fs.readFileSync(path.join(ROOT, f.path), 'utf8'), f.path).toBe(f.content);
  });
});

describe('register values of a model', () => {
  const small: ModelSpec = { ...BUILTIN_SHAPES['bitnet-2b4t']!, hiddenSize: 256, intermediateSize: 688, numLayers: 3, numHeads: 4, numKvHeads: 2, headDim: 64, vocabSize: 1000, maxPositions: 128 };
  const shapes: Record<string, ModelSpec> = { ...BUILTIN_SHAPES, small, 'small-mha-silu': { ...small, numKvHeads: 4, activation: 'silu', subNorms: false } };

  it('reach every weight and norm region of the DDR map, on every register-driven build', () => {
    for (const b of ['kv260', 'zcu104', 'alveo-u55c']) {
      const hw = loadHwConfig(b);
      expect(hw.config.memory.weight_ports).toBeLessThanOrEqual(32);
      expect(hw.config.maxima.layers * 8).toBeLessThanOrEqual(512);
      for (const [name, spec] of Object.entries(shapes)) {
        const uram = planUram(spec, hw);
        if (!uram.fits) continue;
        const ddr = planDdr(spec, hw, uram, { context: Math.min(256, spec.maxPositions) });
        const v = registerValues(spec, hw, uram, ddr, (l, n) => 0.5 + l + n.length / 100);
        expect(v.scalars.layers, `${b} ${name}`).toBe(spec.numLayers);
        expect(v.scalars.weights_offset).toBe(0);
        expect(v.arrays.linear_tile_rows!.slice(0, 7)).toEqual(uram.linears.map((lp) => lp.tiles[0]!.rows));
        expect(v.arrays.weight_scale![8 * (spec.numLayers - 1) + 6]).toBe(new Uint32Array(new Float32Array([0.5 + spec.numLayers - 1 + 0.09]).buffer)[0]);
      }
    }
  });

  it('refuses the paper build, whose norms ride in the weight beats', () => {
    const hw = loadHwConfig('kv260-paper');
    const spec = BUILTIN_SHAPES['bitnet-large']!;
    const uram = planUram(spec, hw);
    expect(() => registerValues(spec, hw, uram, planDdr(spec, hw, uram), () => 1)).toThrow(/tiled, dense-packed, binary32 builds/);
  });
});
