/**
 * The SystemVerilog binding of the protocol (hw/gen/tellme_protocol_pkg.sv): framing constants,
 * message ids and error codes as enums, and the PCIe mailbox register offsets, for RTL that
 * parses frames or implements the mailbox (lowRISC naming: UpperCamelCase parameters and enum
 * values).
 */

import type { ProtocolSpec } from './protocol-spec.js';
import { pascal } from './protocol-ts.js';

export const PROTOCOL_SV_OUT = 'hw/gen/tellme_protocol_pkg.sv';

const svHex = (bits: number, n: number) => `${bits}'h${n.toString(16).toUpperCase().padStart(Math.ceil(bits / 4), '0')}`;

export function emitProtocolSv(spec: ProtocolSpec, banner: string): string {
  const L: string[] = [];
  L.push(`// ${banner}`, '// The protocol between tellme and the firmware: docs/protocol.md.', '');
  L.push('package tellme_protocol_pkg;', '');
  L.push(`  localparam int unsigned ProtoMajor = ${spec.version.major};`);
  L.push(`  localparam int unsigned ProtoMinor = ${spec.version.minor};`);
  const m = spec.framing.magic;
  const magicLe = (m[0]! | (m[1]! << 8) | (m[2]! << 16) | (m[3]! << 24)) >>> 0;
  L.push(`  // The magic's bytes in wire order, read as a little-endian 32-bit word.`);
  L.push(`  localparam logic [31:0] FrameMagic = ${svHex(32, magicLe)};`);
  L.push('  localparam int unsigned HeaderBytes = 24;', '  localparam int unsigned TrailerBytes = 4;');
  L.push(`  localparam int unsigned MaxPayload = ${spec.framing.max_payload};`);
  L.push(`  localparam logic [31:0] Crc32PolyReflected = ${svHex(32, spec.framing.crc.poly_reflected)};`);
  L.push(`  localparam logic [31:0] Crc32Check = ${svHex(32, spec.framing.crc.check)};`, '');

  L.push('  typedef enum logic [15:0] {');
  spec.messages.forEach((msg, i) => L.push(`    Msg${pascal(msg.name)} = ${svHex(16, msg.id)}${i + 1 < spec.messages.length ? ',' : ''}`));
  L.push('  } msg_id_e;', '');
  L.push('  typedef enum logic [15:0] {');
  spec.errors.forEach((e, i) => L.push(`    Err${pascal(e.name)} = ${svHex(16, e.code)}${i + 1 < spec.errors.length ? ',' : ''}`));
  L.push('  } err_code_e;', '');

  const mb = spec.pcie_mailbox;
  L.push('  // PCIe mailbox: register byte offsets from MboxUserOffset in the user BAR.');
  L.push(`  localparam logic [31:0] MboxUserOffset = ${svHex(32, mb.user_offset)};`);
  L.push(`  localparam logic [31:0] MboxMagic = ${svHex(32, mb.magic)};`);
  for (const r of mb.registers) L.push(`  localparam logic [15:0] Mbox${pascal(r.name)}Offset = ${svHex(16, r.offset)};  // written by the ${r.writer}`);
  L.push('', 'endpackage', '');
  return L.join('\n');
}
