#!/usr/bin/env node
// Entry point of the `tellme` command: runs the compiled CLI (npm run build makes dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../../dist/cli/run.js', import.meta.url));
if (!existsSync(compiled)) {
  process.stderr.write('tellme: the CLI is not built yet.\n  fix: run `npm ci && npm run build` (or `make build`) in the project root.\n');
  process.exit(1);
}
await import(compiled);
