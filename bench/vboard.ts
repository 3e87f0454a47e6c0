/**
 * Benchmark: generation through the whole board stack — tellme's protocol client, the transport
 * (the virtual board's pseudo-terminal through serialport, or TCP), the board's command
 * processor and its model — against the golden model alone on the same image, so the protocol
 * and transport overhead is known. Per-token latency is the time between consecutive TOKEN
 * events as the host sees them.
 *
 *   npx tsx bench/vboard.ts [--model models/tellme-shakespeare-6l] [--tokens 64] [--runs 3]
 *       [--link pty|tcp] [--fidelity csim|rtl] [--json]
 *
 * The virtual board is $TELLME_VBOARD, else build/vboard/tellme-vboard (built here by `make vboard`):
 * the C firmware over the simulated accelerator, so the board column is the firmware's model and
 * the protocol and transport together.
 */

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { openCheckpoint } from '../host/src/checkpoint/open.js';
import { loadTokenizer } from '../host/src/checkpoint/tokenizer.js';
import { Board } from '../host/src/device/board.js';
import { prepareModel } from '../host/src/device/model.js';
import { goldenSession } from '../host/src/golden/session.js';
import { goldenModelFromImage } from '../host/src/golden/weights-image.js';
import { loadHwConfig } from '../host/src/hwconfig/index.js';
import { convertCheckpoint } from '../host/src/image/writer.js';
import { openImage } from '../host/src/image/reader.js';
import { generate } from '../host/src/runtime/generate.js';
import { SimStream, type SimFidelity, type SimLink } from '../host/src/transport/sim.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/tellme-shakespeare-6l' },
    tokens: { type: 'string', default: '64' },
    runs: { type: 'string', default: '3' },
    link: { type: 'string', default: 'pty' },
    fidelity: { type: 'string', default: 'csim' },
    prompt: { type: 'string', default: 'ROMEO:' },
    json: { type: 'boolean', default: false },
  },
});
const tokens = Number(values.tokens);
const runs = Number(values.runs);
const board = 'kv260';

if (!process.env.TELLME_VBOARD) execFileSync('make', ['-s', 'vboard'], { stdio: 'inherit' });
const exe = process.env.TELLME_VBOARD ?? path.resolve('build/vboard/tellme-vboard');
// Named by the hardware hash, so a changed board profile converts again.
const image = `build/bench/${path.basename(values.model!)}.${board}.${loadHwConfig(board).hash.slice(0, 12)}.tlm`;
if (!fs.existsSync(image)) {
  fs.mkdirSync(path.dirname(image), { recursive: true });
  process.stderr.write(`converting ${values.model} -> ${image}\n`);
  await convertCheckpoint(openCheckpoint(values.model!), image, { hw: loadHwConfig(board) });
}
const tok = loadTokenizer(values.model!);
const prompt = tok ? tok.encode(values.prompt!, { addSpecialTokens: true }) : [1, 2, 3];
const opts = { temperature: 0, topK: 0, topP: 1, seed: 0, maxNewTokens: tokens, stopIds: [] as number[] };
/** The p-quantile of the gaps between consecutive tokens (tokens may arrive in bursts through a pty). */
const quantile = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))]!;

// The golden model alone (one thread).
const golden = await goldenModelFromImage(openImage(image), { threads: 1 });
const goldenRuns: { tokPerS: number; msPerToken: number; p90: number }[] = [];
let goldenIds: number[] = [];
for (let r = 0; r < runs; r++) {
  golden.reset();
  const stamps: number[] = [];
  const res = await generate(goldenSession(golden), prompt, { ...opts, onToken: () => stamps.push(performance.now()) });
  goldenIds = res.ids;
  const gaps = stamps.slice(1).map((t, i) => t - stamps[i]!);
  goldenRuns.push({ tokPerS: (res.ids.length - 1) / res.decodeSeconds, msPerToken: 1000 / ((res.ids.length - 1) / res.decodeSeconds), p90: quantile(gaps, 0.9) });
}
await golden.close();

// The board stack.
const sim = await SimStream.start({ fidelity: values.fidelity as SimFidelity, board, link: values.link as SimLink, executable: exe });
const b = await Board.connect(sim, 'tellme bench');
await prepareModel(b, image);
const boardRuns: { tokPerS: number; msPerToken: number; p90: number; boardTokPerS: number }[] = [];
let same = true;
for (let r = 0; r < runs; r++) {
  await b.resetSession();
  const stamps: number[] = [];
  const res = await b.generate(prompt, { ...opts, onToken: () => stamps.push(performance.now()) });
  same &&= JSON.stringify(res.ids) === JSON.stringify(goldenIds);
  const gaps = stamps.slice(1).map((t, i) => t - stamps[i]!);
  const hostSpan = (stamps.at(-1)! - stamps[0]!) / 1000;
  boardRuns.push({ tokPerS: (res.ids.length - 1) / hostSpan, msPerToken: (1000 * hostSpan) / (res.ids.length - 1), p90: quantile(gaps, 0.9), boardTokPerS: (res.ids.length - 1) / res.decodeSeconds });
}
const backend = b.hello!.backend;
await b.close();

const best = <T extends { tokPerS: number }>(a: T[]) => a.reduce((x, y) => (y.tokPerS > x.tokPerS ? y : x));
const g = best(goldenRuns);
const v = best(boardRuns);
const result = {
  model: values.model,
  image,
  tokens,
  runs,
  link: values.link,
  virtual_board: { executable: path.relative(process.cwd(), exe), backend },
  golden: { tok_per_s: +g.tokPerS.toFixed(2), ms_per_token: +g.msPerToken.toFixed(3), p90_gap_ms: +g.p90.toFixed(3) },
  board: { tok_per_s: +v.tokPerS.toFixed(2), ms_per_token: +v.msPerToken.toFixed(3), p90_gap_ms: +v.p90.toFixed(3), board_measured_tok_per_s: +v.boardTokPerS.toFixed(2) },
  overhead_ms_per_token: +(v.msPerToken - g.msPerToken).toFixed(3),
  tokens_equal: same,
};
if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
else {
  process.stdout.write(`${values.model}, ${tokens} greedy tokens, best of ${runs}; virtual board ${result.virtual_board.executable} (${backend}) over ${values.link}\n`);
  process.stdout.write(`| | tok/s | ms/token (mean) | gap between tokens, p90 (ms) |\n|---|---|---|---|\n`);
  process.stdout.write(`| golden model alone | ${result.golden.tok_per_s} | ${result.golden.ms_per_token} | ${result.golden.p90_gap_ms} |\n`);
  process.stdout.write(`| virtual board through tellme (host clock) | ${result.board.tok_per_s} | ${result.board.ms_per_token} | ${result.board.p90_gap_ms} |\n`);
  process.stdout.write(`overhead per token: ${result.overhead_ms_per_token} ms; board-measured ${result.board.board_measured_tok_per_s} tok/s; tokens equal: ${same}\n`);
}
process.exit(same ? 0 : 1);

