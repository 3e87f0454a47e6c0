/**
 * Conformance of a virtual board against the golden model (what `tellme verify` runs on a board):
 * logits bit for bit on prefill and decode steps, and the board's own generation loop, over
 * several seeds; a planted one-bit change in one logit makes it fail and names that logit.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../host/src/paths.js';
import { verifyOnTarget } from '../../host/src/device/verify.js';
import { testImage, vboardUnderTest } from './helpers.js';

async function run(args: string[], executable = vboardUnderTest()) {
  const img = await testImage('kv260', 48);
  return verifyOnTarget('sim-csim', { kind: 'sim', fidelity: 'csim', board: 'kv260', executable, args }, { model: img.image, seeds: 3, decodeSteps: 4 });
}

describe('board conformance', () => {
  it('passes on 3 seeds: logits bit for bit, greedy and sampled generations', async () => {
    const r = await run([]);
    expect(r).toMatchObject({ target: 'sim-csim', mismatches: 0, pass: true });
    expect(r.cases).toBe(3 * (1 + 4 + 2));
  });

  it('a planted one-bit change in one logit fails it and is named', async () => {
    // The checker is under test here, so the board with the planted fault is the reference board.
    const r = await run(['--flip-logit', '3'], path.join(projectRoot(), 'test', 'helpers', 'ts-vboard.sh'));
    expect(r.pass).toBe(false);
    expect(r.mismatches).toBe(3 * 5);
    expect(r.first_mismatch).toMatch(/^seed 0, prefill of \d+ tokens, last position, logit of token 3: board 0x[0-9a-f]{8} .* golden 0x/);
  });
});
