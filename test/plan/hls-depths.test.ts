/**
 * The planner counts the loops of the HLS units with the pipeline depths the units assume
 * (host/src/plan/hls-depths.ts): each depth is read here out of hls/src, so a change on one side
 * alone fails.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../host/src/paths.js';
import { HLS_DEPTHS } from '../../host/src/plan/index.js';

/** The value of `constexpr unsigned ... NAME = value` in an hls/src file. */
function hlsConstant(file: string, name: string): number {
  const text = fs.readFileSync(path.join(projectRoot(), 'hls', 'src', file), 'utf8');
  const m = new RegExp(`\\b${name}\\s*=\\s*(\\d+)\\b`).exec(text);
  if (!m) throw new Error(`hls/src/${file} has no constant ${name}`);
  return Number(m[1]);
}

describe('the planner and hls/src count the same pipeline depths', () => {
  it.each([
    ['memory', 'norm_pass.cpp', 'MEM_DEPTH'],
    ['memory', 'linear.cpp', 'MEM_DEPTH'],
    ['rmsmaxRead', 'rmsmax.hpp', 'RMSMAX_READ_DEPTH'],
    ['rmsmaxSum', 'rmsmax.hpp', 'RMSMAX_SUM_DEPTH'],
    ['rmsmaxNormalise', 'rmsmax.hpp', 'RMSMAX_NORMALISE_DEPTH'],
    ['headQuantMax', 'head_quant.cpp', 'HEAD_MAX_DEPTH'],
    ['headQuantQuantize', 'head_quant.cpp', 'HEAD_QUANT_DEPTH'],
    ['attentionLoadQ', 'attention.cpp', 'LOAD_Q_DEPTH'],
    ['attentionPass1', 'attention.cpp', 'PASS1_DEPTH'],
    ['attentionPass2', 'attention.cpp', 'PASS2_DEPTH'],
    ['attentionOut', 'attention.cpp', 'OUT_DEPTH'],
    ['lmHeadQuantize', 'lm_head.cpp', 'HEAD_QUANT_DEPTH'],
    ['lmHeadRow', 'lm_head.cpp', 'HEAD_ROW_DEPTH'],
  ] as const)('%s = %s %s', (key, file, name) => {
    expect(HLS_DEPTHS[key]).toBe(hlsConstant(file, name));
  });

  it("kv260's linear call overhead is the engine command and the linear region's fill and drain", () => {
    // hls/src/linear.cpp engine_path: MEM_DEPTH + ⌈84 / 8⌉ + QUANTIZE_DEPTH before, DEQUANT_DEPTH + MEM_DEPTH after.
    const mem = hlsConstant('linear.cpp', 'MEM_DEPTH');
    const fill = mem + Math.ceil(84 / 8) + hlsConstant('quantize.hpp', 'QUANTIZE_DEPTH');
    const drain = hlsConstant('dequant.hpp', 'DEQUANT_DEPTH') + mem;
    const kv260 = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'hw', 'boards', 'kv260.json'), 'utf8'));
    expect(kv260.timing.linear_call_overhead_cycles).toBe(3 + fill + drain);
  });
});
