/**
 * openCheckpoint(dir): the Checkpoint over a Hugging Face BitNet directory.
 *
 * Opening reads config.json, the optional JSON side files and the safetensors headers, derives
 * the ModelSpec and checks every needed tensor's dtype and shape. Tensor data is read only when
 * asked for, one tensor at a time, and nothing is cached (consumers decide what to keep).
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TellmeError } from '../errors.js';
import type { LayerNormRole, LinearName, ModelSpec } from '../model/spec.js';
import { linearShape } from '../model/spec.js';
import { absmeanTernarize, unpackTernary, weightScaleToMultiplier } from '../quant/ternary.js';
import { parseQuantizationConfig, specFromConfig } from './config.js';
import { readJsonObject } from './json-file.js';
import { EMBED_NAME, FINAL_NORM_NAME, LM_HEAD_NAME, layerNormName, linearWeightName, weightScaleName } from './names.js';
import { forEachF32Chunk, readTensorBytes, readTensorF32 } from './safetensors.js';
import { resolveSpecialTokens, tokenIdLookup } from './special-tokens.js';
import { loadTensorIndex } from './tensor-index.js';
import type { Checkpoint, DenseMatrix, TensorInfo, TernaryMatrix } from './types.js';
import { unusedTensorNames, validateTensors, type ValidationContext } from './validate.js';

export function openCheckpoint(dirArg: string): Checkpoint {
  const dir = path.resolve(dirArg);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new TellmeError('E_NOT_FOUND', `${dir}: no such directory`, 'Pass the path of a Hugging Face checkpoint directory (the folder holding config.json).');
  }
  if (!stat.isDirectory()) {
    throw new TellmeError('E_CHECKPOINT', `${dir}: is a file, not a checkpoint directory`, 'Pass the folder that holds config.json and the safetensors files.');
  }
  const configFile = path.join(dir, 'config.json');
  const config = readJsonObject(configFile, 'E_CONFIG');
  if (!config) {
    throw new TellmeError(
      'E_CHECKPOINT',
      `${dir}: no config.json, so this is not a Hugging Face checkpoint directory`,
      'Download the whole model repository (config.json, the safetensors files and the tokenizer files), not just the weights.',
    );
  }
  const generationConfigFile = path.join(dir, 'generation_config.json');
  const generationConfig = readJsonObject(generationConfigFile, 'E_CONFIG');
  const tokenizerConfig = readJsonObject(path.join(dir, 'tokenizer_config.json'), 'E_TOKENIZER');
  // tokenizer.json is read only to turn tokenizer_config's special-token strings into ids.
  const tokenizerJson = tokenizerConfig ? readJsonObject(path.join(dir, 'tokenizer.json'), 'E_TOKENIZER') : null;

  const index = loadTensorIndex(dir);
  const special = resolveSpecialTokens({
    config,
    configFile,
    generationConfig,
    generationConfigFile,
    tokenizerConfig,
    tokenId: tokenIdLookup(tokenizerJson),
  });
  const spec = specFromConfig({ config, configFile, tensors: index.tensors, special });
  const ctx: ValidationContext = { dir, configFile, files: index.files };
  validateTensors(spec, index.tensors, ctx);
  const linearClass = parseQuantizationConfig(config, configFile)?.linearClass ?? null;
  return new HfCheckpoint(dir, spec, config, index.tensors, configFile, linearClass, unusedTensorNames(spec, index.tensors));
}

class HfCheckpoint implements Checkpoint {
  constructor(
    readonly dir: string,
    readonly spec: ModelSpec,
    readonly config: Readonly<Record<string, unknown>>,
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    private readonly configFile: string,
    private readonly linearClass: string | null,
    readonly unusedTensors: readonly string[],
  ) {}

  private info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) {
      throw new TellmeError('E_NOT_FOUND', `${this.dir}: no tensor '${name}' in this checkpoint`, 'List checkpoint.tensors for the names it holds.');
    }
    return t;
  }

  readF32(name: string): Float32Array {
    return readTensorF32(this.info(name));
  }

  readBytes(name: string): Uint8Array {
    return readTensorBytes(this.info(name));
  }

  private dense(name: string): DenseMatrix {
    const t = this.info(name);
    return { rows: this.spec.vocabSize, cols: this.spec.hiddenSize, data: readTensorF32(t), sourceDtype: t.dtype };
  }

  embedding(): DenseMatrix {
    return this.dense(EMBED_NAME);
  }

  lmHead(): DenseMatrix {
    return this.dense(this.spec.tiedEmbeddings ? EMBED_NAME : LM_HEAD_NAME);
  }

  private checkLayer(layer: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.spec.numLayers) {
      throw new TellmeError('E_USAGE', `layer ${layer} is out of range: ${this.dir} has ${this.spec.numLayers} layers (0..${this.spec.numLayers - 1})`, `Ask for a layer in 0..${this.spec.numLayers - 1}.`);
    }
  }

  linear(layer: number, name: LinearName): TernaryMatrix {
    this.checkLayer(layer);
    const { rows, cols } = linearShape(this.spec, name);
    const w = this.info(linearWeightName(layer, name));
    if (this.spec.weightStorage === 'master') {
      const q = absmeanTernarize((cb) => forEachF32Chunk(w, cb), rows, cols);
      return { rows, cols, values: q.values, scale: q.scale };
    }
    const values = unpackTernary(readTensorBytes(w), rows, cols, `${w.file}: tensor '${w.name}'`);
    const s = this.info(weightScaleName(layer, name));
    const raw = readTensorF32(s)[0]!;
    const scale = weightScaleToMultiplier(raw, this.spec.scaleConvention!, {
      tensor: s.name,
      file: s.file,
      linearClass: this.linearClass,
      configFile: this.configFile,
    });
    return { rows, cols, values, scale };
  }

  layerNorm(layer: number, role: LayerNormRole): Float32Array | null {
    this.checkLayer(layer);
    const name = layerNormName(this.spec.family, layer, role);
    return name === null ? null : this.readF32(name);
  }

  finalNorm(): Float32Array {
    return this.readF32(FINAL_NORM_NAME);
  }
}
