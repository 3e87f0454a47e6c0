/**
 * Self-contained HTML report for `tellme plan --html`: inline SVG only, no scripts, no external
 * assets. Shows the URAM map of one layer, where a token's time goes, and the per-layer latency.
 */
import type { StepFigures } from './ablation-table.js';
import type { LayerRow, Plan } from './plan.js';
import type { PassResult } from './perf.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f1 = (x: number) => x.toFixed(1);

const LINEAR_COLORS: Record<string, string> = {
  q_proj: '#4e79a7',
  k_proj: '#59a14f',
  v_proj: '#9c755f',
  o_proj: '#f28e2b',
  up_proj: '#b07aa1',
  gate_proj: '#e15759',
  down_proj: '#76b7b2',
};
const KIND_COLORS: Record<string, string> = {
  tlmm: '#4e79a7',
  stall: '#e15759',
  attention: '#f28e2b',
  norm: '#59a14f',
  lm_head: '#b07aa1',
  host: '#9c755f',
};

function uramMap(plan: Plan): string {
  const u = plan.uram;
  const steps = u.steps;
  const colW = Math.max(28, Math.min(70, Math.floor(760 / Math.max(1, steps.length))));
  const left = 70;
  const top = 20;
  const h = 300;
  const width = left + colW * steps.length + 20;
  const scale = h / u.wordsPerBank;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + h + 70}" role="img" aria-label="URAM map">`];
  parts.push(`<rect x="${left}" y="${top}" width="${colW * steps.length}" height="${h}" fill="#f4f4f4" stroke="#999"/>`);
  for (let w = 0; w <= u.wordsPerBank; w += 4096) {
    const y = top + w * scale;
    const isBuf = u.buffers === 2 && w === u.wordsPerBuffer;
    parts.push(`<line x1="${left - 5}" x2="${left + colW * steps.length}" y1="${y}" y2="${y}" stroke="${isBuf ? '#000' : '#bbb'}" stroke-width="${isBuf ? 2 : 1}" ${isBuf ? '' : 'stroke-dasharray="4 3"'}/>`);
    parts.push(`<text x="${left - 8}" y="${y + 4}" font-size="10" text-anchor="end">${w}</text>`);
  }
  steps.forEach((s, i) => {
    const x = left + i * colW;
    const y = top + s.wordStart * scale;
    const hh = Math.max(1, (s.wordEnd - s.wordStart) * scale);
    const over = s.wordEnd > (s.buffer + 1) * u.wordsPerBuffer;
    parts.push(
      `<rect x="${x + 2}" y="${y}" width="${colW - 4}" height="${Math.min(hh, top + h - y)}" fill="${LINEAR_COLORS[s.linear] ?? '#888'}" stroke="${over ? '#d00' : 'none'}" stroke-width="2"><title>${esc(
        `${s.linear} tile ${s.tile}: words ${s.wordStart}..${s.wordEnd - 1} of every bank, buffer ${s.buffer}`,
      )}</title></rect>`,
    );
    parts.push(`<text x="${x + colW / 2}" y="${top + h + 14}" font-size="10" text-anchor="end" transform="rotate(-45 ${x + colW / 2} ${top + h + 14})">${esc(s.linear.replace('_proj', ''))}#${s.tile}</text>`);
  });
  parts.push(`<text x="12" y="${top + h / 2}" font-size="11" transform="rotate(-90 12 ${top + h / 2})" text-anchor="middle">word address in each of the ${u.banks} banks</text>`);
  parts.push('</svg>');
  return parts.join('');
}

function uramGrid(plan: Plan): string {
  const u = plan.uram;
  const cell = 22;
  const cols = u.banks * u.cascade;
  const rows = u.bankDepthUrams;
  const left = 70;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${left + cols * cell + 20}" height="${rows * cell + 40}" role="img" aria-label="physical URAMs">`];
  for (let b = 0; b < u.banks; b++) {
    for (let w = 0; w < u.cascade; w++) {
      for (let d = 0; d < rows; d++) {
        const buf = u.buffers === 2 ? Math.floor(d / (rows / 2)) : 0;
        const x = left + (b * u.cascade + w) * cell;
        parts.push(
          `<rect x="${x}" y="${10 + d * cell}" width="${cell - 2}" height="${cell - 2}" fill="${buf ? '#f6c85f' : '#8cd17d'}" stroke="#555"><title>bank ${b}, width ${w}, depth ${d}: buffer ${buf}</title></rect>`,
        );
      }
    }
    parts.push(`<text x="${left + b * u.cascade * cell + (u.cascade * cell) / 2}" y="${rows * cell + 26}" font-size="10" text-anchor="middle">bank ${b}</text>`);
  }
  parts.push(`<text x="4" y="${10 + (rows * cell) / 2}" font-size="10">depth</text>`);
  parts.push('</svg>');
  return parts.join('');
}

function hbar(items: { label: string; segments: { value: number; color: string; name: string }[] }[], unit: string, scaleTo?: number): string {
  const left = 150;
  const w = 600;
  const rowH = 20;
  const max = scaleTo ?? Math.max(1e-12, ...items.map((i) => i.segments.reduce((a, s) => a + s.value, 0)));
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${left + w + 120}" height="${items.length * rowH + 10}" role="img">`];
  items.forEach((it, r) => {
    const y = 4 + r * rowH;
    parts.push(`<text x="${left - 6}" y="${y + 13}" font-size="11" text-anchor="end">${esc(it.label)}</text>`);
    let x = left;
    let total = 0;
    for (const s of it.segments) {
      const ww = (s.value / max) * w;
      if (ww > 0) parts.push(`<rect x="${x}" y="${y}" width="${ww}" height="${rowH - 4}" fill="${s.color}"><title>${esc(`${s.name}: ${s.value.toPrecision(4)} ${unit}`)}</title></rect>`);
      x += ww;
      total += s.value;
    }
    parts.push(`<text x="${x + 4}" y="${y + 13}" font-size="10">${esc(total.toPrecision(4))} ${unit}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

function layerChart(rows: LayerRow[], clockMhz: number): string {
  return hbar(
    rows.map((r) => ({
      label: `${r.step}${r.tiles > 1 ? ` (${r.tiles} tiles)` : ''}`,
      segments: [
        { value: (r.exposedCycles - r.stallCycles) / clockMhz, color: KIND_COLORS[r.kind] ?? '#888', name: r.kind },
        { value: r.stallCycles / clockMhz, color: KIND_COLORS['stall']!, name: 'waiting for weights' },
      ],
    })),
    'us',
  );
}

function passSegments(p: PassResult) {
  const b = p.breakdown;
  return [
    { value: b.tlmmCompute * 1e3, color: KIND_COLORS['tlmm']!, name: 'TLMM' },
    { value: b.weightLoadStall * 1e3, color: KIND_COLORS['stall']!, name: 'waiting for weights' },
    { value: b.attention * 1e3, color: KIND_COLORS['attention']!, name: 'attention' },
    { value: b.norms * 1e3, color: KIND_COLORS['norm']!, name: 'norms' },
    { value: b.lmHead * 1e3, color: KIND_COLORS['lm_head']!, name: 'LM head' },
    { value: b.host * 1e3, color: KIND_COLORS['host']!, name: 'host' },
  ];
}

function curve(plan: Plan): string {
  const pts = plan.decodeCurve;
  if (pts.length < 2) return '';
  const left = 50;
  const w = 520;
  const h = 200;
  const maxY = Math.max(...pts.map((p) => p.tokensPerS)) * 1.1;
  const lx = (c: number) => left + ((Math.log2(c) - Math.log2(pts[0]!.context)) / (Math.log2(pts[pts.length - 1]!.context) - Math.log2(pts[0]!.context))) * w;
  const ly = (v: number) => 10 + h - (v / maxY) * h;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${left + w + 40}" height="${h + 50}" role="img" aria-label="decode tokens/s by context">`];
  parts.push(`<line x1="${left}" y1="${10 + h}" x2="${left + w}" y2="${10 + h}" stroke="#555"/><line x1="${left}" y1="10" x2="${left}" y2="${10 + h}" stroke="#555"/>`);
  parts.push(`<polyline fill="none" stroke="#4e79a7" stroke-width="2" points="${pts.map((p) => `${lx(p.context)},${ly(p.tokensPerS)}`).join(' ')}"/>`);
  for (const p of pts) {
    parts.push(`<circle cx="${lx(p.context)}" cy="${ly(p.tokensPerS)}" r="3" fill="#4e79a7"/>`);
    parts.push(`<text x="${lx(p.context)}" y="${ly(p.tokensPerS) - 6}" font-size="10" text-anchor="middle">${f1(p.tokensPerS)}</text>`);
    parts.push(`<text x="${lx(p.context)}" y="${h + 26}" font-size="10" text-anchor="middle">${p.context}</text>`);
  }
  parts.push(`<text x="${left + w / 2}" y="${h + 44}" font-size="11" text-anchor="middle">context (tokens in the KV cache)</text>`);
  parts.push('</svg>');
  return parts.join('');
}

function ablationTable(title: string, rows: readonly StepFigures[]): string {
  const cell = (r: StepFigures) =>
    r.invalid
      ? `<td colspan="9" style="text-align:left">${esc(r.invalid)}</td>`
      : [
          `${r.fits ? '' : '(does not fit) '}${r.decode128.toFixed(1)}`,
          r.decode1024 === null ? '&mdash;' : r.decode1024.toFixed(1),
          r.ttft128.toFixed(3),
          r.multiToken.toFixed(1),
          `${r.lut.toLocaleString('en-US')} (${(r.lutShare * 100).toFixed(1)} %)`,
          r.clockMhz.toFixed(0),
          String(r.dsp),
          String(r.bram36),
          String(r.uram),
        ]
          .map((x) => `<td>${x}</td>`)
          .join('');
  return `<h3>${esc(title)}</h3><table><tr><th>step</th><th>decode tok/s @128</th><th>@1024</th><th>TTFT 128 (s)</th><th>multi-token tok/s</th><th>LUT</th><th>MHz</th><th>DSP</th><th>BRAM36</th><th>URAM</th></tr>
${rows.map((r) => `<tr><td>${esc(r.label)}</td>${cell(r)}</tr>`).join('\n')}</table>`;
}

/** Optional sections computed by the caller (they cost many plans): the kv260 before/after tables. */
export interface HtmlExtras {
  cumulative?: readonly StepFigures[];
  leaveOneOut?: readonly StepFigures[];
}

export function planToHtml(plan: Plan, extras: HtmlExtras = {}): string {
  const { spec, hw, resources: r } = plan;
  const c = hw.config;
  const legend = Object.entries(LINEAR_COLORS)
    .map(([k, v]) => `<span class="sw" style="background:${v}"></span>${esc(k)}`)
    .join(' ');
  const kinds = Object.entries(KIND_COLORS)
    .map(([k, v]) => `<span class="sw" style="background:${v}"></span>${esc(k === 'stall' ? 'waiting for weights' : k)}`)
    .join(' ');
  const resRow = (n: string, used: number, total: number) => `<tr><td>${n}</td><td>${used.toLocaleString('en-US')}</td><td>${total.toLocaleString('en-US')}</td><td>${((used / total) * 100).toFixed(0)} %</td></tr>`;
  const decodeBar = [{ label: `decode @ ${plan.decodeContext}`, segments: passSegments(plan.decode) }];
  const passes = plan.prefill.filter((p) => p.pass).map((p) => ({ label: `TTFT ${p.tokens} tokens`, segments: passSegments(p.pass!) }));
  const ttft = plan.prefill.map((p) => `<li>${p.tokens} tokens: ${p.pass ? `${p.pass.totalSeconds.toFixed(3)} s` : 'beyond the context'}</li>`).join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tellme plan: ${esc(plan.modelName)} on ${esc(c.name)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1000px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
.fit{font-weight:bold;color:${plan.fits ? '#2a7a2a' : '#b00'}}.sw{display:inline-block;width:11px;height:11px;margin:0 4px 0 10px;vertical-align:middle}
.note{color:#666;font-size:13px}
</style></head><body>
<h1>${esc(plan.modelName)} on ${esc(c.name)}</h1>
<p>${spec.numLayers} layers, hidden ${spec.hiddenSize}, FFN ${spec.intermediateSize} (${spec.activation}), ${spec.numHeads}/${spec.numKvHeads} heads x ${spec.headDim}, vocab ${spec.vocabSize}.
Board ${esc(c.board.name)} (${esc(c.board.device)}, ${plan.achieved.clockMhz.toFixed(0)} MHz${plan.achieved.clockMhz < c.clock_mhz ? ` of a ${c.clock_mhz} MHz target: derated at ${(plan.achieved.lutUtilisation * 100).toFixed(1)} % LUT` : ''}; weight stream ${(plan.achieved.bandwidthBps / 1e9).toFixed(2)} GB/s); hardware build <code>${hw.hash.slice(0, 16)}</code>.
Contract choices: ${esc(c.numerics.kv_format)} KV cache and attention, ${c.numerics.lm_head === 'ternary-shortlist' ? `ternary shortlist head (K = ${c.numerics.shortlist_k})` : 'int8 LM head'}.</p>
<p class="fit">${plan.fits ? 'FITS' : 'DOES NOT FIT'}</p>
${plan.reasons.length ? `<ul>${plan.reasons.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : ''}
<p><b>Decode:</b> ${(1 / plan.decode.totalSeconds).toFixed(1)} tokens/s at context ${plan.decodeContext}; with multi-token verification ${plan.multiToken.tokensPerS.toFixed(1)} tokens/s (${plan.multiToken.draftTokens} drafts per pass, ${plan.multiToken.acceptedPerPass} tokens yielded per pass, ${esc(plan.multiToken.rateSource)}). <b>Time to first token:</b></p><ul>${ttft}</ul>
<h2>Resources (planner estimate)</h2>
<table><tr><th>resource</th><th>used</th><th>available</th><th>share</th></tr>
${resRow('LUT', r.lut, r.budget.lut)}${resRow('FF', r.ff, r.budget.ff)}${resRow('DSP', r.dsp, r.budget.dsp)}${resRow('BRAM36', r.bram36, r.budget.bram36)}${resRow('URAM', r.uram, r.budget.uram)}</table>
<p class="note">By module, and how each figure was obtained (fitted to the paper's totals, paper-scaled, or predicted):</p>
<table><tr><th>module</th><th>LUT</th><th>DSP</th><th>BRAM36</th><th>URAM</th><th>basis</th></tr>
${r.modules.map((m) => `<tr><td>${esc(m.module)}</td><td>${m.lut.toLocaleString('en-US')}</td><td>${m.dsp}</td><td>${m.bram36}</td><td>${m.uram}</td><td style="text-align:left">${esc(m.basis)}</td></tr>`).join('\n')}</table>
${plan.warnings.length ? `<ul class="note">${plan.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : ''}
<h2>URAM weight buffer: one layer's steps</h2>
<p class="note">${plan.uram.weightBufferUrams} URAMs: ${plan.uram.banks} banks (row r of a tile in bank r mod ${plan.uram.banks}), each ${plan.uram.cascade} URAMs wide and ${plan.uram.bankDepthUrams} deep; ${plan.uram.layout} layout${
    plan.uram.buffers === 2 ? '; the thick line separates the two buffers: consecutive steps alternate, so a tile loads while the previous one computes' : '; one buffer: every load waits for the previous compute'
  }. Each column is a step; the bar is the word range it uses in every bank.</p>
<div>${legend}</div>
${uramMap(plan)}
<p class="note">Physical URAMs (columns: banks x width, rows: depth)${plan.uram.buffers === 2 ? '; green = buffer 0, yellow = buffer 1' : ''}.</p>
${uramGrid(plan)}
<h2>Where the time goes (ms)</h2>
<div>${kinds}</div>
<p class="note">One decode token:</p>
${hbar(decodeBar, 'ms')}
<p class="note">Time to first token (prefill of the prompt, LM head of its last token):</p>
${hbar(passes, 'ms')}
<h2>Layer ${plan.breakdownLayer}, decode at context ${plan.decodeContext} (&micro;s)</h2>
${layerChart(plan.layerDecode, c.clock_mhz)}
${plan.layerPrefill ? `<h2>Layer ${plan.breakdownLayer}, prefill of ${plan.layerPrefill.tokens} tokens (&micro;s)</h2>${layerChart(plan.layerPrefill.rows, c.clock_mhz)}` : ''}
<h2>Decode tokens/s by context</h2>
${curve(plan)}
${
  extras.cumulative || extras.leaveOneOut
    ? `<h2>Where the kv260 figures come from (before/after of each change)</h2>
<p class="note">Same model; each row re-runs the planner. Contract choices not yet adopted in kv260.json are projected on top of it. Commands and discussion: docs/performance-model.md §3.</p>
${extras.cumulative ? ablationTable('From the paper build (kv260-paper), one change at a time', extras.cumulative) : ''}
${extras.leaveOneOut ? ablationTable('The final build without one change', extras.leaveOneOut) : ''}`
    : ''
}
<p class="note">Generated by <code>tellme plan</code>. Model and assumptions: docs/performance-model.md; layout: docs/layout.md.</p>
</body></html>
`;
}
