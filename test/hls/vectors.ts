/**
 * The vector files the HLS C-simulation drivers read (format in hls/csim/tl_vectors.hpp): named
 * little-endian tensors, written by the tests from the golden model's pieces.
 */
import * as fs from 'node:fs';

export type VectorDtype = 'u8' | 'i8' | 'u16' | 'i32' | 'u32' | 'f32' | 'u64';
const CODE: Record<VectorDtype, number> = { u8: 0, i8: 1, u16: 2, i32: 3, u32: 4, f32: 5, u64: 6 };

type Data = Uint8Array | Int8Array | Uint16Array | Int32Array | Uint32Array | Float32Array | BigUint64Array;

interface Entry {
  name: string;
  dtype: VectorDtype;
  dims: number[];
  data: Data;
}

export class VectorWriter {
  private entries: Entry[] = [];

  add(name: string, dtype: VectorDtype, data: Data, dims: number[] = [data.length]): this {
    if (name.length > 47) throw new Error(`vector name too long: ${name}`);
    if (dims.reduce((a, b) => a * b, 1) !== data.length) throw new Error(`${name}: dims ${dims} do not match ${data.length} elements`);
    this.entries.push({ name, dtype, dims, data });
    return this;
  }
  u32(name: string, v: number): this {
    return this.add(name, 'u32', Uint32Array.of(v));
  }
  f32(name: string, v: number): this {
    return this.add(name, 'f32', Float32Array.of(v));
  }

  write(file: string): string {
    const parts: Buffer[] = [];
    const head = Buffer.alloc(12);
    head.write('TLVF', 0, 'latin1');
    head.writeUInt32LE(1, 4);
    head.writeUInt32LE(this.entries.length, 8);
    parts.push(head);
    for (const e of this.entries) {
      const h = Buffer.alloc(48 + 4 * 6 + 8);
      h.write(e.name, 0, 'latin1');
      h.writeUInt32LE(CODE[e.dtype], 48);
      h.writeUInt32LE(e.dims.length, 52);
      e.dims.forEach((d, i) => h.writeUInt32LE(d, 56 + 4 * i));
      const bytes = Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength);
      h.writeBigUInt64LE(BigInt(bytes.length), 72);
      parts.push(h, bytes, Buffer.alloc((8 - (bytes.length % 8)) % 8));
    }
    fs.writeFileSync(file, Buffer.concat(parts));
    return file;
  }
}
