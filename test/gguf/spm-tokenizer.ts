/**
 * A small SentencePiece-style BPE tokenizer.json, shaped like the one Hugging Face converts from a
 * Llama-2 / 1bitLLM tokenizer.model: <unk> <s> </s>, the 256 byte-fallback tokens <0x00>..<0xFF>,
 * then pieces with "▁" for spaces; a normalizer that prepends "▁" and replaces spaces; BPE with
 * byte_fallback; <s> added by the post-processor. Like HF's converter, the merge list holds every
 * split of every piece into two pieces, ordered by the piece's rank, so that "merge the pair of
 * lowest rank" and SentencePiece's "merge the pair whose piece scores highest" agree.
 */
import { SAMPLE_TEXT } from '../../host/src/testmodels/sample-text.js';

const SPACE = '\u2581';

export function spmTokenizerFiles(vocabSize: number): { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } {
  const pieces: string[] = ['<unk>', '<s>', '</s>'];
  for (let b = 0; b < 256; b++) pieces.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  const words = SAMPLE_TEXT.split(/\s+/).filter((w) => w.length > 0).map((w) => [...(SPACE + w)]);
  for (const w of words) for (const c of w) if (!pieces.includes(c)) pieces.push(c);
  // Learn merges by pair frequency (ties by text) until the vocabulary is full.
  let segs = words.map((w) => [...w]);
  while (pieces.length < vocabSize) {
    const counts = new Map<string, number>();
    for (const s of segs) for (let i = 0; i + 1 < s.length; i++) counts.set(s[i] + '\u0000' + s[i + 1], (counts.get(s[i] + '\u0000' + s[i + 1]) ?? 0) + 1);
    let best: string | null = null;
    for (const [k, c] of counts) if (c >= 2 && (best === null || c > counts.get(best)! || (c === counts.get(best)! && k < best))) best = k;
    if (best === null) break;
    const [a, b] = best.split('\u0000') as [string, string];
    if (!pieces.includes(a + b)) pieces.push(a + b);
    segs = segs.map((s) => {
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) out.push(s[i++]! + s[i]!);
        else out.push(s[i]!);
      }
      return out;
    });
  }
  const vocab: Record<string, number> = {};
  pieces.forEach((p, i) => (vocab[p] = i));
  const merges: string[] = [];
  for (const p of pieces.slice(259)) {
    const chars = [...p];
    for (let k = 1; k < chars.length; k++) {
      const a = chars.slice(0, k).join('');
      const b = chars.slice(k).join('');
      if (vocab[a] !== undefined && vocab[b] !== undefined) merges.push(`${a} ${b}`);
    }
  }
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: SPACE }, { type: 'Replace', pattern: { String: ' ' }, content: SPACE }] },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [{ type: 'Replace', pattern: { String: SPACE }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }],
    },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges },
  };
  const tokenizerConfig = {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: '<s>',
    eos_token: '</s>',
    unk_token: '<unk>',
    clean_up_tokenization_spaces: false,
    legacy: false,
    tokenizer_class: 'LlamaTokenizerFast',
  };
  return { tokenizerJson, tokenizerConfig };
}
