/**
 * The before/after figures of docs/performance-model.md §3 and the HTML report: the cumulative
 * ablation from the paper's build to kv260 and on to the projected contract choices, and the
 * leave-one-out view (the final build without one change at a time), for one model.
 */
import type { HwConfig, LoadedHwConfig } from '../hwconfig/types.js';
import { hwConfigFromObject } from '../hwconfig/load.js';
import type { ModelSpec } from '../model/spec.js';
import { ablationConfigs, deepMerge, kv260Chain } from './ablation.js';
import { makePlan } from './plan.js';

export interface StepFigures {
  label: string;
  /** Null when the step is not a valid build (the message says why). */
  invalid: string | null;
  fits: boolean;
  reasons: string[];
  decode128: number;
  decode1024: number | null;
  ttft128: number;
  multiToken: number;
  lut: number;
  lutShare: number;
  clockMhz: number;
  dsp: number;
  bram36: number;
  uram: number;
}

export interface FigureOptions {
  draftTokens?: number;
  acceptedPerPass?: number;
}

/** The headline figures of one build for one model. */
export function stepFigures(spec: ModelSpec, hw: LoadedHwConfig, label: string, opts: FigureOptions = {}): StepFigures {
  const p = makePlan(spec, hw, { context: 128, prompts: [128], curveContexts: [1024], ...opts });
  const at1024 = p.decodeCurve.find((c) => c.context === 1024);
  return {
    label,
    invalid: null,
    fits: p.fits,
    reasons: p.reasons,
    decode128: 1 / p.decode.totalSeconds,
    decode1024: at1024 ? at1024.tokensPerS : null,
    ttft128: p.prefill[0]!.pass!.totalSeconds,
    multiToken: p.multiToken.tokensPerS,
    lut: p.resources.lut,
    lutShare: p.resources.utilisation.lut,
    clockMhz: p.achieved.clockMhz,
    dsp: p.resources.dsp,
    bram36: p.resources.bram36,
    uram: p.resources.uram,
  };
}

function invalidRow(label: string, message: string): StepFigures {
  return { label, invalid: message, fits: false, reasons: [message], decode128: 0, decode1024: null, ttft128: 0, multiToken: 0, lut: 0, lutShare: 0, clockMhz: 0, dsp: 0, bram36: 0, uram: 0 };
}

/** kv260-paper -> kv260 (`kv260Chain`; the row that is kv260.json says so), then the pending contract steps. */
export function cumulativeAblation(spec: ModelSpec, paper: LoadedHwConfig, ours: LoadedHwConfig, opts: FigureOptions = {}): StepFigures[] {
  const chain = kv260Chain(paper.config, ours.config);
  return ablationConfigs(paper.config, chain.steps).map((s, i) => stepFigures(spec, s.hw, i === chain.kv260Index ? `${s.label} (= kv260)` : s.label, opts));
}

/** The values `cfg` has at the paths `patch` sets: the patch that undoes `patch`. */
function projectOnto(cfg: unknown, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) {
    const c = (cfg as Record<string, unknown>)[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) ? projectOnto(c, v as Record<string, unknown>) : c;
  }
  return out;
}

/**
 * The final build (kv260 with the pending contract steps), then that build with one step undone
 * (its fields set back to what they were before the step) for every step after the paper build.
 */
export function leaveOneOut(spec: ModelSpec, paper: LoadedHwConfig, ours: LoadedHwConfig, opts: FigureOptions = {}): StepFigures[] {
  const { steps, kv260Index } = kv260Chain(paper.config, ours.config);
  const chain = ablationConfigs(paper.config, steps);
  const final = chain.at(-1)!.hw;
  const rows = [stepFigures(spec, final, kv260Index < steps.length - 1 ? 'final build (kv260 + pending contract choices)' : 'final build (kv260)', opts)];
  for (let i = 1; i < steps.length; i++) {
    const undo = projectOnto(chain[i - 1]!.hw.config, steps[i]!.patch);
    const label = steps[i]!.label.replace(/^\+ /, 'without ');
    let hw: LoadedHwConfig;
    try {
      hw = hwConfigFromObject(deepMerge<HwConfig>(structuredClone(final.config), undo), `${final.file} ${label}`);
    } catch (e) {
      rows.push(invalidRow(label, (e as Error).message.split('\n')[0]!));
      continue;
    }
    rows.push(stepFigures(spec, hw, label, opts));
  }
  return rows;
}
