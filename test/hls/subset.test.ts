/**
 * The synthesisable-subset check of hls/src (hls/tools/subset-check.sh: clang-query AST matchers
 * and clang-tidy's misc-no-recursion over the sources as Vitis sees them, __SYNTHESIS__ defined):
 * the real kernels pass; a planted `new`, a planted recursion (and the other forbidden constructs)
 * are each reported with their line; a source that does not parse is an error, not a pass.
 */
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './build.js';

const CHECK = path.join(ROOT, 'hls/tools/subset-check.sh');

function copyWith(file: string, text: string): string {
  const dir = tempDir('subset');
  fs.cpSync(path.join(ROOT, 'hls'), path.join(dir, 'hls'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'hls/src', file), text);
  return dir;
}

describe('hls/src stays in the synthesisable subset', () => {
  it('the kernels pass', async () => {
    const r = await execa(CHECK, [ROOT], { reject: false });
    expect(r.stderr + r.stdout).toMatch(/sources in the synthesisable subset/);
    expect(r.exitCode).toBe(0);
  });

  it('catches a planted new and a planted recursion, with file and line', async () => {
    const dir = copyWith(
      'planted.cpp',
      [
        '#include "tl_types.hpp"',
        'namespace tl {',
        'int *planted_alloc(unsigned n) { return new int[n]; }',
        'unsigned planted_recursion(unsigned n) { return n ? planted_recursion(n - 1) + 1 : 0; }',
        '}',
      ].join('\n'),
    );
    const r = await execa(CHECK, [dir], { reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/hls\/src\/planted\.cpp:3:\d+: dynamic allocation new/);
    expect(r.stdout).toMatch(/hls\/src\/planted\.cpp:4:\d+: recursion: function 'planted_recursion'/);
  });

  it('catches virtual calls, exceptions and standard containers', async () => {
    const dir = copyWith(
      'planted.cpp',
      [
        '#include <vector>',
        '#include "tl_types.hpp"',
        'namespace tl {',
        'struct planted_base { virtual int f() { return 1; } };',
        'int planted_virtual(planted_base &b) { return b.f(); }',
        'unsigned planted_vector() { std::vector<int> v(3); return v.size(); }',
        'int planted_throw(int x) { if (x) throw 1; return 0; }',
        '}',
      ].join('\n'),
    );
    const r = await execa(CHECK, [dir], { reject: false });
    expect(r.exitCode).toBe(1);
    for (const what of ['4:\\d+: virtual function', '5:\\d+: virtual call', '6:\\d+: std library type', '7:\\d+: exception throw']) {
      expect(r.stdout).toMatch(new RegExp(`planted\\.cpp:${what}`));
    }
  });

  it('a source that does not parse fails the check', async () => {
    const dir = copyWith('planted.cpp', 'int broken( {');
    const r = await execa(CHECK, [dir], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/could not parse/);
  });
});
