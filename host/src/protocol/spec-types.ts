/**
 * The shape of the protocol description (hw/spec/protocol.json, schema
 * hw/spec/protocol.schema.json): what the generator reads and what the generated TypeScript
 * binding (gen/protocol.ts) exports as message descriptors for the codec.
 */

export type ScalarType = 'u8' | 'u16' | 'u32' | 'u64' | 'i32' | 'f32' | 'f64';
export type FieldType = ScalarType | 'bytes' | 'str' | 'blob' | 'u32[]' | 'f32[]';

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  /** bytes: the exact length. */
  readonly size?: number;
  /** str, blob: bytes; arrays: elements. */
  readonly max?: number;
  /** Name of an enum of the spec whose values the field holds. */
  readonly enum?: string;
}

export type MessageKind = 'request' | 'reply' | 'event';

export interface MessageSpec {
  readonly name: string;
  readonly id: number;
  readonly kind: MessageKind;
  /** Requests: the name of the reply that ends them (or ERROR). */
  readonly reply?: string;
  /** Requests allowed while another runs; they do not count against the window. */
  readonly control?: boolean;
  readonly fields: readonly FieldSpec[];
}

export interface ErrorSpec {
  readonly name: string;
  readonly code: number;
  readonly message: string;
  readonly fix: string;
}

/** Bytes of a scalar field on the wire. */
export const SCALAR_BYTES: Readonly<Record<ScalarType, number>> = { u8: 1, u16: 2, u32: 4, u64: 8, i32: 4, f32: 4, f64: 8 };

/** Largest encoded size of a field (its length prefix included). */
export function maxFieldBytes(f: FieldSpec): number {
  switch (f.type) {
    case 'bytes':
      return f.size!;
    case 'str':
      return 2 + f.max!;
    case 'blob':
      return 4 + f.max!;
    case 'u32[]':
    case 'f32[]':
      return 4 + 4 * f.max!;
    default:
      return SCALAR_BYTES[f.type];
  }
}
