/**
 * The converter's small inputs, read before any section is laid out: the norm weights (flushed,
 * their absmax checked finite), the tokenizer files byte for byte, the chat template, and what
 * the manifest's `source` record says about the checkpoint's files.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Checkpoint } from '../checkpoint/types.js';
import { chatTemplateSource, checkTokenizerFits, loadTokenizer } from '../checkpoint/tokenizer.js';
import { TellmeError } from '../errors.js';
import { MAX_JSON_BYTES, readInputFile } from '../files/input.js';
import type { NormRole } from '../layout/ddr.js';
import { LAYER_NORM_ROLES, type LayerNormRole } from '../model/spec.js';
import { ftz32 } from '../numerics/f32.js';
import { finiteAbsmax } from './bounds.js';
import { sha256Hex } from './format.js';
import type { SourceRecord } from './manifest.js';

export interface NormSet {
  layers: Record<LayerNormRole, Float32Array | null>[];
  final: Float32Array;
}

export interface ConvertInputs {
  norms: NormSet;
  /** max |w| of each layer norm (null: the model has none), for the overflow bound. */
  normAbsmax: Record<LayerNormRole, number | null>[];
  finalNormAbsmax: number;
  tokenizerJson: Uint8Array | null;
  tokenizerConfig: Uint8Array | null;
  chatTemplate: string | null;
  source: SourceRecord;
  configFile: string;
}

function flush(v: Float32Array): Float32Array {
  for (let i = 0; i < v.length; i++) v[i] = ftz32(v[i]!);
  return v;
}

function readNorms(ckpt: Checkpoint): NormSet {
  const layers: Record<LayerNormRole, Float32Array | null>[] = [];
  for (let l = 0; l < ckpt.spec.numLayers; l++) {
    const rec = {} as Record<LayerNormRole, Float32Array | null>;
    for (const role of LAYER_NORM_ROLES) {
      const w = ckpt.layerNorm(l, role);
      rec[role] = w ? flush(w) : null;
    }
    layers.push(rec);
  }
  return { layers, final: flush(ckpt.finalNorm()) };
}

/** The norm weights of a role (binary32, flushed); throws if the model has no such norm. */
export function normOf(norms: NormSet, role: NormRole, layer: number): Float32Array {
  const v = role === 'final' ? norms.final : norms.layers[layer]![role];
  if (!v) throw new TellmeError('E_INTERNAL', `no ${role} norm in layer ${layer}`);
  return v;
}

function readOptional(file: string): Uint8Array | null {
  const b = readInputFile(file, { what: 'a JSON file', limit: MAX_JSON_BYTES, code: 'E_TOKENIZER', optional: true });
  return b === null ? null : new Uint8Array(b);
}

function parseTokenizerConfig(bytes: Uint8Array | null): Record<string, unknown> | null {
  if (!bytes) return null;
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * The tokenizer and chat template an image will carry must work: built, within the model's
 * vocabulary, and the template rendering a one-message conversation (bounded). Otherwise the
 * image would be unusable with text, so convert refuses it, naming the file.
 */
function checkTextSide(ckpt: Checkpoint): void {
  const file = path.join(ckpt.dir, 'tokenizer.json');
  try {
    const tok = loadTokenizer(ckpt.dir);
    if (!tok) return;
    checkTokenizerFits(tok, ckpt.spec.vocabSize, file);
    tok.applyChatTemplate([{ role: 'user', content: 'Hello' }], { addGenerationPrompt: true });
  } catch (e) {
    if (!(e instanceof TellmeError) || e.code !== 'E_TOKENIZER') throw e;
    throw new TellmeError('E_TOKENIZER', e.message, `Fix the file named above (or re-download it); to convert without a tokenizer, move ${file} out of the checkpoint (the image then takes --ids only).`);
  }
}

export function readConvertInputs(ckpt: Checkpoint): ConvertInputs {
  const spec = ckpt.spec;
  checkTextSide(ckpt);
  const norms = readNorms(ckpt);
  const normAbsmax = norms.layers.map((rec, l) => {
    const out = {} as Record<LayerNormRole, number | null>;
    for (const role of LAYER_NORM_ROLES) out[role] = rec[role] ? finiteAbsmax(rec[role]!, `norm ${role} of layer ${l}`) : null;
    return out;
  });
  const finalNormAbsmax = finiteAbsmax(norms.final, 'model.norm.weight');
  const tokenizerJson = readOptional(path.join(ckpt.dir, 'tokenizer.json'));
  const tokenizerConfig = readOptional(path.join(ckpt.dir, 'tokenizer_config.json'));
  const configFile = path.join(ckpt.dir, 'config.json');
  const files = [...new Set([...ckpt.tensors.values()].map((t) => t.file))].sort();
  return {
    norms,
    normAbsmax,
    finalNormAbsmax,
    tokenizerJson,
    tokenizerConfig,
    chatTemplate: chatTemplateSource(ckpt.dir, parseTokenizerConfig(tokenizerConfig) ?? {}, path.join(ckpt.dir, 'tokenizer_config.json')),
    configFile,
    source: {
      kind: 'hf-checkpoint',
      path: ckpt.dir,
      family: spec.family,
      weight_storage: spec.weightStorage,
      scale_convention: spec.scaleConvention,
      dtype: spec.dtype,
      config_sha256: sha256Hex(readInputFile(configFile, { what: 'config.json', limit: MAX_JSON_BYTES, code: 'E_CONFIG' })!),
      files: files.map((f) => ({ name: path.relative(ckpt.dir, f), bytes: fs.statSync(f).size })),
    },
  };
}
