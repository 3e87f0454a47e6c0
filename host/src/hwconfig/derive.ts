/**
 * Derived quantities of a hardware build, and the consistency rules the schema cannot express.
 * Every rule failure is a TellmeError that names the field and the file.
 */
import { TellmeError } from '../errors.js';
import { accumulatorBits } from '../tlmm/tables.js';
import type { HwConfig, HwDerived } from './types.js';

/** Bits of the fp16 norm weight a paper-packed beat carries. */
export const PAPER_NORM_BITS = 16;

/**
 * Head positions one accelerator call can return (docs/accelerator.md: VERIFY_MAX_TOKENS): the
 * `head.out` region holds this many records, so a verify call (and a prefill with every position's
 * head) runs at most this many tokens.
 */
export const HEAD_OUT_POSITIONS = 16;

/** Reduction length padded to whole index vectors (T*G elements). */
export function paddedReduction(k: number, chunkElements: number): number {
  return Math.ceil(k / chunkElements) * chunkElements;
}

/**
 * Signed bits for |acc| <= 127*K: the closed form ceil(log2(127*K + 1)) + 1, cross-checked against
 * tlmm/tables.ts accumulatorBits (one definition must not drift from the other).
 */
export function accumulatorBitsFor(kPadded: number): number {
  const closed = Math.ceil(Math.log2(127 * kPadded + 1)) + 1;
  const iterative = accumulatorBits(kPadded);
  if (closed !== iterative) {
    throw new TellmeError('E_INTERNAL', `accumulator width disagreement for K=${kPadded}: ${closed} vs ${iterative}`);
  }
  return closed;
}

function fail(file: string, field: string, msg: string, fix: string): never {
  throw new TellmeError('E_HWCONFIG', `${file}: ${field}: ${msg}`, fix);
}

/** Check the cross-field rules; throws on the first violation. */
export function checkConsistency(c: HwConfig, file: string): void {
  const G = c.tlmm.group_size;
  const T = c.tlmm.tables_per_vector;
  const Q = c.tlmm.parallel_vectors;
  const B = c.tlmm.index_bits;
  const cas = c.uram.cascade;
  const minIdx = Math.ceil(Math.log2(3 ** G));
  if (B < minIdx) fail(file, 'tlmm.index_bits', `${B} bits cannot hold the ${3 ** G} codes of a group of ${G}`, `Set index_bits to at least ${minIdx}.`);
  if (T * B > c.uram.width_bits * cas) {
    fail(
      file,
      'tlmm.tables_per_vector',
      `an index vector of T*index_bits = ${T}*${B} = ${T * B} bits does not fit a weight-buffer word of 72*cascade = ${72 * cas} bits`,
      `Use tables_per_vector <= ${Math.floor((72 * cas) / B)} (paper eq. 7 with a floor) or raise uram.cascade.`,
    );
  }
  if (Q < 2 || Q % 2 !== 0) {
    fail(file, 'tlmm.parallel_vectors', `Q = ${Q} must be even: the Q reads per cycle come from Q/2 dual-port URAM banks`, 'Use an even parallel_vectors.');
  }
  if (c.architecture.tlmm_engine === 'hw-rtl' && (c.architecture.prefill_token_block !== 1 || c.architecture.activation_read !== 'parallel')) {
    fail(
      file,
      'architecture.tlmm_engine',
      `hw-rtl reads a chunk of activations a cycle and looks up one token per weight read, but activation_read is ${c.architecture.activation_read} and prefill_token_block ${c.architecture.prefill_token_block} (hw/rtl/tlmm_engine.sv)`,
      'Set activation_read to "parallel" and prefill_token_block to 1, or tlmm_engine to "paper-hls".',
    );
  }
  const banks = Q / 2;
  const perLevel = cas * banks;
  if (c.uram.weight_buffer_urams % perLevel !== 0) {
    fail(
      file,
      'uram.weight_buffer_urams',
      `${c.uram.weight_buffer_urams} is not a multiple of cascade * Q/2 = ${cas} * ${banks} = ${perLevel} (every bank is cascade URAMs wide and equally deep)`,
      `Use a multiple of ${perLevel}.`,
    );
  }
  if (c.numerics.lm_head === 'ternary-shortlist' && (c.lm_head.placement !== 'fabric' || c.architecture.weight_layout !== 'tiled')) {
    fail(
      file,
      'numerics.lm_head',
      `the ternary shortlist head runs its ternary rows through the TLMM engine as a tiled linear (docs/numerics.md §9.2), but this build has lm_head.placement "${c.lm_head.placement}" and weight_layout "${c.architecture.weight_layout}"`,
      'Use lm_head "int8", or lm_head.placement "fabric" with weight_layout "tiled".',
    );
  }
  const depth = c.uram.weight_buffer_urams / perLevel;
  if (c.architecture.double_buffering && depth % 2 !== 0) {
    fail(
      file,
      'uram.weight_buffer_urams',
      `double buffering needs an even number of URAMs per bank in depth (the two halves must be different URAMs so the loading half has free ports), but ${c.uram.weight_buffer_urams} URAMs give ${depth}`,
      `Use ${perLevel * (depth + 1)} or ${perLevel * Math.max(2, depth - 1)} weight-buffer URAMs, or turn double_buffering off.`,
    );
  }
  if (c.architecture.weight_layout === 'paper-regions' && c.architecture.double_buffering) {
    fail(file, 'architecture.double_buffering', 'the paper-regions layout holds one whole linear in the buffer and cannot be double-buffered', 'Use weight_layout "tiled" with double buffering.');
  }
  if (c.uram.weight_buffer_urams > c.resources.uram) {
    fail(file, 'uram.weight_buffer_urams', `${c.uram.weight_buffer_urams} exceeds the device's ${c.resources.uram} URAMs`, 'Use fewer weight-buffer URAMs.');
  }
  const beatBits = c.memory.weight_ports * c.memory.axi_data_bits;
  if (c.architecture.beat_packing === 'paper' && beatBits < T * B + PAPER_NORM_BITS) {
    fail(
      file,
      'memory.weight_ports',
      `a paper-packed beat of ${beatBits} bits cannot carry one ${T * B}-bit index vector plus a 16-bit norm weight`,
      'Use more or wider weight ports, or beat_packing "dense".',
    );
  }
  const burstBytes = c.memory.burst_beats * (c.memory.axi_data_bits / 8);
  if (c.memory.alignment_bytes % burstBytes !== 0) {
    fail(
      file,
      'memory.burst_beats',
      `a burst of ${c.memory.burst_beats} x ${c.memory.axi_data_bits / 8} bytes = ${burstBytes} bytes does not divide the ${c.memory.alignment_bytes}-byte alignment, so aligned bursts could cross a 4 KiB boundary`,
      'Use a power-of-two burst length whose byte size divides 4096.',
    );
  }
  if (c.memory.shared_port_lanes > c.memory.weight_ports) {
    fail(file, 'memory.shared_port_lanes', `${c.memory.shared_port_lanes} shared lanes but only ${c.memory.weight_ports} weight ports`, 'Set shared_port_lanes to at most weight_ports.');
  }
  if (c.memory.ddr_usable_mib > c.memory.ddr_capacity_mib) {
    fail(file, 'memory.ddr_usable_mib', `${c.memory.ddr_usable_mib} MiB usable exceeds the ${c.memory.ddr_capacity_mib} MiB capacity`, 'Lower ddr_usable_mib.');
  }
  const m = c.maxima;
  if (m.kv_heads > m.heads) fail(file, 'maxima.kv_heads', `${m.kv_heads} KV heads exceed the ${m.heads} query heads`, 'Set kv_heads <= heads.');
  if (m.head_dim % 2 !== 0) fail(file, 'maxima.head_dim', `${m.head_dim} is odd; RoPE rotates pairs of elements`, 'Use an even head_dim.');
  if (c.lm_head.placement === 'arm' && c.board.host_link !== 'zynq-ps') {
    fail(file, 'lm_head.placement', `"arm" needs the Zynq's ARM cores, but the board's host_link is ${c.board.host_link}`, 'Use placement "fabric".');
  }
}

/**
 * Bandwidth of the weight stream (docs/performance-model.md §1.3). A beat is split over the
 * weight ports in lockstep, so the lanes together go at the pace of the slowest one: a lane on a
 * memory-controller port shared with another lane (HP1 and HP2 share XPI 4, UG1085) takes
 * 1 + shared_port_slowdown times as long. The sum is capped by what the DDR sustains and by the
 * kernel-side port width at the kernel clock (the ports themselves keep their own clock).
 */
export function memoryBandwidth(c: HwConfig, kernelClockMhz: number) {
  const m = c.memory;
  const laneBandwidthBps = (m.port_bits / 8) * m.port_clock_mhz * 1e6;
  const portBandwidthBps = m.weight_ports * laneBandwidthBps;
  const slowest = m.shared_port_lanes > 0 ? laneBandwidthBps / (1 + m.shared_port_slowdown) : laneBandwidthBps;
  const lockstepBandwidthBps = m.weight_ports * slowest;
  const ddrBandwidthBps = m.ddr_peak_gb_s * 1e9 * m.ddr_efficiency;
  const kernelSideBandwidthBps = m.weight_ports * (m.axi_data_bits / 8) * kernelClockMhz * 1e6;
  return {
    laneBandwidthBps,
    portBandwidthBps,
    lockstepBandwidthBps,
    ddrBandwidthBps,
    kernelSideBandwidthBps,
    effectiveBandwidthBps: Math.min(ddrBandwidthBps, lockstepBandwidthBps, kernelSideBandwidthBps),
  };
}

export function deriveHw(c: HwConfig): HwDerived {
  const G = c.tlmm.group_size;
  const T = c.tlmm.tables_per_vector;
  const Q = c.tlmm.parallel_vectors;
  const banks = Q / 2;
  const chunkElements = T * G;
  const bankDepthUrams = c.uram.weight_buffer_urams / (c.uram.cascade * banks);
  const wordsPerBank = c.uram.depth_words * bankDepthUrams;
  const buffers = c.architecture.double_buffering ? 2 : 1;
  const beatBits = c.memory.weight_ports * c.memory.axi_data_bits;
  const m = c.maxima;
  const kMaxPadded = Math.max(
    paddedReduction(m.hidden, chunkElements),
    paddedReduction(m.ffn, chunkElements),
    paddedReduction(m.heads * m.head_dim, chunkElements),
  );
  const lookupsPerCycle = T * Q * c.architecture.prefill_token_block;
  const bw = memoryBandwidth(c, c.clock_mhz);
  return {
    groupSize: G,
    tables: T,
    parallelVectors: Q,
    tableEntries: 3 ** G,
    tableEntryBits: c.tlmm.activation_bits + Math.ceil(Math.log2(G)),
    indexVectorBits: T * c.tlmm.index_bits,
    uramWordBits: c.uram.width_bits * c.uram.cascade,
    chunkElements,
    banks,
    bankDepthUrams,
    wordsPerBank,
    wordsPerBankPerBuffer: wordsPerBank / buffers,
    buffers,
    weightBufferVectors: wordsPerBank * banks,
    beatBits,
    beatBytes: beatBits / 8,
    laneBytes: c.memory.axi_data_bits / 8,
    paperVectorsPerBeat: Math.floor((beatBits - PAPER_NORM_BITS) / (T * c.tlmm.index_bits)),
    kMaxPadded,
    accumulatorBits: accumulatorBitsFor(kMaxPadded),
    lookupsPerCycle,
    weightsPerCycle: lookupsPerCycle * G,
    ...bw,
    clockHz: c.clock_mhz * 1e6,
  };
}
