/** Human-readable `tellme plan` output. */
import type { Plan, LayerRow } from './plan.js';

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const num = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 1 });
const pct = (x: number) => `${(x * 100).toFixed(0)} %`;
const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const msf = (s: number) => `${(s * 1e3).toFixed(2)} ms`;

function table(rows: LayerRow[]): string[] {
  const head = ['step', 'tiles', 'compute', 'load', 'stall', 'exposed'];
  const data = rows.map((r) => [r.step, r.tiles ? String(r.tiles) : '', int(r.computeCycles), r.loadCycles ? int(r.loadCycles) : '', r.stallCycles ? int(r.stallCycles) : '', int(r.exposedCycles)]);
  const total = rows.reduce((a, r) => a + r.exposedCycles, 0);
  data.push(['(layer total)', '', '', '', '', int(total)]);
  const w = head.map((h, i) => Math.max(h.length, ...data.map((d) => d[i]!.length)));
  const fmt = (cells: string[]) => '    ' + cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [fmt(head), ...data.map(fmt)];
}

export function planToText(plan: Plan): string {
  const { spec, hw, resources: r } = plan;
  const c = hw.config;
  const out: string[] = [];
  out.push(
    `Model ${plan.modelName}: ${spec.numLayers} layers, hidden ${spec.hiddenSize}, FFN ${spec.intermediateSize} (${spec.activation}), ` +
      `${spec.numHeads}/${spec.numKvHeads} heads x ${spec.headDim}, vocab ${spec.vocabSize}`,
  );
  const a = plan.achieved;
  const clock = a.clockMhz < c.clock_mhz ? `${a.clockMhz.toFixed(0)} MHz (target ${c.clock_mhz}, derated at ${pct(a.lutUtilisation)} LUT)` : `${c.clock_mhz} MHz`;
  out.push(`Board ${c.name} (${c.board.device}, ${clock}), hardware build ${hw.hash.slice(0, 12)}`);
  out.push(
    `Contract choices: ${c.numerics.kv_format} KV cache and attention, ${c.numerics.lm_head === 'ternary-shortlist' ? `ternary shortlist head (K = ${c.numerics.shortlist_k})` : 'int8 head'}`,
  );
  out.push('');
  if (plan.fits) out.push('FITS');
  else {
    out.push('DOES NOT FIT:');
    for (const reason of plan.reasons) out.push(`  - ${reason}`);
  }
  out.push('');
  out.push('Resources (planner estimate, docs/performance-model.md):');
  const res = (name: string, used: number, total: number) => `  ${name.padEnd(7)} ${num(used).padStart(9)} / ${int(total).padEnd(9)} ${pct(used / total).padStart(5)}`;
  out.push(res('LUT', r.lut, r.budget.lut), res('FF', r.ff, r.budget.ff), res('DSP', r.dsp, r.budget.dsp), res('BRAM36', r.bram36, r.budget.bram36), res('URAM', r.uram, r.budget.uram));
  const u = plan.uram;
  out.push(
    `  weight buffer: ${u.weightBufferUrams} URAMs = ${u.banks} banks x ${u.cascade} wide x ${u.bankDepthUrams} deep, ` +
      (u.buffers === 2 ? `double-buffered (2 x ${int(u.wordsPerBuffer)} words per bank)` : `single buffer of ${int(u.wordsPerBuffer)} words per bank`) +
      `; largest step uses ${int(u.peakWordsPerBank)} (${u.layout} layout)`,
  );
  out.push(`  tiles per linear: ${u.linears.map((l) => `${l.linear.replace('_proj', '')} ${l.tiles.length}`).join(', ')}`);
  out.push('');
  const p = plan.packing;
  out.push(
    `Weights: ${mb(p.bytesPerToken)} streamed per token (${p.mode} packing, ${p.beatBits}-bit beats, ${pct(p.share.useful)} useful bits); ` +
      `DDR image ${mib(plan.ddr.totalBytes)} of ${mib(plan.ddr.usableBytes)}; ${(a.bandwidthBps / 1e9).toFixed(2)} GB/s effective`,
  );
  out.push('');
  const d = plan.decode;
  const b = d.breakdown;
  out.push(`Decode at context ${plan.decodeContext}: ${(1 / d.totalSeconds).toFixed(1)} tokens/s (${msf(d.totalSeconds)} per token)`);
  out.push(
    `  TLMM ${msf(b.tlmmCompute)}, waiting for weights ${msf(b.weightLoadStall)}, attention ${msf(b.attention)}, norms ${msf(b.norms)}, ` +
      `LM head ${msf(b.lmHead)} (${c.lm_head.placement}), host ${msf(b.host)}`,
  );
  out.push(`  (weight stream alone ${msf(d.totals.weightLoadSeconds)}; TLMM compute alone ${msf(d.totals.tlmmComputeSeconds)})`);
  out.push(`  tokens/s by context: ${plan.decodeCurve.map((x) => `${x.context}: ${x.tokensPerS.toFixed(1)}`).join(', ')}`);
  const mt = plan.multiToken;
  out.push(
    `  multi-token verification: ${mt.tokensPerS.toFixed(1)} tokens/s (a pass of ${mt.draftTokens} drafts + 1 takes ${msf(mt.pass.totalSeconds)} and yields ${mt.acceptedPerPass} tokens on average, ${mt.rateSource})`,
  );
  out.push('');
  out.push('Time to first token:');
  for (const q of plan.prefill) {
    if (!q.pass) {
      out.push(`  ${String(q.tokens).padStart(4)} tokens: longer than the ${plan.contextCapacity}-position context`);
      continue;
    }
    const pb = q.pass.breakdown;
    out.push(
      `  ${String(q.tokens).padStart(4)} tokens: ${q.pass.totalSeconds.toFixed(3)} s (${(q.tokens / q.pass.totalSeconds).toFixed(0)} tokens/s; ` +
        `TLMM ${msf(pb.tlmmCompute)}, attention ${msf(pb.attention)}, weights ${msf(pb.weightLoadStall)}, LM head ${msf(pb.lmHead)})`,
    );
  }
  out.push('');
  out.push(`Layer ${plan.breakdownLayer} in cycles at ${a.clockMhz.toFixed(0)} MHz, decode (context ${plan.decodeContext}):`);
  out.push(...table(plan.layerDecode));
  if (plan.layerPrefill) {
    out.push(`Layer ${plan.breakdownLayer}, prefill of ${plan.layerPrefill.tokens} tokens:`);
    out.push(...table(plan.layerPrefill.rows));
  }
  if (plan.warnings.length) {
    out.push('');
    for (const w of plan.warnings) out.push(`warning: ${w}`);
  }
  return out.join('\n') + '\n';
}
