/**
 * The image's section table (docs/image-format.md §1-2), fixed before any weight is read: one
 * section per image-carried DDR region in the DDR map's order, then the host-only sections
 * (binary32 norms of fp16 builds, tokenizer files), each on a 4096-byte boundary, and the
 * manifest's offset after the last one.
 */

import { layerNormRoles, type DdrPlan, type NormRole } from '../layout/ddr.js';
import type { ModelSpec } from '../model/spec.js';
import { normOf, type ConvertInputs } from './convert-inputs.js';
import { alignTo, SECTION_ALIGNMENT } from './format.js';
import { IMAGE_DDR_KINDS, type SectionRecord } from './manifest.js';
import { hostNormSection, TOKENIZER_CONFIG_SECTION, TOKENIZER_JSON_SECTION } from './records.js';

export interface NormRef {
  role: NormRole;
  layer: number;
}

export interface SectionTable {
  /** Offsets fixed, sha256 empty until written. */
  sections: SectionRecord[];
  /** Names of the DDR regions the image carries. */
  imageRegions: Set<string>;
  /** Every norm of the model, layer by layer, then the final norm. */
  norms: NormRef[];
  manifestOffset: number;
}

export function sectionTable(spec: ModelSpec, ddr: DdrPlan, fp16: boolean, inputs: ConvertInputs): SectionTable {
  const sections: SectionRecord[] = [];
  const add = (s: Omit<SectionRecord, 'offset' | 'sha256'>) => sections.push({ ...s, offset: 0, sha256: '' });
  const imageRegions = new Set<string>();
  for (const r of ddr.regions) {
    if (!IMAGE_DDR_KINDS.includes(r.kind)) continue;
    imageRegions.add(r.name);
    add({ name: r.name, kind: r.kind as SectionRecord['kind'], size: r.size, dtype: r.dtype, shape: r.shape.slice(), ddr_offset: r.offset });
  }
  const norms: NormRef[] = [];
  for (let l = 0; l < spec.numLayers; l++) for (const role of layerNormRoles(spec)) norms.push({ role, layer: l });
  norms.push({ role: 'final', layer: spec.numLayers - 1 });
  if (fp16) {
    for (const n of norms) {
      const len = normOf(inputs.norms, n.role, n.layer).length;
      add({ name: hostNormSection(n.role, n.layer), kind: 'host_norms', size: 4 * len, dtype: 'fp32', shape: [len], ddr_offset: null });
    }
  }
  const tj = inputs.tokenizerJson;
  if (tj) add({ name: TOKENIZER_JSON_SECTION, kind: 'tokenizer', size: tj.length, dtype: 'bytes', shape: [tj.length], ddr_offset: null });
  const tc = inputs.tokenizerConfig;
  if (tc) add({ name: TOKENIZER_CONFIG_SECTION, kind: 'tokenizer', size: tc.length, dtype: 'bytes', shape: [tc.length], ddr_offset: null });

  let cursor = SECTION_ALIGNMENT;
  for (const s of sections) {
    s.offset = alignTo(cursor);
    cursor = s.offset + s.size;
  }
  return { sections, imageRegions, norms, manifestOffset: alignTo(cursor) };
}
