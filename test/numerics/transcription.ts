/**
 * A second transcription of the scalar arithmetic of docs/numerics.md (§2.1, §2.4, §3, §4, §5,
 * §9), written from the document and sharing no code with host/src/numerics, with every
 * constant and every rounding step exposed as a parameter. The targeted vectors
 * (vectors.test.ts) use it twice: the documented form must give the committed bits, and each
 * plausible wrong form (a constant one ulp off, a rounding left out, a product reassociated, a
 * sum reordered) must give a different bit on at least one committed vector. search-vectors.ts
 * found those vectors.
 */

/** The binary32 value with these bits. */
export function fromBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits >>> 0]).buffer)[0]!;
}

export function toBits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0]!;
}

/** f32(e): round to binary32, then flush a subnormal result to a zero of the same sign (§2.1). */
export function R(x: number): number {
  const r = Math.fround(x);
  return Math.abs(r) < 2 ** -126 ? r * 0 : r;
}

/** The next binary32 value up (+1) or down (−1) in bit-pattern order, for positive x. */
export function ulpStep(x: number, k: number): number {
  return fromBits(toBits(x) + k);
}

/** ⌊x⌉: nearest integer, ties to even (§2.2). */
export function nearestEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  const r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  return r === 0 && (x < 0 || Object.is(x, -0)) ? -0 : r;
}

// ---------- §3.1 exp ----------

export interface ExpForm {
  log2e: number;
  ln2hi: number;
  ln2lo: number;
  /** C0..C7. */
  c: number[];
  /** n from the product x·LOG2E unrounded. */
  fuseN?: boolean;
  /** r = f32(x − n·LN2_HI − n·LN2_LO) in one rounding. */
  fuseR?: boolean;
  /** Horner steps as one rounding (fused multiply-add). */
  fuseHorner?: boolean;
  /** The overflow cut at x ≥ 88 instead of x > 88. */
  cutAtOrAbove?: boolean;
  /** The underflow cut at n < −125 / n ≤ −126 etc.: return +0 when n < underflowN. */
  underflowN?: number;
}

export const EXP_DOC: ExpForm = {
  log2e: fromBits(0x3fb8aa3b),
  ln2hi: fromBits(0x3f317200),
  ln2lo: fromBits(0x35bfbe8e),
  c: [1, 1, 0.5, fromBits(0x3e2aaaab), fromBits(0x3d2aaaab), fromBits(0x3c088889), fromBits(0x3ab60b61), fromBits(0x39500d01)],
};

/** The wrong forms of exp that the targeted vectors must tell apart from the documented one. */
export function expForms(): [string, ExpForm][] {
  const forms: [string, ExpForm][] = [];
  const named = { log2e: 'LOG2E', ln2hi: 'LN2_HI', ln2lo: 'LN2_LO' } as const;
  for (const k of ['log2e', 'ln2hi', 'ln2lo'] as const) {
    for (const d of [1, -1]) forms.push([`${named[k]} ${d > 0 ? '+' : '-'}1 ulp`, { ...EXP_DOC, [k]: ulpStep(EXP_DOC[k], d) }]);
  }
  for (let k = 2; k <= 7; k++) {
    for (const d of [1, -1]) {
      const c = [...EXP_DOC.c];
      c[k] = ulpStep(c[k]!, d);
      forms.push([`C${k} (1/${[1, 1, 2, 6, 24, 120, 720, 5040][k]}) ${d > 0 ? '+' : '-'}1 ulp`, { ...EXP_DOC, c }]);
    }
  }
  forms.push(['n from x*LOG2E unrounded', { ...EXP_DOC, fuseN: true }]);
  forms.push(['r in one rounding', { ...EXP_DOC, fuseR: true }]);
  forms.push(['Horner as fused multiply-adds', { ...EXP_DOC, fuseHorner: true }]);
  forms.push(['degree 6 (no C7 term)', { ...EXP_DOC, c: [...EXP_DOC.c.slice(0, 7), 0] }]);
  forms.push(['overflow cut at x >= 88', { ...EXP_DOC, cutAtOrAbove: true }]);
  forms.push(['underflow cut at n < -125', { ...EXP_DOC, underflowN: -125 }]);
  // (A cut at n < -127 is equivalent: p·2^-127 < 2^-126 is flushed to +0 anyway.)
  return forms;
}

export function expT(x: number, f: ExpForm = EXP_DOC): number {
  if (Number.isNaN(x)) return NaN;
  if (f.cutAtOrAbove ? x >= 88 : x > 88) return Infinity;
  const n = nearestEven(f.fuseN ? x * f.log2e : R(x * f.log2e));
  if (n < (f.underflowN ?? -126)) return 0;
  const r = f.fuseR ? R(x - n * f.ln2hi - n * f.ln2lo) : R(R(x - R(n * f.ln2hi)) - R(n * f.ln2lo));
  let p = f.c[7]!;
  for (let k = 6; k >= 0; k--) p = f.fuseHorner ? R(p * r + f.c[k]!) : R(R(p * r) + f.c[k]!);
  return R(p * 2 ** n);
}

// ---------- §3.2, §3.3 ----------

export interface FnForm {
  exp?: (x: number) => number;
  /** rsqrt: 1/√x in one rounding. */
  fuseRsqrt?: boolean;
  /** sigmoid: 1 + exp not rounded before the division. */
  fuseSigmoid?: boolean;
  /** SiLU as x / (1 + exp(−x)) (one rounding fewer). */
  siluByDivision?: boolean;
  /** ReLU² gate: r·r·u with one rounding / as r·(r·u). */
  relu2Form?: 'doc' | 'fused' | 'reassociated';
  /** SiLU gate: silu(g)·u fused with the x·sigmoid product. */
  siluGateFused?: boolean;
}

export function rsqrtT(x: number, f: FnForm = {}): number {
  return f.fuseRsqrt ? R(1 / Math.sqrt(x)) : R(1 / R(Math.sqrt(x)));
}

export function sigmoidT(x: number, f: FnForm = {}): number {
  const e = (f.exp ?? expT)(-x);
  return f.fuseSigmoid ? R(1 / (1 + e)) : R(1 / R(1 + e));
}

export function siluT(x: number, f: FnForm = {}): number {
  if (f.siluByDivision) return R(x / R(1 + (f.exp ?? expT)(-x)));
  return R(x * sigmoidT(x, f));
}

export function relu2GateT(g: number, u: number, f: FnForm = {}): number {
  const r = Math.max(g, 0);
  switch (f.relu2Form ?? 'doc') {
    case 'doc':
      return R(R(r * r) * u);
    case 'fused':
      return R(r * r * u);
    case 'reassociated':
      return R(r * R(r * u));
  }
}

export function siluGateT(g: number, u: number, f: FnForm = {}): number {
  if (f.siluGateFused) return R(g * sigmoidT(g, f) * u);
  return R(siluT(g, f) * u);
}

// ---------- §4 quantiser and dequantisation, §9 head ----------

export const FLOOR = fromBits(0x3727c5ac);

export type ScaleForm = 'doc' | 'reassociated' | 'fused' | 'divideFirst';

/** s = f32(127 ÷ max(amax, FLOOR)); variant: 127 × f32(1 ÷ amax_c). */
export function quantMultiplierT(amax: number, viaReciprocal = false): number {
  const a = Math.max(amax, FLOOR);
  return viaReciprocal ? R(127 * R(1 / a)) : R(127 / a);
}

/** q = clamp(⌊f32(x × s)⌉, −127, 127); variant: the product not rounded first. */
export function quantizeT(x: number, s: number, fuse = false): number {
  const q = nearestEven(fuse ? x * s : R(x * s));
  return Math.min(127, Math.max(-127, q));
}

/** c = f32(f32(amax_c × w_s) ÷ 127) and its wrong forms. */
export function dequantFactorT(amax: number, ws: number, form: ScaleForm = 'doc'): number {
  const a = Math.max(amax, FLOOR);
  switch (form) {
    case 'doc':
      return R(R(a * ws) / 127);
    case 'reassociated':
      return R(a * R(ws / 127));
    case 'divideFirst':
      return R(R(a / 127) * ws);
    case 'fused':
      return R((a * ws) / 127);
  }
}

/** c_r = f32(f32(amax_c(x) × max(rowAmax, FLOOR)) ÷ 16129) and its wrong forms. */
export function headFactorT(amaxX: number, rowAmax: number, form: ScaleForm | 'twice127' = 'doc'): number {
  const a = Math.max(amaxX, FLOOR);
  const b = Math.max(rowAmax, FLOOR);
  switch (form) {
    case 'doc':
      return R(R(a * b) / 16129);
    case 'reassociated':
      return R(a * R(b / 16129));
    case 'divideFirst':
      return R(R(a / 16129) * b);
    case 'fused':
      return R((a * b) / 16129);
    case 'twice127':
      return R(R(R(a * b) / 127) / 127);
  }
}

// ---------- §2.4 reductions ----------

export type ReduceForm = 'doc' | 'fusedProduct' | 'stridedTree' | 'sequentialLanes' | 'sequential' | 'blockLanes';

/** Σ term_i over 16 lanes (term_i = f32(a_i × b_i), or a_i when b is null) and its wrong orders. */
export function sum16T(a: ArrayLike<number>, b: ArrayLike<number> | null, form: ReduceForm = 'doc'): number {
  const n = a.length;
  const term = (i: number) => (b === null ? a[i]! : form === 'fusedProduct' ? a[i]! * b[i]! : R(a[i]! * b[i]!));
  if (form === 'sequential') {
    let s = 0;
    for (let i = 0; i < n; i++) s = R(s + term(i));
    return s;
  }
  const L = new Array<number>(16).fill(0);
  const per = Math.ceil(n / 16);
  for (let i = 0; i < n; i++) {
    const lane = form === 'blockLanes' ? Math.floor(i / per) : i % 16;
    L[lane] = R(L[lane]! + term(i));
  }
  if (form === 'sequentialLanes') return L.reduce((s, v) => R(s + v), 0);
  let level = L;
  while (level.length > 1) {
    const half = level.length / 2;
    level =
      form === 'stridedTree'
        ? Array.from({ length: half }, (_, i) => R(level[i]! + level[i + half]!))
        : Array.from({ length: half }, (_, i) => R(level[2 * i]! + level[2 * i + 1]!));
  }
  return level[0]!;
}

// ---------- §5 RMS-MAX ----------

export interface RmsForm {
  /** ms = f32(ss ÷ n) instead of f32(ss × f32(1 ÷ n)). */
  divideByN?: boolean;
  /** eps added unscaled (no 2^−2E). */
  epsUnscaled?: boolean;
  /** y = f32(z × f32(r × w)) instead of f32(f32(z × r) × w). */
  weightFirst?: boolean;
  /** No power-of-two pre-scaling (E = 0 always). */
  noPrescale?: boolean;
}

/** Returns [y, amax]. */
export function rmsMaxT(x: ArrayLike<number>, w: ArrayLike<number>, eps: number, f: RmsForm = {}): [number[], number] {
  const n = x.length;
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(x[i]!));
  // E with |m|·2^−E ∈ [0.5, 1), from the exponent field; never negative.
  let E = 0;
  if (m !== 0 && !f.noPrescale) {
    const biased = (toBits(m) >>> 23) & 0xff;
    E = Math.max(0, biased - 126);
  }
  const z = Array.from(x, (v) => R(v * 2 ** -E));
  const ss = sum16T(z, z);
  const ms = f.divideByN ? R(ss / n) : R(ss * R(1 / n));
  const e = R(Math.fround(eps) * (f.epsUnscaled ? 1 : 2 ** (-2 * E)));
  const r = rsqrtT(R(ms + e));
  const y = z.map((v, i) => (f.weightFirst ? R(v * R(r * w[i]!)) : R(R(v * r) * w[i]!)));
  return [y, y.reduce((a, v) => Math.max(a, Math.abs(v)), 0)];
}

// ---------- the catalogue of wrong forms ----------

export type Value = number | number[];

export interface Form {
  /** The documented computation. */
  doc: (...args: Value[]) => Value;
  /** A plausible wrong implementation of it. */
  wrong: (...args: Value[]) => Value;
}

const n = (v: Value) => v as number;
const a = (v: Value) => v as number[];

function catalogue(): Record<string, Form> {
  const forms: Record<string, Form> = {};
  for (const [name, f] of expForms()) forms[`exp: ${name}`] = { doc: (x) => expT(n(x)), wrong: (x) => expT(n(x), f) };
  forms['rsqrt: one rounding'] = { doc: (x) => rsqrtT(n(x)), wrong: (x) => rsqrtT(n(x), { fuseRsqrt: true }) };
  forms['sigmoid: 1 + exp unrounded'] = { doc: (x) => sigmoidT(n(x)), wrong: (x) => sigmoidT(n(x), { fuseSigmoid: true }) };
  forms['silu: x / (1 + exp(-x))'] = { doc: (x) => siluT(n(x)), wrong: (x) => siluT(n(x), { siluByDivision: true }) };
  forms['relu2 gate: r*r*u in one rounding'] = { doc: (g, u) => relu2GateT(n(g), n(u)), wrong: (g, u) => relu2GateT(n(g), n(u), { relu2Form: 'fused' }) };
  forms['relu2 gate: r*(r*u)'] = { doc: (g, u) => relu2GateT(n(g), n(u)), wrong: (g, u) => relu2GateT(n(g), n(u), { relu2Form: 'reassociated' }) };
  forms['silu gate: g*sigmoid(g)*u in one rounding'] = { doc: (g, u) => siluGateT(n(g), n(u)), wrong: (g, u) => siluGateT(n(g), n(u), { siluGateFused: true }) };
  for (const form of ['reassociated', 'divideFirst', 'fused'] as const) {
    forms[`dequant factor: ${form}`] = { doc: (x, w) => dequantFactorT(n(x), n(w)), wrong: (x, w) => dequantFactorT(n(x), n(w), form) };
  }
  for (const form of ['reassociated', 'divideFirst', 'fused', 'twice127'] as const) {
    forms[`head factor: ${form}`] = { doc: (x, r) => headFactorT(n(x), n(r)), wrong: (x, r) => headFactorT(n(x), n(r), form) };
  }
  forms['quant multiplier: 127 * (1 / amax)'] = { doc: (x) => quantMultiplierT(n(x)), wrong: (x) => quantMultiplierT(n(x), true) };
  forms['quantise: x*s unrounded'] = {
    doc: (x, m) => quantizeT(n(x), quantMultiplierT(n(m))),
    wrong: (x, m) => quantizeT(n(x), quantMultiplierT(n(m)), true),
  };
  for (const form of ['fusedProduct', 'stridedTree', 'sequentialLanes', 'sequential', 'blockLanes'] as const) {
    forms[`dot16: ${form}`] = { doc: (x, y) => sum16T(a(x), a(y)), wrong: (x, y) => sum16T(a(x), a(y), form) };
    forms[`sumSquares16: ${form}`] = { doc: (x) => sum16T(a(x), a(x)), wrong: (x) => sum16T(a(x), a(x), form) };
    if (form !== 'fusedProduct') forms[`sum16: ${form}`] = { doc: (x) => sum16T(a(x), null), wrong: (x) => sum16T(a(x), null, form) };
  }
  const rms: [string, RmsForm][] = [
    ['ms = ss / n', { divideByN: true }],
    ['eps not scaled by 2^-2E', { epsUnscaled: true }],
    ['y = z * (r * w)', { weightFirst: true }],
  ];
  for (const [name, f] of rms) {
    forms[`rms-max: ${name}`] = { doc: (x, w) => rmsMaxT(a(x), a(w), 1e-5)[0], wrong: (x, w) => rmsMaxT(a(x), a(w), 1e-5, f)[0] };
  }
  return forms;
}

/** Every wrong form by name ("<primitive>: <what is wrong>"). */
export const FORMS: Readonly<Record<string, Form>> = catalogue();
