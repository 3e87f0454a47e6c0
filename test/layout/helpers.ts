import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { boardsDir, hwConfigFromObject, type HwConfig, type LoadedHwConfig } from '../../host/src/hwconfig/index.js';
import type { ModelSpec } from '../../host/src/model/spec.js';
import { BUILTIN_SHAPES } from '../../host/src/plan/shapes.js';

export function rawBoard(name: string): HwConfig {
  return JSON.parse(fs.readFileSync(path.join(boardsDir(), `${name}.json`), 'utf8')) as HwConfig;
}

export interface HwVariant {
  q: number;
  depth: number;
  tables: number;
  ports: number;
  axiBits: number;
  doubleBuffer: boolean;
  packing: 'paper' | 'dense';
  layout: 'paper-regions' | 'tiled';
}

/** A valid hardware build around kv260 with the given geometry. */
export function variant(v: HwVariant): LoadedHwConfig {
  const base = rawBoard('kv260');
  const cascade = Math.ceil((v.tables * 5) / 72);
  const depth = v.doubleBuffer ? v.depth * 2 : v.depth;
  const cfg: HwConfig = {
    ...base,
    tlmm: { ...base.tlmm, tables_per_vector: v.tables, parallel_vectors: v.q },
    uram: { ...base.uram, cascade, weight_buffer_urams: cascade * (v.q / 2) * depth },
    resources: { ...base.resources, uram: 100000 },
    memory: { ...base.memory, weight_ports: v.ports, axi_data_bits: v.axiBits, burst_beats: 4, shared_port_lanes: Math.min(base.memory.shared_port_lanes, v.ports) },
    architecture: {
      ...base.architecture,
      double_buffering: v.layout === 'tiled' && v.doubleBuffer,
      beat_packing: v.packing,
      weight_layout: v.layout,
    },
  };
  return hwConfigFromObject(cfg, 'variant');
}

export const arbVariant: fc.Arbitrary<HwVariant> = fc
  .record({
    q: fc.constantFrom(2, 4, 6, 8, 16),
    depth: fc.integer({ min: 1, max: 2 }),
    tables: fc.integer({ min: 1, max: 28 }),
    ports: fc.integer({ min: 1, max: 4 }),
    axiBits: fc.constantFrom(128, 256),
    doubleBuffer: fc.boolean(),
    packing: fc.constantFrom('paper' as const, 'dense' as const),
    layout: fc.constantFrom('paper-regions' as const, 'tiled' as const),
  })
  .filter((v) => v.packing === 'dense' || v.ports * v.axiBits >= v.tables * 5 + 16);

export function shape(p: { hidden: number; ffn: number; heads: number; kvHeads: number; headDim: number; layers: number; vocab: number; subNorms?: boolean }): ModelSpec {
  return {
    ...BUILTIN_SHAPES['bitnet-large']!,
    hiddenSize: p.hidden,
    intermediateSize: p.ffn,
    numHeads: p.heads,
    numKvHeads: p.kvHeads,
    headDim: p.headDim,
    numLayers: p.layers,
    vocabSize: p.vocab,
    maxPositions: 256,
    subNorms: p.subNorms ?? true,
  };
}

export const arbShape: fc.Arbitrary<ModelSpec> = fc
  .record({
    hidden: fc.integer({ min: 8, max: 700 }),
    ffn: fc.integer({ min: 8, max: 1500 }),
    kvHeads: fc.integer({ min: 1, max: 4 }),
    group: fc.integer({ min: 1, max: 4 }),
    headDimHalf: fc.integer({ min: 1, max: 32 }),
    layers: fc.integer({ min: 1, max: 3 }),
    vocab: fc.integer({ min: 1, max: 3000 }),
    subNorms: fc.boolean(),
  })
  .map((r) => shape({ hidden: r.hidden, ffn: r.ffn, heads: r.kvHeads * r.group, kvHeads: r.kvHeads, headDim: 2 * r.headDimHalf, layers: r.layers, vocab: r.vocab, subNorms: r.subNorms }));

/** Smaller shapes for properties that enumerate every vector. */
export const arbSmallShape: fc.Arbitrary<ModelSpec> = fc
  .record({
    hidden: fc.integer({ min: 8, max: 260 }),
    ffn: fc.integer({ min: 8, max: 400 }),
    kvHeads: fc.integer({ min: 1, max: 3 }),
    group: fc.integer({ min: 1, max: 3 }),
    headDimHalf: fc.integer({ min: 1, max: 16 }),
    layers: fc.integer({ min: 1, max: 2 }),
    vocab: fc.integer({ min: 1, max: 500 }),
    subNorms: fc.boolean(),
  })
  .map((r) => shape({ hidden: r.hidden, ffn: r.ffn, heads: r.kvHeads * r.group, kvHeads: r.kvHeads, headDim: 2 * r.headDimHalf, layers: r.layers, vocab: r.vocab, subNorms: r.subNorms }));
