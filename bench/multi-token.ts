/**
 * Multi-token verification on the demo model (docs/numerics.md §10.1): tokens emitted per
 * accelerator pass after the prompt, with prompt-lookup drafts, on repetitive and non-repetitive
 * prompts, greedy and sampled. The emitted tokens are those of plain decoding (checked here too);
 * only the passes change. Run directly:
 *
 *   npx tsx bench/multi-token.ts [--tokens 128] [--drafts 1,2,3,4,6,8] [--board kv260]
 *
 * "Tokens per pass" is (generated tokens − 1) / passes: the first token comes from the prompt's
 * pass; each later pass emits its accepted drafts plus one corrected or bonus token. It is the
 * rate `tellme plan --accepted-per-pass` takes. Figures: docs/measurements.md §14.
 */
import { loadTokenizer, openCheckpoint } from '../host/src/checkpoint/index.js';
import { GoldenModel } from '../host/src/golden/model.js';
import { goldenSession } from '../host/src/golden/session.js';
import { boardNumerics } from '../host/src/hwconfig/index.js';
import { generate } from '../host/src/runtime/generate.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const maxNewTokens = Number(arg('--tokens') ?? 128);
const drafts = (arg('--drafts') ?? '1,2,3,4,6,8').split(',').map(Number);
const board = arg('--board') ?? 'kv260';

const DIR = 'models/tellme-shakespeare-6l';
const ckpt = openCheckpoint(DIR);
const tok = loadTokenizer(DIR)!;

/** Repetitive: a speaker list and a refrain the continuation tends to echo. Non-repetitive: open prompts. */
const PROMPTS: { kind: string; text: string }[] = [
  { kind: 'repetitive', text: 'ROMEO:\nI am a friar, and I am a gentleman.\n\nROMEO:\nI am a friar, and I am a gentleman.\n\nROMEO:\n' },
  { kind: 'repetitive', text: 'KING HENRY VI:\nMy lord, my lord, my lord,\nMy lord, my lord, my lord,\nMy lord,' },
  { kind: 'repetitive', text: 'First Citizen:\nWe are accounted poor citizens.\n\nSecond Citizen:\nWe are accounted poor citizens.\n\nFirst Citizen:\n' },
  { kind: 'non-repetitive', text: 'ROMEO:' },
  { kind: 'non-repetitive', text: 'KING HENRY' },
  { kind: 'non-repetitive', text: 'JULIET:\nWhat light through yonder window breaks?' },
];
const MODES = [
  { mode: 'greedy', temperature: 0, topK: 0, topP: 1 },
  { mode: 'sampled T=0.8 top-k 40', temperature: 0.8, topK: 40, topP: 1 },
];

const numerics = boardNumerics(board);
const m = await GoldenModel.fromCheckpoint(ckpt, { threads: 2, contextLength: 512, numerics });
const session = goldenSession(m);
console.log(`demo model, ${board} numerics ${JSON.stringify(numerics)}, ${maxNewTokens} new tokens per run\n`);
console.log(`| prompts | mode | ${drafts.map((n) => `N = ${n}`).join(' | ')} |`);
console.log(`|---|---|${drafts.map(() => '---').join('|')}|`);
for (const kind of ['repetitive', 'non-repetitive']) {
  for (const mode of MODES) {
    const perN: string[] = [];
    for (const n of drafts) {
      let tokens = 0;
      let passes = 0;
      for (const [i, p] of PROMPTS.filter((x) => x.kind === kind).entries()) {
        const ids = tok.encode(p.text, { addSpecialTokens: true });
        const base = { maxNewTokens, temperature: mode.temperature, topK: mode.topK, topP: mode.topP, seed: 7 + i, stopIds: ckpt.spec.eosTokenIds };
        m.reset();
        const plain = await generate(session, ids, base);
        m.reset();
        const r = await generate(session, ids, { ...base, draftTokens: n });
        if (r.ids.join() !== plain.ids.join()) throw new Error(`drafts changed the output (${kind}, ${mode.mode}, N = ${n})`);
        tokens += r.ids.length - 1;
        passes += r.passes;
      }
      perN.push((tokens / passes).toFixed(2));
    }
    console.log(`| ${kind} (${PROMPTS.filter((x) => x.kind === kind).length}) | ${mode.mode} | ${perN.join(' | ')} |`);
  }
}
await m.close();
