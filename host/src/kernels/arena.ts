/**
 * A shared WebAssembly memory with a bump allocator. The golden model keeps its large arrays
 * (TLMM indices, the int8 LM head, tables, accumulators) here so that the WebAssembly kernels
 * and every worker thread see them without copies.
 */

import { TellmeError } from '../errors.js';

const PAGE = 65536;
/** wasm32 limit: 4 GiB. */
const MAX_PAGES = 65536;

export class Arena {
  readonly memory: WebAssembly.Memory;
  private top: number;

  constructor(initialBytes = 16 * PAGE) {
    this.memory = new WebAssembly.Memory({
      initial: Math.ceil(initialBytes / PAGE),
      maximum: MAX_PAGES,
      shared: true,
    });
    this.top = 1024; // keep address 0 unused so a zero offset is never a valid array
  }

  /** Reserve n bytes aligned to `align` (a power of two); returns the byte offset. */
  alloc(n: number, align = 16): number {
    const start = Math.ceil(this.top / align) * align;
    const end = start + n;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) {
        throw new TellmeError(
          'E_INTERNAL',
          `the golden model needs ${(end / 2 ** 30).toFixed(2)} GiB of kernel memory, over the 4 GiB WebAssembly limit`,
          'use a smaller model for the golden model, or run the image on the board',
        );
      }
      this.memory.grow(pages);
    }
    this.top = end;
    return start;
  }

  get bytesUsed(): number {
    return this.top;
  }

  /** Current buffer: shared memory never moves, but grown memory needs a fresh buffer object. */
  get buffer(): SharedArrayBuffer {
    return this.memory.buffer as unknown as SharedArrayBuffer;
  }

  u8(off: number, n: number): Uint8Array {
    return new Uint8Array(this.buffer, off, n);
  }
  i8(off: number, n: number): Int8Array {
    return new Int8Array(this.buffer, off, n);
  }
  i16(off: number, n: number): Int16Array {
    return new Int16Array(this.buffer, off, n);
  }
  i32(off: number, n: number): Int32Array {
    return new Int32Array(this.buffer, off, n);
  }
}
