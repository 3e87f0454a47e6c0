import { describe, expect, it } from 'vitest';
import { detectFamily, specFromConfig } from '../../host/src/checkpoint/config.js';
import { resolveSpecialTokens } from '../../host/src/checkpoint/special-tokens.js';
import type { SafetensorsDtype, TensorInfo } from '../../host/src/checkpoint/types.js';
import { expectTellme } from './helpers.js';

const CONFIG = '/ckpt/config.json';

function tensors(qDtype: SafetensorsDtype, qShape: number[], extra: string[] = []): Map<string, TensorInfo> {
  const m = new Map<string, TensorInfo>();
  const add = (name: string, dtype: SafetensorsDtype, shape: number[]) => m.set(name, { name, dtype, shape, file: '/ckpt/model.safetensors', offset: 0, byteLength: 0 });
  add('model.layers.0.self_attn.q_proj.weight', qDtype, qShape);
  for (const n of extra) add(n, 'BF16', [1]);
  return m;
}

const noSpecial = { bos: null, eos: [], pad: null };

/** microsoft/bitnet-b1.58-2B-4T config.json (reference §2.1; packed = offline). */
function config2B4T(mode: 'offline' | 'online'): Record<string, unknown> {
  return {
    architectures: ['BitNetForCausalLM'], model_type: 'bitnet', hidden_size: 2560, intermediate_size: 6912,
    num_hidden_layers: 30, num_attention_heads: 20, num_key_value_heads: 5, hidden_act: 'relu2',
    max_position_embeddings: 4096, rms_norm_eps: 1e-5, rope_theta: 500000.0, tie_word_embeddings: true,
    torch_dtype: 'bfloat16', vocab_size: 128256, bos_token_id: 128000, eos_token_id: 128001, use_cache: true,
    quantization_config: { quant_method: 'bitnet', linear_class: 'autobitlinear', quantization_mode: mode },
  };
}

/** 1bitLLM/bitnet_b1_58-large (reference §2.2). */
function configLarge(): Record<string, unknown> {
  return {
    architectures: ['BitnetForCausalLM'], model_type: 'llama', hidden_size: 1536, intermediate_size: 4096,
    num_hidden_layers: 24, num_attention_heads: 16, num_key_value_heads: 16, hidden_act: 'silu',
    max_position_embeddings: 2048, rms_norm_eps: 1e-5, rope_theta: 10000.0, rope_scaling: null,
    vocab_size: 32002, pad_token_id: 32000, bos_token_id: 1, eos_token_id: 2, weight_bits: 1, input_bits: 8,
    torch_dtype: 'float16',
  };
}

function configHf1bit(linearClass?: string): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 4096, intermediate_size: 14336,
    num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, hidden_act: 'silu',
    max_position_embeddings: 8192, rms_norm_eps: 1e-5, rope_theta: 500000.0, vocab_size: 128256,
    bos_token_id: 128000, eos_token_id: 128001, tie_word_embeddings: false, torch_dtype: 'bfloat16',
    quantization_config: { quant_method: 'bitnet', modules_to_not_convert: ['lm_head'], ...(linearClass ? { linear_class: linearClass } : {}) },
  };
}

describe('bitnet (2B-4T) configs', () => {
  it('packed 2B-4T: GQA, relu2, sub-norms, tied, packed + multiply', () => {
    const spec = specFromConfig({ config: config2B4T('offline'), configFile: CONFIG, tensors: tensors('U8', [640, 2560]), special: { bos: 128000, eos: [128001, 128009], pad: null } });
    expect(spec).toMatchObject({
      family: 'bitnet', architecture: 'BitNetForCausalLM', modelType: 'bitnet', hiddenSize: 2560, intermediateSize: 6912,
      numLayers: 30, numHeads: 20, numKvHeads: 5, headDim: 128, vocabSize: 128256, maxPositions: 4096, rmsNormEps: 1e-5,
      ropeTheta: 500000, activation: 'relu2', subNorms: true, tiedEmbeddings: true, weightStorage: 'packed',
      scaleConvention: 'multiply', dtype: 'bfloat16', bosTokenId: 128000, eosTokenIds: [128001, 128009], padTokenId: null,
    });
  });

  it('-bf16 online masters: master storage, no scale convention', () => {
    const spec = specFromConfig({ config: config2B4T('online'), configFile: CONFIG, tensors: tensors('BF16', [2560, 2560]), special: noSpecial });
    expect(spec.weightStorage).toBe('master');
    expect(spec.scaleConvention).toBeNull();
  });

  it('transformers 5 style: rope_parameters.rope_theta and dtype', () => {
    const c = config2B4T('offline');
    delete c['rope_theta'];
    delete c['torch_dtype'];
    c['rope_parameters'] = { rope_theta: 250000.0, rope_type: 'default' };
    c['dtype'] = 'bfloat16';
    const spec = specFromConfig({ config: c, configFile: CONFIG, tensors: tensors('U8', [640, 2560]), special: noSpecial });
    expect(spec.ropeTheta).toBe(250000);
    expect(spec.dtype).toBe('bfloat16');
  });

  it('defaults: BitNetConfig rope_theta 500000, eps 1e-5, relu2, kv heads = heads, head_dim = hidden/heads', () => {
    const c = config2B4T('offline');
    for (const k of ['rope_theta', 'rms_norm_eps', 'hidden_act', 'num_key_value_heads', 'max_position_embeddings']) delete c[k];
    const spec = specFromConfig({ config: c, configFile: CONFIG, tensors: tensors('U8', [640, 2560]), special: noSpecial });
    expect([spec.ropeTheta, spec.rmsNormEps, spec.activation, spec.numKvHeads, spec.headDim, spec.maxPositions]).toEqual([500000, 1e-5, 'relu2', 20, 128, 2048]);
  });

  it('explicit head_dim wins over hidden / heads', () => {
    const c = { ...config2B4T('offline'), head_dim: 64 };
    expect(specFromConfig({ config: c, configFile: CONFIG, tensors: tensors('U8', [320, 2560]), special: noSpecial }).headDim).toBe(64);
  });

  it('offline config with master weights is an error naming both', () => {
    expectTellme(
      () => specFromConfig({ config: config2B4T('offline'), configFile: CONFIG, tensors: tensors('BF16', [2560, 2560]), special: noSpecial }),
      'E_CHECKPOINT', CONFIG, 'quantization_mode "offline"', '/ckpt/model.safetensors', 'model.layers.0.self_attn.q_proj.weight', 'BF16',
    );
  });

  it('online config with packed weights is an error naming both', () => {
    expectTellme(
      () => specFromConfig({ config: config2B4T('online'), configFile: CONFIG, tensors: tensors('U8', [640, 2560]), special: noSpecial }),
      'E_CHECKPOINT', 'quantization_mode "online"', 'U8',
    );
  });

  it('a missing quantization_mode means offline (the HF default)', () => {
    const c = config2B4T('offline');
    (c['quantization_config'] as Record<string, unknown>)['quantization_mode'] = undefined;
    expect(specFromConfig({ config: c, configFile: CONFIG, tensors: tensors('U8', [640, 2560]), special: noSpecial }).weightStorage).toBe('packed');
    expectTellme(() => specFromConfig({ config: c, configFile: CONFIG, tensors: tensors('F32', [2560, 2560]), special: noSpecial }), 'E_CHECKPOINT', 'offline');
  });
});

describe('1bitLLM configs', () => {
  it('bitnet_b1_58-large: llama + BitnetForCausalLM, MHA, silu, theta 1e4, masters', () => {
    const spec = specFromConfig({ config: configLarge(), configFile: CONFIG, tensors: tensors('F16', [1536, 1536]), special: { bos: 1, eos: [2], pad: 32000 } });
    expect(spec).toMatchObject({
      family: '1bitllm', modelType: 'llama', architecture: 'BitnetForCausalLM', numHeads: 16, numKvHeads: 16, headDim: 96,
      activation: 'silu', ropeTheta: 10000, subNorms: true, weightStorage: 'master', scaleConvention: null, dtype: 'float16', padTokenId: 32000,
    });
  });

  it('tied when there is no lm_head.weight, untied when there is one', () => {
    expect(specFromConfig({ config: configLarge(), configFile: CONFIG, tensors: tensors('F16', [1536, 1536]), special: noSpecial }).tiedEmbeddings).toBe(true);
    expect(specFromConfig({ config: configLarge(), configFile: CONFIG, tensors: tensors('F16', [1536, 1536], ['lm_head.weight']), special: noSpecial }).tiedEmbeddings).toBe(false);
  });

  it('tie_word_embeddings false without lm_head.weight is an error', () => {
    expectTellme(
      () => specFromConfig({ config: { ...configLarge(), tie_word_embeddings: false }, configFile: CONFIG, tensors: tensors('F16', [1536, 1536]), special: noSpecial }),
      'E_CHECKPOINT', 'tie_word_embeddings false', 'lm_head.weight',
    );
  });

  it('LlamaConfig defaults: eps 1e-6, theta 1e4, silu', () => {
    const c = configLarge();
    for (const k of ['rms_norm_eps', 'rope_theta', 'hidden_act']) delete c[k];
    const spec = specFromConfig({ config: c, configFile: CONFIG, tensors: tensors('F32', [1536, 1536]), special: noSpecial });
    expect([spec.rmsNormEps, spec.ropeTheta, spec.activation]).toEqual([1e-6, 10000, 'silu']);
  });
});

describe('HF1BitLLM configs', () => {
  it('llama + quant_method bitnet: packed, divide, no sub-norms, GQA', () => {
    const spec = specFromConfig({ config: configHf1bit('bitlinear'), configFile: CONFIG, tensors: tensors('U8', [1024, 4096], ['lm_head.weight']), special: noSpecial });
    expect(spec).toMatchObject({ family: 'hf1bitllm', weightStorage: 'packed', scaleConvention: 'divide', subNorms: false, numKvHeads: 8, headDim: 128, tiedEmbeddings: false });
  });

  it('a missing linear_class means bitlinear (divide); autobitlinear multiplies', () => {
    expect(specFromConfig({ config: configHf1bit(), configFile: CONFIG, tensors: tensors('U8', [1024, 4096], ['lm_head.weight']), special: noSpecial }).scaleConvention).toBe('divide');
    expect(specFromConfig({ config: configHf1bit('autobitlinear'), configFile: CONFIG, tensors: tensors('U8', [1024, 4096], ['lm_head.weight']), special: noSpecial }).scaleConvention).toBe('multiply');
  });

  it('rejects linear_class / quantization_mode / quant_method values it does not know', () => {
    expectTellme(() => specFromConfig({ config: configHf1bit('fancylinear'), configFile: CONFIG, tensors: tensors('U8', [1024, 4096]), special: noSpecial }), 'E_CONFIG', 'linear_class', 'fancylinear');
    const c = configHf1bit();
    (c['quantization_config'] as Record<string, unknown>)['quantization_mode'] = 'sometimes';
    expectTellme(() => specFromConfig({ config: c, configFile: CONFIG, tensors: tensors('U8', [1024, 4096]), special: noSpecial }), 'E_CONFIG', 'quantization_mode', 'sometimes');
    const g = { ...configLarge(), quantization_config: { quant_method: 'gptq' } };
    expectTellme(() => specFromConfig({ config: g, configFile: CONFIG, tensors: tensors('F16', [1536, 1536]), special: noSpecial }), 'E_CONFIG', 'gptq');
  });
});

describe('unsupported and malformed configs', () => {
  it('unknown model_type names what was found and the supported list', () => {
    expectTellme(() => detectFamily({ model_type: 'mistral', architectures: ['MistralForCausalLM'] }, CONFIG), 'E_CONFIG', CONFIG, '"mistral"', 'MistralForCausalLM');
    const e = expectTellme(() => detectFamily({ model_type: 'gpt2' }, CONFIG), 'E_CONFIG');
    expect(e.fix).toContain('model_type "bitnet"');
    expect(e.fix).toContain('BitnetForCausalLM');
  });

  it('a plain Llama is refused as not ternary', () => {
    expectTellme(() => detectFamily({ model_type: 'llama', architectures: ['LlamaForCausalLM'] }, CONFIG), 'E_CONFIG', 'plain Llama');
  });

  it('missing or invalid dimensions, head counts and activations are errors', () => {
    const c = config2B4T('offline');
    delete c['hidden_size'];
    expectTellme(() => specFromConfig({ config: c, configFile: CONFIG, tensors: tensors('U8', [640, 2560]), special: noSpecial }), 'E_CONFIG', 'missing "hidden_size"');
    expectTellme(() => specFromConfig({ config: { ...config2B4T('offline'), num_key_value_heads: 3 }, configFile: CONFIG, tensors: tensors('U8', [640, 2560]), special: noSpecial }), 'E_CONFIG', 'not a multiple');
    expectTellme(() => specFromConfig({ config: { ...config2B4T('offline'), hidden_act: 'gelu' }, configFile: CONFIG, tensors: tensors('U8', [640, 2560]), special: noSpecial }), 'E_CONFIG', 'gelu');
    expectTellme(() => specFromConfig({ config: { ...config2B4T('offline'), vocab_size: -1 }, configFile: CONFIG, tensors: tensors('U8', [640, 2560]), special: noSpecial }), 'E_CONFIG', 'vocab_size');
  });

  it('non-default RoPE scaling is refused rather than silently ignored', () => {
    const c = { ...configHf1bit('bitlinear'), rope_scaling: { rope_type: 'llama3', factor: 8 } };
    expectTellme(() => specFromConfig({ config: c, configFile: CONFIG, tensors: tensors('U8', [1024, 4096], ['lm_head.weight']), special: noSpecial }), 'E_CONFIG', 'llama3');
  });

  it('use_rms_norm inside BitLinear is refused', () => {
    const c = config2B4T('offline');
    (c['quantization_config'] as Record<string, unknown>)['use_rms_norm'] = true;
    expectTellme(() => specFromConfig({ config: c, configFile: CONFIG, tensors: tensors('U8', [640, 2560]), special: noSpecial }), 'E_CONFIG', 'use_rms_norm');
  });

  it('a q_proj of a non-float, non-U8 dtype is refused', () => {
    expectTellme(() => specFromConfig({ config: config2B4T('offline'), configFile: CONFIG, tensors: tensors('I32', [640, 2560]), special: noSpecial }), 'E_CHECKPOINT', 'I32', 'q_proj');
  });
});

describe('special tokens', () => {
  const ids = new Map([['<|begin_of_text|>', 128000], ['<|end_of_text|>', 128001], ['<|eot_id|>', 128009]]);
  const base = { configFile: CONFIG, generationConfigFile: '/ckpt/generation_config.json', tokenId: (t: string) => ids.get(t) };

  it('eos is the union of config (number), generation_config (list) and tokenizer_config', () => {
    const r = resolveSpecialTokens({ ...base, config: { eos_token_id: 128001, bos_token_id: 128000 }, generationConfig: { eos_token_id: [128001, 128009] }, tokenizerConfig: { eos_token: '<|end_of_text|>' } });
    expect(r).toEqual({ bos: 128000, eos: [128001, 128009], pad: null });
  });

  it('eos lists in config.json, AddedToken dicts, and <|eot_id|> used by the chat template', () => {
    const r = resolveSpecialTokens({
      ...base,
      config: { eos_token_id: [2, 3] },
      generationConfig: null,
      tokenizerConfig: { bos_token: { content: '<|begin_of_text|>', __type: 'AddedToken' }, eos_token: { content: '<|end_of_text|>' }, chat_template: '{{ m }}<|eot_id|>' },
    });
    expect(r.eos).toEqual([2, 3, 128001, 128009]);
    expect(r.bos).toBe(128000); // from tokenizer_config when config.json has none
  });

  it('config.json bos wins; invalid ids are errors naming the file', () => {
    const r = resolveSpecialTokens({ ...base, config: { bos_token_id: 1 }, generationConfig: { bos_token_id: 5 }, tokenizerConfig: null });
    expect(r.bos).toBe(1);
    expectTellme(() => resolveSpecialTokens({ ...base, config: { eos_token_id: 'x' }, generationConfig: null, tokenizerConfig: null }), 'E_CONFIG', CONFIG, 'eos_token_id');
    expectTellme(() => resolveSpecialTokens({ ...base, config: {}, generationConfig: { eos_token_id: [1, -2] }, tokenizerConfig: null }), 'E_CONFIG', 'generation_config.json');
  });
});
