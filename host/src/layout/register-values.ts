/**
 * The values the firmware writes into the accelerator's registers for one model (docs/registers.md
 * §3-4): the shape, and the DDR map of docs/layout.md §4 as bases, strides and per-linear tables.
 * The register-driven accelerator finds every region with
 *   weights: weights_offset + l·weights_layer_stride + linear_offset[n] + t·linear_tile_stride[n] + p·(lane stride of tile t)
 *   norms:   norms_offset + l·norms_layer_stride + norm_role_offset[r]
 * which holds because every layer has the same regions and every tile but the last the same rows;
 * registerValues() derives the values and checks that formula against every region of the plan.
 */
import { TellmeError } from '../errors.js';
import type { LoadedHwConfig } from '../hwconfig/types.js';
import type { LinearName, ModelSpec } from '../model/spec.js';
import { f32ToBits } from '../numerics/f32.js';
import { ACTIVATION, LINEAR, NORM_ROLE, REGISTERS } from '../regmap/registers.js';
import type { DdrPlan, DdrRegion } from './ddr.js';
import { layerNormRoles } from './ddr.js';
import type { UramPlan } from './uram.js';

export interface RegisterValues {
  /** Scalar and pointer-offset registers by name (pointers themselves are the firmware's window base). */
  scalars: Record<string, number>;
  /** Array registers by name, every element (unused ones 0). */
  arrays: Record<string, number[]>;
}

function region(plan: Pick<DdrPlan, 'regions'>, name: string): DdrRegion {
  const r = plan.regions.find((x) => x.name === name);
  if (!r) throw new TellmeError('E_INTERNAL', `DDR plan has no region ${name}`);
  return r;
}

/** `weightScale(layer, linear)`: the binary32 w_s of a matrix (the manifest's matrices[].scale). */
export function registerValues(spec: ModelSpec, hw: LoadedHwConfig, uram: UramPlan, ddr: Pick<DdrPlan, 'regions' | 'context'>, weightScale: (layer: number, linear: LinearName) => number): RegisterValues {
  const a = hw.config.architecture;
  if (a.weight_layout !== 'tiled' || a.beat_packing !== 'dense' || a.activation_format !== 'fp32') {
    throw new TellmeError(
      'E_HWCONFIG',
      `${hw.config.name}: the register-driven accelerator (hls/) implements tiled, dense-packed, binary32 builds; this one is ${a.weight_layout} / ${a.beat_packing} / ${a.activation_format}`,
      'Use a build like kv260 (the paper build kv260-paper is for comparing with the paper in the planner only).',
    );
  }
  const arrays: Record<string, number[]> = {};
  for (const [name, info] of Object.entries(REGISTERS)) if (info.kind === 'array') arrays[name] = new Array<number>(info.count).fill(0);
  const byName = new Map(ddr.regions.map((r) => [r.name, r]));
  const off = (name: string) => region(ddr, name).offset;

  // Weights: layer 0's first region, the layer stride, and per linear its offset and strides.
  const w0 = off(`weights.L0.${uram.linears[0]!.linear}.t0.p0`);
  const layerStride = spec.numLayers > 1 ? off(`weights.L1.${uram.linears[0]!.linear}.t0.p0`) - w0 : 0;
  for (const lp of uram.linears) {
    const n = LINEAR[lp.linear];
    const base = off(`weights.L0.${lp.linear}.t0.p0`);
    arrays.linear_offset![n] = base - w0;
    const last = lp.tiles.length - 1;
    const laneStride = (t: number) => (hw.config.memory.weight_ports > 1 ? off(`weights.L0.${lp.linear}.t${t}.p1`) - off(`weights.L0.${lp.linear}.t${t}.p0`) : 0);
    arrays.linear_lane_stride![n] = laneStride(0);
    arrays.linear_last_lane_stride![n] = laneStride(last);
    arrays.linear_tile_stride![n] = lp.tiles.length > 1 ? off(`weights.L0.${lp.linear}.t1.p0`) - base : 0;
    arrays.linear_tile_rows![n] = lp.tiles[0]!.rows;
  }
  // Norms: layer 0's first region, the layer stride, per role its offset.
  const roles = layerNormRoles(spec);
  const n0 = off(`norms.L0.${roles[0]}`);
  const normStride = spec.numLayers > 1 ? off(`norms.L1.${roles[0]}`) - n0 : 0;
  for (const r of roles) arrays.norm_role_offset![NORM_ROLE[r]] = off(`norms.L0.${r}`) - n0;
  for (let l = 0; l < spec.numLayers; l++) {
    for (const lp of uram.linears) arrays.weight_scale![l * 8 + LINEAR[lp.linear]] = f32ToBits(weightScale(l, lp.linear));
  }

  const scalars: Record<string, number> = {
    n_tokens: 0,
    layer_count: spec.numLayers,
    hidden: spec.hiddenSize,
    ffn: spec.intermediateSize,
    heads: spec.numHeads,
    kv_heads: spec.numKvHeads,
    head_dim: spec.headDim,
    layers: spec.numLayers,
    vocab: spec.vocabSize,
    context: ddr.context,
    activation: ACTIVATION[spec.activation],
    sub_norms: spec.subNorms ? 1 : 0,
    rms_eps: f32ToBits(Math.fround(spec.rmsNormEps)),
    weights_offset: w0,
    weights_layer_stride: layerStride,
    norms_offset: n0,
    norms_layer_stride: normStride,
    norm_final_offset: off('norms.final'),
    rope_offset: off('rope'),
    kv_k_offset: off('kv.k'),
    kv_v_offset: off('kv.v'),
    residual_offset: off('scratch.residual'),
    act0_offset: off('scratch.act0'),
    act1_offset: off('scratch.act1'),
    q_offset: off('scratch.q'),
    amax_offset: off('scratch.amax'),
    lm_head_weight_offset: off('lm_head.weight'),
    lm_head_scale_offset: off('lm_head.scale'),
    // The head's output records (docs/accelerator.md §2): the region is `logits` in the DDR map.
    logits_offset: byName.has('head.out') ? off('head.out') : byName.has('logits') ? off('logits') : 0,
    q_scale_offset: byName.has('scratch.q_scale') ? off('scratch.q_scale') : 0,
    kv_k_scale_offset: byName.has('kv.k_scale') ? off('kv.k_scale') : 0,
    kv_v_scale_offset: byName.has('kv.v_scale') ? off('kv.v_scale') : 0,
  };

  // The formulas must reach every weight and norm region of the plan.
  for (const r of ddr.regions) {
    let want: number | null = null;
    if (r.kind === 'weights') {
      const n = LINEAR[r.linear!];
      const lastTile = r.tile === uram.linears.find((x) => x.linear === r.linear)!.tiles.length - 1;
      const lane = lastTile ? arrays.linear_last_lane_stride![n]! : arrays.linear_lane_stride![n]!;
      want = w0 + r.layer! * layerStride + arrays.linear_offset![n]! + r.tile! * arrays.linear_tile_stride![n]! + r.lane! * lane;
    } else if (r.kind === 'norms' && r.role !== 'final') {
      want = n0 + r.layer! * normStride + arrays.norm_role_offset![NORM_ROLE[r.role!]]!;
    }
    if (want !== null && want !== r.offset) {
      throw new TellmeError('E_INTERNAL', `register formula puts ${r.name} at ${want}, the DDR plan at ${r.offset}`);
    }
  }
  return { scalars, arrays };
}
