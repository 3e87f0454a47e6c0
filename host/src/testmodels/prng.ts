/**
 * Deterministic randomness for test models: xoshiro128** seeded through splitmix32, integer
 * arithmetic only, so the same seed gives the same bytes on every platform and Node version
 * (no Math.random, no transcendental functions whose last bit could differ).
 */

/** splitmix32 step: a well-mixed 32-bit value from a 32-bit counter. */
function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a over a string's UTF-16 units: a per-tensor stream id. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** 1 / std of the sum of four independent uniform bytes (variance 4 * (256^2 - 1) / 12). */
const IRWIN_HALL_INV_STD = 1 / Math.sqrt((4 * (256 * 256 - 1)) / 12);

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** A generator for (seed, stream): tensors get their own stream so sharding cannot change them. */
  constructor(seed: number, stream = 0) {
    let x = (seed ^ Math.imul(stream, 0x9e3779b1)) >>> 0;
    this.a = x = splitmix32(x);
    this.b = x = splitmix32(x);
    this.c = x = splitmix32(x);
    this.d = splitmix32(x);
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  static forTensor(seed: number, name: string): Rng {
    return new Rng(seed, hashString(name));
  }

  /** The stream of one row of a tensor (random access to rows, e.g. to re-create them). */
  static forRow(seed: number, name: string, row: number): Rng {
    return new Rng(seed, (hashString(name) + Math.imul(row + 1, 0x632be5ab)) >>> 0);
  }

  /** xoshiro128**: uniform u32. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /**
   * A Gaussian-ish value with mean 0 and variance 1: the centred sum of four uniform bytes
   * (Irwin-Hall), bounded to about +-3.45. Good enough for weights, and exactly reproducible.
   */
  gaussianish(): number {
    const u = this.nextU32();
    const s = (u & 0xff) + ((u >>> 8) & 0xff) + ((u >>> 16) & 0xff) + (u >>> 24);
    return (s - 510) * IRWIN_HALL_INV_STD;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
