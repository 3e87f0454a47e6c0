/** The files of a checkpoint directory that tellme reads: what an output must never overwrite. */

import * as path from 'node:path';
import { INDEX_FILE } from './tensor-index.js';
import type { Checkpoint } from './types.js';

/** The JSON and template side files the loader and the tokenizer read, when present. */
export const SIDE_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja', INDEX_FILE] as const;

/** Absolute paths of every file a command reading this checkpoint may open (present or not). */
export function checkpointInputFiles(ckpt: Checkpoint): string[] {
  const tensorFiles = new Set([...ckpt.tensors.values()].map((t) => t.file));
  return [...SIDE_FILES.map((f) => path.join(ckpt.dir, f)), ...tensorFiles];
}
