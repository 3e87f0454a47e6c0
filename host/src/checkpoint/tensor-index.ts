/**
 * Find every tensor of a checkpoint directory: one model.safetensors, or shards listed by
 * model.safetensors.index.json ({"metadata": {...}, "weight_map": {tensor: shard file}}).
 * Only headers are read. The index must describe the shards exactly, so a tensor that is missing
 * from its shard, listed twice, or present in a shard the map does not name is an error.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TellmeError } from '../errors.js';
import { readJsonObject } from './json-file.js';
import { readSafetensorsHeader } from './safetensors.js';
import type { TensorInfo } from './types.js';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

export interface TensorIndex {
  /** Absolute paths of the safetensors files, in index order. */
  files: string[];
  tensors: Map<string, TensorInfo>;
}

export function loadTensorIndex(dir: string): TensorIndex {
  // transformers looks for the single file first; do the same so both agree on what is loaded.
  const single = path.join(dir, SINGLE_FILE);
  if (fs.existsSync(single)) {
    const header = readSafetensorsHeader(single);
    return { files: [single], tensors: new Map(header.tensors.map((t) => [t.name, t])) };
  }
  const indexFile = path.join(dir, INDEX_FILE);
  if (fs.existsSync(indexFile)) return loadSharded(dir, indexFile);
  const hasBin = fs.existsSync(path.join(dir, 'pytorch_model.bin')) || fs.existsSync(path.join(dir, 'pytorch_model.bin.index.json'));
  throw new TellmeError(
    'E_CHECKPOINT',
    `${dir}: no ${SINGLE_FILE} or ${INDEX_FILE}${hasBin ? ' (only PyTorch .bin weights, which tellme does not read)' : ''}`,
    hasBin
      ? 'Convert the weights to safetensors (e.g. transformers save_pretrained(..., safe_serialization=True)).'
      : 'Point tellme at a Hugging Face checkpoint directory that holds the safetensors weights.',
  );
}

function loadSharded(dir: string, indexFile: string): TensorIndex {
  const index = readJsonObject(indexFile, 'E_CHECKPOINT')!;
  const map = index['weight_map'];
  if (map === null || typeof map !== 'object' || Array.isArray(map)) {
    throw new TellmeError('E_CHECKPOINT', `${indexFile}: missing or invalid "weight_map" object`, 'Re-download the index file.');
  }
  const byFile = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(map as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard.length === 0 || path.isAbsolute(shard) || shard.split(/[\\/]/).includes('..')) {
      throw new TellmeError('E_CHECKPOINT', `${indexFile}: tensor '${name}' maps to ${JSON.stringify(shard)}, not a file name in the directory`, 'Re-download the index file.');
    }
    const list = byFile.get(shard) ?? [];
    list.push(name);
    byFile.set(shard, list);
  }
  if (byFile.size === 0) throw new TellmeError('E_CHECKPOINT', `${indexFile}: "weight_map" lists no tensors`, 'Re-download the index file.');

  const tensors = new Map<string, TensorInfo>();
  const files: string[] = [];
  for (const [shard, names] of byFile) {
    const file = path.join(dir, shard);
    if (!fs.existsSync(file)) {
      throw new TellmeError('E_NOT_FOUND', `${indexFile}: shard ${shard} (holding e.g. tensor '${names[0]}') does not exist in ${dir}`, 'Download every shard the index lists.');
    }
    files.push(file);
    const header = readSafetensorsHeader(file);
    const inShard = new Map(header.tensors.map((t) => [t.name, t]));
    for (const name of names) {
      const info = inShard.get(name);
      if (!info) {
        throw new TellmeError('E_CHECKPOINT', `${indexFile}: tensor '${name}' is mapped to ${shard}, but ${file} does not contain it`, 'Re-download the shards and the index from the same revision.');
      }
      tensors.set(name, info);
    }
    for (const name of inShard.keys()) {
      if (map && (map as Record<string, string>)[name] !== shard) {
        const other = (map as Record<string, string>)[name];
        throw new TellmeError(
          'E_CHECKPOINT',
          `${file}: holds tensor '${name}', which ${indexFile} ${other === undefined ? 'does not list' : `maps to ${other}`}`,
          'Re-download the shards and the index from the same revision.',
        );
      }
    }
  }
  return { files, tensors };
}
