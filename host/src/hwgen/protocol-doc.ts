/**
 * The generated part of docs/protocol.md: the header, error, enum, message and mailbox tables,
 * and a byte-level example of every message, encoded by the host's codec and framer from the
 * spec's example values. The prose around it is written by hand; the generator replaces only
 * what lies between the markers, so the examples cannot go stale (the staleness test).
 */

import { encodePayload, type FieldValue } from '../protocol/codec.js';
import { encodeFrame } from '../protocol/frame.js';
import { exampleBytes, type DocMessage, type ProtocolSpec } from './protocol-spec.js';

export const PROTOCOL_DOC_OUT = 'docs/protocol.md';
export const DOC_BEGIN = '<!-- BEGIN GENERATED';
export const DOC_END = '<!-- END GENERATED -->';

const hex = (n: number, w: number) => '0x' + n.toString(16).toUpperCase().padStart(w, '0');
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Example field values in codec form ("hex:…" to bytes, f32 arrays to Float32Array). */
export function exampleFields(m: DocMessage): Record<string, FieldValue> {
  const out: Record<string, FieldValue> = {};
  for (const f of m.fields) {
    const v = m.example[f.name];
    if (f.type === 'bytes' || f.type === 'blob') out[f.name] = exampleBytes(v)!;
    else if (f.type === 'f32[]') out[f.name] = Float32Array.from(v as number[]);
    else out[f.name] = v as FieldValue;
  }
  return out;
}

/** The example request id and sequence number every example frame uses. */
export const EXAMPLE_REQUEST_ID = 7;
export const EXAMPLE_SEQ = 3;

export function exampleFrame(spec: ProtocolSpec, m: DocMessage): Uint8Array {
  const fmt = { magic: spec.framing.magic, major: spec.version.major, maxPayload: spec.framing.max_payload };
  return encodeFrame({ type: m.id, seq: EXAMPLE_SEQ, requestId: EXAMPLE_REQUEST_ID, payload: encodePayload(m, exampleFields(m)) }, fmt);
}

function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = Array.from(bytes.subarray(i, i + 16), (b) => b.toString(16).padStart(2, '0')).join(' ');
    lines.push(`${i.toString(16).padStart(4, '0')}  ${row}`);
  }
  return lines.join('\n');
}

function typeText(f: DocMessage['fields'][number]): string {
  if (f.type === 'bytes') return `bytes[${f.size}]`;
  if (f.max !== undefined) return `${f.type} (max ${f.max})`;
  return f.enum ? `${f.type} (${f.enum})` : f.type;
}

export function emitProtocolDocTables(spec: ProtocolSpec): string {
  const L: string[] = [];
  L.push('### Frame header', '', '| offset | field | type | meaning |', '|---|---|---|---|');
  let off = 0;
  for (const h of spec.framing.header) {
    const size = h.type === 'bytes' ? h.size! : h.type === 'u16' ? 2 : 4;
    L.push(`| ${off} | \`${h.name}\` | ${h.type === 'bytes' ? `bytes[${size}]` : h.type} | ${cell(h.doc)} |`);
    off += size;
  }
  for (const t of spec.framing.trailer) L.push(`| 24 + length | \`${t.name}\` | ${t.type} | ${cell(t.doc)} |`);
  const fr = spec.framing;
  L.push('', `Protocol version ${spec.version.major}.${spec.version.minor}; max_payload ${fr.max_payload} bytes (a board may announce less, never below ${fr.min_max_payload}); inter-byte timeout ${fr.interbyte_timeout_ms} ms; window before HELLO ${fr.default_window}; CRC ${fr.crc.name}, check value ${hex(fr.crc.check, 8)}; serial ${spec.links.serial_baud} baud 8N1; TCP port ${spec.links.tcp_port}; the host's default reply timeout ${spec.links.reply_timeout_ms} ms.`, '');

  L.push('### Error codes', '', '| code | name | meaning | what to do |', '|---|---|---|---|');
  for (const e of spec.errors) L.push(`| ${e.code} | \`${e.name}\` | ${cell(e.message)} | ${cell(e.fix)} |`);
  L.push('');
  L.push('### Enumerations', '');
  for (const e of spec.enums) {
    L.push(`\`${e.name}\`: ${e.doc}`, '', '| value | name | meaning |', '|---|---|---|');
    for (const v of e.values) L.push(`| ${v.value} | \`${v.name}\` | ${cell(v.doc)} |`);
    L.push('');
  }

  L.push('### Messages', '', '| id | name | kind | reply |', '|---|---|---|---|');
  for (const m of spec.messages) L.push(`| ${hex(m.id, 4)} | [\`${m.name}\`](#${m.name.toLowerCase()}) | ${m.kind}${m.control ? ' (control)' : ''} | ${m.reply ?? ''} |`);
  L.push('');
  for (const m of spec.messages) {
    L.push(`#### ${m.name}`, '');
    L.push(`${hex(m.id, 4)}, ${m.kind}${m.reply ? `, answered by ${m.reply} or ERROR` : ''}${m.control ? '; control (allowed while a request runs, outside the window)' : ''}. ${m.doc}`, '');
    if (m.fields.length > 0) {
      L.push('| field | type | meaning |', '|---|---|---|');
      for (const f of m.fields) L.push(`| \`${f.name}\` | ${typeText(f)} | ${cell(f.doc)} |`);
    } else {
      L.push('No fields (an empty payload).');
    }
    L.push('', `Example (seq ${EXAMPLE_SEQ}, request_id ${EXAMPLE_REQUEST_ID}): \`${JSON.stringify(m.example)}\``, '', '```', hexDump(exampleFrame(spec, m)), '```', '');
  }

  const mb = spec.pcie_mailbox;
  L.push('### PCIe mailbox registers', '', `In the user BAR at ${hex(mb.user_offset, 5)} + offset; H2C channel ${mb.h2c_channel}, C2H channel ${mb.c2h_channel}; MAGIC = ${hex(mb.magic, 8)}.`, '');
  L.push('| offset | register | written by | meaning |', '|---|---|---|---|');
  for (const r of mb.registers) L.push(`| ${hex(r.offset, 2)} | \`${r.name}\` | ${r.writer} | ${cell(r.doc)} |`);
  return L.join('\n');
}

/** docs/protocol.md with its generated part replaced. */
export function spliceDoc(doc: string, tables: string, banner: string): string {
  const b = doc.indexOf(DOC_BEGIN);
  const e = doc.indexOf(DOC_END);
  if (b < 0 || e < b) throw new Error(`${PROTOCOL_DOC_OUT}: the markers "${DOC_BEGIN}" … "${DOC_END}" are missing`);
  return `${doc.slice(0, b)}${DOC_BEGIN}: ${banner} -->\n\n${tables}\n\n${doc.slice(e)}`;
}
