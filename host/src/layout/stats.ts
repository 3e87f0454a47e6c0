/**
 * Where the bits of a weight stream go: ideal 5-bit groups, reduction padding to whole index
 * vectors, block padding (the paper's fixed regions / row padding), and unused beat bits.
 */
import type { BeatPacking, LoadedHwConfig } from '../hwconfig/types.js';
import type { ModelSpec } from '../model/spec.js';
import { beatCount, makePackLayout, storedVectors } from './beats.js';
import { normLength, paperNormCarrier, tilePackLayout } from './ddr.js';
import type { UramPlan } from './uram.js';

export interface PackingStats {
  mode: BeatPacking;
  beatBits: number;
  /** rows * ceil(cols/3) * B_idx over all linears of all layers. */
  idealBits: number;
  /** After padding the groups of every row to whole index vectors (T groups). */
  vectorBits: number;
  /** Including padding vectors of blocks (paper regions, beat-completing slots). */
  storedVectorBits: number;
  /** fp16 norm weights carried in beats (paper mode). */
  normBits: number;
  /** beats * beatBits: what is read from DDR. */
  streamBits: number;
  bytesPerToken: number;
  /** Fractions of streamBits. */
  share: { useful: number; reductionPadding: number; blockPadding: number; norms: number; unused: number };
  /** paper mode: bits of every beat that carry nothing. */
  unusedBitsPerBeat: number;
}

export function packingStats(spec: ModelSpec, hw: LoadedHwConfig, uram: UramPlan, mode: BeatPacking = hw.config.architecture.beat_packing): PackingStats {
  const d = hw.derived;
  const vb = d.indexVectorBits;
  let ideal = 0;
  let vec = 0;
  let stored = 0;
  let stream = 0;
  let norms = 0;
  for (const lp of uram.linears) {
    ideal += lp.rows * Math.ceil(lp.cols / 3) * hw.config.tlmm.index_bits;
    vec += lp.rows * lp.chunks * vb;
    let beats = 0;
    for (const t of lp.tiles) {
      const base = tilePackLayout(t, hw);
      const layout = makePackLayout(mode, d.beatBits, hw.config.tlmm.index_bits, d.tables, base.blocks);
      const b = beatCount(layout);
      beats += b;
      stream += b * d.beatBits;
      // Paper mode completes every chunk's last beat with padding vectors.
      stored += (mode === 'paper' ? b * layout.vectorsPerBeat : storedVectors(layout)) * vb;
    }
    if (mode === 'paper') {
      // Average over layers: the carrier pattern is the same in every layer except the last down_proj.
      const c = paperNormCarrier(spec, 0, lp.linear);
      if (c) norms += Math.min(beats, normLength(spec, c.role)) * 16;
    }
  }
  const L = spec.numLayers;
  ideal *= L;
  vec *= L;
  stored *= L;
  stream *= L;
  norms *= L;
  const unused = stream - stored - norms;
  return {
    mode,
    beatBits: d.beatBits,
    idealBits: ideal,
    vectorBits: vec,
    storedVectorBits: stored,
    normBits: norms,
    streamBits: stream,
    bytesPerToken: stream / 8,
    share: {
      useful: ideal / stream,
      reductionPadding: (vec - ideal) / stream,
      blockPadding: (stored - vec) / stream,
      norms: norms / stream,
      unused: unused / stream,
    },
    unusedBitsPerBeat: mode === 'paper' ? d.beatBits - Math.floor((d.beatBits - 16) / vb) * vb - 16 : 0,
  };
}
