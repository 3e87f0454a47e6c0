/**
 * Resource estimate of a build (docs/performance-model.md §4).
 *
 * Four kinds of figures, and every module says which it is (`basis`):
 *  - measured: the hw/rtl TLMM engine (architecture.tlmm_engine hw-rtl), whose per-table,
 *    per-lookup-path, loader and buffer costs were measured by yosys (docs/measurements.md, "The
 *    RTL TLMM engine"; yosys, not Vivado: no LUT6_2 packing, no timing). The paper's own build
 *    (tlmm_engine paper-hls) keeps the paper-calibrated engine so that it still lands on the
 *    paper's totals;
 *  - fitted: a remainder chosen so that the paper's build lands on its published totals (v2
 *    Table 1/3); it says nothing about a different build except "this much stays";
 *  - paper-scaled: a per-module figure of the paper (v2 Table 3, secondary) scaled by the one
 *    parameter that changes, half fixed and half proportional (an assumption);
 *  - predicted: computed from the structure (equations, buffer sizes, per-unit costs). The paper-hls
 *    TLMM core follows the paper's cost equations (v2 eqs. 1-3; LUT_lp itself is fitted to the paper's
 *    23,082-LUT core); the weight-buffer URAMs are exact; buffers are sized from the synthesised
 *    maxima and element formats; new units (int8 attention, the shortlist head) use the per-unit
 *    costs in COSTS, each with its source or the word "assumed".
 * Apart from the yosys figures none of this is a synthesis result, and those are not Vivado's: good
 * for choosing between options, not for promising timing.
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
  lutPerLookupPath: { value: 33.4, source: 'fitted: eqs. 1-3 with T=28, Q=16 reproduce the full-storage TLMM core of 23,082 LUT (v2 Table 4, secondary)' },
  lutPerMuxBit: {
    value: 0.5,
    source: '[inferred] a 2:1 multiplexer bit is a 3-input function; one LUT6 in dual-output mode (LUT6_2, five shared inputs) gives two such bits sharing a select (UltraScale CLB, UG574)',
  },
  muxStagesPerLut: { value: 2, source: '[inferred] one LUT6 is a 4:1 multiplexer: a shifter over A alignments needs ceil(log2(A)/2) LUT levels per output bit' },
  dspPrecomputePerTable: { value: 3, source: "authors' code: three packed-SIMD adds in DSPs per table" },
  rtlLutPrePerTable: {
    value: 570 / 28,
    source:
      'measured (yosys, docs/measurements.md "The RTL TLMM engine"): hw/rtl\'s table builder for 28 tables alone took 570 LUT and no DSP (one 10-bit add/subtract per table per cycle along a one-digit-per-step path through the 27 entries)',
  },
  rtlLutPerTableCopy: {
    value: 8.3,
    source: 'measured (yosys): one 27-entry x 10-bit table copy in multi-port LUTRAM, 8.2 LUT with ping-pong (RAM64M8, the bank is an address bit: no read mux), 8.4 single (RAM32M16); 8.3 for both',
  },
  rtlLutPerLookupPath: {
    value: 13.3,
    source: 'measured (yosys): 28-input adder tree with one register per level (293 LUT = 10.5 a lookup path), plus the accumulators and control of the core: 13.3 LUT a lookup path',
  },
  rtlCoreDsp: { value: 3, source: 'measured (yosys): the run-time shape products of the core (tile words, builds); replaceable by sequential logic' },
  rtlLoaderLut: {
    value: 5930,
    source: 'measured (yosys): tlmm_weight_writer, the dense-beat loader at 512-bit beats, 4 index vectors a cycle (three-beat window, 4-bit-granular extraction shifter)',
  },
  rtlLoaderDsp: { value: 4, source: 'measured (yosys): the loader\'s run-time vector count products' },
  rtlLoaderBeatBits: { value: 512, source: 'the beat width the loader was measured at (kv260: 4 x 128-bit ports)' },
  rtlBufferLut: {
    value: 2467,
    source: 'measured (yosys): tlmm_weight_buffer, 2 halves x 8 banks of URAM with the half-select read multiplexers (Q = 16)',
  },
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
  gearboxControlLut: { value: 200, source: 'assumed: fill level, alignment counter and vector-valid logic of the dense-packing gearbox' },
  doubleBufferControlLut: { value: 300, source: 'assumed: buffer-half select and load/compute handshake' },
  axiPortLut: { value: 2000, source: 'assumed: one 256-bit m_axi adapter with burst/outstanding logic; scaled with its width' },
  axiOutstanding: { value: 16, source: 'assumed: Vitis HLS m_axi defaults (16 outstanding reads of up to 16 beats): the read buffer holds 256 beats per port' },
  controlLut: {
    value: 12639,
    source: 'fitted: remainder of the paper total (98,303 LUT) after the modules above and 4 x 2,000 for the m_axi ports: RMS-MAX, control, AXI-Lite',
  },
  controlDsp: { value: 52, source: 'fitted: remainder of the paper total (610 DSP): RMS-MAX fp32 accumulate/rsqrt' },
  controlBram: {
    value: 61.5,
    source: 'fitted: remainder of the paper total (98.5 BRAM36, v2 Table 1) after its predicted buffers (m_axi 16, TLMM accumulators 8, RPA 11, DA 2): FIFOs, norm weights, SiLU table, control',
  },
  lmHeadBaseLut: { value: 2500, source: 'assumed: int8 GEMV control, fp32 scale multiply, logits writer' },
  lmHeadLutPerMac: { value: 20, source: 'assumed: accumulator/reduction adders per int8 MAC lane' },
  lmHeadDspExtra: { value: 3, source: 'assumed: fp32 per-row scale multiply' },
  bramLmHead: { value: 2, source: 'assumed: int8 row and logits FIFOs' },
  topkLut: { value: 1200, source: 'assumed: a binary min-heap of K (score, id) pairs in BRAM: comparators for (score desc, id asc), sift logic, final ordered drain' },
  scoreLanes: { value: 2, source: '[inferred] the head TLMM drains a tile of R rows over C chunks, R/(C*16/Q) per cycle; 2 binary32 score multipliers keep up for C >= 8 chunks' },
  fp32MulLut: { value: 100, source: 'assumed: binary32 multiplier on 3 DSP48E2: normalisation and rounding logic (order of magnitude of AMD PG060 figures, not checked for this device)' },
  fp32MulDsp: { value: 3, source: 'assumed: 24x24-bit significand product on 3 DSP48E2 (27x18 multipliers)' },
  fp32AddLut: { value: 450, source: 'assumed: binary32 adder in fabric: alignment shift, add, leading-zero count, normalise, round (order of magnitude of AMD PG060, not checked)' },
  intToF32Lut: { value: 120, source: 'assumed: leading-zero count and shift of an integer into binary32 with rounding' },
  expLut: { value: 1200, source: 'assumed: the project exp of numerics §3.1 (range reduction, table, polynomial) as one pipeline at 1 result/cycle' },
  expDsp: { value: 6, source: 'assumed: two binary32 multiplies of the polynomial (3 DSP each)' },
  int8ControlLut: { value: 3000, source: 'assumed: KV address generation, GQA head mapping, pass sequencing, score-buffer addressing of the int8 attention unit' },
  int8LutPerQkMac: { value: 6, source: 'assumed: operand packing, sign correction of two products per DSP (WP486) and the reduction tail after the DSP cascade' },
  int8LutPerValueLane: { value: 16, source: 'assumed: operand multiplexers and accumulator addressing of one value lane' },
  int8AccumulatorBits: { value: 48, source: 'numerics §8.3: the exact value sum fits the DSP48E2 48-bit accumulator' },
  lutramBitsPerLut: { value: 64, source: '[inferred] RAM64X1S: a LUT6 stores 64 bits of distributed RAM' },
  quantiserLutPerLane: { value: 150, source: 'assumed: binary32 multiply rounding, round-to-integer and clamp of the q/k/v head quantiser, per element lane' },
  normVectorControlLut: { value: 300, source: 'assumed: addressing of an on-chip RMS-MAX vector buffer' },
  ffPerLut: { value: 136721 / 98303, source: 'paper ratio FF/LUT (137K / 98K, v2 Table 1)' },
  paperBram36: { value: 98.5, source: 'v2 Table 1: 98.5 BRAM36 for the whole paper design' },
  bramKvStaging: { value: 2, source: 'assumed: K/V read FIFOs of the int8 attention unit' },
  uramDaScoresPaper: { value: 4, source: '[inferred] score FIFO 1024 x 16 heads x fp16 = 256-bit words = 4 URAMs wide' },
  uramRpaVPaper: { value: 8, source: '[inferred] remainder of the paper total (60 URAM) after the 48 + 4: RPA v_vecs' },
  uramBytes: { value: (4096 * 72) / 8, source: 'UG573: one URAM288 holds 4096 x 72 bits' },
  bram36Bits: { value: 36864, source: 'UG573: one RAMB36 holds 36 Kbit (32K data + parity used as data)' },
  scalingFixedShare: { value: 0.5, source: 'assumed: half of a scaled module is fixed (control, buffers), half proportional' },
} satisfies Record<string, Cost>;

export type Basis = 'fitted' | 'paper-scaled' | 'predicted';

export interface ModuleEstimate {
  module: string;
  lut: number;
  dsp: number;
  bram36: number;
  uram: number;
  /** How the figures were obtained (per resource where they differ). */
  basis: string;
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

/** BRAM18 halves for one memory of depth x width bits (UG573 aspect ratios of a RAMB18). */
export function bram18For(depth: number, widthBits: number): number {
  if (depth <= 0 || widthBits <= 0) return 0;
  const perDepth: [number, number][] = [
    [512, 36],
    [1024, 18],
    [2048, 9],
    [4096, 4],
    [8192, 2],
    [16384, 1],
  ];
  for (const [d, w] of perDepth) if (depth <= d) return Math.ceil(widthBits / w);
  return Math.ceil(depth / 16384) * widthBits;
}

/** BRAM36 for `banks` independent memories of depth x width each. */
export function bram36Banks(banks: number, depth: number, widthBits: number): number {
  return (banks * bram18For(depth, widthBits)) / 2;
}

const bits36 = (bits: number) => Math.ceil(bits / COSTS.bram36Bits.value);

/** Largest query width (heads x head_dim) the build supports. */
function qDimMax(hw: LoadedHwConfig): number {
  return hw.config.maxima.heads * hw.config.maxima.head_dim;
}

/** Binary32 softmax pipeline of the int8 attention unit: s_j, e_j, u_j and the l sum per cycle. */
function softmaxLane(): { lut: number; dsp: number } {
  // s_j: int->f32 and two multiplies; e_j: subtract, exp; u_j: two multiplies, f32->int; l: one add.
  const lut = 2 * COSTS.intToF32Lut.value + 4 * COSTS.fp32MulLut.value + 2 * COSTS.fp32AddLut.value + COSTS.expLut.value;
  return { lut, dsp: 4 * COSTS.fp32MulDsp.value + COSTS.expDsp.value };
}

function attentionModules(hw: LoadedHwConfig): ModuleEstimate[] {
  const c = hw.config;
  const at = c.attention;
  if (c.numerics.kv_format === 'int8') {
    const lanes = c.architecture.elementwise_lanes;
    const sm = softmaxLane();
    const acc = (at.prefill_pes * at.int8_group_heads * c.maxima.head_dim * COSTS.int8AccumulatorBits.value) / COSTS.lutramBitsPerLut.value;
    // Decode keeps the binary32 scores of one batch of query heads over the whole context between
    // its K pass and its V pass (the batches of a layer run one after the other).
    const scoreBytes = at.int8_group_heads * c.maxima.context * 4;
    return [
      {
        module: 'int8 attention (prefill, decode, verify)',
        lut:
          COSTS.int8ControlLut.value +
          at.int8_qk_macs_per_cycle * COSTS.int8LutPerQkMac.value +
          at.int8_value_lanes * COSTS.int8LutPerValueLane.value +
          at.softmax_lanes * sm.lut +
          acc +
          lanes * COSTS.quantiserLutPerLane.value +
          2 * COSTS.intToF32Lut.value +
          COSTS.fp32MulLut.value,
        dsp: at.int8_qk_macs_per_cycle / 2 + at.int8_value_lanes + at.softmax_lanes * sm.dsp + lanes * COSTS.fp32MulDsp.value + COSTS.fp32MulDsp.value,
        bram36: bits36(at.prefill_pes * qDimMax(hw) * 8) + COSTS.bramKvStaging.value,
        uram: Math.ceil(scoreBytes / COSTS.uramBytes.value),
        basis: 'predicted: per-unit costs (COSTS), two int8 products per DSP48E2 (WP486), value accumulators in LUTRAM, binary32 score buffer in URAM',
      },
    ];
  }
  const rpaF = (at.prefill_pes * at.prefill_lanes) / at.prefill_ii / ((8 * 16) / 4);
  // RPA v buffer scales with the hidden size it must hold.
  const rpaUram = Math.ceil(COSTS.uramRpaVPaper.value * Math.max(1, c.maxima.hidden / 1536) * (at.prefill_pes / 8));
  const daF = at.decode_lanes / 16;
  // Score buffer: heads x context fp16, 16 per 256-bit word (4 URAMs wide), 4096 words deep.
  const scoreWords = Math.ceil((c.maxima.heads * c.maxima.context) / 16);
  const daUram = Math.max(COSTS.uramDaScoresPaper.value, 4 * Math.ceil(scoreWords / c.uram.depth_words));
  return [
    {
      module: 'prefill attention (RPA, fp16)',
      lut: scaled(COSTS.rpaLut.value, rpaF),
      dsp: scaled(COSTS.rpaDsp.value, rpaF),
      // q and o vectors of N_pe queries in binary16.
      bram36: bits36(at.prefill_pes * qDimMax(hw) * 2 * 16),
      uram: rpaUram,
      basis: 'LUT/DSP paper-scaled (v2 Table 3); BRAM and URAM predicted from the maxima',
    },
    {
      module: 'decode attention (DA, fp16)',
      lut: scaled(COSTS.daLut.value, daF),
      dsp: scaled(COSTS.daDsp.value, daF),
      bram36: bits36(qDimMax(hw) * 2 * 16),
      uram: daUram,
      basis: 'LUT/DSP paper-scaled (v2 Table 3); BRAM and URAM predicted from the maxima',
    },
  ];
}

function lmHeadModules(hw: LoadedHwConfig): ModuleEstimate[] {
  const c = hw.config;
  if (c.lm_head.placement !== 'fabric') return [];
  const macs = c.lm_head.fabric_macs_per_cycle;
  const out: ModuleEstimate[] = [
    {
      module: c.numerics.lm_head === 'ternary-shortlist' ? 'int8 rescoring engine' : 'int8 LM head (fabric)',
      lut: COSTS.lmHeadBaseLut.value + macs * COSTS.lmHeadLutPerMac.value,
      dsp: Math.ceil(macs / 2) + COSTS.lmHeadDspExtra.value,
      bram36: COSTS.bramLmHead.value,
      uram: 0,
      basis: 'predicted: assumed per-lane costs, two int8 products per DSP48E2 (WP486)',
    },
  ];
  if (c.numerics.lm_head === 'ternary-shortlist') {
    const lanes = COSTS.scoreLanes.value;
    const k = c.numerics.shortlist_k;
    out.push({
      module: 'shortlist: ternary scores and top-K',
      lut: lanes * (COSTS.intToF32Lut.value + COSTS.fp32MulLut.value) + COSTS.topkLut.value,
      dsp: lanes * COSTS.fp32MulDsp.value,
      // K (score, id) pairs: 32 + 17 bits.
      bram36: bram36Banks(1, k, 49),
      uram: 0,
      basis: 'predicted: the head itself is one more TLMM linear (no new lookup logic); assumed per-unit costs',
    });
  }
  return out;
}

export function estimateResources(hw: LoadedHwConfig): ResourceEstimate {
  const c = hw.config;
  const d = hw.derived;
  const T = d.tables;
  const Q = d.parallelVectors;
  const Bk = c.architecture.prefill_token_block;
  const pingpong = c.architecture.table_buffering === 'pingpong';
  const copies = pingpong ? 2 : 1;
  const lanes = c.architecture.elementwise_lanes / 16;
  const fp32 = c.architecture.activation_format === 'fp32';
  const actBits = fp32 ? 32 : 16;
  const fp32Lut = fp32 ? COSTS.fp32PeripheryLutFactor.value : 1;
  const fp32Dsp = fp32 ? COSTS.fp32PeripheryDspFactor.value : 1;
  const modules: ModuleEstimate[] = [];
  const rtl = c.architecture.tlmm_engine === 'hw-rtl';
  const core = rtl
    ? {
        lutPre: T * Bk * COSTS.rtlLutPrePerTable.value,
        lutTb: T * Q * Bk * copies * COSTS.rtlLutPerTableCopy.value,
        lutLpl: T * Q * Bk * COSTS.rtlLutPerLookupPath.value,
        // The table's bank is an address bit of the LUTRAM: no read multiplexer (measured).
        tableMux: 0,
      }
    : {
        lutPre: T * Bk * COSTS.lutPrePerTable.value,
        lutTb: T * Q * Bk * copies * COSTS.lutPerTableCopy.value,
        lutLpl: T * Q * Bk * COSTS.lutPerLookupPath.value,
        // Ping-pong tables: every lookup selects one of two table copies.
        tableMux: pingpong ? T * Q * Bk * d.tableEntryBits * COSTS.lutPerMuxBit.value : 0,
      };
  // Accumulators: Q lanes (x token block) over the largest tile's rows. The paper layout holds a
  // whole linear of up to ceil(ffn/hidden) x hidden rows; tiles hold at most one output dimension.
  const m = c.maxima;
  const accRows =
    c.architecture.weight_layout === 'paper-regions' ? Math.ceil(m.ffn / m.hidden) * m.hidden : Math.max(m.ffn, m.hidden, qDimMax(hw));
  const accDepth = Math.ceil(accRows / Q);
  modules.push(
    rtl
      ? {
          module: 'TLMM core (hw/rtl)',
          lut: core.lutPre + core.lutTb + core.lutLpl,
          dsp: COSTS.rtlCoreDsp.value,
          // One accumulator RAM Q x accumulator bits wide (hw/rtl/tlmm_core.sv).
          bram36: bram36Banks(1, accDepth, Q * Bk * d.accumulatorBits),
          uram: 0,
          basis: 'LUT/DSP: per-table and per-lookup-path costs measured by yosys on hw/rtl (not Vivado); BRAM predicted (one wide accumulator RAM)',
        }
      : {
          module: 'TLMM core (eqs. 1-3)',
          lut: core.lutPre + core.lutTb + core.lutLpl + core.tableMux,
          dsp: T * Bk * COSTS.dspPrecomputePerTable.value,
          bram36: bram36Banks(Q * Bk, accDepth, d.accumulatorBits),
          uram: 0,
          basis: 'LUT: eqs. 1-3 (LUT_lp fitted to the paper core) + predicted ping-pong read mux; BRAM: predicted accumulators',
        },
  );
  const parallel = c.architecture.activation_read === 'parallel';
  modules.push({
    module: 'TLMM-FUSE periphery',
    lut: scaled(COSTS.fusePeripheryLut.value, lanes) * fp32Lut + (c.architecture.runtime_shapes ? COSTS.runtimeShapesLut.value : 0) + (parallel ? COSTS.parallelActivationLut.value : 0),
    dsp: scaled(COSTS.fusePeripheryDsp.value, lanes) * fp32Dsp,
    // The wide activation read: T*G int8 per word, K_max / (T*G) words.
    bram36: parallel ? bram36Banks(1, Math.ceil(d.kMaxPadded / d.chunkElements), d.chunkElements * 8) : 0,
    uram: 0,
    basis: 'LUT/DSP paper-scaled (v2 Table 3); BRAM predicted (activation buffer)',
  });
  // On-chip RMS-MAX input vectors: one (decode), or two per-token buffers so that one token is
  // normalised while the next arrives (prefill). Deep and wide: URAM, elementwise_lanes elements
  // per word, ceil(dim_max / lanes) words.
  const normBuffers = c.architecture.norms_on_chip === 'all' ? 2 : c.architecture.norms_on_chip === 'decode' ? 1 : 0;
  if (normBuffers) {
    const dimMax = Math.max(m.hidden, m.ffn, qDimMax(hw));
    const el = c.architecture.elementwise_lanes;
    const depth = Math.ceil(dimMax / el);
    modules.push({
      module: 'RMS-MAX vector buffers (norms on chip)',
      lut: normBuffers * COSTS.normVectorControlLut.value,
      dsp: 0,
      bram36: 0,
      uram: normBuffers * Math.ceil((el * actBits) / c.uram.width_bits) * Math.ceil(depth / c.uram.depth_words),
      basis: `predicted: ${normBuffers} vector(s) of ${dimMax} ${fp32 ? 'binary32' : 'binary16'} elements, ${el} per URAM word`,
    });
  }
  modules.push(...attentionModules(hw));
  const dense = c.architecture.beat_packing === 'dense';
  // Dense packing: index vectors straddle beats; a shifter over beat + vector bits picks the
  // vectors out at any of beat/gcd(beat, vector) alignments.
  const vec = d.indexVectorBits;
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  const alignments = d.beatBits / gcd(d.beatBits, vec);
  const gearbox = dense ? (d.beatBits + vec) * Math.ceil(Math.log2(alignments) / COSTS.muxStagesPerLut.value) + COSTS.gearboxControlLut.value : 0;
  // Double buffering: the Q reads of each cycle come from one half or the other (separate URAMs).
  const dbMux = c.architecture.double_buffering ? Q * d.uramWordBits * COSTS.lutPerMuxBit.value + COSTS.doubleBufferControlLut.value : 0;
  // hw/rtl's loader and buffer were measured with dense beats and double buffering; other
  // layouts keep the paper-scaled estimate.
  const rtlBuffer = rtl && dense && c.architecture.double_buffering;
  modules.push(
    rtlBuffer
      ? {
          module: 'weight buffer + loader (hw/rtl)',
          lut: scaled(COSTS.rtlLoaderLut.value, d.beatBits / COSTS.rtlLoaderBeatBits.value) + scaled(COSTS.rtlBufferLut.value, Q / 16),
          dsp: COSTS.rtlLoaderDsp.value,
          bram36: 0,
          uram: c.uram.weight_buffer_urams,
          basis: `LUT/DSP measured by yosys on hw/rtl (loader at 512-bit beats, buffer at Q = 16${d.beatBits === 512 && Q === 16 ? '' : '; scaled half-proportionally to this build, assumed'}); URAM exact`,
        }
      : {
          module: 'weight buffer + loader (WBMU)',
          lut: scaled(COSTS.wbmuLut.value, d.beatBits / 768) + gearbox + dbMux,
          dsp: 0,
          bram36: 0,
          uram: c.uram.weight_buffer_urams,
          basis: 'LUT paper-scaled (v2 Table 3) + predicted gearbox and double-buffer read mux; URAM exact',
        },
  );
  // The weight ports and one port for activations, KV cache and RoPE (the paper: inout1..inout4).
  const ports = c.memory.weight_ports + 1;
  const readBuffer = (widthBits: number) => bram36Banks(1, COSTS.axiOutstanding.value * c.memory.burst_beats, widthBits);
  modules.push({
    module: 'AXI ports',
    lut: ports * COSTS.axiPortLut.value * (c.memory.axi_data_bits / 256),
    dsp: 0,
    bram36: ports * readBuffer(c.memory.axi_data_bits),
    uram: 0,
    basis: 'LUT assumed per port; BRAM predicted (read buffers)',
  });
  modules.push({
    module: 'control, RMS-MAX, AXI-Lite',
    lut: COSTS.controlLut.value,
    dsp: COSTS.controlDsp.value,
    bram36: COSTS.controlBram.value,
    uram: 0,
    basis: 'fitted (remainder of the paper totals)',
  });
  modules.push(...lmHeadModules(hw));
  const sum = (k: 'lut' | 'dsp' | 'bram36' | 'uram') => modules.reduce((a, mm) => a + mm[k], 0);
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
    modules: modules.map((mm) => ({ ...mm, lut: Math.round(mm.lut), dsp: Math.round(mm.dsp) })),
    lut,
    ff,
    dsp,
    bram36,
    uram,
    budget,
    utilisation,
    tlmmCore: { lutPre: core.lutPre, lutTb: core.lutTb, lutLpl: core.lutLpl, total: Math.round(core.lutPre + core.lutTb + core.lutLpl) },
    fits: problems.length === 0,
    problems,
    warnings,
  };
}
