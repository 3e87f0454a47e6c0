/**
 * Where the project's own files are (board profiles, schemas, bundled models), whether the code
 * runs from host/src (vitest, tsx) or from the compiled dist/.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

export function projectRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'host'))) {
      cached = dir;
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('tellme: cannot find the project root (package.json next to host/)');
    dir = up;
  }
}
