/**
 * Conformance of a virtual board against the golden model (what `tellme verify` runs on a board):
 * logits bit for bit on prefill and decode steps, and the board's own generation loop, over
 * several seeds; a planted one-bit change in one logit makes it fail and names that logit.
 */
import { describe, expect, it } from 'vitest';
import { runVerify } from '../../host/src/cli/commands/verify.js';
import { verifyOnTarget } from '../../host/src/device/verify.js';
import { testImage, vboardUnderTest, buildVboardFirst } from './helpers.js';

buildVboardFirst();

async function run(args: string[]) {
  const executable = vboardUnderTest();
  const img = await testImage('kv260', 48);
  return verifyOnTarget('sim-csim', { kind: 'sim', fidelity: 'csim', board: 'kv260', executable, args }, { model: img.image, seeds: 3, decodeSteps: 8 });
}

describe('board conformance', () => {
  it('passes on 3 seeds: logits bit for bit, greedy and sampled generations', async () => {
    const r = await run([]);
    expect(r).toMatchObject({ target: 'sim-csim', mismatches: 0, pass: true });
    // Per seed: prefill, 8 decode steps, VERIFY of prompt + 8 tokens (prompts of 2, 9, 3: seed 1's 17
    // tokens take two VERIFY passes, 16 + 1), 2 generations.
    expect(r.cases).toBe(3 * (1 + 8 + 2) + (2 + 8) + (9 + 8) + (3 + 8));
  });

  it('a planted one-bit change in one logit fails it and is named', async () => {
    // The checker is under test here: the virtual board flips bit 0 of token 3's logit in its LOGITS events.
    const r = await run(['--flip-logit', '3']);
    expect(r.pass).toBe(false);
    expect(r.mismatches).toBe(3 * 9 + 38); // every LOGITS event: prefill, decode steps, VERIFY positions
    expect(r.first_mismatch).toMatch(/^seed 0, prefill of \d+ tokens, last position, logit of token 3: board 0x[0-9a-f]{8} .* golden 0x/);
  });

  it('is `tellme verify --target sim-csim` (the JSON contract) and --target device needs a link', async () => {
    const img = await testImage('kv260', 48);
    const out: string[] = [];
    const prev = process.env.TELLME_VBOARD;
    process.env.TELLME_VBOARD = vboardUnderTest();
    try {
      await runVerify({ target: 'sim-csim', model: img.image, seeds: 1, json: true }, (s) => out.push(s));
    } finally {
      if (prev === undefined) delete process.env.TELLME_VBOARD;
      else process.env.TELLME_VBOARD = prev;
    }
    expect(JSON.parse(out.join(''))).toMatchObject({ target: 'sim-csim', cases: 1 + 8 + (2 + 8) + 2, mismatches: 0, pass: true });
    await expect(runVerify({ target: 'device', model: img.image })).rejects.toThrow(/which board\?/);
    await expect(runVerify({ target: 'sim-csim', model: img.image, tcp: '127.0.0.1:1' })).rejects.toThrow(/starts its own virtual board/);
  });
});
