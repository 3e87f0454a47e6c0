/**
 * Benchmark: the whole accelerator at RTL fidelity (build/hls/accel_tb_rtl: the Verilated hw/rtl
 * tlmm_engine_hls in place of the engine's C model) against the C simulation (build/hls/accel_tb)
 * on the demo model: a prompt, then greedy decode steps. Reports per pass the C simulation's
 * modelled cycles next to the cycles with the RTL core (its clock cycles ap_start to ap_done count
 * for each engine call, everything else as modelled), at full rate and with back-pressure, and for
 * the last decode step the TLMM steps' engine cycles (the RTL core's own counter vs the C model's
 * formula). Thread CPU seconds per decode step show the simulation cost of the RTL core.
 *
 *   npx tsx bench/hls-accel-rtl.ts [decode steps=4] [prompt tokens=4] [stall with back-pressure=0.3]
 */
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openCheckpoint } from '../host/src/checkpoint/open.js';
import { loadHwConfig } from '../host/src/hwconfig/load.js';
import { openImage } from '../host/src/image/reader.js';
import { convertCheckpoint } from '../host/src/image/writer.js';
import { projectRoot } from '../host/src/paths.js';
import { parseAccelTbReport, writeCsimJob, type AccelTbReport, type AccelTbStep } from '../host/src/verify/csim-job.js';
import { ensureCsimDriver, seededPrompt } from '../host/src/verify/csim-target.js';

const steps = Number(process.argv[2] ?? 4);
const promptTokens = Number(process.argv[3] ?? 4);
const stall = Number(process.argv[4] ?? 0.3);
const root = projectRoot();
const dir = path.join(root, 'build', 'bench');
fs.mkdirSync(dir, { recursive: true });
const hw = loadHwConfig('kv260');
const imageFile = path.join(dir, `tellme-shakespeare-6l.kv260.${hw.hash.slice(0, 12)}.tlm`);
if (!fs.existsSync(imageFile)) {
  process.stderr.write(`converting the demo model for kv260 to ${imageFile}\n`);
  await convertCheckpoint(openCheckpoint(path.join(root, 'models', 'tellme-shakespeare-6l')), imageFile, { hw, context: 64 });
}
const image = openImage(imageFile);
const job = writeCsimJob(image, path.join(dir, 'tellme-shakespeare-6l.rtl-job.txt'), { ids: seededPrompt(0, image.spec.vocabSize, promptTokens), decodeSteps: steps, steps: true });

async function run(driver: string, env: Record<string, string> = {}): Promise<AccelTbReport> {
  const r = await execa(driver, [job], { timeout: 3_600_000, env });
  return parseAccelTbReport(r.stdout);
}
const csim = await run(await ensureCsimDriver('csim'));
const rtlDriver = await ensureCsimDriver('rtl');
const rtl = await run(rtlDriver, { TL_RTL_STALL: '0', TL_RTL_SEED: '1' });
const rtlBp = await run(rtlDriver, { TL_RTL_STALL: String(stall), TL_RTL_SEED: '1' });
for (const o of [rtl, rtlBp]) if (o.tokens.join() !== csim.tokens.join()) throw new Error(`the RTL run decoded ${o.tokens.join()}, the C simulation ${csim.tokens.join()}`);

const spec = image.spec;
const pct = (a: number, b: number) => `${((a / b - 1) * 100).toFixed(2)} %`;
process.stdout.write(`demo model (${spec.numLayers} x ${spec.hiddenSize}, FFN ${spec.intermediateSize}, vocab ${spec.vocabSize}) on kv260, prompt ${promptTokens} tokens, ${steps} decode steps; tokens identical\n`);
process.stdout.write(`| pass | C-sim cycles | RTL core, full rate | vs C-sim | RTL core, stall ${stall} | vs C-sim |\n|---|---|---|---|---|---|\n`);
csim.passes.forEach((p, i) => {
  const a = rtl.passes[i]!.cycles;
  const b = rtlBp.passes[i]!.cycles;
  process.stdout.write(`| ${i === 0 ? `prefill ${promptTokens}` : `decode ${i}`} | ${p.cycles} | ${a} | ${pct(a, p.cycles)} | ${b} | ${pct(b, p.cycles)} |\n`);
});
// The engine's path of each tile of the last decode step (compute: the RTL core's counter, or the C
// model's formula, plus the same fill, output wait and drain of its region, hls/src/linear.cpp).
const tlmm = (o: AccelTbReport) => o.steps.filter((s) => s.name.includes('#')); // the weight tiles, <linear>#<tile>
const sum = (xs: AccelTbStep[], f: (s: AccelTbStep) => number) => xs.reduce((a, s) => a + f(s), 0);
const [c, r] = [tlmm(csim), tlmm(rtl)];
process.stdout.write(`last decode step: ${c.length} TLMM steps; engine compute cycles C model ${sum(c, (s) => s.compute)}, RTL core ${sum(r, (s) => s.compute)} (${pct(sum(r, (s) => s.compute), sum(c, (s) => s.compute))}); step cycles C-sim ${sum(c, (s) => s.cycles)}, with the RTL core ${sum(r, (s) => s.cycles)} (${pct(sum(r, (s) => s.cycles), sum(c, (s) => s.cycles))})\n`);
const cpu = (o: AccelTbReport) => Math.min(...o.passes.slice(1).map((p) => p.cpu_s));
process.stdout.write(`CPU per decode step (min): C-sim ${cpu(csim).toFixed(3)} s, RTL core ${cpu(rtl).toFixed(3)} s (full rate), ${cpu(rtlBp).toFixed(3)} s (stall ${stall})\n`);
