// Stryker's event-recorder reporter writes reports/mutation/events/NNNNN-onMutantTested.json as
// each mutant is tested, so a run stopped before its JSON report still leaves its results. This
// turns the event files of one or more runs into a report's `files` (the mutation-testing-report
// schema that totals.mjs, static.mjs and overlay.mjs read). Used by events-report.mjs and
// overlay.mjs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A mutated file's name as the reports give it (host/src/…), from an event's absolute path. */
function projectRelative(file) {
  const at = file.lastIndexOf('/host/');
  if (at < 0) throw new Error(`${file}: not under host/`);
  return file.slice(at + 1);
}

const keyOf = (file, m) => `${file}:${m.location.start.line}:${m.location.start.column}-${m.location.end.line}:${m.location.end.column} ${m.mutatorName} ${m.replacement}`;

/**
 * The mutants tested in the runs whose event folders are given, by file. A mutant is known by its
 * file, location and replacement; where several runs tested it, the later folder's result wins.
 * Mutants a stopped run never reached are absent. Each file's source is read relative to the
 * current directory (run in the tree the runs mutated, or a copy with the same sources).
 */
export function filesFromEvents(dirs) {
  const mutants = new Map();
  for (const dir of dirs) {
    for (const name of readdirSync(dir).filter((f) => f.endsWith('-onMutantTested.json')).sort()) {
      const { fileName, ...mutant } = JSON.parse(readFileSync(join(dir, name), 'utf8'));
      const file = projectRelative(fileName);
      mutants.set(keyOf(file, mutant), { file, mutant });
    }
  }
  const files = {};
  let id = 0;
  for (const { file, mutant } of mutants.values()) {
    files[file] ??= { language: 'typescript', source: readFileSync(file, 'utf8'), mutants: [] };
    files[file].mutants.push({ ...mutant, id: String(id++) });
  }
  for (const f of Object.values(files)) f.mutants.sort((a, b) => a.location.start.line - b.location.start.line || a.location.start.column - b.location.start.column);
  return files;
}
