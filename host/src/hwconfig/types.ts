/**
 * The hardware parameter set (hw/spec/hwconfig.schema.json): one typed, versioned description of
 * a hardware build. Field names mirror the JSON (snake_case, units in the names). The JSON file is
 * the single source of truth; everything that follows from it is in derive.ts.
 */

export type HostLink = 'zynq-ps' | 'pcie-xdma';
export type WeightLayout = 'paper-regions' | 'tiled';
export type BeatPacking = 'paper' | 'dense';
export type ActivationRead = 'serial' | 'parallel';
export type TableBuffering = 'single' | 'pingpong';
export type LmHeadPlacement = 'arm' | 'fabric';
export type ActivationFormat = 'fp16' | 'fp32';
export type KvFormat = 'fp16' | 'int8';
export type LmHeadMode = 'int8' | 'ternary-shortlist';
export type NormsOnChip = 'none' | 'decode' | 'all';
export type TlmmEngine = 'paper-hls' | 'hw-rtl';

/** The per-build choices of the arithmetic contract (docs/numerics.md); `numerics` of a HwConfig. */
export interface ContractNumerics {
  kv_format: KvFormat;
  lm_head: LmHeadMode;
  shortlist_k: number;
}

export interface HwConfig {
  $schema?: string;
  format: 'tellme-hwconfig';
  format_version: 1;
  name: string;
  description: string;
  board: {
    name: string;
    device: string;
    part: string;
    host_link: HostLink;
    host_cpu: string;
  };
  resources: {
    lut: number;
    ff: number;
    bram36: number;
    uram: number;
    dsp: number;
    reserved_fraction?: number;
  };
  clock_mhz: number;
  tlmm: {
    group_size: 3;
    index_bits: number;
    /** T */
    tables_per_vector: number;
    /** Q */
    parallel_vectors: number;
    activation_bits: 8;
  };
  uram: {
    width_bits: 72;
    depth_words: 4096;
    /** c */
    cascade: number;
    weight_buffer_urams: number;
  };
  memory: {
    kind: 'ddr4' | 'hbm2';
    /** GB/s (1e9 bytes per second). */
    ddr_peak_gb_s: number;
    /** Sustained fraction of the peak, all ports together (a cap on the sum of the lanes). */
    ddr_efficiency: number;
    ddr_capacity_mib: number;
    ddr_usable_mib: number;
    axi_data_bits: number;
    weight_ports: number;
    port_bits: number;
    port_clock_mhz: number;
    /** Weight lanes sharing a memory-controller port with another weight lane (HP1 + HP2 on Zynq US+). */
    shared_port_lanes: number;
    /** Extra time such a lane needs for the same bytes (0.19 = 19 % late). */
    shared_port_slowdown: number;
    burst_beats: number;
    alignment_bytes: 4096;
  };
  maxima: {
    hidden: number;
    ffn: number;
    heads: number;
    kv_heads: number;
    head_dim: number;
    layers: number;
    context: number;
    vocab: number;
  };
  architecture: {
    weight_layout: WeightLayout;
    double_buffering: boolean;
    beat_packing: BeatPacking;
    prefill_token_block: number;
    activation_read: ActivationRead;
    table_buffering: TableBuffering;
    activation_format: ActivationFormat;
    elementwise_lanes: number;
    runtime_shapes: boolean;
    /** Where RMS-MAX keeps its input vectors: DDR scratch (none), on chip in decode, or in every pass. */
    norms_on_chip: NormsOnChip;
    /** Which TLMM engine is built (resource model): the paper's HLS engine or hw/rtl. */
    tlmm_engine: TlmmEngine;
  };
  attention: {
    prefill_pes: number;
    prefill_lanes: number;
    prefill_ii: number;
    prefill_pair_overhead_cycles: number;
    decode_lanes: number;
    decode_token_overhead_cycles: number;
    /** int8 attention unit (numerics.kv_format int8): q.k products per cycle (2 per DSP48E2). */
    int8_qk_macs_per_cycle: number;
    /** Exact value-sum lanes, one DSP48E2 each. */
    int8_value_lanes: number;
    /** Binary32 score/exp/u pipelines. */
    softmax_lanes: number;
    /** Query heads of a KV group processed together (the KV head is read once per batch). */
    int8_group_heads: number;
  };
  lm_head: {
    placement: LmHeadPlacement;
    fabric_macs_per_cycle: number;
    arm_threads: number;
    /** GB/s (1e9 bytes per second) streaming the int8 head. */
    arm_bandwidth_gb_s: number;
    /** 1e9 int8 MAC/s. */
    arm_int8_gmac_s: number;
  };
  /** The per-build choices of the arithmetic contract (docs/numerics.md). */
  numerics: ContractNumerics;
  host: {
    call_overhead_us: number;
    prefill_us_per_token: number;
    sample_ns_per_logit: number;
  };
  timing: {
    lookup_ii: number;
    table_precompute_cycles: number;
    table_write_cycles: number;
    lookup_pipeline_cycles: number;
    linear_call_overhead_cycles: number;
    norm_call_overhead_cycles: number;
    attention_call_overhead_cycles: number;
    ddr_first_beat_cycles: number;
    /** LUT utilisation up to which clock_mhz is assumed to close. */
    closure_lut_fraction: number;
    /** Fraction of clock_mhz lost per unit of LUT utilisation above closure_lut_fraction. */
    clock_loss_per_lut_fraction: number;
  };
  notes?: string[];
  sources?: Record<string, string>;
}

/** Quantities that follow from a HwConfig (never stored in the JSON). */
export interface HwDerived {
  /** G */
  groupSize: number;
  /** T */
  tables: number;
  /** Q */
  parallelVectors: number;
  /** 3^G = 27 table entries (full storage, paper method 3). */
  tableEntries: number;
  /** B_TB = 8 + ceil(log2 G) = 10 bits per table entry. */
  tableEntryBits: number;
  /** T * B_idx = 140 bits per index vector. */
  indexVectorBits: number;
  /** 72 * c = 144 bits per weight-buffer word. */
  uramWordBits: number;
  /** T * G = 84 activations (reduction elements) per index vector / chunk. */
  chunkElements: number;
  /** Q / 2 dual-port banks (cyclic partitioning of the output rows). */
  banks: number;
  /** URAMs stacked in depth per bank: weight_buffer_urams / (c * banks). */
  bankDepthUrams: number;
  /** Words (index vectors) per bank: 4096 * bankDepthUrams. */
  wordsPerBank: number;
  /** Words per bank usable by one tile: wordsPerBank, or half of it with double buffering. */
  wordsPerBankPerBuffer: number;
  /** Number of weight buffers (2 with double buffering). */
  buffers: number;
  /** Index vectors the whole weight buffer holds. */
  weightBufferVectors: number;
  /** One DDR->URAM beat: weight_ports * axi_data_bits. */
  beatBits: number;
  beatBytes: number;
  /** Bytes of one port's share of a beat (a lane). */
  laneBytes: number;
  /** Paper packing: whole index vectors per beat next to one fp16 norm weight. */
  paperVectorsPerBeat: number;
  /** Largest reduction length among the maxima, padded to a multiple of T*G. */
  kMaxPadded: number;
  /** Signed accumulator bits holding 127 * kMaxPadded. */
  accumulatorBits: number;
  /** T * Q * prefill_token_block lookups per cycle (at lookup_ii 1). */
  lookupsPerCycle: number;
  /** Ternary weights consumed per cycle at peak (3 per lookup). */
  weightsPerCycle: number;
  /** Nominal bandwidth of one memory-side weight port (a lane), bytes/s. */
  laneBandwidthBps: number;
  /** Nominal bandwidth of all weight ports together, bytes/s. */
  portBandwidthBps: number;
  /** All lanes in lockstep at the pace of the slowest (a shared controller port), bytes/s. */
  lockstepBandwidthBps: number;
  /** ddr peak * efficiency, bytes/s. */
  ddrBandwidthBps: number;
  /** Kernel-side width of the weight ports at clock_mhz, bytes/s. */
  kernelSideBandwidthBps: number;
  /**
   * min(ddr, lockstep lanes, kernel side at clock_mhz), bytes/s: what a weight load achieves at
   * the target clock. The planner lowers the kernel-side term when the clock is derated.
   */
  effectiveBandwidthBps: number;
  clockHz: number;
}

export interface LoadedHwConfig {
  config: HwConfig;
  derived: HwDerived;
  /** sha256 (hex) of the canonical JSON of the build (see hash.ts). */
  hash: string;
  /** The file it came from. */
  file: string;
}
