// Survivors of a Stryker run applied to the source by hand, one at a time, each followed by the
// given tests (default: the folder's tests in folders.mjs):
//   npm run mutation:static -- <folder> [--files a.ts,b.ts] [--ids 3,17] [--json out.json] [-- test files…]
// Why: Stryker reports some mutants survived that the tests do kill.
//  - "Static" mutants (code run outside a test: module initialisers, conversions in beforeAll)
//    are re-tested by an incremental run only when a test that covers them *per test* changes; a
//    new test that kills one through its beforeAll or at import leaves the old "Survived" in place.
//  - Mutants of a file scored against tests that reach it only through beforeAll.
// By default the survivors Stryker marks static, and the static mutants it ignored (a run with
// --ignoreStatic: then mutants that are static and covered per test run only their covering
// tests, not the folder's whole set); with --files, every survivor (and mutant without coverage)
// of those files (paths as in the report, e.g. host/src/image/pack.ts, or a suffix).
// Reads build/mutation/<folder>.json (Stryker's JSON report); refuses a file whose source changed
// since the report (its locations would be wrong), and first runs the tests on the unchanged
// source (they must pass). Each source file is restored from memory after each run, also on
// Ctrl-C. A mutant counts as killed when the tests fail (or time out: --timeout seconds, default
// 600; the tests' whole process group is then killed). Prints one line per mutant and the
// folder's score with these results folded in; exits non-zero if a mutant survived.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { FOLDERS } from './folders.mjs';

function parseArgs(argv) {
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const opts = { folder: null, files: null, ids: null, json: null, timeout: 600, tests: dash < 0 ? null : argv.slice(dash + 1) };
  for (let i = 0; i < own.length; i++) {
    const a = own[i];
    const value = () => {
      if (i + 1 >= own.length) throw new Error(`${a} needs a value`);
      return own[++i];
    };
    if (a === '--files') opts.files = value().split(',');
    else if (a === '--ids') opts.ids = new Set(value().split(','));
    else if (a === '--json') opts.json = value();
    else if (a === '--timeout') opts.timeout = Number(value());
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else if (opts.folder === null) opts.folder = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (!opts.folder || !FOLDERS[opts.folder]) throw new Error(`the first argument must be one of ${Object.keys(FOLDERS).join(', ')}`);
  if (!(opts.timeout > 0)) throw new Error('--timeout must be a positive number of seconds');
  return opts;
}

/** Character offset of a report position (line and column both 1-based). */
function offsetOf(source, { line, column }) {
  let off = 0;
  for (let l = 1; l < line; l++) {
    off = source.indexOf('\n', off) + 1;
    if (off === 0) throw new Error(`line ${line} is past the end`);
  }
  return off + column - 1;
}

/**
 * The source with one mutant applied. Stryker mutates the syntax tree, so its replacement is one
 * node; spliced in as text it must keep that shape: `a !== null || b !== null` put in place of the
 * first two terms of `a !== null && b !== null && c` would otherwise parse as `a || (b && c)`.
 * Every mutator but BlockStatement replaces an expression, which parentheses leave as it is.
 */
function applyMutant(source, m) {
  const replacement = m.mutatorName === 'BlockStatement' ? m.replacement : `(${m.replacement})`;
  return source.slice(0, offsetOf(source, m.location.start)) + replacement + source.slice(offsetOf(source, m.location.end));
}

function selected(report, opts) {
  const out = [];
  for (const [file, entry] of Object.entries(report.files)) {
    const byFile = opts.files?.some((f) => file === f || file.endsWith(`/${f}`));
    for (const m of entry.mutants) {
      if (opts.ids && !opts.ids.has(m.id)) continue;
      const pick = opts.ids ? true : opts.files ? byFile && (m.status === 'Survived' || m.status === 'NoCoverage') : m.static && (m.status === 'Survived' || m.status === 'Ignored');
      if (pick) out.push({ file, source: entry.source, m });
    }
  }
  return out;
}

/** The test process group running now (killed whole on a timeout or a signal), or null. */
let running = null;

function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Run the tests in their own process group: on a timeout the whole group is killed (npx, vitest
 * and its workers), not only npx, which would leave a mutant's endless loop running.
 */
function runTests(tests, timeoutSeconds) {
  return new Promise((resolve) => {
    const child = spawn('npx', ['vitest', 'run', ...tests], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running = child;
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutSeconds * 1000);
    child.on('close', (status) => {
      clearTimeout(timer);
      running = null;
      // Workers that outlived vitest's main process (a mutant that blocks their exit).
      killGroup(child);
      if (timedOut) return resolve({ result: 'timeout', detail: `over ${timeoutSeconds} s` });
      const failed = text.match(/(\d+) failed/);
      if (status !== 0 && failed) return resolve({ result: 'killed', detail: `${failed[1]} failing` });
      if (status === 0) return resolve({ result: 'survived', detail: 'tests pass' });
      resolve({ result: 'error', detail: `vitest exit ${status}: ${text.trim().split('\n').slice(-3).join(' | ')}` });
    });
  });
}

function scoreLine(report, results) {
  const byHand = new Map(results.map((r) => [r.id, r.result]));
  let valid = 0;
  let detected = 0;
  for (const entry of Object.values(report.files)) {
    for (const m of entry.mutants) {
      const s = byHand.get(m.id) ?? m.status;
      if (s === 'CompileError' || s === 'RuntimeError' || s === 'Ignored' || s === 'stale') continue;
      valid++;
      if (s === 'Killed' || s === 'Timeout' || s === 'killed' || s === 'timeout') detected++;
    }
  }
  return `${detected} of ${valid} mutants detected with these applied by hand: ${((100 * detected) / valid).toFixed(1)} %`;
}

const opts = parseArgs(process.argv.slice(2));
const report = JSON.parse(readFileSync(`build/mutation/${opts.folder}.json`, 'utf8'));
// vitest takes path filters, not globs (no shell expands them here): 'test/tlmm/**/*.test.ts' → 'test/tlmm/'.
const tests = (opts.tests?.length ? opts.tests : FOLDERS[opts.folder]).map((t) => t.replace(/\*\*\/\*\.test\.ts$/, ''));
const todo = selected(report, opts);

let restore = null;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (running) killGroup(running);
    restore?.();
    process.exit(130);
  });
}

const stale = new Set();
const results = [];
console.log(`${todo.length} mutants of build/mutation/${opts.folder}.json against ${tests.join(' ')}`);
// The tests must pass on the unchanged source, or every mutant would count as killed.
const baseline = await runTests(tests, opts.timeout);
if (baseline.result !== 'survived') {
  console.log(`the tests fail without a mutant (${baseline.result}: ${baseline.detail}); nothing applied`);
  process.exit(2);
}
for (const { file, source, m } of todo) {
  const original = readFileSync(file, 'utf8');
  const where = `${m.id} ${file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName} → ${JSON.stringify(m.replacement).slice(0, 60)}`;
  if (original !== source) {
    if (!stale.has(file)) console.log(`STALE     ${file} changed since the report: re-run Stryker first`);
    stale.add(file);
    results.push({ id: m.id, file, line: m.location.start.line, result: 'stale' });
    continue;
  }
  restore = () => writeFileSync(file, original);
  try {
    writeFileSync(file, applyMutant(original, m));
    const r = await runTests(tests, opts.timeout);
    results.push({ id: m.id, file, line: m.location.start.line, mutator: m.mutatorName, replacement: m.replacement, ...r });
    console.log(`${r.result === 'survived' || r.result === 'error' ? r.result.toUpperCase().padEnd(9) : r.result.padEnd(9)} ${where} (${r.detail})`);
  } finally {
    restore();
    restore = null;
  }
}
const count = (what) => results.filter((r) => r.result === what).length;
console.log(`killed ${count('killed')}, timed out ${count('timeout')}, survived ${count('survived')}, errors ${count('error')}, stale ${count('stale')}`);
console.log(scoreLine(report, results));
if (opts.json) writeFileSync(opts.json, `${JSON.stringify(results, null, 2)}\n`);
process.exit(count('survived') + count('error') + count('stale') === 0 ? 0 : 1);
