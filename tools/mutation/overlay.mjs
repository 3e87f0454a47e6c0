#!/usr/bin/env node
// Fold scoped Stryker runs (--mutate FILE:FROM-TO ranges) into whole-file reports:
//   node tools/mutation/overlay.mjs OUT.json --scoped SCOPED [--scoped SCOPED ...] BASE.json [BASE.json ...]
// The BASE reports are combined as totals.mjs does (the later one wins for a file both hold).
// SCOPED is a scoped run's JSON report or, for a run stopped before it wrote one, the folder of
// its event-recorder reporter (reports/mutation/events; events.mjs reads it, from the root of
// the tree the run mutated).
// For each file a SCOPED run holds, the base's mutants of that file are carried onto the scoped
// run's source (it may have changed since: a mutant moves with the code it replaces, found at
// the same column on the nearest line; one whose code is gone is dropped and listed), and each
// mutant the run re-tested (same line, column, mutator and replacement) takes its status. OUT
// holds only those files, so `totals.mjs BASE… OUT` gives the folder with the re-tested
// results. Why: after new tests, Stryker's incremental mode re-tests every mutant their files
// cover (the golden re-run of the fifth session reused 1 of 383 results); a run over the lines
// that matter takes minutes.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { filesFromEvents } from './events.mjs';

const args = process.argv.slice(2);
const outPath = args.shift();
const scopedPaths = [];
const basePaths = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--scoped') scopedPaths.push(args[++i]);
  else basePaths.push(args[i]);
}
if (!outPath || scopedPaths.length === 0 || basePaths.length === 0) {
  process.stderr.write('usage: overlay.mjs OUT.json --scoped SCOPED(.json | events folder) [...] BASE.json [...]\n');
  process.exit(2);
}

/** Offset of the first character of each line. */
function lineStarts(text) {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** 1-based line and column of an offset (Stryker's convention). */
function position(starts, offset) {
  let line = 0;
  while (line + 1 < starts.length && starts[line + 1] <= offset) line++;
  return { line: line + 1, column: offset - starts[line] + 1 };
}

const key = (line, m) => `${line}:${m.location.start.column} ${m.mutatorName} ${m.replacement}`;

/** File bf (a base's) with the results of scoped file sf folded in, on sf's source. */
function overlay(name, bf, sf) {
  const oldAt = lineStarts(bf.source);
  const newAt = lineStarts(sf.source);
  // Where mutant m's code is in the new source: the occurrence of the code it replaces (its
  // location's text in the old source) that starts at the same column on the nearest line.
  const moved = (m) => {
    const from = oldAt[m.location.start.line - 1] + m.location.start.column - 1;
    const code = bf.source.slice(from, oldAt[m.location.end.line - 1] + m.location.end.column - 1);
    let best = null;
    for (let i = sf.source.indexOf(code); i >= 0; i = sf.source.indexOf(code, i + 1)) {
      const at = position(newAt, i);
      if (at.column !== m.location.start.column) continue;
      if (best === null || Math.abs(at.line - m.location.start.line) < Math.abs(best.start.line - m.location.start.line)) best = { start: at, end: position(newAt, i + code.length) };
    }
    return best;
  };
  const retested = new Map(sf.mutants.map((m) => [key(m.location.start.line, m), m]));
  const used = new Set();
  const mutants = [];
  for (const m of bf.mutants) {
    const at = moved(m);
    if (at === null) {
      process.stdout.write(`dropped   ${name}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName} ${JSON.stringify(m.replacement)} (its code is gone)\n`);
      continue;
    }
    const k = key(at.start.line, m);
    const again = retested.get(k);
    if (again) used.add(k);
    if (again && again.status !== m.status) process.stdout.write(`${again.status.padEnd(9)} ${name}:${at.start.line}:${m.location.start.column} ${m.mutatorName} ${JSON.stringify(m.replacement)} (was ${m.status})\n`);
    mutants.push({
      ...m,
      ...(again ? { status: again.status, static: again.static, coveredBy: again.coveredBy, killedBy: again.killedBy, statusReason: again.statusReason } : {}),
      location: at,
    });
  }
  for (const k of retested.keys()) if (!used.has(k)) throw new Error(`${name}: re-tested mutant ${k} has no counterpart in the base reports`);
  return { ...bf, source: sf.source, mutants };
}

const bases = basePaths.map((p) => JSON.parse(readFileSync(p, 'utf8')));
const current = new Map();
for (const b of bases) for (const [name, f] of Object.entries(b.files)) current.set(name, f);
const touched = new Set();
for (const p of scopedPaths) {
  const scoped = statSync(p).isDirectory() ? { files: filesFromEvents([p]) } : JSON.parse(readFileSync(p, 'utf8'));
  for (const [name, sf] of Object.entries(scoped.files)) {
    const bf = current.get(name);
    if (!bf) throw new Error(`${name} (${p}) is in none of the base reports`);
    current.set(name, overlay(name, bf, sf));
    touched.add(name);
  }
}
const files = Object.fromEntries([...touched].map((name) => [name, current.get(name)]));
writeFileSync(outPath, JSON.stringify({ ...bases[0], files }));
process.stdout.write(`${outPath}: ${[...touched].join(', ')}\n`);
