export declare function lookupRowsKernel(
  indices: Uint8Array,
  groups: number,
  tables: Int32Array,
  acc: Int32Array,
  accOff: number,
  r0: number,
  r1: number,
): void;
