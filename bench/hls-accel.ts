/**
 * Benchmark: the whole accelerator in C simulation (hls/csim/accel_tb.cpp) on a model shape, as
 * the simulation-only mode runs it: a prompt, then greedy decode steps, every layer, the final
 * norm and the LM head through hls/src behind the register file. Reports thread CPU seconds per
 * decode step (the machine is shared: CPU time is the figure to compare; the minimum over steps),
 * and the cycle report of the last decode step: the C simulation's modelled cycles per step (loop
 * iterations × the II and depths the pragmas ask for) next to the planner's cycle model
 * (host/src/plan/perf.ts buildSteps / schedule) for the same pass.
 *
 *   npx tsx bench/hls-accel.ts [preset=bitnet-large-shape] [decode steps=4] [prompt tokens=4] [KV length]
 * With 0 decode steps the cycle report is the prefill's (the head at every position, as the
 * driver runs it; the planner's pass with the same head positions).
 * With a KV length, the decode steps run at KV positions up to it (the last step attends to that
 * many cached tokens) on an image whose context holds them; the cache rows between the prompt and
 * the first step hold zeros (a cycle report at a long context without a prefill of that length:
 * the cycles do not depend on the values; the tokens are no model's output).
 * The model (tellme make-test-model preset) and its kv260 images are cached under build/bench/.
 */
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openCheckpoint } from '../host/src/checkpoint/open.js';
import { loadHwConfig } from '../host/src/hwconfig/load.js';
import { openImage } from '../host/src/image/reader.js';
import { convertCheckpoint } from '../host/src/image/writer.js';
import { projectRoot } from '../host/src/paths.js';
import { applySettings } from '../host/src/plan/index.js';
import { buildSteps, runPass, type PassSpec } from '../host/src/plan/perf.js';
import { writeTestModel } from '../host/src/testmodels/index.js';
import { parseAccelTbReport, writeCsimJob } from '../host/src/verify/csim-job.js';
import { ensureCsimDriver, seededPrompt } from '../host/src/verify/csim-target.js';

const preset = process.argv[2] ?? 'bitnet-large-shape';
const steps = Number(process.argv[3] ?? 4);
const promptTokens = Number(process.argv[4] ?? 4);
const kvLength = process.argv[5] === undefined ? undefined : Number(process.argv[5]);
if (kvLength !== undefined && !(kvLength >= promptTokens + steps - 1)) throw new Error(`the KV length ${process.argv[5]} must be at least prompt + steps - 1 = ${promptTokens + steps - 1}`);
const context = Math.max(64, (kvLength ?? 0) + 1);
const root = projectRoot();
const dir = path.join(root, 'build', 'bench');
const ckptDir = path.join(dir, preset);
const imageFile = path.join(dir, context === 64 ? `${preset}.kv260.tlm` : `${preset}.kv260.c${context}.tlm`);
fs.mkdirSync(dir, { recursive: true });
if (!fs.existsSync(path.join(ckptDir, 'config.json'))) {
  process.stderr.write(`writing the ${preset} test model to ${ckptDir}\n`);
  writeTestModel(ckptDir, { preset: preset as never });
}
// A cached image of an older build of kv260 (another build hash) is converted again.
const cached = fs.existsSync(imageFile) ? JSON.parse(fs.readFileSync(`${imageFile}.hash`, { encoding: 'utf8', flag: 'a+' }) || '""') : '';
if (cached !== loadHwConfig('kv260').hash) {
  process.stderr.write(`converting it for kv260 to ${imageFile}\n`);
  await convertCheckpoint(openCheckpoint(ckptDir), imageFile, { hw: loadHwConfig('kv260'), context });
  fs.writeFileSync(`${imageFile}.hash`, JSON.stringify(loadHwConfig('kv260').hash));
}
const image = openImage(imageFile);
const driver = await ensureCsimDriver();
const decodeAt = kvLength === undefined ? undefined : kvLength - steps + 1;
const job = writeCsimJob(image, path.join(dir, `${preset}.job.txt`), { ids: seededPrompt(0, image.spec.vocabSize, promptTokens), decodeSteps: steps, steps: true, decodeAt });
const r = await execa(driver, [job], { timeout: 3_600_000 });
const out = parseAccelTbReport(r.stdout);
const reported = steps === 0 ? out.passes : out.passes.slice(1); // the passes whose speed is reported
const cpu = reported.map((p) => p.cpu_s).sort((a, b) => a - b);
const spec = image.spec;
const L = kvLength ?? promptTokens + steps - 1; // KV length of the last decode step (cached tokens before it)
process.stdout.write(
  `${preset} (${spec.numLayers} x ${spec.hiddenSize}, FFN ${spec.intermediateSize}, vocab ${spec.vocabSize}) on kv260, C simulation:\n` +
    `  prefill of ${promptTokens} tokens: ${out.passes[0]!.cpu_s.toFixed(3)} s CPU\n` +
    (steps ? `  decode: ${cpu.map((c) => c.toFixed(3)).join(', ')} s CPU per step -> ${(1 / cpu[0]!).toFixed(2)} tokens/s (min), ${(1 / cpu[Math.floor(cpu.length / 2)]!).toFixed(2)} (median)\n` : ''),
);

// The cycle report of the last decode step against the planner's model of the same pass. The C
// simulation moves a beat per port per cycle (4 x 16 bytes at 250 MHz = 16 GB/s); the planner
// streams at the measured 13.45 GB/s (HP1/HP2 share a controller port and run late). The same
// planner with the ports at full rate (memory.shared_port_lanes 0) is the like-for-like figure,
// per step and for the whole pass.
const hw = image.hw;
const ideal = applySettings(hw, ['memory.shared_port_lanes=0']);
// The prefill as the driver runs it has the head at every position: the planner's pass with the
// same work is a verify pass of the prompt at KV offset 0.
const passSpec: PassSpec = steps ? { kind: 'decode', tokens: 1, context: L + 1 } : { kind: 'verify', tokens: promptTokens, context: 0 };
const planned = buildSteps(spec, ideal, image.uram, passSpec);
const pass = runPass(spec, hw, image.uram, passSpec);
const key = (s: { name: string; layer: number }) => `${s.layer}:${s.name}`;
const csimByKey = new Map(out.steps.map((s) => [key(s), s]));
const kinds = new Map<string, { csim: number; plan: number }>();
const off: string[] = [];
for (const p of planned) {
  const c = csimByKey.get(key(p));
  const kind = p.kind === 'tlmm' ? 'tlmm compute' : p.kind;
  const k = kinds.get(kind) ?? { csim: 0, plan: 0 };
  k.plan += p.computeCycles;
  k.csim += c ? c.compute : 0;
  kinds.set(kind, k);
  if (!c) off.push(`${key(p)} missing in the C simulation`);
  else if (Math.abs(c.compute - p.computeCycles) > 0.1 * p.computeCycles && p.layer <= 0) off.push(`${key(p)}: C-sim ${c.compute}, planner ${p.computeCycles}`);
}
const plannedKeys = new Set(planned.map(key));
const unplanned = out.steps.filter((s) => !plannedKeys.has(key(s))).map((s) => `${key(s)} (${s.cycles} cycles)`);
const last = reported[reported.length - 1]!;
process.stdout.write(`  cycle report of ${steps ? `the last decode step (KV length ${L})` : `the prefill of ${promptTokens} tokens`}, compute cycles by kind (C-sim vs planner with the C simulation's memory):\n`);
for (const [k, v] of kinds) process.stdout.write(`    ${k.padEnd(14)} ${String(v.csim).padStart(10)} ${String(v.plan).padStart(10)}  (${((v.csim / v.plan - 1) * 100).toFixed(1)} %)\n`);
process.stdout.write(`    whole pass     ${String(last.cycles).padStart(10)} ${String(Math.round(pass.fpgaCycles)).padStart(10)}  (${((last.cycles / pass.fpgaCycles - 1) * 100).toFixed(1)} %) [C-sim: steps one after another, loads overlapped; planner: its schedule's makespan]\n`);
const idealPass = runPass(spec, ideal, image.uram, passSpec);
process.stdout.write(`    whole pass     ${String(last.cycles).padStart(10)} ${String(Math.round(idealPass.fpgaCycles)).padStart(10)}  (${((last.cycles / idealPass.fpgaCycles - 1) * 100).toFixed(1)} %) [planner with the C simulation's memory: ports at full rate, --set memory.shared_port_lanes=0]\n`);
process.stdout.write(`  steps of layer 0 and the head more than 10 % apart: ${off.length ? '\n    ' + off.join('\n    ') : 'none'}\n`);
process.stdout.write(`  C-simulation steps the planner has no step for: ${unplanned.join(', ') || 'none'}\n`);
const mhz = hw.config.clock_mhz;
process.stdout.write(
  `  at ${mhz} MHz: C simulation ${(last.cycles / mhz / 1e3).toFixed(2)} ms the pass; ` +
    `planner ${(pass.fpgaSeconds * 1e3).toFixed(2)} ms (${(pass.totalSeconds * 1e3).toFixed(2)} ms with host time), with the C simulation's memory ${(idealPass.fpgaSeconds * 1e3).toFixed(2)} ms\n`,
);
