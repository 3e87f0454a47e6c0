/**
 * The ternary weight sections (docs/image-format.md §2, `weights.*`): one matrix at a time,
 * encoded into TLMM indices with the RoPE row map folded in, packed tile by tile and split lane
 * by lane; and, layer by layer, the overflow bounds of docs/numerics.md §4.4 from the weight
 * scales just read (the residual stream's embedding term is added when the embedding is known).
 */

import { parseQuantizationConfig } from '../checkpoint/config.js';
import { linearWeightName, weightScaleName } from '../checkpoint/names.js';
import { readTensorBytes, readTensorF32 } from '../checkpoint/safetensors.js';
import type { Checkpoint } from '../checkpoint/types.js';
import { TellmeError } from '../errors.js';
import type { LoadedHwConfig } from '../hwconfig/types.js';
import { beatCount } from '../layout/beats.js';
import { tilePackLayout, type DdrPlan, type NormRole } from '../layout/ddr.js';
import type { UramPlan } from '../layout/uram.js';
import { LINEAR_NAMES, type LinearName } from '../model/spec.js';
import { ftz32 } from '../numerics/f32.js';
import { weightScaleToMultiplier } from '../quant/ternary.js';
import { checkBound, layerBounds, layerWorst, type Worst } from './bounds.js';
import type { ConvertInputs } from './convert-inputs.js';
import type { ImageFile } from './image-file.js';
import type { LayerBoundRecord, MatrixRecord } from './manifest.js';
import { encodePackedRows, encodeTernaryRows, laneOf, packStream, rowMap } from './pack.js';
import { f32Hex } from './records.js';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface WeightsWritten {
  /** Layer-major, then LINEAR_NAMES order. */
  matrices: MatrixRecord[];
  /** Per-layer bounds; `residual` still lacks the embedding's absmax. */
  layers: LayerBoundRecord[];
  worst: Worst;
}

export async function writeWeights(
  ckpt: Checkpoint,
  hw: LoadedHwConfig,
  plan: { uram: UramPlan; ddr: DdrPlan },
  inputs: ConvertInputs,
  file: ImageFile,
  /** The binary16 bits of a norm carried in paper-packed beats. */
  normF16: (role: NormRole, layer: number) => Uint16Array,
  progress: (what: string) => void,
): Promise<WeightsWritten> {
  const spec = ckpt.spec;
  const linearClass = parseQuantizationConfig(ckpt.config, inputs.configFile)?.linearClass ?? null;
  const carried = new Map(plan.ddr.carriedNorms.map((c) => [`${c.layer}.${c.linear}`, c]));
  const matrices: MatrixRecord[] = [];
  const layers: LayerBoundRecord[] = [];
  const T = hw.derived.tables;
  const lanes = hw.config.memory.weight_ports;
  const beatBytes = hw.derived.beatBytes;
  let worst: Worst = { bound: 0, log2: -Infinity, where: '' };
  let residual = 0; // the embedding's absmax is added once it is known (end of conversion)
  for (let l = 0; l < spec.numLayers; l++) {
    const scales = {} as Record<LinearName, number>;
    for (const lp of plan.uram.linears) {
      const name = lp.linear;
      const groups = lp.chunks * T;
      const rope = name === 'q_proj' || name === 'k_proj';
      const map = rowMap(lp.rows, rope ? spec.headDim : null);
      const indices = new Uint8Array(lp.rows * groups);
      const wInfo = ckpt.tensors.get(linearWeightName(l, name));
      let scale: number;
      if (spec.weightStorage === 'packed' && wInfo && wInfo.dtype === 'U8') {
        encodePackedRows(readTensorBytes(wInfo), lp.rows, lp.cols, groups, map, indices, `${wInfo.file}: tensor '${wInfo.name}'`);
        scale = packedScale(ckpt, l, name, linearClass, inputs.configFile);
      } else {
        const m = ckpt.linear(l, name);
        encodeTernaryRows(m.values, m.rows, m.cols, groups, map, indices);
        scale = m.scale;
      }
      scale = ftz32(scale);
      if (!(scale > 0 && Number.isFinite(scale))) {
        throw new TellmeError('E_NUMERICS', `layer ${l} ${name}: weight scale ${scale} is not a positive finite binary32 number`, 'The checkpoint is corrupt; re-download it.');
      }
      scales[name] = scale;
      const c = carried.get(`${l}.${name}`);
      const normBits = c ? normF16(c.role, c.normLayer) : null;
      let beat0 = 0;
      for (const tile of lp.tiles) {
        const layout = tilePackLayout(tile, hw);
        const stream = packStream(indices, lp.rows, groups, layout, normBits, beat0);
        beat0 += beatCount(layout);
        for (let p = 0; p < lanes; p++) file.writeSection(`weights.L${l}.${name}.t${tile.tile}.p${p}`, laneOf(stream, beatBytes, lanes, p));
      }
      matrices.push({ layer: l, linear: name, rows: lp.rows, cols: lp.cols, chunks: lp.chunks, tiles: lp.tiles.length, scale, scale_bits: f32Hex(scale), rope_permuted: rope });
      progress(`layer ${l} ${name}`);
      await tick();
    }
    const b = layerBounds(spec, l, inputs.normAbsmax[l]!, scales, residual, hw.config.numerics.kv_format);
    residual = b.residual;
    layers.push(b);
    const w = layerWorst(b);
    checkBound(w, `Layer ${l}: weight scales ${LINEAR_NAMES.map((n) => `${n} ${scales[n]}`).join(', ')}; max |norm weight| ${JSON.stringify(inputs.normAbsmax[l])}.`);
    if (!(w.bound <= worst.bound)) worst = w;
  }
  matrices.sort((a, b) => a.layer - b.layer || LINEAR_NAMES.indexOf(a.linear) - LINEAR_NAMES.indexOf(b.linear));
  return { matrices, layers, worst };
}

/** The multiplicative scale of a packed linear, exactly as the checkpoint loader computes it (checkpoint/open.ts). */
function packedScale(ckpt: Checkpoint, layer: number, name: LinearName, linearClass: string | null, configFile: string): number {
  const s = ckpt.tensors.get(weightScaleName(layer, name));
  if (!s) throw new TellmeError('E_NOT_FOUND', `${ckpt.dir}: no tensor '${weightScaleName(layer, name)}' in this checkpoint`, 'The checkpoint is incomplete; re-download it.');
  const raw = readTensorF32(s)[0]!;
  return weightScaleToMultiplier(raw, ckpt.spec.scaleConvention!, { tensor: s.name, file: s.file, linearClass, configFile });
}
