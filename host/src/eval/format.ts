/** The human-readable form of an EvalReport (the JSON form is the report itself). */

import type { EvalReport, PromptReport } from './run.js';

const cos = (x: number): string => x.toFixed(6);
const num = (x: number): string => (Math.abs(x) >= 1000 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : x.toFixed(4));

function promptText(p: PromptReport, showLayers: boolean): string[] {
  const lines: string[] = [];
  const head = p.text !== undefined ? `${JSON.stringify(p.text)} -> ${p.ids.length} tokens` : `${p.ids.length} tokens [${p.ids.join(',')}]`;
  lines.push(`prompt ${p.name}: ${head}`);
  if (showLayers) {
    lines.push('  stage          cosine    min/pos   max|err|    max|ref|');
    for (const s of p.stages) {
      lines.push(
        `  ${s.label.padEnd(12)} ${cos(s.cosine)}  ${cos(s.minPositionCosine)}  ${num(s.maxAbsErr).padStart(9)}  ${num(s.refMaxAbs).padStart(9)}`,
      );
    }
  }
  const l = p.logits;
  lines.push(
    `  logits: cosine ${cos(l.cosine)} (worst position ${cos(l.minCosine)}, last ${cos(l.lastCosine)}), max|err| ${num(l.maxAbsErr)} of max|logit| ${num(l.refMaxAbs)}`,
  );
  lines.push(`  argmax agrees at ${l.argmaxAgree}/${l.positions} positions${l.argmaxAgree === l.positions ? '' : ` (golden ${l.argmaxGolden.join(',')} vs float ${l.argmaxFloat.join(',')})`}`);
  const g = p.greedy;
  if (g.steps > 0) {
    const margin = g.minMargin === null ? 'n/a' : num(g.minMargin);
    lines.push(`  greedy: ${g.agreed}/${g.steps} leading tokens identical; smallest top-1/top-2 margin ${margin}`);
    lines.push(`    golden ${g.golden.join(',')}`);
    lines.push(`    float  ${g.float.join(',')}`);
    if (g.divergence) {
      const d = g.divergence;
      lines.push(
        `    diverged at step ${d.step}: golden ${d.golden}, float ${d.float} (float prefers its token by ${num(d.floatGap)}, golden its own by ${num(d.goldenGap)})`,
      );
    }
  }
  if (p.ablations) {
    lines.push('  float with the accelerator\'s storage formats (golden vs float+ablation):');
    for (const a of p.ablations) {
      lines.push(`    ${a.name.padEnd(15)} final norm cosine ${cos(a.finalNorm.cosine)}, logit cosine ${cos(a.logitsMinCosine)}, max|err| ${num(a.logitsMaxAbsErr)}`);
    }
  }
  return lines;
}

export function formatReport(r: EvalReport, opts: { layers?: boolean } = {}): string {
  const m = r.model;
  const lines: string[] = [];
  lines.push(
    `golden vs float reference (${r.referenceBackend} backend): ${m.family} ${m.architecture}, ${m.layers} layers x ${m.hidden}, ` +
      `${m.heads}/${m.kvHeads} heads, ${m.activation}, ${m.weightStorage}${m.tiedEmbeddings ? ', tied' : ''}${m.dtype ? `, ${m.dtype}` : ''}`,
  );
  for (const p of r.prompts) lines.push(...promptText(p, opts.layers !== false));
  const s = r.summary;
  lines.push('summary:');
  lines.push(`  logit cosine >= ${cos(s.minLogitCosine)} at every position (last positions >= ${cos(s.minLastLogitCosine)}); max|err| ${num(s.maxLogitAbsErr)}`);
  lines.push(`  argmax agrees at ${s.argmaxAgree}/${s.argmaxPositions} prompt positions`);
  if (s.steps > 0) {
    lines.push(`  greedy: at least ${s.minAgreed}/${s.steps} leading tokens identical per prompt; smallest margin ${s.minMargin === null ? 'n/a' : num(s.minMargin)}`);
  }
  if (s.worstStage) lines.push(`  lowest residual-stream cosine: ${cos(s.worstStage.cosine)} (${s.worstStage.label}, prompt ${s.worstStage.prompt})`);
  return lines.join('\n') + '\n';
}
