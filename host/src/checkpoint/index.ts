/** Hugging Face checkpoint loading: the public surface of host/src/checkpoint. */

export type { Checkpoint, DenseMatrix, SafetensorsDtype, TensorInfo, TernaryMatrix, TokenizerBundle } from './types.js';
export { openCheckpoint } from './open.js';
export { loadTokenizer } from './tokenizer.js';
export { detectFamily, parseQuantizationConfig, specFromConfig, SUPPORTED_MODELS, type QuantizationConfig } from './config.js';
export {
  MAX_HEADER_SIZE,
  readSafetensorsHeader,
  readTensorBytes,
  readTensorF32,
  forEachF32Chunk,
  type SafetensorsHeader,
} from './safetensors.js';
export { writeSafetensors, type WriterTensor } from './safetensors-writer.js';
export { loadTensorIndex, SINGLE_FILE, INDEX_FILE, type TensorIndex } from './tensor-index.js';
