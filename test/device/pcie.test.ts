/**
 * The PCIe transport against the PCIe mailbox of a virtual board (files standing in for the
 * XDMA devices): handshake, an upload over the mailbox rings (the only way on PCIe), generation
 * equal to the golden model's, and a board that stops (MAGIC cleared) seen as a closed link.
 */
import { describe, expect, it } from 'vitest';
import { Board } from '../../host/src/device/board.js';
import { prepareModel } from '../../host/src/device/model.js';
import { SimStream } from '../../host/src/transport/sim.js';
import { PcieStream } from '../../host/src/transport/pcie.js';
import { goldenIds, testImage, tmpDir, vboardUnderTest, buildVboardFirst } from './helpers.js';

buildVboardFirst();

describe('PCIe transport (XDMA mailbox)', () => {
  it('uploads and generates through the rings, and refuses a directory without a mailbox', async () => {
    const img = await testImage('kv260', 48);
    const sim = await SimStream.start({ fidelity: 'csim', board: 'kv260', link: 'xdma', executable: vboardUnderTest(), stateDir: tmpDir('xdma') });
    const board = await Board.connect(sim);
    try {
      expect(board.description).toMatch(/pcie .*xdma0/);
      await prepareModel(board, img.image);
      const prompt = [3, 1, 4, 1, 5];
      const o = { temperature: 0, topK: 0, topP: 1, seed: 0, maxNewTokens: 6, stopIds: [] };
      const r = await board.generate(prompt, o);
      expect(r.ids).toEqual(await goldenIds(img.image, prompt, o));
    } finally {
      await board.close();
    }
    expect(() => PcieStream.open(`${tmpDir('none')}/xdma0`)).toThrow(/cannot open the XDMA devices/);
  });
});
