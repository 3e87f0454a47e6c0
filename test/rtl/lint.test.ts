/**
 * hw/rtl is `verilator --lint-only -Wall` clean for every board (the whole engine where hw/rtl builds
 * it, the core elsewhere; waivers in hw/lint/*.vlt, each with its reason), and a parameter outside
 * what a module supports stops elaboration with a message naming the module.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

describe('hw/rtl lint and parameter checks', () => {
  it('make rtl-lint is clean', async () => {
    const r = await execa('make', ['-s', 'rtl-lint'], { reject: false, all: true, timeout: 600_000 });
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain('rtl-lint: clean');
  }, 600_000);

  it('an odd Q, a too-narrow accumulator and a paper-beat engine are refused at elaboration', async () => {
    const lint = (top: string, pkg: string, ...g: string[]) =>
      execa('bash', ['-c', `verilator --lint-only -Wall --top-module ${top} ${g.join(' ')} hw/lint/*.vlt hw/gen/${pkg}/tellme_hw_pkg.sv hw/rtl/*.sv`], { reject: false, all: true });
    const odd = await lint('tlmm_core', 'kv260', '-GVectors=15', '-GMaxRows=8640');
    expect(odd.exitCode).not.toBe(0);
    expect(odd.all).toContain('tlmm_core: Vectors (Q) = 15 must be even');
    const narrow = await lint('tlmm_core', 'kv260', '-GAccBits=14');
    expect(narrow.exitCode).not.toBe(0);
    expect(narrow.all).toContain('tlmm_core: PsumBits = 15 / AccBits = 14 too narrow');
    const paper = await lint('tlmm_engine', 'kv260-paper');
    expect(paper.exitCode).not.toBe(0);
    expect(paper.all).toContain('tlmm_engine: build kv260-paper has no RTL weight loader');
    expect((await lint('tlmm_core_build', 'kv260-paper')).exitCode).toBe(0);
  }, 300_000);
});
