/**
 * A deliberately plain float64 forward pass of a BitNet checkpoint (HF semantics, §1.2 of the
 * checkpoint reference), used only to check that generated test models have comfortable top-1
 * margins. `perturb` is applied to every activation before it is quantised, to emulate another
 * implementation's rounding (e.g. bf16 activations); it is not the project's golden model.
 */

import type { Checkpoint, TernaryMatrix } from '../../host/src/checkpoint/types.js';
import { LINEAR_NAMES, type LinearName } from '../../host/src/model/spec.js';

type Vec = Float64Array;

export interface ForwardOptions {
  /** Per-token int8 absmax fake quantisation of every BitLinear input. */
  actQuant: boolean;
  /** Applied to each BitLinear input (before quantisation). */
  perturb?: (x: number) => number;
  /** Applied to every cached key and value element (e.g. binary16 rounding of a KV cache). */
  kvRound?: (x: number) => number;
  /** LM head with int8 weights (per-row absmax) and int8 input (per-token absmax). */
  int8Head?: boolean;
  /** Skip every decoder layer (embedding -> final norm -> head), to measure what the layers add. */
  skipLayers?: boolean;
}

interface Layer {
  lin: Record<LinearName, TernaryMatrix>;
  norms: Record<string, Float32Array | null>;
}

export class FloatModel {
  private readonly layers: Layer[] = [];
  private readonly embed: Float32Array;
  private readonly head: Float32Array;
  private readonly finalNorm: Float32Array;

  constructor(private readonly ck: Checkpoint) {
    for (let l = 0; l < ck.spec.numLayers; l++) {
      const lin = {} as Record<LinearName, TernaryMatrix>;
      for (const n of LINEAR_NAMES) lin[n] = ck.linear(l, n);
      this.layers.push({
        lin,
        norms: {
          input: ck.layerNorm(l, 'input'),
          post_attention: ck.layerNorm(l, 'post_attention'),
          attn_sub: ck.layerNorm(l, 'attn_sub'),
          ffn_sub: ck.layerNorm(l, 'ffn_sub'),
        },
      });
    }
    this.embed = ck.embedding().data;
    this.head = ck.lmHead().data;
    this.finalNorm = ck.finalNorm();
  }

  private rms(x: Vec, w: Float32Array): Vec {
    let ss = 0;
    for (let i = 0; i < x.length; i++) ss += x[i]! * x[i]!;
    const r = 1 / Math.sqrt(ss / x.length + this.ck.spec.rmsNormEps);
    return Float64Array.from(x, (v, i) => v * r * w[i]!);
  }

  private linear(m: TernaryMatrix, xIn: Vec, o: ForwardOptions): Vec {
    let x = o.perturb ? xIn.map(o.perturb) : xIn;
    if (o.actQuant) {
      let amax = 0;
      for (const v of x) amax = Math.max(amax, Math.abs(v));
      const s = 127 / Math.max(amax, 1e-5);
      x = x.map((v) => Math.max(-128, Math.min(127, Math.round(v * s))) / s);
    }
    const y = new Float64Array(m.rows);
    for (let r = 0; r < m.rows; r++) {
      let acc = 0;
      const off = r * m.cols;
      for (let c = 0; c < m.cols; c++) acc += m.values[off + c]! * x[c]!;
      y[r] = acc * m.scale;
    }
    return y;
  }

  private rope(v: Vec, heads: number, pos: number): void {
    const d = this.ck.spec.headDim;
    const half = d / 2;
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < half; i++) {
        const f = pos * Math.pow(this.ck.spec.ropeTheta, (-2 * i) / d);
        const c = Math.cos(f);
        const s = Math.sin(f);
        const a = v[h * d + i]!;
        const b = v[h * d + i + half]!;
        v[h * d + i] = a * c - b * s;
        v[h * d + i + half] = b * c + a * s;
      }
    }
  }

  /** Logits of the last position for the whole sequence (recomputed; tiny models only). */
  logits(ids: number[], o: ForwardOptions): Float64Array {
    const sp = this.ck.spec;
    const hdim = sp.hiddenSize;
    const d = sp.headDim;
    let xs: Vec[] = ids.map((id) => Float64Array.from(this.embed.subarray(id * hdim, (id + 1) * hdim)));
    for (const L of o.skipLayers ? [] : this.layers) {
      const ks: Vec[] = [];
      const vs: Vec[] = [];
      const qs: Vec[] = [];
      xs.forEach((x, pos) => {
        const a = this.rms(x, L.norms['input']!);
        const q = this.linear(L.lin.q_proj, a, o);
        const k = this.linear(L.lin.k_proj, a, o);
        this.rope(q, sp.numHeads, pos);
        this.rope(k, sp.numKvHeads, pos);
        const v = this.linear(L.lin.v_proj, a, o);
        qs.push(q);
        ks.push(o.kvRound ? k.map(o.kvRound) : k);
        vs.push(o.kvRound ? v.map(o.kvRound) : v);
      });
      const group = sp.numHeads / sp.numKvHeads;
      xs = xs.map((x, pos) => {
        let att: Vec = new Float64Array(sp.numHeads * d);
        for (let h = 0; h < sp.numHeads; h++) {
          const g = Math.floor(h / group);
          const scores = [];
          for (let t = 0; t <= pos; t++) {
            let s = 0;
            for (let i = 0; i < d; i++) s += qs[pos]![h * d + i]! * ks[t]![g * d + i]!;
            scores.push(s / Math.sqrt(d));
          }
          const mx = Math.max(...scores);
          const e = scores.map((s) => Math.exp(s - mx));
          const z = e.reduce((a, b) => a + b, 0);
          for (let t = 0; t <= pos; t++) for (let i = 0; i < d; i++) att[h * d + i]! += (e[t]! / z) * vs[t]![g * d + i]!;
        }
        if (L.norms['attn_sub']) att = this.rms(att, L.norms['attn_sub']);
        const y = Float64Array.from(x);
        const ao = this.linear(L.lin.o_proj, att, o);
        for (let i = 0; i < hdim; i++) y[i]! += ao[i]!;
        const m = this.rms(y, L.norms['post_attention']!);
        const gt = this.linear(L.lin.gate_proj, m, o);
        const up = this.linear(L.lin.up_proj, m, o);
        let hh: Vec = gt.map((gv, i) => (sp.activation === 'relu2' ? Math.max(gv, 0) ** 2 : gv / (1 + Math.exp(-gv))) * up[i]!);
        if (L.norms['ffn_sub']) hh = this.rms(hh, L.norms['ffn_sub']);
        const dn = this.linear(L.lin.down_proj, hh, o);
        for (let i = 0; i < hdim; i++) y[i]! += dn[i]!;
        return y;
      });
    }
    let xf = this.rms(xs[xs.length - 1]!, this.finalNorm);
    const q8 = (v: ArrayLike<number>) => {
      let amax = 0;
      for (let i = 0; i < v.length; i++) amax = Math.max(amax, Math.abs(v[i]!));
      const s = 127 / Math.max(amax, 1e-5);
      return Float64Array.from({ length: v.length }, (_, i) => Math.round(v[i]! * s) / s);
    };
    if (o.int8Head) xf = q8(xf);
    const out = new Float64Array(sp.vocabSize);
    for (let r = 0; r < sp.vocabSize; r++) {
      const row = o.int8Head ? q8(this.head.subarray(r * hdim, (r + 1) * hdim)) : this.head.subarray(r * hdim, (r + 1) * hdim);
      let s = 0;
      for (let c = 0; c < hdim; c++) s += row[c]! * xf[c]!;
      out[r] = s;
    }
    return out;
  }

  /** Greedy continuation: the tokens and each step's top-1 minus top-2 logit margin. */
  greedy(prompt: number[], steps: number, o: ForwardOptions): { tokens: number[]; margins: number[]; std: number[] } {
    const ids = [...prompt];
    const tokens: number[] = [];
    const margins: number[] = [];
    const std: number[] = [];
    for (let s = 0; s < steps; s++) {
      const l = this.logits(ids, o);
      let best = 0;
      for (let i = 1; i < l.length; i++) if (l[i]! > l[best]!) best = i;
      let second = -Infinity;
      for (let i = 0; i < l.length; i++) if (i !== best && l[i]! > second) second = l[i]!;
      const mean = l.reduce((a, b) => a + b, 0) / l.length;
      std.push(Math.sqrt(l.reduce((a, b) => a + (b - mean) ** 2, 0) / l.length));
      margins.push(l[best]! - second);
      tokens.push(best);
      ids.push(best);
    }
    return { tokens, margins, std };
  }
}
