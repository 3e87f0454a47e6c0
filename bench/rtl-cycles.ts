/**
 * Cycles of the Verilated TLMM engine (hw/rtl, kv260 build) per weight tile against the planner's
 * cycle model (host/src/plan/perf.ts tlmmCycles): every distinct tile of bitnet_b1_58-large (0.73B)
 * and bitnet-b1.58-2B-4T on kv260, one decode token and one prefill block, at full rate (no
 * back-pressure from the sources; the accumulator sink takes the board's elementwise_lanes per cycle,
 * like the fused element-wise stages behind the core). The simulation also checks every
 * accumulator against the golden TLMM.
 *
 *   npx tsx bench/rtl-cycles.ts [prefill tokens, default 16]
 *
 * Columns: rtl = core cycles, command to last accumulator beat (tlmm_core's counter); model = the
 * planner's tlmmCycles; model core = the same without the per-call overhead of the HLS dataflow
 * region (linear_call_overhead_cycles: start and drain of the fused stages, not in the core).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadHwConfig } from '../host/src/hwconfig/load.js';
import { COMPUTE_ORDER, planUram } from '../host/src/layout/uram.js';
import { tlmmCycles } from '../host/src/plan/perf.js';
import { builtinShape } from '../host/src/plan/shapes.js';
import { Rng } from '../host/src/testmodels/prng.js';
import { activations, ternaryMatrix } from '../host/src/verify/random-jobs.js';
import { writeCaseFile, type TlmmJob } from '../host/src/verify/rtl-case.js';
import { ensureRtlSim, runRtlSim } from '../host/src/verify/rtl-sim.js';

const prefill = Number(process.argv[2] ?? 16);
const hw = loadHwConfig('kv260');
const sim = await ensureRtlSim(hw);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-rtl-cycles-'));
const rng = new Rng(2026, 0xc7c);
const t = hw.config.timing;

process.stdout.write(`| model | linear | tile rows x K | tokens | rtl cycles | model | model core | rtl / model core |\n|---|---|---|---|---|---|---|---|\n`);
for (const shape of ['bitnet-large', 'bitnet-2b4t']) {
  const spec = builtinShape(shape);
  const uram = planUram(spec, hw);
  const seen = new Set<string>();
  const jobs: TlmmJob[] = [];
  const rowsOf: { linear: string; rows: number; cols: number; chunks: number; tokens: number }[] = [];
  for (const name of COMPUTE_ORDER) {
    const lp = uram.linears.find((x) => x.linear === name)!;
    for (const tile of lp.tiles) {
      const key = `${tile.rows}x${lp.cols}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const m = ternaryMatrix(tile.rows, lp.cols, 'random', rng);
      for (const tokens of [1, prefill]) {
        jobs.push({ name: `${name}.${key}.${tokens}`, matrix: m, rowStart: 0, rows: tile.rows, act: activations(tokens, lp.cols, 'quantised', rng), tokens });
        rowsOf.push({ linear: name, rows: tile.rows, cols: lp.cols, chunks: lp.chunks, tokens });
      }
    }
  }
  const file = path.join(dir, `${shape}.case`);
  writeCaseFile(file, jobs, hw);
  const r = await runRtlSim(sim, file, { stall: 0, seed: 1, sinkLanes: hw.config.architecture.elementwise_lanes });
  if (r.mismatches || r.protocol_errors) throw new Error(`${shape}: ${r.mismatches} mismatches, ${r.protocol_errors} protocol errors: ${r.report}`);
  rowsOf.forEach((j, i) => {
    const model = tlmmCycles(j.rows, j.chunks, j.tokens, hw);
    const core = model - t.linear_call_overhead_cycles;
    const rtl = r.cycles[i]!;
    process.stdout.write(`| ${shape} | ${j.linear} | ${j.rows} x ${j.cols} | ${j.tokens} | ${rtl} | ${model} | ${core} | ${(rtl / core).toFixed(3)} |\n`);
  });
}
fs.rmSync(dir, { recursive: true, force: true });
