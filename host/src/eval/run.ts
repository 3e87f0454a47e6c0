/**
 * `tellme eval`: the golden model (the accelerator's exact arithmetic) measured against the float
 * reference (the models' training-time semantics) on the same prompts: the residual stream after
 * the embedding, after every layer and after the final norm; the logits of every prompt
 * position; and greedy generation (golden: prefill + decode with its KV cache; float: the whole
 * sequence recomputed every step).
 *
 * Everything is reported as "golden compared with float": cosines and errors take the float
 * reference as the reference vector.
 */

import type { GoldenModel } from '../golden/model.js';
import type { ModelSpec } from '../model/spec.js';
import type { FloatReference, ReferenceAblations } from '../reference/model.js';
import { argmax, compareVectors, cosine, leadingAgreement, topTwo, type VectorComparison } from './compare.js';
import type { EvalPrompt } from './prompts.js';

export const DEFAULT_EVAL_STEPS = 16;

export interface StageComparison extends VectorComparison {
  /** "embed", "layer 0" … "layer L-1", "final norm". */
  label: string;
  stage: 'embed' | 'layer_out' | 'final_norm';
  /** Layer index for layer_out; null otherwise. */
  layer: number | null;
  /** cosine above is over all positions at once; this is the worst single position. */
  minPositionCosine: number;
}

export interface LogitsComparison {
  positions: number;
  /** Over all positions at once. */
  cosine: number;
  /** Worst single position. */
  minCosine: number;
  /** The prompt's last position (the logits that pick the first generated token). */
  lastCosine: number;
  maxAbsErr: number;
  refMaxAbs: number;
  argmaxGolden: number[];
  argmaxFloat: number[];
  /** Positions whose argmax agrees. */
  argmaxAgree: number;
}

export interface GreedyDivergence {
  step: number;
  golden: number;
  float: number;
  /** float logit of the float token minus float logit of the golden token (how close the call was). */
  floatGap: number;
  /** golden logit of the golden token minus golden logit of the float token. */
  goldenGap: number;
}

export interface GreedyComparison {
  steps: number;
  golden: number[];
  float: number[];
  /** Leading tokens that are identical. */
  agreed: number;
  /** Top-1 minus top-2 logit at each step, on each backend's own sequence. */
  goldenMargins: number[];
  floatMargins: number[];
  /**
   * Smallest top-1/top-2 margin of either backend over the steps where both saw the same
   * context (steps 0 .. agreed, capped at steps-1); null when steps = 0.
   */
  minMargin: number | null;
  divergence: GreedyDivergence | null;
}

export interface AblationResult {
  name: string;
  ablations: ReferenceAblations;
  finalNorm: VectorComparison;
  logitsMinCosine: number;
  logitsMaxAbsErr: number;
}

export interface PromptReport {
  name: string;
  text?: string;
  ids: number[];
  stages: StageComparison[];
  logits: LogitsComparison;
  greedy: GreedyComparison;
  /** Float reference with the accelerator's storage formats emulated one at a time (optional). */
  ablations?: AblationResult[];
}

export interface EvalSummary {
  prompts: number;
  /** Min over prompts and positions of the logit cosine. */
  minLogitCosine: number;
  /** Min over prompts of the last position's logit cosine. */
  minLastLogitCosine: number;
  maxLogitAbsErr: number;
  argmaxAgree: number;
  argmaxPositions: number;
  steps: number;
  /** Min over prompts of the leading identical greedy tokens. */
  minAgreed: number;
  /** Min over prompts of GreedyComparison.minMargin (null when steps = 0). */
  minMargin: number | null;
  /** The layer output with the lowest cosine, over all prompts. */
  worstStage: { prompt: string; label: string; cosine: number } | null;
}

export interface EvalReport {
  model: {
    family: ModelSpec['family'];
    architecture: string;
    layers: number;
    hidden: number;
    heads: number;
    kvHeads: number;
    vocab: number;
    activation: ModelSpec['activation'];
    weightStorage: ModelSpec['weightStorage'];
    tiedEmbeddings: boolean;
    dtype: string | null;
  };
  /** The TensorFlow.js backend the reference ran on. */
  referenceBackend: string;
  steps: number;
  prompts: PromptReport[];
  summary: EvalSummary;
}

export interface EvalOptions {
  /** Greedy tokens to generate per prompt (default 16). */
  steps?: number;
  /** Also run the float reference with each storage-format ablation. */
  ablations?: boolean;
  /** Called before each prompt. */
  progress?: (done: number, total: number, what: string) => void;
}

/** The storage-format ablations `--ablations` runs, one at a time and all together. */
export const ABLATIONS: readonly { name: string; ablations: ReferenceAblations }[] = [
  { name: 'bf16 embedding', ablations: { bf16Embedding: true } },
  { name: 'binary16 q/k/v', ablations: { f16Qkv: true } },
  { name: 'int8 head', ablations: { int8Head: true } },
  { name: 'all three', ablations: { bf16Embedding: true, f16Qkv: true, int8Head: true } },
];

type StageKey = string;
const key = (stage: string, layer: number): StageKey => `${stage}:${layer}`;

/**
 * Evaluate golden against float on the prompts. The golden model's context length must hold
 * the longest prompt plus steps - 1 tokens (see checkPrompts). The models are left open.
 */
export async function evaluate(
  golden: GoldenModel,
  reference: FloatReference,
  prompts: readonly EvalPrompt[],
  opts: EvalOptions = {},
): Promise<EvalReport> {
  const steps = opts.steps ?? DEFAULT_EVAL_STEPS;
  const spec = golden.spec;
  const reports: PromptReport[] = [];
  for (let i = 0; i < prompts.length; i++) {
    opts.progress?.(i, prompts.length, prompts[i]!.name);
    reports.push(await evaluatePrompt(golden, reference, prompts[i]!, steps, opts.ablations === true));
  }
  opts.progress?.(prompts.length, prompts.length, 'done');
  return {
    model: {
      family: spec.family,
      architecture: spec.architecture,
      layers: spec.numLayers,
      hidden: spec.hiddenSize,
      heads: spec.numHeads,
      kvHeads: spec.numKvHeads,
      vocab: spec.vocabSize,
      activation: spec.activation,
      weightStorage: spec.weightStorage,
      tiedEmbeddings: spec.tiedEmbeddings,
      dtype: spec.dtype,
    },
    referenceBackend: reference.backend,
    steps,
    prompts: reports,
    summary: summarize(reports, steps),
  };
}

async function evaluatePrompt(
  golden: GoldenModel,
  reference: FloatReference,
  prompt: EvalPrompt,
  steps: number,
  withAblations: boolean,
): Promise<PromptReport> {
  const spec = golden.spec;
  const h = spec.hiddenSize;
  const n = prompt.ids.length;

  // Golden prefill, traced. The trace hands out views that are reused: copy.
  golden.reset();
  const goldenStages = new Map<StageKey, Float32Array>();
  const goldenLogits = golden.prefill(prompt.ids, {
    allLogits: true,
    trace: (layer, stage, t, values) => {
      const k = key(stage, layer);
      let buf = goldenStages.get(k);
      if (!buf) goldenStages.set(k, (buf = new Float32Array(n * h)));
      buf.set(values.subarray(0, h), t * h);
    },
  });

  // Float forward over the same prompt, traced.
  const floatStages = new Map<StageKey, Float32Array>();
  const floatLogits = await reference.forward(prompt.ids, {
    trace: (layer, stage, values) => floatStages.set(key(stage, layer), values),
  });

  const stages: StageComparison[] = [];
  const order: [StageComparison['stage'], number, string][] = [
    ['embed', -1, 'embed'],
    ...Array.from({ length: spec.numLayers }, (_, l) => ['layer_out', l, `layer ${l}`] as [StageComparison['stage'], number, string]),
    ['final_norm', spec.numLayers, 'final norm'],
  ];
  for (const [stage, layer, label] of order) {
    const g = goldenStages.get(key(stage, layer));
    const f = floatStages.get(key(stage, layer));
    if (!g || !f) continue;
    let minPositionCosine = 1;
    for (let t = 0; t < n; t++) {
      minPositionCosine = Math.min(minPositionCosine, cosine(g.subarray(t * h, (t + 1) * h), f.subarray(t * h, (t + 1) * h)));
    }
    stages.push({ label, stage, layer: stage === 'layer_out' ? layer : null, ...compareVectors(g, f), minPositionCosine });
  }

  const logits = compareLogits(goldenLogits, floatLogits);
  const greedy = await compareGreedy(golden, reference, prompt.ids, steps, goldenLogits[n - 1]!, floatLogits[n - 1]!);

  const report: PromptReport = { name: prompt.name, ids: [...prompt.ids], stages, logits, greedy };
  if (prompt.text !== undefined) report.text = prompt.text;
  if (withAblations) {
    report.ablations = [];
    const gFinal = goldenStages.get(key('final_norm', spec.numLayers))!;
    for (const a of ABLATIONS) {
      let fFinal: Float32Array | null = null;
      const al = await reference.forward(prompt.ids, {
        ablations: a.ablations,
        trace: (_l, stage, values) => {
          if (stage === 'final_norm') fFinal = values;
        },
      });
      const lc = compareLogits(goldenLogits, al);
      report.ablations.push({
        name: a.name,
        ablations: a.ablations,
        finalNorm: compareVectors(gFinal, fFinal!),
        logitsMinCosine: lc.minCosine,
        logitsMaxAbsErr: lc.maxAbsErr,
      });
    }
  }
  return report;
}

function compareLogits(golden: Float32Array[], float: Float32Array[]): LogitsComparison {
  const n = golden.length;
  const V = golden[0]!.length;
  const g = new Float32Array(n * V);
  const f = new Float32Array(n * V);
  let minCosine = 1;
  let argmaxAgree = 0;
  const argmaxGolden: number[] = [];
  const argmaxFloat: number[] = [];
  for (let t = 0; t < n; t++) {
    g.set(golden[t]!, t * V);
    f.set(float[t]!, t * V);
    minCosine = Math.min(minCosine, cosine(golden[t]!, float[t]!));
    argmaxGolden.push(argmax(golden[t]!));
    argmaxFloat.push(argmax(float[t]!));
    if (argmaxGolden[t] === argmaxFloat[t]) argmaxAgree++;
  }
  const all = compareVectors(g, f);
  return {
    positions: n,
    cosine: all.cosine,
    minCosine,
    lastCosine: cosine(golden[n - 1]!, float[n - 1]!),
    maxAbsErr: all.maxAbsErr,
    refMaxAbs: all.refMaxAbs,
    argmaxGolden,
    argmaxFloat,
    argmaxAgree,
  };
}

async function compareGreedy(
  golden: GoldenModel,
  reference: FloatReference,
  prompt: readonly number[],
  steps: number,
  goldenFirst: Float32Array,
  floatFirst: Float32Array,
): Promise<GreedyComparison> {
  const gTokens: number[] = [];
  const fTokens: number[] = [];
  const gMargins: number[] = [];
  const fMargins: number[] = [];
  let divergence: GreedyDivergence | null = null;
  let gLogits = goldenFirst;
  let fLogits = floatFirst;
  for (let s = 0; s < steps; s++) {
    if (s > 0) {
      gLogits = golden.decode(gTokens[s - 1]!);
      fLogits = (await reference.forward([...prompt, ...fTokens], { logits: 'last' }))[0]!;
    }
    const g = topTwo(gLogits);
    const f = topTwo(fLogits);
    gTokens.push(g.top1);
    fTokens.push(f.top1);
    gMargins.push(g.margin);
    fMargins.push(f.margin);
    if (!divergence && g.top1 !== f.top1) {
      divergence = {
        step: s,
        golden: g.top1,
        float: f.top1,
        floatGap: fLogits[f.top1]! - fLogits[g.top1]!,
        goldenGap: gLogits[g.top1]! - gLogits[f.top1]!,
      };
    }
  }
  const agreed = leadingAgreement(gTokens, fTokens);
  let minMargin: number | null = null;
  for (let s = 0; s <= Math.min(agreed, steps - 1); s++) {
    minMargin = Math.min(minMargin ?? Infinity, gMargins[s]!, fMargins[s]!);
  }
  return { steps, golden: gTokens, float: fTokens, agreed, goldenMargins: gMargins, floatMargins: fMargins, minMargin, divergence };
}

function summarize(prompts: readonly PromptReport[], steps: number): EvalSummary {
  let worstStage: EvalSummary['worstStage'] = null;
  let minMargin: number | null = null;
  for (const p of prompts) {
    for (const s of p.stages) {
      if (s.stage === 'embed') continue;
      if (!worstStage || s.cosine < worstStage.cosine) worstStage = { prompt: p.name, label: s.label, cosine: s.cosine };
    }
    if (p.greedy.minMargin !== null) minMargin = Math.min(minMargin ?? Infinity, p.greedy.minMargin);
  }
  return {
    prompts: prompts.length,
    minLogitCosine: Math.min(...prompts.map((p) => p.logits.minCosine)),
    minLastLogitCosine: Math.min(...prompts.map((p) => p.logits.lastCosine)),
    maxLogitAbsErr: Math.max(...prompts.map((p) => p.logits.maxAbsErr)),
    argmaxAgree: prompts.reduce((n, p) => n + p.logits.argmaxAgree, 0),
    argmaxPositions: prompts.reduce((n, p) => n + p.logits.positions, 0),
    steps,
    minAgreed: Math.min(...prompts.map((p) => p.greedy.agreed)),
    minMargin,
    worstStage,
  };
}

export interface EvalThresholds {
  /** Every prompt position's logit cosine must be at least this. */
  minCosine?: number;
  /** Every prompt's greedy generation must agree for at least this many leading tokens. */
  minAgree?: number;
}

/** The thresholds a report misses, as sentences (empty when all are met). */
export function thresholdFailures(report: EvalReport, t: EvalThresholds): string[] {
  const out: string[] = [];
  if (t.minCosine !== undefined) {
    for (const p of report.prompts) {
      if (!(p.logits.minCosine >= t.minCosine)) {
        out.push(`prompt "${p.name}": logit cosine ${p.logits.minCosine.toFixed(6)} < --min-cosine ${t.minCosine}`);
      }
    }
  }
  if (t.minAgree !== undefined) {
    for (const p of report.prompts) {
      if (p.greedy.agreed < t.minAgree) {
        const d = p.greedy.divergence;
        const where = d ? ` (step ${d.step}: golden ${d.golden}, float ${d.float}; float gap ${d.floatGap.toFixed(4)})` : '';
        out.push(`prompt "${p.name}": ${p.greedy.agreed} greedy tokens agree < --min-agree ${t.minAgree}${where}`);
      }
    }
  }
  return out;
}
