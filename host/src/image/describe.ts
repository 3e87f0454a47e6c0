/** What `tellme inspect <image>` shows: a summary of an opened (validated) model image. */

import { parameterCount, ternaryWeightsPerToken } from '../model/spec.js';
import type { ImageManifest, SectionRecord } from './manifest.js';
import type { ModelImage } from './reader.js';

export interface ImageDescription {
  file: string;
  bytes: number;
  format: string;
  format_version: number;
  checksums_verified: boolean;
  converter: ImageManifest['converter'];
  source: ImageManifest['source'];
  hardware: { name: string; hash: string; weight_layout: string; beat_packing: string; activation_format: string; weight_ports: number; beat_bits: number };
  fit: ImageManifest['fit'];
  model: {
    family: string;
    architecture: string;
    layers: number;
    hidden_size: number;
    intermediate_size: number;
    heads: number;
    kv_heads: number;
    head_dim: number;
    vocab_size: number;
    activation: string;
    sub_norms: boolean;
    tied_embeddings: boolean;
    parameters: number;
    ternary_weights_per_token: number;
  };
  context: number;
  weights: { matrices: number; scale_min: number; scale_max: number; bytes_per_token: number };
  uram: Omit<ImageManifest['uram'], 'linears'>;
  ddr: { regions: number; in_image: number; total_bytes: number; usable_bytes: number; carried_norms: number };
  numerics: Omit<ImageManifest['numerics'], 'layers'>;
  tokenizer: Omit<ImageManifest['tokenizer'], 'chat_template'> & { chat_template: boolean };
  manifest: { offset: number; bytes: number; sha256: string };
  sections: Pick<SectionRecord, 'name' | 'kind' | 'offset' | 'size' | 'dtype' | 'shape' | 'ddr_offset' | 'sha256'>[];
}

export function describeImage(image: ModelImage): ImageDescription {
  const m = image.manifest;
  const spec = m.spec;
  const hw = image.hw;
  const scales = m.matrices.map((x) => x.scale);
  const { linears: _l, ...uram } = m.uram;
  const { layers: _layers, ...numerics } = m.numerics;
  const { chat_template, ...tok } = m.tokenizer;
  return {
    file: image.path,
    bytes: image.header.fileLength,
    format: m.format,
    format_version: m.format_version,
    checksums_verified: image.checksumsVerified,
    converter: m.converter,
    source: m.source,
    hardware: {
      name: m.hardware.name,
      hash: m.hardware.hash,
      weight_layout: hw.config.architecture.weight_layout,
      beat_packing: hw.config.architecture.beat_packing,
      activation_format: hw.config.architecture.activation_format,
      weight_ports: hw.config.memory.weight_ports,
      beat_bits: hw.derived.beatBits,
    },
    fit: m.fit,
    model: {
      family: spec.family,
      architecture: spec.architecture,
      layers: spec.numLayers,
      hidden_size: spec.hiddenSize,
      intermediate_size: spec.intermediateSize,
      heads: spec.numHeads,
      kv_heads: spec.numKvHeads,
      head_dim: spec.headDim,
      vocab_size: spec.vocabSize,
      activation: spec.activation,
      sub_norms: spec.subNorms,
      tied_embeddings: spec.tiedEmbeddings,
      parameters: parameterCount(spec),
      ternary_weights_per_token: ternaryWeightsPerToken(spec),
    },
    context: m.context,
    weights: {
      matrices: m.matrices.length,
      scale_min: Math.min(...scales),
      scale_max: Math.max(...scales),
      bytes_per_token: m.sections.filter((s) => s.kind === 'weights').reduce((a, s) => a + s.size, 0),
    },
    uram,
    ddr: {
      regions: m.ddr.regions.length,
      in_image: m.ddr.regions.filter((r) => r.in_image).length,
      total_bytes: m.ddr.total_bytes,
      usable_bytes: m.ddr.usable_bytes,
      carried_norms: m.ddr.carried_norms.length,
    },
    numerics,
    tokenizer: { ...tok, chat_template: chat_template !== null },
    manifest: { offset: image.header.manifestOffset, bytes: image.header.manifestLength, sha256: image.header.manifestSha256 },
    sections: m.sections.map((s) => ({ name: s.name, kind: s.kind, offset: s.offset, size: s.size, dtype: s.dtype, shape: s.shape, ddr_offset: s.ddr_offset, sha256: s.sha256 })),
  };
}

function size(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(9, '0')}`;
}

/** The text report; weight sections are summarised per layer unless allSections. */
export function imageText(d: ImageDescription, opts: { allSections?: boolean } = {}): string {
  const md = d.model;
  const hwd = d.hardware;
  const lines = [
    `${d.file}`,
    `  format          TeLLMe model image, version ${d.format_version}, ${size(d.bytes)} (${d.bytes} bytes)`,
    `  converter       ${d.converter.name} ${d.converter.version}, from ${d.source.path} (${d.source.family}, ${d.source.weight_storage} weights, ${d.source.dtype ?? 'unknown dtype'})`,
    `  model           ${md.architecture}: ${md.layers} layers x ${md.hidden_size} (FFN ${md.intermediate_size}, ${md.activation === 'relu2' ? 'ReLU²' : 'SwiGLU'}), ${md.heads} heads x ${md.head_dim}, ${md.kv_heads} KV heads, vocab ${md.vocab_size}`,
    `                  sub-norms ${md.sub_norms ? 'yes' : 'no'}, head ${md.tied_embeddings ? 'tied' : 'untied'}, ${(md.parameters / 1e6).toFixed(1)} M parameters (${(md.ternary_weights_per_token / 1e6).toFixed(1)} M ternary)`,
    `  hardware        ${hwd.name} (sha256 ${hwd.hash}): ${hwd.weight_layout} layout, ${hwd.beat_packing} ${hwd.beat_bits}-bit beats over ${hwd.weight_ports} ports, ${hwd.activation_format === 'fp32' ? 'binary32' : 'binary16'} activations`,
    `  fit             ${d.fit.fits ? 'fits the board' : `DOES NOT FIT: ${d.fit.problems.join('; ')}`}`,
    `  context         ${d.context} positions (RoPE table and KV cache)`,
    `  weights         ${d.weights.matrices} matrices, ${size(d.weights.bytes_per_token)} of beats per token; scales ${d.weights.scale_min}..${d.weights.scale_max}`,
    `  URAM            ${d.uram.weight_buffer_urams} URAMs, ${d.uram.buffers} buffer(s) x ${d.uram.words_per_buffer} words/bank; peak tile ${d.uram.peak_words_per_bank} words; ${d.uram.steps_per_layer} steps per layer`,
    `  DDR map         ${d.ddr.regions} regions (${d.ddr.in_image} carried in the image), ${size(d.ddr.total_bytes)} of ${size(d.ddr.usable_bytes)} usable${d.ddr.carried_norms ? `; ${d.ddr.carried_norms} norms ride in weight beats` : ''}`,
    `  numerics        worst case ${d.numerics.worst.bound.toExponential(2)} (2^${d.numerics.worst.log2.toFixed(1)}, ${d.numerics.worst.where}) < 2^${d.numerics.limit_log2}`,
    `  tokenizer       ${d.tokenizer.tokenizer_json ? 'yes' : 'no (use --ids)'}; chat template ${d.tokenizer.chat_template ? 'yes' : 'no'}; bos ${d.tokenizer.bos_token_id}, eos ${JSON.stringify(d.tokenizer.eos_token_ids)}`,
    `  checksums       ${d.checksums_verified ? `verified: all ${d.sections.length} sections (sha256) and the padding between them; manifest sha256 ${d.manifest.sha256.slice(0, 16)}…` : 'NOT verified'}`,
    `  manifest        ${size(d.manifest.bytes)} at ${hex(d.manifest.offset)}`,
    `  sections        offset        size        DDR offset    name`,
  ];
  const row = (name: string, offset: number, sz: number, ddr: number | null) =>
    `                  ${hex(offset)}  ${size(sz).padStart(10)}  ${ddr === null ? '(host)'.padEnd(12) : hex(ddr)}  ${name}`;
  if (opts.allSections || d.sections.length <= 80) {
    for (const s of d.sections) lines.push(row(s.name, s.offset, s.size, s.ddr_offset));
  } else {
    // Weight lanes and norms per layer on one line each; everything else listed.
    const byLayer = new Map<string, SectionRecordLite[]>();
    const others: SectionRecordLite[] = [];
    for (const s of d.sections) {
      const m = /^(weights|norms|host\.norms)\.L(\d+)\./.exec(s.name);
      if (m) {
        const k = `${m[1]}.L${m[2]}.*`;
        if (!byLayer.has(k)) byLayer.set(k, []);
        byLayer.get(k)!.push(s);
      } else others.push(s);
    }
    for (const [k, list] of byLayer) {
      const bytes = list.reduce((a, s) => a + s.size, 0);
      lines.push(row(`${k} (${list.length} sections)`, list[0]!.offset, bytes, list[0]!.ddr_offset));
    }
    for (const s of others) lines.push(row(s.name, s.offset, s.size, s.ddr_offset));
    lines.push('                  (--sections lists every section)');
  }
  return lines.join('\n') + '\n';
}

type SectionRecordLite = ImageDescription['sections'][number];
