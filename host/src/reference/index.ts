/**
 * The float reference: the models' training-time semantics (HF fake-quant BitLinear, fp32
 * everything else, full-precision head) on TensorFlow.js. Independent of host/src/numerics and
 * host/src/golden by design: `tellme eval` measures the golden model against it.
 */
export { FloatReference, referenceWeightBytes, roundF16, type ReferenceAblations, type ReferenceForwardOptions, type ReferenceOptions, type ReferenceStage, type ReferenceTrace } from './model.js';
export { floatLogits } from './logits.js';
export { loadTf, type LoadedTf, type Tf, type TfBackendName } from './tf.js';
export { ACT_QUANT_FLOOR, actQuant, applyRotary, bitLinear, causalAttention, gateActivation, rmsNorm, ropeCosSin, rotateHalf } from './ops.js';
