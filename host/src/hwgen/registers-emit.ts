/**
 * Bindings of the register map (registers.ts) for every language that touches the registers:
 *   firmware/gen/tl_registers.h         C11 offsets, field bits and enum values (firmware, drivers)
 *   hls/gen/<board>/tl_registers.hpp    C++ constants and the interface pragmas of the HLS top:
 *                                       s_axilite (TL_CONTROL_INTERFACE()) and the build's weight ports'
 *                                       m_axi bundles (TL_WEIGHT_PORTS_INTERFACE())
 *   host/src/regmap/registers.ts        TypeScript (host, tests, virtual board)
 *   hw/gen/tellme_regs_pkg.sv           SystemVerilog package (RTL, testbenches)
 * All deterministic: the map's order, no dates.
 */
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { banner } from './emit.js';
import { hex, type PlacedRegister, type RegisterMap } from './registers.js';
import { upperCamel } from './params.js';

const SOURCE = 'hw/spec/registers.json';

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').replace(/\*\//g, '* /').trim();
}

function what(r: PlacedRegister): string {
  const kind = r.kind === 'array' ? `array of ${r.count}` : r.kind === 'pointer' ? `m_axi base of bundle ${r.bundle}` : r.kind;
  const type = r.enum ? `enum ${r.enum}` : r.type;
  return `${kind}, ${r.bits}-bit ${type}: ${oneLine(r.description)}`;
}

/** The repeated pointer groups (e.g. ddr_w) and their first element. */
function groups(map: RegisterMap): PlacedRegister[] {
  return map.registers.filter((r) => r.index === 0);
}

function mask(bit: number, width: number): number {
  return (width === 32 ? 0xffffffff : ((2 ** width - 1) * 2 ** bit)) >>> 0;
}

function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

// ---------------------------------------------------------------------------------------- C

export function emitRegistersC(map: RegisterMap): string {
  const s = map.spec;
  const L: string[] = [banner('//', SOURCE), '//', `// ${oneLine(s.description)}`, '// docs/registers.md explains the map.', '', '#ifndef TL_REGISTERS_H', '#define TL_REGISTERS_H', ''];
  L.push(`#define TL_REGMAP_VERSION ${s.version}u`, `#define TL_REGMAP_BYTES ${hex(map.size)}u`, '');
  L.push('/* Register byte offsets. A 64-bit register is two words: the low word at the offset, the high word at +4. */');
  for (const r of map.registers) {
    if (r.index !== null) continue;
    const n = `TL_REG_${r.name.toUpperCase()}`;
    L.push(`#define ${n} ${hex(r.offset)}u /* ${what(r)} */`);
    if (r.kind === 'array') L.push(`#define ${n}_COUNT ${r.count}u`);
  }
  for (const g of groups(map)) {
    const n = `TL_REG_${g.group.toUpperCase()}`;
    const count = map.registers.filter((r) => r.group === g.group).length;
    L.push(`#define ${n}(i) (${hex(g.offset)}u + 16u * (unsigned)(i)) /* ${what(g)} */`, `#define ${n}_COUNT ${count}u`);
  }
  L.push('', '/* Fields: bit position and mask. */');
  for (const r of map.registers) {
    for (const f of r.fields) {
      const n = `TL_REG_${r.name.toUpperCase()}_${f.name.toUpperCase()}`;
      L.push(`#define ${n}_BIT ${f.bit}u`, `#define ${n}_MASK ${hex32(mask(f.bit, f.width))}u /* ${f.access}: ${oneLine(f.description)} */`);
    }
  }
  L.push('', '/* Enumerations. */');
  for (const [e, spec] of Object.entries(s.enums)) {
    L.push(`/* ${e}: ${oneLine(spec.description)} */`);
    for (const v of spec.values) L.push(`#define TL_${e.toUpperCase()}_${v.name.toUpperCase()} ${v.value}u /* ${oneLine(v.description)} */`);
  }
  L.push('', '#endif /* TL_REGISTERS_H */', '');
  return L.join('\n');
}

// -------------------------------------------------------------------------------------- HLS

/** The build's repeated pointers: ddr_w has one register per weight port of this build. */
function presentOnBuild(r: PlacedRegister, hw: LoadedHwConfig): boolean {
  if (r.group === 'ddr_w') return (r.index ?? 0) < hw.config.memory.weight_ports;
  return true;
}

export function emitRegistersHls(map: RegisterMap, hw: LoadedHwConfig): string {
  const s = map.spec;
  const bundle = s.bus.bundle;
  const L: string[] = [banner('//', `${SOURCE} and hw/boards/${hw.config.name}.json`), '//', '// The HLS top names its arguments after the registers (command, n_tokens, ..., ddr_w0 ..); its', '// body starts with TL_CONTROL_INTERFACE(), which puts each on the control bundle at its offset, and',
    '// TL_WEIGHT_PORTS_INTERFACE(), the m_axi bundles of the weight ports. The act, kv and head bundles\' m_axi',
    '// pragmas are the top\'s own.', '', '#ifndef TL_REGISTERS_HPP', '#define TL_REGISTERS_HPP', '', 'namespace tl_regs {', ''];
  L.push(`constexpr unsigned REGMAP_VERSION = ${s.version}u;`, `constexpr unsigned WEIGHT_PORTS = ${hw.config.memory.weight_ports}u;  // ddr_w0 .. ddr_w${hw.config.memory.weight_ports - 1} on this build`, '');
  for (const r of map.registers) {
    if (!presentOnBuild(r, hw)) continue;
    L.push(`constexpr unsigned ${r.name.toUpperCase()}_OFFSET = ${hex(r.offset)}u;  // ${what(r)}`);
    if (r.kind === 'array') L.push(`constexpr unsigned ${r.name.toUpperCase()}_COUNT = ${r.count}u;`);
  }
  L.push('');
  for (const r of map.registers) {
    for (const f of r.fields) {
      L.push(`constexpr unsigned ${r.name.toUpperCase()}_${f.name.toUpperCase()} = ${hex32(mask(f.bit, f.width))}u;  // bit ${f.bit}: ${oneLine(f.description)}`);
    }
  }
  for (const [e, spec] of Object.entries(s.enums)) {
    L.push('', `// ${oneLine(spec.description)}`, `enum ${e}_t : unsigned {`);
    for (const v of spec.values) L.push(`  ${e.toUpperCase()}_${v.name.toUpperCase()} = ${v.value}u,  // ${oneLine(v.description)}`);
    L.push('};');
  }
  L.push('', '}  // namespace tl_regs', '');
  L.push('// s_axilite placement of every register of this build (offsets from hw/spec/registers.json).');
  const pragmas = [`HLS interface mode=s_axilite port=return bundle=${bundle}`];
  for (const r of map.registers) {
    if (r.kind === 'block' || !presentOnBuild(r, hw)) continue;
    pragmas.push(`HLS interface mode=s_axilite port=${r.name} offset=${hex(r.offset)} bundle=${bundle}`);
  }
  L.push('#define TL_CONTROL_INTERFACE() \\');
  pragmas.forEach((p, i) => L.push(`  _Pragma("${p}")${i + 1 < pragmas.length ? ' \\' : ''}`));
  // The weight ports: one m_axi bundle each (one HP port each), lane-wide words, bursts of the
  // build's length, enough reads in flight to cover the DDR's first-beat latency.
  const m = hw.config.memory;
  const outstanding = Math.max(2, 2 ** Math.ceil(Math.log2(Math.ceil(hw.config.timing.ddr_first_beat_cycles / m.burst_beats) + 1)));
  const weightPorts = map.registers.filter((r) => r.group === 'ddr_w' && presentOnBuild(r, hw));
  L.push(
    '',
    `// m_axi of the weight ports: ${m.weight_ports} bundles of ${m.axi_data_bits}-bit words, bursts of ${m.burst_beats} beats (${(m.burst_beats * m.axi_data_bits) / 8} bytes, so an`,
    `// aligned burst never crosses 4 KiB), ${outstanding} reads in flight (> ddr_first_beat_cycles / burst_beats).`,
    '#define TL_WEIGHT_PORTS_INTERFACE() \\',
  );
  weightPorts.forEach((r, i) =>
    L.push(
      `  _Pragma("HLS interface mode=m_axi port=${r.name} bundle=${r.bundle} offset=slave max_widen_bitwidth=${m.axi_data_bits} max_read_burst_length=${m.burst_beats} num_read_outstanding=${outstanding} num_write_outstanding=1 max_write_burst_length=2")${i + 1 < weightPorts.length ? ' \\' : ''}`,
    ),
  );
  L.push('', '#endif  // TL_REGISTERS_HPP', '');
  return L.join('\n');
}

// --------------------------------------------------------------------------------------- TS

export function emitRegistersTs(map: RegisterMap): string {
  const s = map.spec;
  const L: string[] = [banner('//', SOURCE), '//', `// ${oneLine(s.description)}`, '// docs/registers.md explains the map.', ''];
  L.push(`export const REGMAP_VERSION = ${s.version};`, `export const REGMAP_BYTES = ${hex(map.size)};`, '');
  L.push('export interface RegisterInfo {', "  offset: number;", '  bits: 32 | 64;', "  kind: 'block' | 'in' | 'out' | 'array' | 'pointer';", '  /** Elements of an array, else 1. */', '  count: number;', '}', '');
  L.push('/** Every register by name (repeated pointers as ddr_w0, ddr_w1, ...). */');
  L.push('export const REGISTERS = {');
  for (const r of map.registers) L.push(`  ${r.name}: { offset: ${hex(r.offset)}, bits: ${r.bits}, kind: '${r.kind}', count: ${r.count} }, // ${oneLine(r.description)}`);
  L.push('} as const satisfies Record<string, RegisterInfo>;', '', 'export type RegisterName = keyof typeof REGISTERS;', '');
  for (const r of map.registers) {
    if (r.fields.length === 0) continue;
    L.push(`/** Fields of ${r.name} (masks). */`, `export const ${r.name.toUpperCase()}_FIELDS = {`);
    for (const f of r.fields) L.push(`  ${f.name}: ${hex32(mask(f.bit, f.width))}, // bit ${f.bit}: ${oneLine(f.description)}`);
    L.push('} as const;', '');
  }
  for (const [e, spec] of Object.entries(s.enums)) {
    L.push(`/** ${oneLine(spec.description)} */`, `export const ${e.toUpperCase()} = {`);
    for (const v of spec.values) L.push(`  ${v.name}: ${v.value},`);
    L.push('} as const;', '');
  }
  return L.join('\n');
}

// --------------------------------------------------------------------------------------- SV

export function emitRegistersSv(map: RegisterMap): string {
  const s = map.spec;
  const aw = s.bus.address_bits;
  const L: string[] = [banner('//', SOURCE), '//', `// ${oneLine(s.description)}`, '', 'package tellme_regs_pkg;', ''];
  L.push(`  localparam int unsigned RegmapVersion = ${s.version};`, `  localparam int unsigned RegAddrBits = ${aw};`, '');
  for (const r of map.registers) {
    L.push(`  localparam logic [${aw - 1}:0] Reg${upperCamel(r.name)} = ${aw}'h${r.offset.toString(16)};  // ${what(r)}`);
    if (r.kind === 'array') L.push(`  localparam int unsigned Reg${upperCamel(r.name)}Count = ${r.count};`);
  }
  L.push('');
  for (const r of map.registers) {
    for (const f of r.fields) L.push(`  localparam int unsigned ${upperCamel(r.name)}${upperCamel(f.name)}Bit = ${f.bit};  // ${oneLine(f.description)}`);
  }
  for (const [e, spec] of Object.entries(s.enums)) {
    L.push('', `  // ${oneLine(spec.description)}`, `  typedef enum logic [31:0] {`);
    spec.values.forEach((v, i) => L.push(`    ${upperCamel(e)}${upperCamel(v.name)} = 32'd${v.value}${i + 1 < spec.values.length ? ',' : ''}`));
    L.push(`  } ${e}_e;`);
  }
  L.push('', 'endpackage', '');
  return L.join('\n');
}
