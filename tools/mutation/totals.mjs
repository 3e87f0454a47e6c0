#!/usr/bin/env node
// Mutant counts per file and in total from Stryker JSON reports (build/mutation/<folder>.json):
//   node tools/mutation/totals.mjs REPORT.json [REPORT.json ...] [--lines FILE:FROM-TO ...] [--survivors]
// Several reports of one folder (runs scoped with --mutate to different files) are combined, the
// later report winning for a file both hold. --lines splits a file into the mutants inside the
// range and the rest (e.g. the LM heads of golden/model.ts). --survivors lists each surviving and
// uncovered mutant (file:line:column, mutator, replacement). Score = (killed + timed out) / all.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const reports = [];
const ranges = [];
let survivors = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--lines') ranges.push(args[++i]);
  else if (args[i] === '--survivors') survivors = true;
  else reports.push(args[i]);
}
if (reports.length === 0) {
  process.stderr.write('usage: totals.mjs REPORT.json [...] [--lines FILE:FROM-TO ...] [--survivors]\n');
  process.exit(2);
}

const files = new Map();
for (const r of reports) for (const [name, f] of Object.entries(JSON.parse(readFileSync(r, 'utf8')).files)) files.set(name, f.mutants);

/** The row a mutant counts in: its file, or "file:from-to" / "file (rest)" when --lines splits the file. */
function rowOf(file, line) {
  for (const spec of ranges) {
    const m = /^(.*):(\d+)-(\d+)$/.exec(spec);
    if (!m || m[1] !== file) continue;
    return line >= Number(m[2]) && line <= Number(m[3]) ? spec : `${file} (rest)`;
  }
  return file;
}

const STATUSES = ['Killed', 'Timeout', 'Survived', 'NoCoverage', 'CompileError', 'RuntimeError', 'Ignored'];
const rows = new Map();
const listed = [];
for (const [file, mutants] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
  for (const m of mutants) {
    const row = rowOf(file, m.location.start.line);
    if (!rows.has(row)) rows.set(row, Object.fromEntries(STATUSES.map((s) => [s, 0])));
    rows.get(row)[m.status] = (rows.get(row)[m.status] ?? 0) + 1;
    if (survivors && (m.status === 'Survived' || m.status === 'NoCoverage')) {
      listed.push(`${file}:${m.location.start.line}:${m.location.start.column} ${m.status}${m.static ? ' (static)' : ''} ${m.mutatorName}: ${JSON.stringify(m.replacement)}`);
    }
  }
}

const line = (name, c) => {
  const all = STATUSES.filter((s) => s !== 'Ignored' && s !== 'CompileError').reduce((n, s) => n + c[s], 0);
  const detected = c.Killed + c.Timeout;
  const score = all ? ((100 * detected) / all).toFixed(1) : '—';
  return `${name.padEnd(44)} ${String(all).padStart(5)} mutants  ${String(c.Killed).padStart(4)} killed  ${String(c.Timeout).padStart(3)} timed out  ${String(c.Survived).padStart(3)} survived  ${String(c.NoCoverage).padStart(3)} no coverage  ${score} %`;
};
const total = Object.fromEntries(STATUSES.map((s) => [s, 0]));
for (const [name, c] of rows) {
  process.stdout.write(line(name, c) + '\n');
  for (const s of STATUSES) total[s] += c[s];
}
process.stdout.write(line('total', total) + '\n');
if (survivors) for (const l of listed) process.stdout.write(l + '\n');
