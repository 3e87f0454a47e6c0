/**
 * The virtual board (C firmware + simulated accelerator, csim) generates exactly the golden
 * model's tokens on both model families — BitNet b1.58 2B-4T style (packed weights, ReLU²) and
 * 1bitLLM style (master weights, SiLU) — and on the bundled demo model, greedy and with seeded
 * sampling; images loaded by path, one board for all of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as path from 'node:path';
import { openCheckpoint } from '../../host/src/checkpoint/open.js';
import { Board } from '../../host/src/device/board.js';
import { prepareModel } from '../../host/src/device/model.js';
import { loadHwConfig } from '../../host/src/hwconfig/index.js';
import { convertCheckpoint } from '../../host/src/image/writer.js';
import { projectRoot } from '../../host/src/paths.js';
import { writeTestModel } from '../../host/src/testmodels/index.js';
import type { TestModelPresetName } from '../../host/src/testmodels/options.js';
import { SimStream } from '../../host/src/transport/sim.js';
import { goldenIds, tmpDir, vboardUnderTest, buildVboardFirst } from './helpers.js';
import { goldenModelFromImage } from '../../host/src/golden/weights-image.js';
import { goldenSession } from '../../host/src/golden/session.js';
import { openImage } from '../../host/src/image/reader.js';
import { generate } from '../../host/src/runtime/generate.js';

buildVboardFirst();

let board: Board;
let demoImage: Promise<string> | null = null;
beforeAll(async () => {
  const sim = await SimStream.start({ fidelity: 'csim', board: 'kv260', executable: vboardUnderTest() });
  board = await Board.connect(sim, 'tellme test');
}, 300_000);
afterAll(async () => {
  await board?.close();
});

/** The demo model's image (converted once per file). */
function demo(): Promise<string> {
  demoImage ??= imageOf(path.join(projectRoot(), 'models', 'tellme-shakespeare-6l'), 'demo');
  return demoImage;
}

async function imageOf(checkpoint: string, name: string): Promise<string> {
  const image = path.join(tmpDir('family'), `${name}.kv260.tlm`);
  await convertCheckpoint(openCheckpoint(checkpoint), image, { hw: loadHwConfig('kv260'), context: 96, force: true });
  return image;
}

async function presetImage(preset: TestModelPresetName): Promise<string> {
  const dir = tmpDir(preset);
  writeTestModel(dir, { preset });
  return imageOf(dir, preset);
}

const samplings = [
  { temperature: 0, topK: 0, topP: 1, seed: 0 },
  { temperature: 0.9, topK: 0, topP: 0.95, seed: 11 },
];

async function expectGolden(image: string, prompt: number[], tokens: number, on = board): Promise<void> {
  await prepareModel(on, image, { imageOnBoard: image });
  for (const s of samplings) {
    await on.resetSession();
    const r = await on.generate(prompt, { ...s, maxNewTokens: tokens, stopIds: [] });
    expect(r.ids).toEqual(await goldenIds(image, prompt, { ...s, maxNewTokens: tokens, stopIds: [] }));
    expect(r.ids.length).toBe(tokens);
  }
}

describe('generation on the virtual board equals the golden model', () => {
  it('on the BitNet b1.58 2B-4T family (packed weights, ReLU²)', async () => {
    await expectGolden(await presetImage('bitnet-tiny-packed'), [1, 7, 3, 99, 42, 5], 16);
  });

  it('on the 1bitLLM family (master weights, SiLU)', async () => {
    await expectGolden(await presetImage('1bitllm-tiny'), [2, 8, 30, 4], 16);
  });

  it('on the demo model (models/tellme-shakespeare-6l)', async () => {
    await expectGolden(await demo(), [1, 20, 31, 40, 50, 3, 9], 24);
  });
});

describe('multi-token verification on the board (GENERATE with draft_tokens)', () => {
  it("gives plain decoding's tokens and the golden model's passes on the demo model, greedy and sampled", async () => {
    const image = await demo();
    await prepareModel(board, image, { imageOnBoard: image });
    // A repetitive prompt (the drafts come from it) and 40 tokens: several drafts are accepted per pass.
    const prompt = [1, 20, 31, 40, 1, 20, 31, 40, 1, 20];
    const golden = await goldenModelFromImage(openImage(image), { threads: 1 });
    try {
      for (const s of samplings) {
        const o = { ...s, maxNewTokens: 40, stopIds: [] };
        await board.resetSession();
        const plain = await board.generate(prompt, o);
        await board.resetSession();
        const drafted = await board.generate(prompt, { ...o, draftTokens: 4 });
        golden.reset();
        const g = await generate(goldenSession(golden), prompt, { ...o, draftTokens: 4 });
        expect(drafted.ids).toEqual(plain.ids);
        expect(drafted.ids).toEqual(g.ids);
        expect(plain.passes).toBe(39);
        expect(drafted.passes).toBe(g.passes);
        if (s.temperature === 0) expect(drafted.passes).toBeLessThan(39);
      }
    } finally {
      await golden.close();
    }
  }, 300_000);
});

describe('at RTL fidelity (the Verilated TLMM engine in the simulated accelerator)', () => {
  it('generates the golden model\'s tokens on the demo model', async () => {
    const sim = await SimStream.start({ fidelity: 'rtl', board: 'kv260', executable: vboardUnderTest() });
    const rtl = await Board.connect(sim, 'tellme test');
    try {
      expect(rtl.hello!.backend).toBe('sim-rtl');
      await expectGolden(await demo(), [0, 293, 14], 6, rtl);
    } finally {
      await rtl.close();
    }
  }, 600_000);
});
