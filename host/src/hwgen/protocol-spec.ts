/**
 * Reading hw/spec/protocol.json: JSON Schema first (hw/spec/protocol.schema.json), then the
 * rules a schema cannot say — unique names, ids and codes; replies that exist and are replies;
 * enums that exist; the frame header laid out as host/src/protocol/frame.ts implements it;
 * every message's largest encoding within max_payload; examples that fill every field.
 * Every emitter works from the checked ProtocolSpec, so none needs special cases.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TellmeError } from '../errors.js';
import { describeSchemaError, schemaValidator } from '../json-schema.js';
import { projectRoot } from '../paths.js';
import { HEADER_LAYOUT } from '../protocol/frame.js';
import { maxFieldBytes, type ErrorSpec, type FieldSpec, type MessageSpec } from '../protocol/spec-types.js';

export interface DocField extends FieldSpec {
  readonly doc: string;
}
export interface DocMessage extends MessageSpec {
  readonly doc: string;
  readonly fields: readonly DocField[];
  readonly example: Readonly<Record<string, unknown>>;
}
export interface EnumSpec {
  readonly name: string;
  readonly doc: string;
  readonly values: readonly { name: string; value: number; doc: string }[];
}
export interface MailboxRegister {
  readonly name: string;
  readonly offset: number;
  readonly writer: 'host' | 'board';
  readonly doc: string;
}

export interface ProtocolSpec {
  readonly name: string;
  readonly description: string;
  readonly version: { major: number; minor: number };
  readonly framing: {
    magic: number[];
    header: { name: string; type: string; size?: number; doc: string }[];
    trailer: { name: string; type: string; doc: string }[];
    crc: { name: string; poly_reflected: number; init: number; xorout: number; check: number };
    max_payload: number;
    min_max_payload: number;
    interbyte_timeout_ms: number;
    default_window: number;
  };
  readonly links: { serial_baud: number; tcp_port: number; reply_timeout_ms: number };
  readonly enums: readonly EnumSpec[];
  readonly errors: readonly (ErrorSpec & { message: string })[];
  readonly messages: readonly DocMessage[];
  readonly pcie_mailbox: {
    doc: string;
    user_offset: number;
    h2c_channel: number;
    c2h_channel: number;
    magic: number;
    registers: readonly MailboxRegister[];
  };
}

export function protocolSpecPath(): string {
  return path.join(projectRoot(), 'hw', 'spec', 'protocol.json');
}

export function protocolSchemaPath(): string {
  return path.join(projectRoot(), 'hw', 'spec', 'protocol.schema.json');
}

/** Repository-relative form of a path, for banners and messages. */
export function repoRelative(p: string): string {
  return path.relative(projectRoot(), p).split(path.sep).join('/');
}

function bad(file: string, problems: string[]): never {
  throw new TellmeError(
    'E_HWCONFIG',
    `${file}: invalid protocol description:\n  ${problems.join('\n  ')}`,
    'fix the fields above; the format is hw/spec/protocol.schema.json and docs/protocol.md',
  );
}

/** Parse "hex:0a0b" example values of bytes/blob fields. */
export function exampleBytes(v: unknown): Uint8Array | null {
  if (typeof v !== 'string' || !v.startsWith('hex:')) return null;
  const h = v.slice(4);
  if (!/^([0-9a-f]{2})*$/.test(h)) return null;
  return Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
}

function checkExample(m: DocMessage, problems: string[]): void {
  const where = `messages.${m.name}.example`;
  for (const k of Object.keys(m.example)) {
    if (!m.fields.some((f) => f.name === k)) problems.push(`${where}: unknown field "${k}"`);
  }
  for (const f of m.fields) {
    const v = m.example[f.name];
    if (v === undefined) {
      problems.push(`${where}: missing field "${f.name}"`);
      continue;
    }
    const isArr = Array.isArray(v) && v.every((x) => typeof x === 'number');
    const ok =
      f.type === 'bytes'
        ? exampleBytes(v)?.length === f.size
        : f.type === 'blob'
          ? (exampleBytes(v)?.length ?? Infinity) <= f.max!
          : f.type === 'str'
            ? typeof v === 'string' && Buffer.byteLength(v) <= f.max!
            : f.type === 'u32[]' || f.type === 'f32[]'
              ? isArr && (v as number[]).length <= f.max!
              : typeof v === 'number';
    if (!ok) problems.push(`${where}.${f.name}: ${JSON.stringify(v)} is not a valid ${f.type}${f.size ? ` of ${f.size} bytes` : ''}`);
  }
}

/** The cross-field rules; returns the problems (empty when the spec is consistent). */
export function protocolProblems(spec: ProtocolSpec): string[] {
  const problems: string[] = [];
  const dup = (what: string, keys: (string | number)[]) => {
    const seen = new Set<string | number>();
    for (const k of keys) {
      if (seen.has(k)) problems.push(`${what}: ${k} appears twice`);
      seen.add(k);
    }
  };
  dup('messages: name', spec.messages.map((m) => m.name));
  dup('messages: id', spec.messages.map((m) => m.id));
  dup('errors: name', spec.errors.map((e) => e.name));
  dup('errors: code', spec.errors.map((e) => e.code));
  dup('enums: name', spec.enums.map((e) => e.name));
  for (const e of spec.enums) dup(`enums.${e.name}: value`, e.values.map((v) => v.value));
  dup('pcie_mailbox.registers: name', spec.pcie_mailbox.registers.map((r) => r.name));
  dup('pcie_mailbox.registers: offset', spec.pcie_mailbox.registers.map((r) => r.offset));

  const byName = new Map(spec.messages.map((m) => [m.name, m]));
  const enums = new Set(spec.enums.map((e) => e.name));
  for (const m of spec.messages) {
    dup(`messages.${m.name}.fields: name`, m.fields.map((f) => f.name));
    if ((m.kind === 'request') !== (m.reply !== undefined)) problems.push(`messages.${m.name}: requests, and only requests, name a reply`);
    if (m.control && m.kind !== 'request') problems.push(`messages.${m.name}.control: only requests are control requests`);
    if (m.kind === 'request') {
      const r = byName.get(m.reply!);
      if (!r || r.kind !== 'reply') problems.push(`messages.${m.name}.reply: "${m.reply}" is not a reply message`);
    }
    for (const f of m.fields) {
      const where = `messages.${m.name}.fields.${f.name}`;
      const sized = f.type === 'bytes';
      const bounded = f.type === 'str' || f.type === 'blob' || f.type === 'u32[]' || f.type === 'f32[]';
      if (sized !== (f.size !== undefined)) problems.push(`${where}: "size" goes with (and only with) type bytes`);
      if (bounded !== (f.max !== undefined)) problems.push(`${where}: "max" goes with (and only with) str, blob and arrays`);
      if (f.enum !== undefined && !['u8', 'u16', 'u32'].includes(f.type)) problems.push(`${where}: an enum field must be u8, u16 or u32`);
      if (f.enum !== undefined && !enums.has(f.enum)) problems.push(`messages.${m.name}.fields.${f.name}.enum: no enum "${f.enum}"`);
    }
    const largest = m.fields.reduce((n, f) => n + maxFieldBytes(f), 0);
    if (largest > spec.framing.max_payload) {
      problems.push(`messages.${m.name}: its largest payload (${largest} bytes) exceeds framing.max_payload (${spec.framing.max_payload})`);
    }
    checkExample(m, problems);
  }
  const err = byName.get('ERROR');
  if (!err || err.kind !== 'reply') problems.push('messages: an ERROR reply is required');
  if (!byName.get('HELLO')) problems.push('messages: a HELLO request is required');

  // The header the code implements (frame.ts HEADER_LAYOUT).
  let off = 0;
  const layout = spec.framing.header.map((h) => {
    const size = h.type === 'bytes' ? h.size ?? 0 : h.type === 'u16' ? 2 : 4;
    const at = off;
    off += size;
    return [h.name, at, size] as const;
  });
  if (JSON.stringify(layout) !== JSON.stringify(HEADER_LAYOUT)) {
    problems.push(`framing.header: must be ${HEADER_LAYOUT.map(([n, o, s]) => `${n}@${o}/${s}`).join(', ')} (host/src/protocol/frame.ts)`);
  }
  if (spec.framing.min_max_payload > spec.framing.max_payload) problems.push('framing.min_max_payload: larger than max_payload');
  const mb = spec.pcie_mailbox;
  if (mb.user_offset % 4096 !== 0) problems.push('pcie_mailbox.user_offset: must be a multiple of 4096');
  return problems;
}

/** Load and check the protocol description (default: hw/spec/protocol.json). */
export function loadProtocolSpec(file = protocolSpecPath()): ProtocolSpec {
  let obj: unknown;
  try {
    obj = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TellmeError('E_HWCONFIG', `${file}: cannot read the protocol description: ${(e as Error).message}`, 'restore hw/spec/protocol.json from git');
  }
  return protocolSpecFromObject(obj, file);
}

export function protocolSpecFromObject(obj: unknown, file = '<object>'): ProtocolSpec {
  const validate = schemaValidator(protocolSchemaPath());
  if (!validate(obj)) bad(file, (validate.errors ?? []).map(describeSchemaError));
  const spec = obj as ProtocolSpec;
  const problems = protocolProblems(spec);
  if (problems.length > 0) bad(file, problems);
  return spec;
}
