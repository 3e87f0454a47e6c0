/**
 * Conformance of a board (or the virtual board) against the golden model on the same image:
 * per seed, a prompt of seeded random ids is prefilled and decoded step by step with the LOGITS
 * flag, then the whole sequence again as VERIFY at KV offset 0 (the head at every position; more
 * than 16 tokens take several accelerator passes), every position's binary32 logits compared bit
 * for bit; then the board's own generation
 * loop (GENERATE, greedy and seeded sampling) must produce the golden model's tokens. The first
 * difference is named (seed, pass, position, token id, both values' bits).
 */

import type { GoldenModel } from '../golden/model.js';
import { goldenSession } from '../golden/session.js';
import { generate } from '../runtime/generate.js';
import { argmax } from '../runtime/sampling.js';
import type { Board } from './board.js';

export interface ConformanceResult {
  target: string;
  cases: number;
  mismatches: number;
  pass: boolean;
  cycles: number;
  /** The first difference, in words (absent when none). */
  first_mismatch?: string;
}

const bits = (x: number) => {
  const b = Buffer.alloc(4);
  b.writeFloatLE(x, 0);
  return '0x' + b.readUInt32LE(0).toString(16).padStart(8, '0');
};

/** xorshift32 for the prompts: deterministic per seed, independent of the sampler's PRNG. */
function promptFor(seed: number, vocab: number, length: number): number[] {
  let s = (seed * 0x9e3779b9 + 0x6d2b79f5) >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out.push(s % vocab);
  }
  return out;
}

export interface ConformanceOptions {
  target: string;
  seeds: number;
  decodeSteps?: number;
  progress?: (message: string) => void;
}

export async function checkBoardAgainstGolden(board: Board, golden: GoldenModel, o: ConformanceOptions): Promise<ConformanceResult> {
  const vocab = golden.spec.vocabSize;
  const steps = o.decodeSteps ?? 8;
  let cases = 0;
  let mismatches = 0;
  let first: string | undefined;
  const note = (what: string) => {
    mismatches++;
    first ??= what;
  };
  const compare = (where: string, got: Float32Array, want: Float32Array) => {
    cases++;
    let bad = 0;
    for (let i = 0; i < vocab; i++) {
      if (Object.is(got[i], want[i])) continue;
      if (bad++ === 0) note(`${where}, logit of token ${i}: board ${bits(got[i]!)} (${got[i]}), golden ${bits(want[i]!)} (${want[i]})`);
    }
    if (bad > 1) mismatches += bad - 1;
  };
  for (let seed = 0; seed < o.seeds; seed++) {
    const len = Math.min(2 + ((seed * 7) % 13), Math.max(1, golden.contextLength - steps - 1));
    const prompt = promptFor(seed, vocab, len);
    o.progress?.(`seed ${seed}: prefill of ${len} tokens, ${steps} decode steps`);
    golden.reset();
    await board.resetSession();
    let want = golden.prefill(prompt)[0]!;
    let got = (await board.step('prefill', prompt, { vocab })).logits[0]!;
    compare(`seed ${seed}, prefill of ${len} tokens, last position`, got, want);
    const fed = [...prompt];
    for (let k = 0; k < steps && golden.position < golden.contextLength; k++) {
      const id = argmax(want);
      fed.push(id);
      want = golden.decode(id);
      got = (await board.step('decode', [id], { vocab })).logits[0]!;
      compare(`seed ${seed}, decode step ${k} (token ${id})`, got, want);
    }
    const wantAll = golden.verify(fed, 0);
    const gotAll = (await board.step('verify', fed, { vocab, kvOffset: 0 })).logits;
    fed.forEach((id, i) => compare(`seed ${seed}, verify of ${fed.length} tokens at KV offset 0, position ${i} (token ${id})`, gotAll[i] ?? new Float32Array(vocab), wantAll[i]!));
    for (const sampling of [
      { temperature: 0, topK: 0, topP: 1, seed },
      { temperature: 0.9, topK: 40, topP: 0.95, seed },
    ]) {
      const max = Math.min(16, golden.contextLength - len);
      golden.reset();
      const g = await generate(goldenSession(golden), prompt, { ...sampling, maxNewTokens: max, stopIds: [] });
      await board.resetSession();
      const b = await board.generate(prompt, { ...sampling, maxNewTokens: max, stopIds: [] });
      cases++;
      const at = g.ids.findIndex((t, i) => b.ids[i] !== t);
      if (at >= 0 || b.ids.length !== g.ids.length) {
        const i = at >= 0 ? at : Math.min(g.ids.length, b.ids.length);
        note(`seed ${seed}, generation (temperature ${sampling.temperature}), token ${i}: board ${b.ids[i] ?? 'none'}, golden ${g.ids[i] ?? 'none'}`);
      }
    }
  }
  return { target: o.target, cases, mismatches, pass: mismatches === 0 && cases > 0, cycles: 0, ...(first ? { first_mismatch: first } : {}) };
}
