/**
 * The quantities a hardware build hands to the RTL and to the HLS C++: one list, computed once from
 * the board's parameter set (hw/boards/<board>.json via loadHwConfig), and emitted by every target
 * (sv-package.ts, hls-config.ts) under the same names. Add a quantity here, never in an emitter.
 *
 * Names are snake_case here; the SystemVerilog package spells them UpperCamelCase (they are module
 * parameters there), the C++ header ALL_CAPS (constants).
 */
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { HEAD_OUT_POSITIONS, PAPER_NORM_BITS } from '../hwconfig/derive.js';
import { TABLE_ENTRIES, ZERO_INDEX } from '../tlmm/encoding.js';

export type HwParamValue = { kind: 'uint'; value: number } | { kind: 'bool'; value: boolean } | { kind: 'string'; value: string } | { kind: 'hex256'; value: string };

export interface HwParam {
  name: string;
  /** What it is, in one line (becomes the comment in every emitted file). */
  doc: string;
  v: HwParamValue;
}

export interface HwParamGroup {
  title: string;
  params: HwParam[];
}

const uint = (name: string, value: number, doc: string): HwParam => {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new Error(`hwgen: ${name} = ${value} is not a 32-bit unsigned integer`);
  return { name, doc, v: { kind: 'uint', value } };
};
const bool = (name: string, value: boolean, doc: string): HwParam => ({ name, doc, v: { kind: 'bool', value } });

/** Bits of a signed sum of `terms` values each of magnitude <= maxAbs. */
function signedBits(maxAbs: number): number {
  return 1 + Math.ceil(Math.log2(maxAbs + 1));
}

/**
 * Most output rows one TLMM call (one tile) can have on this build: every linear's rows are at
 * most max(hidden, FFN, heads*head_dim) (rounded up to Q, the row block), and a tiled layout also
 * never puts more rows in a tile than one buffer half holds at one chunk per row.
 */
export function maxTileRows(hw: LoadedHwConfig): number {
  const m = hw.config.maxima;
  const d = hw.derived;
  const Q = d.parallelVectors;
  const linearRows = Math.ceil(Math.max(m.hidden, m.ffn, m.heads * m.head_dim) / Q) * Q;
  if (hw.config.architecture.weight_layout !== 'tiled') return linearRows;
  const bufferRows = Math.floor((d.wordsPerBankPerBuffer * d.banks) / Q) * Q;
  return Math.min(linearRows, bufferRows);
}

/**
 * floor(x / d) = floor(x * mul / 2^shift) for every 0 <= x <= maxX: the smallest such shift, checked
 * exhaustively (the RTL divides by constants this way; maxX is at most a few ten thousand).
 */
export function constDivision(d: number, maxX: number): { mul: number; shift: number } {
  for (let shift = 0; shift < 48; shift++) {
    const mul = Math.ceil(2 ** shift / d);
    if (mul > 0xffffffff) break;
    let ok = true;
    for (let x = 0; x <= maxX && ok; x++) ok = Math.floor((x * mul) / 2 ** shift) === Math.floor(x / d);
    if (ok) return { mul, shift };
  }
  throw new Error(`hwgen: no 32-bit multiply-shift divides by ${d} exactly up to ${maxX}`);
}

/**
 * Index vectors the dense-beat loader writes per cycle: the smallest divisor of the bank count
 * whose vectors span at least one beat (so the loader keeps up with a beat per cycle) and less
 * than two (its window holds three beats). 0 when no divisor fits (paper beats, or beats wider
 * than two bank groups): that build's loader is not implemented by hw/rtl.
 */
export function loaderVectorsPerCycle(hw: LoadedHwConfig): number {
  const d = hw.derived;
  if (hw.config.architecture.beat_packing !== 'dense') return 0;
  for (let v = 1; v <= d.banks; v++) {
    if (d.banks % v === 0 && v * d.indexVectorBits >= d.beatBits) return v * d.indexVectorBits < 2 * d.beatBits ? v : 0;
  }
  return 0;
}

export function hwParams(hw: LoadedHwConfig): HwParamGroup[] {
  const c = hw.config;
  const d = hw.derived;
  const a = c.architecture;
  const T = d.tables;
  const entryMax = c.tlmm.group_size * (2 ** (c.tlmm.activation_bits - 1) - 1);
  return [
    {
      title: 'Build identity',
      params: [
        { name: 'board_name', doc: 'hw/boards/<name>.json this build comes from', v: { kind: 'string', value: c.name } },
        { name: 'hw_hash', doc: 'sha256 of the canonical parameter set (docs/layout.md §1): identifies the build', v: { kind: 'hex256', value: hw.hash } },
        uint('clock_mhz', c.clock_mhz, 'fabric clock'),
      ],
    },
    {
      title: 'TLMM encoding and tables (docs/numerics.md §6)',
      params: [
        uint('group_size', d.groupSize, 'G: ternary weights per table index'),
        uint('index_bits', c.tlmm.index_bits, 'B_idx: bits of one table index'),
        uint('tables', T, 'T: tables (indices) per index vector'),
        uint('parallel_vectors', d.parallelVectors, 'Q: index vectors (output rows) looked up per cycle'),
        uint('activation_bits', c.tlmm.activation_bits, 'int8 activations'),
        uint('table_entries', TABLE_ENTRIES, 'entries of one table (3^G)'),
        uint('zero_index', ZERO_INDEX, 'index of the all-zero group (padding)'),
        uint('table_entry_bits', d.tableEntryBits, 'signed bits of one table entry (|entry| <= 381)'),
        uint('chunk_elements', d.chunkElements, 'T*G activations per index vector (one chunk of the reduction)'),
        uint('vector_bits', d.indexVectorBits, 'T*B_idx bits of one index vector'),
        uint('partial_sum_bits', signedBits(entryMax * T), 'signed bits of the sum of the T lookups of one row in one cycle'),
        uint('k_max_padded', d.kMaxPadded, 'largest reduction length, padded to whole chunks'),
        uint('max_chunks', d.kMaxPadded / d.chunkElements, 'largest number of chunks of one row'),
        uint('accumulator_bits', d.accumulatorBits, 'signed accumulator width: |acc| <= 127*k_max_padded (numerics §6.3)'),
        uint('max_tile_rows', maxTileRows(hw), 'most output rows of one TLMM call (one weight tile)'),
        uint('max_tokens', c.maxima.context, 'most tokens of one TLMM call (a prefill of the whole context)'),
        uint('token_block', a.prefill_token_block, 'tokens sharing one weight read in the lookups'),
        bool('activation_read_parallel', a.activation_read === 'parallel', 'one chunk of activations per cycle (else one activation per cycle)'),
        bool('table_pingpong', a.table_buffering === 'pingpong', 'two table sets: the next chunk is built while this one is looked up'),
        uint('elementwise_lanes', a.elementwise_lanes, 'accumulators per cycle the fused element-wise stages take'),
      ],
    },
    {
      title: 'URAM weight buffer (docs/layout.md §2)',
      params: [
        uint('uram_width_bits', c.uram.width_bits, 'one URAM288 port'),
        uint('uram_depth_words', c.uram.depth_words, 'words of one URAM288'),
        uint('uram_cascade', c.uram.cascade, 'URAMs side by side per word'),
        uint('uram_word_bits', d.uramWordBits, 'one weight-buffer word (holds one index vector)'),
        uint('weight_buffer_urams', c.uram.weight_buffer_urams, 'URAMs of the weight buffer'),
        uint('banks', d.banks, 'Q/2 dual-port banks; row z of a block lives in bank z mod banks'),
        uint('bank_depth_urams', d.bankDepthUrams, 'URAMs per bank in depth'),
        uint('words_per_bank', d.wordsPerBank, 'index vectors per bank'),
        uint('buffers', d.buffers, '2 when double-buffered (the halves are different URAMs), else 1'),
        uint('words_per_bank_per_buffer', d.wordsPerBankPerBuffer, 'index vectors per bank in one buffer'),
        bool('weight_layout_tiled', a.weight_layout === 'tiled', 'row tiles (ours); else the paper regions'),
      ],
    },
    {
      title: 'Weight beats (docs/layout.md §3)',
      params: [
        uint('weight_ports', c.memory.weight_ports, 'ports (lanes) streaming weights'),
        uint('lane_bits', c.memory.axi_data_bits, 'kernel-side width of one port'),
        uint('beat_bits', d.beatBits, 'one beat: weight_ports * lane_bits'),
        bool('beat_packing_paper', a.beat_packing === 'paper', 'paper beats (whole vectors + an fp16 norm weight); else dense'),
        uint('paper_vectors_per_beat', a.beat_packing === 'paper' ? d.paperVectorsPerBeat : 0, 'paper beats: whole vectors per beat (0 for dense)'),
        uint('paper_norm_bit_offset', a.beat_packing === 'paper' ? d.paperVectorsPerBeat * d.indexVectorBits : 0, 'paper beats: bit of the fp16 norm weight (0 for dense)'),
        uint('paper_norm_bits', PAPER_NORM_BITS, 'bits of the norm weight a paper beat carries'),
      ],
    },
    {
      title: 'RTL implementation constants (derived in host/src/hwgen/params.ts)',
      params: (() => {
        const rows = maxTileRows(hw);
        const chunk = constDivision(d.chunkElements, d.kMaxPadded + d.chunkElements - 1);
        const row = constDivision(d.parallelVectors, rows + d.parallelVectors - 1);
        const bank = constDivision(d.banks, rows + d.banks - 1);
        return [
          uint('chunk_div_mul', chunk.mul, 'ceil(K / chunk_elements) = (K + chunk_elements - 1) * mul >> shift, exact up to k_max_padded'),
          uint('chunk_div_shift', chunk.shift, 'see chunk_div_mul'),
          uint('row_div_mul', row.mul, 'ceil(rows / Q) by multiply and shift, exact up to max_tile_rows'),
          uint('row_div_shift', row.shift, 'see row_div_mul'),
          uint('bank_div_mul', bank.mul, 'ceil(rows / banks) by multiply and shift, exact up to max_tile_rows'),
          uint('bank_div_shift', bank.shift, 'see bank_div_mul'),
          uint('loader_vectors_per_cycle', loaderVectorsPerCycle(hw), 'index vectors the dense-beat loader writes per cycle (0: no RTL loader for this build)'),
        ];
      })(),
    },
    {
      title: 'Attention and LM head (docs/numerics.md §8.3, §9; docs/accelerator.md)',
      params: [
        bool('kv_int8', c.numerics.kv_format === 'int8', 'kv_format int8: int8 q/k/v heads with binary32 scales, one attention algorithm for every pass (else binary16)'),
        bool('lm_head_fabric', c.lm_head.placement === 'fabric', 'the LM head runs on the fabric (else the fabric returns the final norm output)'),
        bool('lm_head_shortlist', c.numerics.lm_head === 'ternary-shortlist', 'the ternary shortlist head (numerics §9.2); else the int8 head (§9.1)'),
        uint('shortlist_k', c.numerics.shortlist_k, 'K of the shortlist head'),
        uint('head_positions', HEAD_OUT_POSITIONS, 'records of head.out: most head positions of one call (verify tokens, or prefill with every position)'),
        uint('attention_pes', c.attention.prefill_pes, 'queries the attention unit takes per pass over the keys'),
        uint('int8_qk_macs', c.attention.int8_qk_macs_per_cycle, 'int8 q.k products per cycle'),
        uint('int8_value_lanes', c.attention.int8_value_lanes, 'exact value-sum lanes (u_j x v8) per cycle'),
        uint('softmax_lanes', c.attention.softmax_lanes, 'binary32 score/exp pipelines'),
        uint('int8_group_heads', c.attention.int8_group_heads, 'query heads sharing one read of a KV head'),
        uint('head_macs', c.lm_head.fabric_macs_per_cycle, 'int8 MACs per cycle of the fabric LM head'),
        uint('ddr_first_beat_cycles', c.timing.ddr_first_beat_cycles, 'assumed cycles from a DDR read request to its first beat (the C simulation\'s cycle report)'),
      ],
    },
    {
      title: 'Synthesised maxima (run-time model shapes up to these)',
      params: [
        uint('max_hidden', c.maxima.hidden, 'hidden size'),
        uint('max_ffn', c.maxima.ffn, 'FFN (intermediate) size'),
        uint('max_heads', c.maxima.heads, 'query heads'),
        uint('max_kv_heads', c.maxima.kv_heads, 'KV heads'),
        uint('max_head_dim', c.maxima.head_dim, 'head dimension'),
        uint('max_layers', c.maxima.layers, 'layers'),
        uint('max_context', c.maxima.context, 'context (KV cache positions)'),
        uint('max_vocab', c.maxima.vocab, 'vocabulary'),
        bool('runtime_shapes', a.runtime_shapes, 'model dimensions are run-time registers'),
      ],
    },
  ];
}

/** snake_case -> UpperCamelCase (SystemVerilog parameters). */
export function upperCamel(name: string): string {
  return name
    .split('_')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/** snake_case -> ALL_CAPS (C++ constants). */
export function allCaps(name: string): string {
  return name.toUpperCase();
}
