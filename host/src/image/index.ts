/** Model images: the one file `tellme convert` writes and every runtime reads (docs/image-format.md). */

export { convertCheckpoint, planImage, converterVersion, type ConvertOptions, type ConvertResult, type ConvertProgress } from './writer.js';
export { openImage, isModelImage, ModelImage, type OpenImageOptions } from './reader.js';
export { imageTokenizer } from './tokenizer.js';
export { validateManifest, manifestSchemaPath, IMAGE_DDR_KINDS, type ImageManifest, type SectionRecord, type SectionKind, type MatrixRecord, type NumericsRecord, type LayerBoundRecord } from './manifest.js';
export { IMAGE_MAGIC, FORMAT_VERSION, FORMAT_NAME, HEADER_BYTES, SECTION_ALIGNMENT, SUPPORTED_VERSIONS, decodeHeader, encodeHeader, hasImageMagic, type ImageHeader } from './format.js';
export { TOKENIZER_JSON_SECTION, TOKENIZER_CONFIG_SECTION, hostNormSection, ddrNormRegion, f32Hex } from './records.js';
export { LIMIT_LOG2 } from './bounds.js';
export { describeImage, imageText, type ImageDescription } from './describe.js';
