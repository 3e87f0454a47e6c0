/**
 * Resource estimate of a build (docs/performance-model.md §4).
 *
 * The TLMM core follows the paper's cost equations (v2 eqs. 1-3):
 *   LUT_PRE = T * N_pre * LUT_tree      (table precompute; DSP adds in the released code, so only
 *                                        the 13 mirrored negations per table cost LUTs)
 *   LUT_TB  = T * Q * N_TB * LUT_entry  (27-entry tables duplicated Q times, x2 for ping-pong)
 *   LUT_LPL = T * Q * LUT_lp            (lookup paths: read port + adder-tree share)
 * with the per-unit constants below; LUT_lp is calibrated so that T=28, Q=16 gives the paper's
 * full-storage TLMM core (23,082 LUT, v2 Table 4). Everything else is the paper's per-module
 * Table 3 figure scaled by the one parameter that changes, half fixed and half proportional (a
 * stated assumption, not a synthesis result). The URAM count is exact for the weight buffer
 * (eq. 9 generalised: c * Q/2 * depth) and sized from the maxima for the attention buffers.
 */
import type { LoadedHwConfig } from '../hwconfig/types.js';

export interface Cost {
  value: number;
  source: string;
}

/** Every constant of the resource model, with where it comes from. */
export const COSTS = {
  lutPrePerTable: { value: 130, source: '[inferred] 13 mirrored 10-bit negations per table; the 13 sums use DSP SIMD adds (generate_table_simd)' },
  lutPerTableCopy: { value: 10, source: '[inferred] one 27-entry x 10-bit table copy in RAM32X1S LUTRAM = 1 LUT per bit (N_TB * LUT_entry)' },
  lutPerLookupPath: { value: 33.4, source: 'calibrated: eqs. 1-3 with T=28, Q=16 reproduce the full-storage TLMM core of 23,082 LUT (v2 Table 4, secondary)' },
  dspPrecomputePerTable: { value: 3, source: "authors' code: three packed-SIMD adds in DSPs per table" },
  fusePeripheryLut: { value: 20055, source: 'TLMM-FUSE 43,137 LUT (v2 Table 3, secondary) minus the 23,082-LUT core: quant/dequant, RoPE, SiLU, residual, stream resizer at 16 lanes' },
  fusePeripheryDsp: { value: 236, source: 'TLMM-FUSE 320 DSP minus 84 precompute DSP (3 x 28)' },
  runtimeShapesLut: { value: 1500, source: 'assumed: run-time dimension registers, GQA head mapping, ReLU2/SiLU select' },
  fp32PeripheryLutFactor: { value: 1.1, source: 'assumed: binary32 instead of fp16 element-wise units (docs/numerics.md §1) add ~10 % LUT to the periphery' },
  fp32PeripheryDspFactor: { value: 1.5, source: 'assumed: a binary32 multiplier takes 3 DSP48E2 against 1 for fp16; adders and the int paths do not change' },
  parallelActivationLut: { value: 700, source: 'assumed: 84-byte wide activation register and its write logic' },
  rpaLut: { value: 18072, source: 'RPA 18,072 LUT at N_pe=8, 16 lanes, II=4 (v2 Table 3, secondary)' },
  rpaDsp: { value: 115, source: 'RPA 115 DSP (v2 Table 3, secondary)' },
  daLut: { value: 9570, source: 'DA 9,570 LUT at 16 lanes (v2 Table 3, secondary)' },
  daDsp: { value: 123, source: 'DA 123 DSP (v2 Table 3, secondary)' },
  wbmuLut: { value: 6885, source: 'WBMU 6,885 LUT for 768-bit beats (v2 Table 3, secondary); scaled with the beat width' },
  denseGearboxLut: { value: 1200, source: 'assumed: beat-to-vector gearbox (beat + 140-bit shift register and mux) for dense packing' },
  doubleBufferLut: { value: 300, source: 'assumed: buffer-half select and load/compute handshake' },
  axiPortLut: { value: 2000, source: 'assumed: one 256-bit m_axi adapter with burst/outstanding logic; scaled with its width' },
  paperAxiPorts: { value: 4, source: "authors' code: m_axi bundles inout1..inout4" },
  controlLut: { value: 12639, source: 'remainder of the paper total (98,303 LUT) after the modules above and 4 x 2,000 for the m_axi ports: RMS-MAX, control, AXI-Lite' },
  controlDsp: { value: 52, source: 'remainder of the paper total (610 DSP): RMS-MAX fp32 accumulate/rsqrt' },
  lmHeadBaseLut: { value: 2500, source: 'assumed: int8 GEMV control, fp32 scale multiply, logits writer' },
  lmHeadLutPerMac: { value: 20, source: 'assumed: accumulator/reduction adders per int8 MAC lane' },
  lmHeadDspExtra: { value: 3, source: 'assumed: fp32 per-row scale multiply' },
  ffPerLut: { value: 136721 / 98303, source: 'paper ratio FF/LUT (137K / 98K, v2 Table 1)' },
  paperBram36: { value: 98.5, source: 'v2 Table 1: 98.5 BRAM36 for the whole paper design' },
  bramParallelActivation: { value: 10, source: '[inferred] 84 int8 = 672 bits per read = 10 BRAM36 side by side (depth <= 512)' },
  bramPerExtraPort: { value: 2, source: 'assumed: read-data FIFO of one more m_axi port' },
  bramLmHead: { value: 2, source: 'assumed: int8 row and logits FIFOs' },
  bramPerDaLaneBlock: { value: 4, source: 'assumed: per extra 16 decode-attention lanes, partitions of the alternating p*v banks' },
  uramDaScoresPaper: { value: 4, source: '[inferred] score FIFO 1024 x 16 heads x fp16 = 256-bit words = 4 URAMs wide' },
  uramRpaVPaper: { value: 8, source: '[inferred] remainder of the paper total (60 URAM) after the 48 + 4: RPA v_vecs' },
  scalingFixedShare: { value: 0.5, source: 'assumed: half of a scaled module is fixed (control, buffers), half proportional' },
} satisfies Record<string, Cost>;

export interface ModuleEstimate {
  module: string;
  lut: number;
  dsp: number;
  bram36: number;
  uram: number;
}

export interface ResourceEstimate {
  modules: ModuleEstimate[];
  lut: number;
  ff: number;
  dsp: number;
  bram36: number;
  uram: number;
  budget: { lut: number; ff: number; dsp: number; bram36: number; uram: number };
  utilisation: { lut: number; ff: number; dsp: number; bram36: number; uram: number };
  /** TLMM core by equation (for the doc and the paper comparison). */
  tlmmCore: { lutPre: number; lutTb: number; lutLpl: number; total: number };
  fits: boolean;
  problems: string[];
  /** Resources above 85 %: routable but risky. */
  warnings: string[];
}

function scaled(base: number, factor: number): number {
  const f = COSTS.scalingFixedShare.value;
  return base * (f + (1 - f) * factor);
}

export function estimateResources(hw: LoadedHwConfig): ResourceEstimate {
  const c = hw.config;
  const d = hw.derived;
  const T = d.tables;
  const Q = d.parallelVectors;
  const Bk = c.architecture.prefill_token_block;
  const copies = c.architecture.table_buffering === 'pingpong' ? 2 : 1;
  const lutPre = T * Bk * COSTS.lutPrePerTable.value;
  const lutTb = T * Q * Bk * copies * COSTS.lutPerTableCopy.value;
  const lutLpl = T * Q * Bk * COSTS.lutPerLookupPath.value;
  const lanes = c.architecture.elementwise_lanes / 16;
  const fp32 = c.architecture.activation_format === 'fp32';
  const fp32Lut = fp32 ? COSTS.fp32PeripheryLutFactor.value : 1;
  const fp32Dsp = fp32 ? COSTS.fp32PeripheryDspFactor.value : 1;
  const modules: ModuleEstimate[] = [];
  modules.push({ module: 'TLMM core (eqs. 1-3)', lut: lutPre + lutTb + lutLpl, dsp: T * Bk * COSTS.dspPrecomputePerTable.value, bram36: 0, uram: 0 });
  modules.push({
    module: 'TLMM-FUSE periphery',
    lut:
      scaled(COSTS.fusePeripheryLut.value, lanes) * fp32Lut +
      (c.architecture.runtime_shapes ? COSTS.runtimeShapesLut.value : 0) +
      (c.architecture.activation_read === 'parallel' ? COSTS.parallelActivationLut.value : 0),
    dsp: scaled(COSTS.fusePeripheryDsp.value, lanes) * fp32Dsp,
    bram36: c.architecture.activation_read === 'parallel' ? COSTS.bramParallelActivation.value : 0,
    uram: 0,
  });
  const at = c.attention;
  const rpaF = (at.prefill_pes * at.prefill_lanes) / at.prefill_ii / ((8 * 16) / 4);
  // RPA v buffer scales with the hidden size it must hold.
  const rpaUram = Math.ceil(COSTS.uramRpaVPaper.value * Math.max(1, c.maxima.hidden / 1536) * (at.prefill_pes / 8));
  modules.push({ module: 'prefill attention (RPA)', lut: scaled(COSTS.rpaLut.value, rpaF), dsp: scaled(COSTS.rpaDsp.value, rpaF), bram36: 0, uram: rpaUram });
  const daF = at.decode_lanes / 16;
  // Score buffer: heads x context fp16, 16 per 256-bit word (4 URAMs wide), 4096 words deep.
  const scoreWords = Math.ceil((c.maxima.heads * c.maxima.context) / 16);
  const daUram = Math.max(COSTS.uramDaScoresPaper.value, 4 * Math.ceil(scoreWords / c.uram.depth_words));
  modules.push({
    module: 'decode attention (DA)',
    lut: scaled(COSTS.daLut.value, daF),
    dsp: scaled(COSTS.daDsp.value, daF),
    bram36: Math.max(0, Math.ceil(at.decode_lanes / 16) - 1) * COSTS.bramPerDaLaneBlock.value,
    uram: daUram,
  });
  modules.push({
    module: 'weight buffer + loader (WBMU)',
    lut:
      scaled(COSTS.wbmuLut.value, d.beatBits / 768) +
      (c.architecture.beat_packing === 'dense' ? COSTS.denseGearboxLut.value : 0) +
      (c.architecture.double_buffering ? COSTS.doubleBufferLut.value : 0),
    dsp: 0,
    bram36: 0,
    uram: c.uram.weight_buffer_urams,
  });
  const ports = c.memory.weight_ports + 1; // weights + one port for activations/KV/RoPE
  const paperPorts = COSTS.paperAxiPorts.value;
  modules.push({
    module: 'control, RMS-MAX, AXI',
    lut: COSTS.controlLut.value + ports * COSTS.axiPortLut.value * (c.memory.axi_data_bits / 256),
    dsp: COSTS.controlDsp.value,
    bram36: COSTS.paperBram36.value + Math.max(0, ports - paperPorts) * COSTS.bramPerExtraPort.value,
    uram: 0,
  });
  if (c.lm_head.placement === 'fabric') {
    const macs = c.lm_head.fabric_macs_per_cycle;
    modules.push({
      module: 'LM head (fabric)',
      lut: COSTS.lmHeadBaseLut.value + macs * COSTS.lmHeadLutPerMac.value,
      dsp: Math.ceil(macs / 2) + COSTS.lmHeadDspExtra.value,
      bram36: COSTS.bramLmHead.value,
      uram: 0,
    });
  }
  const sum = (k: 'lut' | 'dsp' | 'bram36' | 'uram') => modules.reduce((a, m) => a + m[k], 0);
  const lut = Math.round(sum('lut'));
  const dsp = Math.round(sum('dsp'));
  const bram36 = Math.round(sum('bram36') * 2) / 2;
  const uram = sum('uram');
  const ff = Math.round(lut * COSTS.ffPerLut.value);
  const keep = 1 - (c.resources.reserved_fraction ?? 0);
  const budget = {
    lut: Math.floor(c.resources.lut * keep),
    ff: Math.floor(c.resources.ff * keep),
    dsp: Math.floor(c.resources.dsp * keep),
    bram36: Math.floor(c.resources.bram36 * keep),
    uram: Math.floor(c.resources.uram * keep),
  };
  const used = { lut, ff, dsp, bram36, uram };
  const utilisation = {
    lut: lut / budget.lut,
    ff: ff / budget.ff,
    dsp: dsp / budget.dsp,
    bram36: bram36 / budget.bram36,
    uram: budget.uram ? uram / budget.uram : Infinity,
  };
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const k of ['lut', 'ff', 'dsp', 'bram36', 'uram'] as const) {
    if (used[k] > budget[k]) problems.push(`${k.toUpperCase()} estimate ${used[k]} exceeds the ${budget[k]} available on ${c.board.device}`);
    else if (utilisation[k] > 0.85) warnings.push(`${k.toUpperCase()} estimate at ${(utilisation[k] * 100).toFixed(0)} % of the device (above 85 %: little headroom for placement and timing)`);
  }
  return {
    modules: modules.map((m) => ({ ...m, lut: Math.round(m.lut), dsp: Math.round(m.dsp) })),
    lut,
    ff,
    dsp,
    bram36,
    uram,
    budget,
    utilisation,
    tlmmCore: { lutPre, lutTb, lutLpl, total: Math.round(lutPre + lutTb + lutLpl) },
    fits: problems.length === 0,
    problems,
    warnings,
  };
}
