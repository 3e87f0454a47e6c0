/**
 * Hostile-input campaign against the real CLI (issue 11): generated bad inputs of every kind the
 * issue names, each run as a separate `tellme` process under a timeout and a heap limit, and every
 * outcome classified:
 *
 *   refused    exit 1 in the error style ("tellme: …" then "  fix: …")
 *   accepted   exit 0 where that is a correct answer (a bit flip in unused padding, a config edit
 *              that is still a valid model, --ids with a broken tokenizer)
 *   POISONED   exit 0 where the input must be refused (non-finite weights, a truncated file, …)
 *   CRASH      any other exit status, a stack trace, or an error without a fix line
 *   HANG       killed at the timeout
 *   MEMORY     killed for memory (heap limit)
 *   LOST       a file the command was not asked to write changed or vanished
 *
 *   npx tsx bench/fuzz-campaign.ts [--per-kind 40] [--seed 1] [--jobs 2] [--timeout 60] [--cli dist/cli/run.js] [--kind TEXT] [--json]
 *
 * Needs the built CLI (`make build`; --cli runs another build, e.g. one compiled with
 * `npx tsc -p tsconfig.json --outDir build/campaign-dist` while dist/ is in use). Run it under `nice -n 10` on a shared machine. Results and
 * the command go to docs/measurements.md (§12).
 */

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readSafetensorsHeader, readTensorBytes } from '../host/src/checkpoint/safetensors.js';
import { writeSafetensors } from '../host/src/checkpoint/safetensors-writer.js';
import { encodeHeader } from '../host/src/image/index.js';
import { writeTestModel } from '../host/src/testmodels/index.js';

const { values } = parseArgs({
  options: {
    'per-kind': { type: 'string', default: '40' },
    seed: { type: 'string', default: '1' },
    jobs: { type: 'string', default: '2' },
    timeout: { type: 'string', default: '60' },
    cli: { type: 'string', default: 'dist/cli/run.js' },
    /** Run only the cases whose kind contains this text (all are still generated, so the cases are the same). */
    kind: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const PER_KIND = Number(values['per-kind']);
const JOBS = Number(values.jobs);
const TIMEOUT_S = Number(values.timeout);
const ROOT = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
const TELLME = path.resolve(ROOT, values.cli);

// mulberry32: a small deterministic PRNG, so a campaign is reproducible from its seed.
let state = Number(values.seed) >>> 0;
function rand(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

type Expect = 'refuse' | 'accept' | 'either';
type Outcome = 'refused' | 'accepted' | 'POISONED' | 'CRASH' | 'HANG' | 'MEMORY' | 'LOST';
interface Case {
  kind: string;
  what: string;
  args: string[];
  expect: Expect;
  /** Files that must be unchanged afterwards (sha256 taken before the run). */
  keep?: string[];
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-campaign-'));
let n = 0;
const fresh = (tag: string) => path.join(work, `${tag}-${n++}`);

function sha(file: string): string | null {
  try {
    return fs.statSync(file).isFile() ? createHash('sha256').update(fs.readFileSync(file)).digest('hex') : `(${fs.statSync(file).mode})`;
  } catch {
    return null;
  }
}

// ---- base inputs -------------------------------------------------------------------------
const base = path.join(work, 'base');
writeTestModel(base, { preset: 'bitnet-tiny-packed' });
const master = path.join(work, 'master');
writeTestModel(master, { preset: 'bitnet-tiny-master' });
const untied = path.join(work, 'untied');
writeTestModel(untied, { preset: '1bitllm-tiny' });
const image = path.join(work, 'base.tlm');
await runTellme(['convert', base, '-o', image]);

function copyModel(src: string, tag: string): string {
  const d = fresh(tag);
  fs.cpSync(src, d, { recursive: true });
  return d;
}

// ---- generators, one per kind --------------------------------------------------------------
const cases: Case[] = [];

function imageBytes(): void {
  const bytes = fs.readFileSync(image);
  for (let i = 0; i < PER_KIND; i++) {
    const f = fresh('img') + '.tlm';
    const out = Buffer.from(bytes);
    let expect: Expect = 'either';
    let what: string;
    if (rand() < 0.3) {
      const len = int(out.length);
      fs.writeFileSync(f, out.subarray(0, len));
      what = `truncated to ${len} of ${out.length} bytes`;
      expect = 'refuse';
    } else {
      const flips = 1 + int(4);
      const at: number[] = [];
      for (let k = 0; k < flips; k++) {
        const p = int(out.length);
        out[p]! ^= 1 << int(8);
        at.push(p);
      }
      fs.writeFileSync(f, out);
      what = `bit flips at ${at.join(', ')}`;
    }
    const args = rand() < 0.5 ? ['inspect', f] : ['generate', f, '--ids', '1,2', '-n', '2', '--threads', '1'];
    cases.push({ kind: 'image bit flips / truncation', what, args, expect });
  }
}

function safetensorsBytes(): void {
  const file = path.join(base, 'model.safetensors');
  const bytes = fs.readFileSync(file);
  const n0 = Number(bytes.readBigUInt64LE(0));
  for (let i = 0; i < PER_KIND; i++) {
    const d = copyModel(base, 'st');
    const f = path.join(d, 'model.safetensors');
    let out = Buffer.from(bytes);
    let what: string;
    let expect: Expect = 'either';
    const r = rand();
    if (r < 0.25) {
      const len = int(out.length);
      out = out.subarray(0, len);
      what = `truncated to ${len}`;
      expect = 'refuse';
    } else if (r < 0.5) {
      const p = 8 + int(n0);
      out[p]! ^= 1 << int(8);
      what = `header bit flip at ${p}`;
    } else if (r < 0.7) {
      const p = 8 + n0 + int(out.length - 8 - n0);
      out[p]! ^= 1 << int(8);
      what = `data bit flip at ${p}`;
    } else {
      const text = out.subarray(8, 8 + n0).toString('utf8');
      const variant = pick(['bom', 'float', 'negzero', 'exp'] as const);
      const t2 = variant === 'bom' ? '\uFEFF' + text : variant === 'float' ? text.replace(/"shape":\[(\d+)/, '"shape":[$1.0') : variant === 'negzero' ? text.replace('"data_offsets":[0,', '"data_offsets":[-0,') : text.replace(/"shape":\[(\d+)/, (_m, d) => `"shape":[${Number(d) / 10}e1`);
      const hb = Buffer.from(t2, 'utf8');
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(hb.length));
      out = Buffer.concat([len, hb, out.subarray(8 + n0)]);
      what = `header written with ${variant}`;
      expect = t2 === text ? 'either' : 'refuse';
    }
    fs.writeFileSync(f, out);
    const cmd = pick(['inspect', 'convert']);
    cases.push({ kind: 'safetensors bit flips / truncation / header', what, args: cmd === 'convert' ? ['convert', d, '-o', fresh('o') + '.tlm'] : ['inspect', d], expect, keep: [f] });
  }
}

const HOSTILE_VALUES: readonly unknown[] = [0, -1, -0, 0.5, 1e9, 100000, 2 ** 53, 1e300, '96', '', null, true, [], {}, 'relu2', 'silu', 'gelu'];
const CONFIG_KEYS = ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'vocab_size', 'max_position_embeddings', 'rms_norm_eps', 'rope_theta', 'hidden_act', 'tie_word_embeddings', 'head_dim', 'model_type', 'quantization_config', 'bos_token_id', 'eos_token_id'];

function configEdits(): void {
  for (let i = 0; i < PER_KIND; i++) {
    const d = copyModel(base, 'cfg');
    const f = path.join(d, 'config.json');
    const c = JSON.parse(fs.readFileSync(f, 'utf8'));
    const edits: string[] = [];
    for (let k = 0; k < 1 + int(2); k++) {
      const key = pick(CONFIG_KEYS);
      if (rand() < 0.15) {
        delete c[key];
        edits.push(`-${key}`);
      } else {
        c[key] = pick(HOSTILE_VALUES);
        edits.push(`${key}=${JSON.stringify(c[key])}`);
      }
    }
    fs.writeFileSync(f, JSON.stringify(c));
    const cmd = pick(['plan', 'inspect', 'convert', 'generate']);
    const args = cmd === 'convert' ? ['convert', d, '-o', fresh('o') + '.tlm'] : cmd === 'generate' ? ['generate', d, '--ids', '1,2', '-n', '2', '--threads', '1'] : [cmd, d];
    cases.push({ kind: 'config mutations', what: edits.join(' '), args, expect: 'either', keep: [path.join(d, 'model.safetensors')] });
  }
}

function nonFinite(): void {
  const models = [base, master, untied];
  for (let i = 0; i < PER_KIND; i++) {
    const src = models[i % models.length]!;
    const d = copyModel(src, 'nan');
    const f = path.join(d, 'model.safetensors');
    const header = readSafetensorsHeader(f);
    const floats = header.tensors.filter((t) => t.dtype === 'BF16' || t.dtype === 'F32');
    const t = pick(floats);
    const value = pick([NaN, Infinity, -Infinity]);
    const count = t.byteLength / (t.dtype === 'F32' ? 4 : 2);
    const at = int(count);
    const tensors = header.tensors.map((x) => ({ name: x.name, dtype: x.dtype, shape: x.shape, data: new Uint8Array(readTensorBytes(x)) }));
    const target = tensors.find((x) => x.name === t.name)!;
    const dv = new DataView(target.data.buffer);
    if (t.dtype === 'F32') dv.setFloat32(at * 4, value, true);
    else dv.setUint16(at * 2, new Uint32Array(new Float32Array([value]).buffer)[0]! >>> 16, true);
    writeSafetensors(f, tensors, header.metadata ?? undefined);
    const cmd = pick(['convert', 'generate', 'logits', 'logits-float', 'eval']);
    const args =
      cmd === 'convert' ? ['convert', d, '-o', fresh('o') + '.tlm']
      : cmd === 'logits-float' ? ['logits', d, '--ids', '1,2,3', '--backend', 'float']
      : cmd === 'eval' ? ['eval', d, '--ids', '1,2,3', '-n', '1', '--threads', '1']
      : [cmd, d, '--ids', '1,2,3', '--threads', '1', ...(cmd === 'generate' ? ['-n', '2'] : [])];
    cases.push({ kind: 'non-finite weights', what: `${t.name}[${at}] = ${value} (${cmd})`, args, expect: 'refuse', keep: [f] });
  }
}

const HOSTILE_TOKENIZERS: Record<string, (j: Record<string, unknown>) => void> = {
  empty: (j) => { for (const k of Object.keys(j)) delete j[k]; },
  'bad merges': (j) => void (j['model'] as { merges: unknown[] }).merges.unshift('nope nada', 'a b c'),
  'merges not a list': (j) => void ((j['model'] as Record<string, unknown>)['merges'] = 5),
  'added id -1': (j) => void ((j['added_tokens'] as { id: number }[])[0]!.id = -1),
  'added id 100000': (j) => void ((j['added_tokens'] as { id: number }[])[0]!.id = 100000),
  'vocab id past the model': (j) => void ((j['model'] as { vocab: Record<string, number> }).vocab['zzz'] = 99999),
  'model type unknown': (j) => void ((j['model'] as Record<string, unknown>)['type'] = 'Nope'),
};
const HOSTILE_TEMPLATES: Record<string, string> = {
  'syntax error': '{% for x in %}',
  'unclosed': '{% if messages %}',
  'range(1e8)': '{% for i in range(100000000) %}x{% endfor %}',
  'nested loops': '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}',
  'raises': '{{ raise_exception("bad") }}',
  'huge output': '{% for i in range(10000000) %}xxxxxxxx{% endfor %}',
};

function tokenizers(): void {
  const tok = JSON.parse(fs.readFileSync(path.join(base, 'tokenizer.json'), 'utf8'));
  const names = [...Object.keys(HOSTILE_TOKENIZERS).map((k) => ['tok', k]), ...Object.keys(HOSTILE_TEMPLATES).map((k) => ['tpl', k])] as const;
  for (let i = 0; i < PER_KIND; i++) {
    const [which, name] = names[i % names.length]!;
    const d = copyModel(base, 'tok');
    if (which === 'tok') {
      const j = structuredClone(tok);
      HOSTILE_TOKENIZERS[name]!(j);
      fs.writeFileSync(path.join(d, 'tokenizer.json'), JSON.stringify(j));
    } else {
      const f = path.join(d, 'tokenizer_config.json');
      const c = JSON.parse(fs.readFileSync(f, 'utf8'));
      c['chat_template'] = HOSTILE_TEMPLATES[name];
      fs.writeFileSync(f, JSON.stringify(c));
    }
    const mode = int(3);
    if (mode === 0) cases.push({ kind: 'hostile tokenizers / templates', what: `${name}: convert`, args: ['convert', d, '-o', fresh('o') + '.tlm'], expect: 'refuse' });
    else if (mode === 1) cases.push({ kind: 'hostile tokenizers / templates', what: `${name}: generate --ids`, args: ['generate', d, '--ids', '1,2', '-n', '2', '--threads', '1'], expect: 'accept' });
    else cases.push({ kind: 'hostile tokenizers / templates', what: `${name}: generate --prompt --chat`, args: ['generate', d, '--prompt', 'hi', '--chat', '-n', '1', '--threads', '1'], expect: 'refuse' });
  }
}

function badPaths(): void {
  const variants: (() => Case)[] = [
    () => {
      const d = copyModel(base, 'self');
      const target = pick(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']);
      return { kind: 'bad paths', what: `convert -o onto its own ${target}`, args: ['convert', d, '-o', path.join(d, target)], expect: 'refuse', keep: fs.readdirSync(d).map((x) => path.join(d, x)) };
    },
    () => {
      const d = copyModel(base, 'link');
      const l = fresh('l') + '.tlm';
      fs.symlinkSync(path.join(d, pick(['config.json', 'model.safetensors'])), l);
      return { kind: 'bad paths', what: '-o is a symlink to an input', args: ['convert', d, '-o', l], expect: 'refuse', keep: fs.readdirSync(d).map((x) => path.join(d, x)) };
    },
    () => {
      const d = copyModel(base, 'hard');
      const l = fresh('h') + '.tlm';
      fs.linkSync(path.join(d, 'model.safetensors'), l);
      return { kind: 'bad paths', what: '-o is a hard link to an input', args: ['convert', d, '-o', l], expect: 'refuse', keep: [path.join(d, 'model.safetensors')] };
    },
    () => {
      const f = fresh('fifo');
      fs.mkdirSync(path.dirname(f), { recursive: true });
      spawnSyncMkfifo(f);
      return { kind: 'bad paths', what: '-o is a FIFO', args: ['convert', base, '-o', f], expect: 'refuse' };
    },
    () => {
      const d = copyModel(base, 'fifoin');
      const victim = pick(['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json']);
      fs.rmSync(path.join(d, victim));
      if (rand() < 0.5) spawnSyncMkfifo(path.join(d, victim));
      else fs.mkdirSync(path.join(d, victim));
      return { kind: 'bad paths', what: `${victim} is a FIFO or directory`, args: pick([['inspect', d], ['convert', d, '-o', fresh('o') + '.tlm']]), expect: 'refuse' };
    },
    () => ({ kind: 'bad paths', what: '/dev/zero as model or board', args: pick([['plan', '--model', '/dev/zero'], ['plan', base, '--board', '/dev/zero'], ['inspect', '/dev/zero'], ['generate', '/dev/zero', '--ids', '1']]), expect: 'refuse' }),
    () => {
      const d = fresh('mine');
      fs.mkdirSync(path.join(d, 'notes'), { recursive: true });
      fs.writeFileSync(path.join(d, 'thesis.txt'), 'precious');
      fs.writeFileSync(path.join(d, 'notes', 'a.txt'), 'precious');
      fs.writeFileSync(path.join(d, 'model-00001-of-00002.safetensors'), 'mine');
      return { kind: 'bad paths', what: 'make-test-model --overwrite onto a directory it did not write', args: ['make-test-model', '--preset', 'bitnet-tiny-packed', '-o', d, '--overwrite'], expect: 'refuse', keep: [path.join(d, 'thesis.txt'), path.join(d, 'notes', 'a.txt'), path.join(d, 'model-00001-of-00002.safetensors')] };
    },
    () => ({ kind: 'bad paths', what: 'output in a missing or unwritable directory', args: pick([['convert', base, '-o', path.join(work, 'no', 'x.tlm')], ['make-test-model', '--preset', 'bitnet-tiny-packed', '-o', '/proc/self/tm'], ['plan', base, '--html', path.join(work, 'no', 'r.html')], ['convert', base, '-o', '/proc/self/x.tlm']]), expect: 'refuse' }),
  ];
  for (let i = 0; i < PER_KIND; i++) cases.push(variants[i % variants.length]!());
}

/** node has no mkfifo; coreutils' is on the development machine and in CI. */
function spawnSyncMkfifo(p: string): void {
  if (spawnSync('mkfifo', [p]).status !== 0) throw new Error(`mkfifo ${p} failed`);
}

function manifestEdits(): void {
  const bytes = fs.readFileSync(image);
  const off = Number(bytes.readBigUInt64LE(16));
  const len = Number(bytes.readBigUInt64LE(24));
  const m0 = JSON.parse(bytes.subarray(off, off + len).toString('utf8'));
  const fields = [
    ['spec', 'numLayers'], ['spec', 'hiddenSize'], ['spec', 'vocabSize'], ['spec', 'maxPositions'], ['spec', 'rmsNormEps'], ['spec', 'ropeTheta'],
    ['spec', 'activation'], ['spec', 'tiedEmbeddings'], ['spec', 'headDim'], ['context'], ['numerics', 'limit_log2'], ['tokenizer', 'chat_template'], ['tokenizer', 'bos_token_id'],
    ['numerics', 'worst', 'bound'], ['numerics', 'embedding_absmax'], ['numerics', 'logit_bound'],
  ];
  // What the sections determine (image/manifest-checks.ts): any other value must be refused.
  const derived = (f: string[]) => f[0] === 'numerics' || (f[0] === 'spec' && (f[1] === 'activation' || f[1] === 'ropeTheta'));
  const values = [1e6, 0, -1, 1e300, NaN, 1e-30, 1, 2, 'silu', 'relu2', true, false, null, '{% for x in %}', 1e9];
  for (let i = 0; i < PER_KIND; i++) {
    const m = structuredClone(m0);
    const f = pick(fields);
    const v = pick(values);
    let cur = m;
    for (const k of f.slice(0, -1)) cur = cur[k];
    const changed = JSON.stringify(cur[f[f.length - 1]!]) !== JSON.stringify(v);
    cur[f[f.length - 1]!] = v;
    const mb = Buffer.from(JSON.stringify(m), 'utf8');
    const header = encodeHeader({ manifestOffset: off, manifestLength: mb.length, manifestSha256: createHash('sha256').update(mb).digest('hex'), fileLength: off + mb.length });
    const file = fresh('man') + '.tlm';
    fs.writeFileSync(file, Buffer.concat([Buffer.from(header), bytes.subarray(header.length, off), mb]));
    const cmd = pick(['inspect', 'generate']);
    cases.push({ kind: 'manifest edits (fresh checksums)', what: `${f.join('.')} = ${JSON.stringify(v)}`, args: cmd === 'inspect' ? ['inspect', file] : ['generate', file, '--ids', '1,2', '-n', '2', '--threads', '1'], expect: changed && derived(f) ? 'refuse' : 'either' });
  }
}

imageBytes();
safetensorsBytes();
configEdits();
nonFinite();
tokenizers();
badPaths();
manifestEdits();
if (values.kind !== undefined) cases.splice(0, cases.length, ...cases.filter((c) => c.kind.includes(values.kind!)));

// ---- running -------------------------------------------------------------------------------
interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function runTellme(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--max-old-space-size=2048', TELLME, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: work });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString().slice(0, 4096)));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString().slice(0, 4096)));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIMEOUT_S * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

const STYLE = /^(tellme: (note|warning): .*\n)*tellme: \S.*\n {2}fix: \S.*\n$/s;

function classify(c: Case, r: Run, lost: boolean): Outcome {
  if (lost) return 'LOST';
  if (r.timedOut) return 'HANG';
  if (/heap out of memory|Allocation failed|OOMErrorHandler/.test(r.stderr) || r.signal === 'SIGABRT') return 'MEMORY';
  if (r.code === 0) return c.expect === 'refuse' ? 'POISONED' : 'accepted';
  if (r.code === 1 && STYLE.test(r.stderr) && !/\n\s+at .*\.(js|ts):\d+/.test(r.stderr)) return c.expect === 'accept' ? 'CRASH' : 'refused';
  return 'CRASH';
}

const results: { kind: string; what: string; args: string[]; outcome: Outcome; stderr: string }[] = [];
const t0 = performance.now();
let next = 0;
async function worker(): Promise<void> {
  while (next < cases.length) {
    const c = cases[next++]!;
    const before = (c.keep ?? []).map(sha);
    const r = await runTellme(c.args);
    const lost = (c.keep ?? []).some((f, i) => sha(f) !== before[i]);
    results.push({ kind: c.kind, what: c.what, args: c.args, outcome: classify(c, r, lost), stderr: r.stderr.slice(0, 600) });
  }
}
await Promise.all(Array.from({ length: JOBS }, worker));
const seconds = (performance.now() - t0) / 1000;

const kinds = [...new Set(results.map((r) => r.kind))];
const outcomes: Outcome[] = ['refused', 'accepted', 'POISONED', 'CRASH', 'HANG', 'MEMORY', 'LOST'];
const table = kinds.map((k) => {
  const rs = results.filter((r) => r.kind === k);
  return { kind: k, cases: rs.length, ...Object.fromEntries(outcomes.map((o) => [o, rs.filter((r) => r.outcome === o).length])) };
});
const bad = results.filter((r) => !['refused', 'accepted'].includes(r.outcome));
if (values.json) {
  process.stdout.write(JSON.stringify({ seed: Number(values.seed), perKind: PER_KIND, cases: results.length, seconds, table, bad }, null, 2) + '\n');
} else {
  process.stdout.write(`${results.length} cases (seed ${values.seed}, ${PER_KIND} per kind) in ${seconds.toFixed(0)} s\n\n`);
  process.stdout.write(`| kind | cases | ${outcomes.join(' | ')} |\n|---|---|${outcomes.map(() => '---').join('|')}|\n`);
  for (const row of table) process.stdout.write(`| ${row.kind} | ${row.cases} | ${outcomes.map((o) => (row as Record<string, unknown>)[o]).join(' | ')} |\n`);
  process.stdout.write(`| total | ${results.length} | ${outcomes.map((o) => results.filter((r) => r.outcome === o).length).join(' | ')} |\n`);
  for (const b of bad) process.stdout.write(`\n${b.outcome}: ${b.kind}: ${b.what}\n  tellme ${b.args.join(' ')}\n  ${b.stderr.replace(/\n/g, '\n  ')}\n`);
}
fs.rmSync(work, { recursive: true, force: true });
process.exitCode = bad.length === 0 ? 0 : 1;
