/**
 * FPGA resources of the hand-written RTL by yosys (synth_xilinx -family xcup -uram -flatten; see
 * hw/syn/resources.sh), next to the planner's resource model and the paper's figures:
 *   - the TLMM core (tables, lookups, adder trees, accumulators) of kv260 (ping-pong tables) and of
 *     the paper's build kv260-paper (T = 28, Q = 16, single tables): tlmm_core_build;
 *   - the whole engine of kv260 (core + URAM weight buffer + dense-beat loader): tlmm_engine.
 * Each synthesis takes minutes on two cores; the JSON of each run is kept in build/syn/.
 *
 *   npx tsx bench/rtl-resources.ts [board:top ...]
 */
import { execa } from 'execa';
import { loadHwConfig } from '../host/src/hwconfig/load.js';
import { estimateResources } from '../host/src/plan/resources.js';

const runs = process.argv.length > 2 ? process.argv.slice(2) : ['kv260-paper:tlmm_core_build', 'kv260:tlmm_core_build', 'kv260:tlmm_engine'];
process.stdout.write('| board | top | LUT | of which LUTRAM | FF | CARRY4 | URAM | BRAM36 | DSP | planner TLMM core LUT | yosys seconds |\n|---|---|---|---|---|---|---|---|---|---|---|\n');
for (const run of runs) {
  const [board, top] = run.split(':') as [string, string];
  const t0 = Date.now();
  const r = await execa('hw/syn/resources.sh', [board, top], { timeout: 3 * 3600_000 });
  const j = JSON.parse(r.stdout) as Record<string, number | string[]>;
  const planner = estimateResources(loadHwConfig(board)).tlmmCore.total;
  process.stdout.write(
    `| ${board} | ${top} | ${j['lut']} | ${j['lutram_luts']} | ${j['ff']} | ${j['carry4']} | ${j['uram']} | ${j['bram36']} | ${j['dsp']} | ${planner} | ${((Date.now() - t0) / 1000).toFixed(0)} |\n`,
  );
  if ((j['unclassified'] as string[]).length) process.stdout.write(`  (cells not classified: ${(j['unclassified'] as string[]).join(', ')})\n`);
}
