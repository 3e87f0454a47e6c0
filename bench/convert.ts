/**
 * Benchmark: `tellme convert` time and peak memory on generated checkpoints with the shapes of
 * bitnet_b1_58-large (0.73B, preset bitnet-large-shape) and bitnet-b1.58-2B-4T (preset
 * bitnet-2b4t-shape), plus the time to open and fully verify the image.
 *
 *   npx tsx bench/convert.ts [--preset bitnet-2b4t-shape] [--board kv260] [--reps 3] [--force] [--master] [--json]
 *
 * --master benchmarks the same shape with bf16 master weights (absmean-ternarised while converting).
 *
 * --force converts for a board the model does not fit (e.g. the fixed-shape kv260-paper build).
 *
 * The checkpoints are generated once into build/bench/<preset> (deterministic, seed 1); images go
 * to build/bench/<preset>.<board>.tlm. Every repetition converts in a fresh child process, so its
 * peak RSS (getrusage maxrss) is the conversion's alone. Targets (docs/measurements.md (section 6)):
 * 2B-4T under 60 s and under 2 GiB peak RSS on the 2-core development machine.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openCheckpoint } from '../host/src/checkpoint/open.js';
import { loadHwConfig } from '../host/src/hwconfig/index.js';
import { convertCheckpoint, openImage } from '../host/src/image/index.js';
import { writeTestModel, type TestModelPresetName } from '../host/src/testmodels/index.js';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', multiple: true },
    board: { type: 'string', default: 'kv260' },
    reps: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
    child: { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
    master: { type: 'boolean', default: false },
  },
});

interface RunResult {
  seconds: number;
  verifySeconds: number;
  peakRssBytes: number;
  imageBytes: number;
  sections: number;
}

/** Where a preset's checkpoint is generated (a separate folder for its master-weight variant). */
function benchDir(preset: string): string {
  return `build/bench/${preset}${values.master ? '-master' : ''}`;
}

async function child(preset: string, board: string, force: boolean): Promise<void> {
  const dir = benchDir(preset);
  const out = `${dir}.${board}.tlm`;
  const r = await convertCheckpoint(openCheckpoint(dir), out, { hw: loadHwConfig(board), force });
  const t = performance.now();
  openImage(out, { hw: board });
  const verifySeconds = (performance.now() - t) / 1000;
  const res: RunResult = {
    seconds: r.seconds,
    verifySeconds,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    imageBytes: statSync(out).size,
    sections: r.manifest.sections.length,
  };
  process.stdout.write(JSON.stringify(res) + '\n');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const board = values.board!;
  const presets = (values.preset ?? ['bitnet-large-shape', 'bitnet-2b4t-shape']) as TestModelPresetName[];
  if (values.child) {
    await child(presets[0]!, board, values.force === true);
    return;
  }
  const reps = Number(values.reps);
  const results: Record<string, unknown>[] = [];
  for (const preset of presets) {
    const dir = benchDir(preset);
    if (!existsSync(`${dir}/config.json`)) {
      process.stderr.write(`generating ${dir} (once) ...\n`);
      writeTestModel(dir, { preset, ...(values.master ? { weights: 'master' as const } : {}) });
    }
    const runs: RunResult[] = [];
    for (let i = 0; i < reps; i++) {
      const self = fileURLToPath(import.meta.url);
      const p = spawnSync(process.execPath, [...process.execArgv, self, '--child', '--preset', preset, '--board', board, ...(values.force ? ['--force'] : []), ...(values.master ? ['--master'] : [])], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (p.status !== 0) throw new Error(`child failed (${p.status}): ${p.stderr}`);
      const r = JSON.parse(p.stdout.trim().split('\n').pop()!) as RunResult;
      runs.push(r);
      process.stderr.write(`${preset} on ${board}, run ${i + 1}/${reps}: ${r.seconds.toFixed(1)} s, peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MiB, verify ${r.verifySeconds.toFixed(1)} s\n`);
    }
    const ckptBytes = statSync(`${dir}/model.safetensors`).size;
    results.push({
      preset,
      board,
      checkpoint_bytes: ckptBytes,
      image_bytes: runs[0]!.imageBytes,
      sections: runs[0]!.sections,
      runs: runs.length,
      seconds: { min: Math.min(...runs.map((r) => r.seconds)), median: median(runs.map((r) => r.seconds)), max: Math.max(...runs.map((r) => r.seconds)) },
      peak_rss_mib: { min: Math.min(...runs.map((r) => r.peakRssBytes)) / 2 ** 20, max: Math.max(...runs.map((r) => r.peakRssBytes)) / 2 ** 20 },
      verify_seconds_median: median(runs.map((r) => r.verifySeconds)),
      mb_per_s_median: ckptBytes / 1e6 / median(runs.map((r) => r.seconds)),
    });
  }
  if (values.json) {
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    return;
  }
  process.stdout.write('| shape | board | checkpoint | image | sections | convert s (min / median / max) | peak RSS MiB | verify s |\n|---|---|---|---|---|---|---|---|\n');
  for (const r of results as any[]) {
    process.stdout.write(
      `| ${r.preset} | ${r.board} | ${(r.checkpoint_bytes / 2 ** 20).toFixed(0)} MiB | ${(r.image_bytes / 2 ** 20).toFixed(0)} MiB | ${r.sections} | ${r.seconds.min.toFixed(1)} / ${r.seconds.median.toFixed(1)} / ${r.seconds.max.toFixed(1)} | ${r.peak_rss_mib.min.toFixed(0)}..${r.peak_rss_mib.max.toFixed(0)} | ${r.verify_seconds_median.toFixed(1)} |\n`,
    );
  }
}

await main();
