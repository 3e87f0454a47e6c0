import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// host/wasm/kernels.wasm is a generated file that is committed; it must be what kernels.c builds
// to. `make test` installs clang and lld, so a missing compiler is a failure here, not a skip.
describe('host/wasm/kernels.wasm', () => {
  it('is up to date with kernels.c (run `make wasm` to regenerate)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tellme-wasm-'));
    const out = join(dir, 'kernels.wasm');
    execFileSync('make', ['-s', '-B', 'host/wasm/kernels.wasm', `WASM_OUT=${out}`], { stdio: 'pipe' });
    expect(readFileSync(out).equals(readFileSync('host/wasm/kernels.wasm'))).toBe(true);
  });
});
