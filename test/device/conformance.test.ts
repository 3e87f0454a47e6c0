/**
 * Conformance of a virtual board against the golden model (what `tellme verify` runs on a board):
 * logits bit for bit on prefill and decode steps, and the board's own generation loop, over
 * several seeds; a planted one-bit change in one logit makes it fail and names that logit.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../host/src/paths.js';
import { Board } from '../../host/src/device/board.js';
import { checkBoardAgainstGolden } from '../../host/src/device/conformance.js';
import { prepareModel } from '../../host/src/device/model.js';
import { goldenModelFromImage } from '../../host/src/golden/weights-image.js';
import { openImage } from '../../host/src/image/reader.js';
import { SimStream } from '../../host/src/transport/sim.js';
import { testImage, vboardUnderTest } from './helpers.js';

async function run(args: string[], executable = vboardUnderTest()) {
  const img = await testImage('kv260', 48);
  const board = await Board.connect(await SimStream.start({ fidelity: 'csim', board: 'kv260', executable, args }));
  const golden = await goldenModelFromImage(openImage(img.image), { threads: 1 });
  try {
    await prepareModel(board, img.image);
    return await checkBoardAgainstGolden(board, golden, { target: 'sim-csim', seeds: 3, decodeSteps: 4 });
  } finally {
    await golden.close();
    await board.close();
  }
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
