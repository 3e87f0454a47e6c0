/**
 * The accelerator's register map (hw/spec/registers.json, schema hw/spec/registers.schema.json):
 * loading, validation and the address layout every binding is emitted from (registers-emit.ts).
 *
 * The schema checks the shape; the rules here check the address space the way Vitis HLS lays it
 * out in the Vivado IP flow: a scalar argument occupies its data words plus one control word
 * (reserved even for ap_none; ap_vld for outputs), an m_axi base pointer 64 bits plus one control
 * word, an s_axilite array exactly its elements at a multiple of its power-of-two size; nothing
 * below bus.first_argument_offset but the block-protocol registers; no two ranges overlap.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TellmeError } from '../errors.js';
import { describeSchemaError, schemaValidator } from '../json-schema.js';
import { projectRoot } from '../paths.js';

export type RegisterKind = 'block' | 'in' | 'out' | 'array' | 'pointer';
export type RegisterType = 'uint' | 'f32' | 'enum' | 'flags' | 'addr' | 'hash';
export type FieldAccess = 'rw' | 'ro' | 'cor' | 'toggle' | 'sc';

export interface RegisterField {
  name: string;
  bit: number;
  width?: number;
  access?: FieldAccess;
  description: string;
}

export interface RegisterSpec {
  name: string;
  offset: string;
  kind: RegisterKind;
  bits?: 32 | 64;
  count?: number;
  type?: RegisterType;
  enum?: string;
  bundle?: string;
  fields?: RegisterField[];
  description: string;
}

export interface EnumSpec {
  description: string;
  values: { name: string; value: number; description: string }[];
}

export interface RegisterMapFile {
  format: 'tellme-registers';
  format_version: 1;
  name: string;
  description: string;
  version: number;
  bus: { interface: 's_axilite'; bundle: string; data_bits: 32; address_bits: number; first_argument_offset: string };
  enums: Record<string, EnumSpec>;
  registers: RegisterSpec[];
  notes?: string[];
}

/** One addressable register after expansion of repeated pointers (ddr_w -> ddr_w0 .. ddr_w31). */
export interface PlacedRegister {
  name: string;
  /** The entry it comes from (same as name unless repeated). */
  group: string;
  /** Index within a repeated pointer group, else null. */
  index: number | null;
  kind: RegisterKind;
  offset: number;
  bits: 32 | 64;
  type: RegisterType;
  /** Elements (arrays), else 1. */
  count: number;
  /** Bytes the register reserves in the address space (data, control word, array block). */
  span: number;
  enum: string | null;
  bundle: string | null;
  fields: Required<RegisterField>[];
  description: string;
}

export interface RegisterMap {
  file: string;
  spec: RegisterMapFile;
  registers: PlacedRegister[];
  /** Byte size of the address space (2^address_bits). */
  size: number;
}

/** Pitch of repeated pointer registers: 64 data bits + the control word, rounded to 16 bytes. */
export const POINTER_PITCH = 16;

export function registersPath(): string {
  return path.join(projectRoot(), 'hw', 'spec', 'registers.json');
}

function schemaFile(): string {
  return path.join(projectRoot(), 'hw', 'spec', 'registers.schema.json');
}

function fail(file: string, msg: string): never {
  throw new TellmeError('E_HWCONFIG', `${file}: ${msg}`, 'Fix hw/spec/registers.json (format: hw/spec/registers.schema.json, rules: docs/registers.md §1), then run `make hwgen`.');
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Bytes a register reserves at its offset. */
function spanOf(r: RegisterSpec): number {
  const words = (r.bits ?? 32) / 32;
  switch (r.kind) {
    case 'block':
      return 4;
    case 'array':
      return 4 * words * (r.count ?? 1);
    case 'in':
    case 'out':
    case 'pointer':
      return 4 * (words + 1);
  }
}

/** Validate a parsed register map; returns it laid out. Every error names the register and the rule. */
export function registerMapFromObject(obj: unknown, file = '<object>'): RegisterMap {
  const validate = schemaValidator(schemaFile());
  if (!validate(obj)) {
    const errs = (validate.errors ?? []).map(describeSchemaError);
    fail(file, `invalid register map:\n  ${errs.join('\n  ')}`);
  }
  const spec = obj as RegisterMapFile;
  const size = 2 ** spec.bus.address_bits;
  const firstArg = parseInt(spec.bus.first_argument_offset, 16);
  const placed: PlacedRegister[] = [];
  const names = new Set<string>();
  for (const enumName of Object.keys(spec.enums)) {
    const seen = new Set<string>();
    const values = new Set<number>();
    for (const v of spec.enums[enumName]!.values) {
      if (seen.has(v.name)) fail(file, `enum ${enumName}: value name ${v.name} appears twice`);
      if (values.has(v.value)) fail(file, `enum ${enumName}: value ${v.value} appears twice`);
      seen.add(v.name);
      values.add(v.value);
    }
  }
  for (const r of spec.registers) {
    const where = `register ${r.name}`;
    const offset = parseInt(r.offset, 16);
    const bits = r.bits ?? 32;
    const type = r.type ?? 'uint';
    if (offset % 4 !== 0) fail(file, `${where}: offset ${r.offset} is not a multiple of 4`);
    if (r.kind === 'block' ? offset >= firstArg : offset < firstArg) {
      fail(file, `${where}: offset ${r.offset} is ${r.kind === 'block' ? 'not below' : 'below'} bus.first_argument_offset ${spec.bus.first_argument_offset} (${r.kind === 'block' ? 'block-protocol registers only there' : 'reserved for the block protocol'})`);
    }
    if (r.kind === 'array' && r.count === undefined) fail(file, `${where}: an array gives its element count`);
    if (r.count !== undefined && r.kind !== 'array' && r.kind !== 'pointer') fail(file, `${where}: count is for arrays and repeated pointers only`);
    if (r.kind === 'pointer' && bits !== 64) fail(file, `${where}: an m_axi base pointer is 64 bits`);
    if (r.kind === 'pointer' && !r.bundle) fail(file, `${where}: a pointer names the m_axi bundle it serves`);
    if (r.kind !== 'pointer' && r.bundle) fail(file, `${where}: only pointers name a bundle`);
    if (r.kind === 'array' && bits !== 32) fail(file, `${where}: array elements are 32-bit words`);
    if (r.kind === 'array') {
      const block = nextPow2(spanOf(r));
      if (offset % block !== 0) fail(file, `${where}: an s_axilite array of ${spanOf(r)} bytes must start at a multiple of ${block} (its power-of-two size), not ${r.offset}`);
    }
    if ((type === 'enum') !== (r.enum !== undefined)) fail(file, `${where}: type "enum" and an enum name go together`);
    if (r.enum !== undefined && !spec.enums[r.enum]) fail(file, `${where}: unknown enum "${r.enum}" (known: ${Object.keys(spec.enums).join(', ')})`);
    if (r.fields && !(type === 'flags' || r.kind === 'block')) fail(file, `${where}: only flag and block registers have fields`);
    if ((type === 'flags' || r.kind === 'block') && !r.fields?.length) fail(file, `${where}: a flag or block register lists its fields`);
    const fields = (r.fields ?? []).map((f) => ({ width: 1, access: 'rw' as FieldAccess, ...f }));
    let used = 0;
    for (const f of fields) {
      if (f.bit + f.width > 32) fail(file, `${where}: field ${f.name} (bits ${f.bit}..${f.bit + f.width - 1}) does not fit 32 bits`);
      const m = (f.width === 32 ? 0xffffffff : ((1 << f.width) - 1) << f.bit) >>> 0;
      if ((used & m) !== 0) fail(file, `${where}: field ${f.name} overlaps another field`);
      used = (used | m) >>> 0;
    }
    const repeat = r.kind === 'pointer' ? r.count ?? 1 : 1;
    for (let i = 0; i < repeat; i++) {
      const name = r.kind === 'pointer' && r.count !== undefined ? `${r.name}${i}` : r.name;
      if (names.has(name)) fail(file, `${where}: the name ${name} appears twice`);
      names.add(name);
      placed.push({
        name,
        group: r.name,
        index: r.kind === 'pointer' && r.count !== undefined ? i : null,
        kind: r.kind,
        offset: offset + i * POINTER_PITCH,
        bits,
        type,
        count: r.kind === 'array' ? r.count! : 1,
        span: spanOf(r),
        enum: r.enum ?? null,
        bundle: r.bundle ? (r.count !== undefined ? `${r.bundle}${i}` : r.bundle) : null,
        fields,
        description: r.description,
      });
    }
  }
  const sorted = [...placed].sort((a, b) => a.offset - b.offset);
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i]!;
    if (r.offset + r.span > size) fail(file, `register ${r.name}: [${hex(r.offset)}, ${hex(r.offset + r.span)}) runs past the ${size}-byte address space (bus.address_bits ${spec.bus.address_bits})`);
    const next = sorted[i + 1];
    if (next && r.offset + r.span > next.offset) {
      fail(file, `register ${r.name} reserves [${hex(r.offset)}, ${hex(r.offset + r.span)}) (data words plus the control word Vitis adds), which overlaps ${next.name} at ${hex(next.offset)}`);
    }
  }
  return { file, spec, registers: placed, size };
}

export function loadRegisterMap(file = registersPath()): RegisterMap {
  let obj: unknown;
  try {
    obj = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    fail(file, `cannot read the register map: ${(e as Error).message}`);
  }
  return registerMapFromObject(obj, file);
}

export function hex(n: number, digits = 3): string {
  return `0x${n.toString(16).padStart(digits, '0')}`;
}
