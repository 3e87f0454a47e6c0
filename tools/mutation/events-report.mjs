#!/usr/bin/env node
// A Stryker JSON report (the mutation-testing-report schema that totals.mjs and static.mjs read)
// from the event files of one or more runs, stopped or not (the event-recorder reporter writes
// reports/mutation/events/NNNNN-onMutantTested.json as each mutant is tested):
//   node tools/mutation/events-report.mjs OUT.json EVENTS_DIR [EVENTS_DIR ...]
// A mutant is known by its file, location and replacement; where several runs tested it, the
// later directory's result wins (e.g. a re-run with new tests over part of a file). Mutants a
// stopped run never reached are absent. Run it in the tree the runs mutated (a copy with the same
// sources): file names are made relative to the directory holding host/, and each file's source
// is read from there (static.mjs refuses a file that changed since).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const [out, ...dirs] = process.argv.slice(2);
if (!out || dirs.length === 0) {
  process.stderr.write('usage: events-report.mjs OUT.json EVENTS_DIR [EVENTS_DIR ...]\n');
  process.exit(2);
}

const relative = (file) => {
  const at = file.lastIndexOf('/host/');
  if (at < 0) throw new Error(`${file}: not under host/`);
  return file.slice(at + 1);
};
const keyOf = (file, m) => `${file}:${m.location.start.line}:${m.location.start.column}-${m.location.end.line}:${m.location.end.column} ${m.mutatorName} ${m.replacement}`;

const mutants = new Map();
for (const dir of dirs) {
  for (const name of readdirSync(dir).filter((f) => f.endsWith('-onMutantTested.json')).sort()) {
    const m = JSON.parse(readFileSync(`${dir}/${name}`, 'utf8'));
    const file = relative(m.fileName);
    const { fileName: _drop, ...rest } = m;
    mutants.set(keyOf(file, m), { file, mutant: rest });
  }
}

const files = {};
let id = 0;
for (const { file, mutant } of mutants.values()) {
  files[file] ??= { language: 'typescript', source: readFileSync(file, 'utf8'), mutants: [] };
  files[file].mutants.push({ ...mutant, id: String(id++) });
}
for (const f of Object.values(files)) f.mutants.sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column);
writeFileSync(out, `${JSON.stringify({ schemaVersion: '2', thresholds: { high: 95, low: 90 }, files }, null, 1)}\n`);
const count = Object.values(files).reduce((n, f) => n + f.mutants.length, 0);
console.log(`${out}: ${count} mutants in ${Object.keys(files).length} files from ${dirs.join(', ')}`);
