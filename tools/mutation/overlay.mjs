#!/usr/bin/env node
// Fold a scoped Stryker run (--mutate FILE:FROM-TO ranges) into a whole-file report:
//   node tools/mutation/overlay.mjs BASE.json SCOPED OUT.json
// SCOPED is the scoped run's JSON report, or, for a run stopped before it wrote one, the folder of
// its event-recorder reporter (reports/mutation/events: one *-onMutantTested.json per mutant
// tested; run from the project root, which their file names are relative to).
// For each file of SCOPED, BASE's mutants of that file are carried onto SCOPED's source (the
// source may have changed since BASE: a mutant moves with the code it replaces, found at the same
// column on the nearest line, and one whose code no longer exists is dropped and listed), and each mutant SCOPED re-tested (same line, column,
// mutator and replacement) takes SCOPED's status. Files SCOPED does not hold are left out of OUT,
// so totals.mjs BASE… OUT gives the folder with the re-tested results (the later report wins for a
// file). Why: a run over a few lines after new tests costs minutes; re-running a whole file
// re-tests everything once its tests change (Stryker's incremental mode then reuses almost
// nothing).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const [basePath, scopedPath, outPath] = process.argv.slice(2);
if (!outPath) {
  process.stderr.write('usage: overlay.mjs BASE.json SCOPED(.json | events folder) OUT.json\n');
  process.exit(2);
}
const base = JSON.parse(readFileSync(basePath, 'utf8'));
/** A report's files from the event files of a run: the mutants tested so far, today's sources. */
function fromEvents(dir) {
  const files = {};
  for (const name of readdirSync(dir).filter((n) => n.endsWith('-onMutantTested.json')).sort()) {
    const m = JSON.parse(readFileSync(join(dir, name), 'utf8'));
    const file = relative(process.cwd(), m.fileName);
    files[file] ??= { language: 'typescript', source: readFileSync(file, 'utf8'), mutants: [] };
    files[file].mutants.push(m);
  }
  return { files };
}
const scoped = statSync(scopedPath).isDirectory() ? fromEvents(scopedPath) : JSON.parse(readFileSync(scopedPath, 'utf8'));
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

const files = {};
for (const [name, sf] of Object.entries(scoped.files)) {
  const bf = base.files[name];
  if (!bf) throw new Error(`${name} is not in ${basePath}`);
  const oldAt = lineStarts(bf.source);
  const newAt = lineStarts(sf.source);
  /**
   * Where mutant m's code is in the new source: the occurrence of the code it replaces (its
   * location's text in the old source) that starts at the same column on the nearest line, or null.
   */
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
    const start = at.start.line;
    const k = key(start, m);
    const again = retested.get(k);
    if (again) used.add(k);
    if (again && again.status !== m.status) process.stdout.write(`${again.status.padEnd(9)} ${name}:${start}:${m.location.start.column} ${m.mutatorName} ${JSON.stringify(m.replacement)} (was ${m.status})\n`);
    mutants.push({
      ...m,
      ...(again ? { status: again.status, static: again.static, coveredBy: again.coveredBy, killedBy: again.killedBy, statusReason: again.statusReason } : {}),
      location: at,
    });
  }
  for (const [k, m] of retested) if (!used.has(k)) throw new Error(`${name}: re-tested mutant ${k} has no counterpart in ${basePath}`);
  files[name] = { ...bf, source: sf.source, mutants };
}
writeFileSync(outPath, JSON.stringify({ ...base, files }));
process.stdout.write(`${outPath}: ${Object.keys(files).join(', ')}\n`);
