/**
 * Benchmark: the C simulation of the accelerator's linear path (hls/csim/linear_bench.cpp) for one
 * decode token of a model shape on kv260: every linear of every layer through RMS-MAX, the
 * quantiser, the weight loader, the TLMM engine model and the dequantiser, tiled as the planner
 * tiles it. Reports thread CPU time and wall time per token (the machine is shared: CPU time is
 * the one to compare) and the loop counters.
 *
 *   npx tsx bench/hls-linear-path.ts [shape=bitnet-large] [tokens=2]
 */
import { execa } from 'execa';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { loadHwConfig } from '../host/src/hwconfig/load.js';
import { planUram } from '../host/src/layout/uram.js';
import { builtinShape } from '../host/src/plan/shapes.js';
import { VectorWriter } from '../test/hls/vectors.js';
import { projectRoot } from '../host/src/paths.js';

const shape = process.argv[2] ?? 'bitnet-large';
const tokens = process.argv[3] ?? '2';
const spec = builtinShape(shape);
const hw = loadHwConfig('kv260');
const uram = planUram(spec, hw);
const v = new VectorWriter().u32('layers', spec.numLayers).u32('hidden', spec.hiddenSize);
uram.linears.forEach((lp, n) => {
  v.u32(`linear${n}.rows`, lp.rows).u32(`linear${n}.cols`, lp.cols);
  v.add(`linear${n}.tile_rows`, 'u32', Uint32Array.from(lp.tiles.map((t) => t.rows)));
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-bench-'));
const plan = v.write(path.join(dir, 'plan.tlvf'));
const root = projectRoot();
await execa('make', ['-s', 'build/hls/linear_bench'], { cwd: root, stdio: 'inherit' });
const r = await execa(path.join(root, 'build/hls/linear_bench'), [plan, tokens]);
const out = JSON.parse(r.stdout) as { cpu_s_per_token: number; wall_s_per_token: number; counters: Record<string, { entries: number; iterations: number }> };
process.stdout.write(
  `${shape} on kv260, ${spec.numLayers} layers, linear path only: ${out.cpu_s_per_token.toFixed(3)} s CPU per token ` +
    `(${(1 / out.cpu_s_per_token).toFixed(2)} tokens/s), wall ${out.wall_s_per_token.toFixed(3)} s\n`,
);
for (const [name, c] of Object.entries(out.counters)) process.stdout.write(`  ${name}: ${c.entries} entries, ${c.iterations} iterations\n`);
