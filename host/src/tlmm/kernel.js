// The TLMM lookup kernel, in plain JavaScript so that worker threads can run the very same code
// as the main thread without a TypeScript loader. See tables.ts and docs/numerics.md §6.
//
// acc[accOff + r] = Σ_g tables[g*27 + indices[r*groups + g]]   for r in [r0, r1)

/**
 * @param {Uint8Array} indices  [rows][groups] 5-bit codes 0..26
 * @param {number} groups       groups per row
 * @param {Int32Array} tables   [groups][27] entries for one token
 * @param {Int32Array} acc      output accumulators
 * @param {number} accOff       where row 0's accumulator goes
 * @param {number} r0           first row
 * @param {number} r1           one past the last row
 */
export function lookupRowsKernel(indices, groups, tables, acc, accOff, r0, r1) {
  for (let r = r0; r < r1; r++) {
    let s = 0;
    let p = r * groups;
    const end = p + groups;
    let base = 0;
    while (p < end) {
      s += tables[base + indices[p]];
      p++;
      base += 27;
    }
    acc[accOff + r] = s;
  }
}
