#!/usr/bin/env node
// A Stryker JSON report (the mutation-testing-report schema that totals.mjs and static.mjs read)
// from the event files of one or more runs, stopped or not (see events.mjs):
//   node tools/mutation/events-report.mjs OUT.json EVENTS_DIR [EVENTS_DIR ...]
// Where several runs tested a mutant, the later directory's result wins (e.g. a re-run with new
// tests over part of a file). Run it in the tree the runs mutated (a copy with the same sources):
// each file's source is read from there (static.mjs refuses a file that changed since).
import { writeFileSync } from 'node:fs';
import { filesFromEvents } from './events.mjs';

const [out, ...dirs] = process.argv.slice(2);
if (!out || dirs.length === 0) {
  process.stderr.write('usage: events-report.mjs OUT.json EVENTS_DIR [EVENTS_DIR ...]\n');
  process.exit(2);
}
const files = filesFromEvents(dirs);
writeFileSync(out, `${JSON.stringify({ schemaVersion: '2', thresholds: { high: 95, low: 90 }, files }, null, 1)}\n`);
const count = Object.values(files).reduce((n, f) => n + f.mutants.length, 0);
console.log(`${out}: ${count} mutants in ${Object.keys(files).length} files from ${dirs.join(', ')}`);
