/**
 * The known-answer fixtures' command line (package.json scripts):
 *
 *   npm run kat:update [-- --model NAME ...] [-- --heavy]   rewrite test/kat/fixtures/<profile>/*.json
 *   npm run kat:check  [-- --model NAME ...] [-- --heavy]   compare with them (what the test does)
 *   npm run kat:diff   [-- --model NAME ...] [-- --against REV]
 *        for every logit vector whose hash changed: the first differing element, its old and new
 *        bits and the distance in ulps. The old values are recomputed by the golden model of git
 *        revision REV (default HEAD) in a temporary worktree.
 *
 * --heavy adds the full-size shape presets (minutes; not in the CI test). Only the profiles of
 * profiles.ts are recorded. Updating is deliberate: a change of the answers must come with a
 * change to docs/numerics.md that says what changed and why.
 */

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { KAT_MODELS, type KatModel } from './cases.js';
import { diffRecords, readFixture, writeFixture } from './fixtures.js';
import { PROFILES, profileId, type NumericsProfile } from './profiles.js';
import { recordAllForward, readForwardFixture, writeForwardFixture } from './forward.js';
import { recordModel } from './record.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    model: { type: 'string', multiple: true },
    heavy: { type: 'boolean', default: false },
    against: { type: 'string', default: 'HEAD' },
    out: { type: 'string' },
    profile: { type: 'string' },
  },
});

function selectedModels(): KatModel[] {
  const names = values.model;
  if (names) {
    const unknown = names.filter((n) => !KAT_MODELS.some((m) => m.name === n));
    if (unknown.length) fail(`unknown model ${unknown.join(', ')}; known: ${KAT_MODELS.map((m) => m.name).join(', ')}`);
    return KAT_MODELS.filter((m) => names.includes(m.name));
  }
  return KAT_MODELS.filter((m) => values.heavy || !m.heavy);
}

function selectedProfiles(): readonly NumericsProfile[] {
  if (!values.profile) return PROFILES;
  const p = PROFILES.find((q) => profileId(q) === values.profile);
  if (!p) fail(`unknown profile ${values.profile}; known: ${PROFILES.map(profileId).join(', ')}`);
  return [p];
}

function fail(msg: string): never {
  process.stderr.write(`kat: ${msg}\n`);
  process.exit(2);
}

/** The tiny whole-pass cases of forward.ts: written and checked with the rest unless --model or --profile narrows the run. */
const withForward = () => !values.model && !values.profile;

async function update(): Promise<void> {
  if (withForward()) process.stdout.write(`wrote ${writeForwardFixture(await recordAllForward())}\n`);
  for (const profile of selectedProfiles()) {
    for (const m of selectedModels()) {
      const t0 = performance.now();
      const file = writeFixture(profile, await recordModel(m, profile));
      process.stdout.write(`wrote ${file} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
    }
  }
  process.stdout.write('Changed answers must come with a docs/numerics.md change: see `git diff test/kat/fixtures`.\n');
}

async function check(): Promise<number> {
  let bad = 0;
  if (withForward()) {
    const expected = readForwardFixture();
    const diffs = expected ? diffRecords(expected, await recordAllForward()) : ['MISSING fixture (run npm run kat:update)'];
    process.stdout.write(`forward passes: ${diffs.length === 0 ? 'same bits' : `${diffs.length} differences`}\n`);
    for (const d of diffs.slice(0, 20)) process.stdout.write(`  ${d}\n`);
    if (diffs.length) bad++;
  }
  for (const profile of selectedProfiles()) {
    for (const m of selectedModels()) {
      const expected = readFixture(profile, m.name);
      const label = `${profileId(profile)}/${m.name}`;
      if (!expected) {
        process.stdout.write(`${label}: MISSING fixture (run npm run kat:update)\n`);
        bad++;
        continue;
      }
      const diffs = diffRecords(expected, await recordModel(m, profile));
      process.stdout.write(`${label}: ${diffs.length === 0 ? 'same bits' : `${diffs.length} differences`}\n`);
      for (const d of diffs.slice(0, 20)) process.stdout.write(`  ${d}\n`);
      if (diffs.length) bad++;
    }
  }
  return bad;
}

/** Every vector of a model, by path, as base64 of its binary32 bits. */
type Dump = Record<string, string>;

async function dumpModel(m: KatModel, profile: NumericsProfile): Promise<Dump> {
  const out: Dump = {};
  await recordModel(m, profile, (p, v) => {
    out[p] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  });
  return out;
}

function decode(b64: string): Float32Array {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Distance in units in the last place between two finite binary32 values (their ordered bit patterns). */
function ulps(a: number, b: number): number {
  const ord = (x: number) => {
    const u = new Uint32Array(new Float32Array([x]).buffer)[0]!;
    return u & 0x80000000 ? -(u & 0x7fffffff) : u;
  };
  return Math.abs(ord(a) - ord(b));
}

const bits = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0]!.toString(16).padStart(8, '0');

/** The old golden model's vectors: dump them from a worktree of `rev`. */
function dumpAtRevision(rev: string, models: KatModel[], profile: NumericsProfile): Record<string, Dump> {
  const root = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tellme-kat-rev-'));
  const tree = path.join(tmp, 'tree');
  execFileSync('git', ['worktree', 'add', '--detach', tree, rev], { stdio: 'ignore' });
  try {
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(tree, 'node_modules'));
    const out: Record<string, Dump> = {};
    for (const m of models) {
      const file = path.join(tmp, `${m.name}.json`);
      execFileSync(
        process.execPath,
        ['--import', 'tsx', 'test/kat/cli.ts', 'dump', '--model', m.name, '--profile', profileId(profile), '--out', file],
        { cwd: tree, stdio: ['ignore', 'ignore', 'inherit'] },
      );
      out[m.name] = JSON.parse(fs.readFileSync(file, 'utf8')) as Dump;
    }
    return out;
  } finally {
    execFileSync('git', ['worktree', 'remove', '--force', tree], { stdio: 'ignore' });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Where element i of a vector lies: "[i]", or "[position p, id t]" for the concatenated prefill logits. */
function elementName(p: string, i: number, vocab: number): string {
  return p.endsWith('/prefill/all') ? `[position ${Math.floor(i / vocab)}, id ${i % vocab}]` : `[${i}]`;
}

async function diff(): Promise<number> {
  let changed = 0;
  for (const profile of selectedProfiles()) {
    const models = selectedModels();
    const now: Record<string, Dump> = {};
    for (const m of models) now[m.name] = await dumpModel(m, profile);
    process.stdout.write(`recomputing ${profileId(profile)} at ${values.against} ...\n`);
    const then = dumpAtRevision(values.against, models, profile);
    for (const m of models) {
      for (const [p, b64] of Object.entries(now[m.name]!)) {
        const oldB64 = then[m.name]![p];
        if (oldB64 === undefined) {
          process.stdout.write(`${m.name} ${p}: not recorded at ${values.against}\n`);
          changed++;
          continue;
        }
        const cur = decode(b64);
        const old = decode(oldB64);
        if (cur.length !== old.length) {
          process.stdout.write(`${m.name} ${p}: length ${old.length} → ${cur.length}\n`);
          changed++;
          continue;
        }
        const idx = cur.findIndex((v, i) => !Object.is(v, old[i]));
        if (idx < 0) continue;
        changed++;
        const n = cur.reduce((k, v, i) => k + (Object.is(v, old[i]) ? 0 : 1), 0);
        const vocab = decode(now[m.name]![p.replace(/[^/]+\/[^/]+$/, 'prefill/last')]!).length;
        process.stdout.write(
          `${m.name} ${p}: ${n} of ${cur.length} elements differ; first at ${elementName(p, idx, vocab)}: ` +
            `${old[idx]} (0x${bits(old[idx]!)}) → ${cur[idx]} (0x${bits(cur[idx]!)}), ${ulps(old[idx]!, cur[idx]!)} ulp\n`,
        );
      }
    }
  }
  if (changed === 0) process.stdout.write(`no logit vector differs from ${values.against}\n`);
  return changed;
}

async function main(): Promise<void> {
  const cmd = positionals[0];
  if (cmd === 'update') return update();
  if (cmd === 'check') {
    if ((await check()) > 0) process.exitCode = 1;
    return;
  }
  if (cmd === 'diff') {
    if ((await diff()) > 0) process.exitCode = 1;
    return;
  }
  if (cmd === 'dump') {
    const [m] = selectedModels();
    const [profile] = selectedProfiles();
    if (!m || !values.out || !profile) fail('dump needs --model NAME and --out FILE');
    fs.writeFileSync(values.out, JSON.stringify(await dumpModel(m, profile)));
    return;
  }
  fail('usage: cli.ts update|check|diff|dump [--model NAME ...] [--heavy] [--against REV] [--profile ID]');
}

await main();
