/**
 * host/src is layered: a module imports only from its own folder or from a strictly lower layer
 * (numerics at the bottom, the CLI at the top). The table below is the architecture; the test
 * reads every import in host/src and fails on an arrow that points up or sideways, and on a
 * folder that is not in the table (a new folder must be placed before it can be used).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../host/src');

/** Bottom first. A folder (or a top-level file, without extension) may import only from lower rows. */
export const LAYERS: readonly (readonly string[])[] = [
  ['errors', 'paths', 'types'],
  ['files'],
  ['numerics', 'model', 'json-schema', 'regmap'],
  ['tlmm', 'quant', 'protocol'],
  ['checkpoint', 'hwconfig', 'kernels', 'runtime', 'transport'],
  ['layout', 'testmodels', 'reference', 'hwgen', 'gguf'],
  ['image'],
  ['golden', 'plan'],
  ['trace'],
  ['eval', 'device', 'verify'],
  ['cli'],
];

interface SourceFile {
  /** Path relative to host/src, '/'-separated. */
  file: string;
  text: string;
}

const IMPORT_RE = /\b(?:import|export)\s[^;'"]*?\bfrom\s*['"](\.[^'"]*)['"]|\bimport\s*\(\s*['"](\.[^'"]*)['"]\s*\)|\bimport\s*['"](\.[^'"]*)['"]/g;

/** The unit a host/src path belongs to: its first folder, or a top-level file's name without extension. */
function unitOf(rel: string): string {
  const first = rel.split('/')[0]!;
  return rel.includes('/') ? first : first.replace(/(\.d)?\.[cm]?[jt]s$/, '');
}

/** Every import that breaks the layer order, as 'from -> to (unit -> unit)'. */
export function layerViolations(files: readonly SourceFile[], layers: readonly (readonly string[])[] = LAYERS): string[] {
  const rank = new Map<string, number>();
  layers.forEach((row, i) => row.forEach((u) => rank.set(u, i)));
  const out: string[] = [];
  for (const { file, text } of files) {
    const from = unitOf(file);
    const fromRank = rank.get(from);
    if (fromRank === undefined) {
      out.push(`${file}: folder '${from}' is not in the layer table of test/architecture/layers.test.ts`);
      continue;
    }
    for (const m of text.matchAll(IMPORT_RE)) {
      const spec = (m[1] ?? m[2] ?? m[3])!;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), spec));
      if (target.startsWith('..')) {
        out.push(`${file}: imports ${spec}, outside host/src`);
        continue;
      }
      const to = unitOf(target);
      if (to === from) continue;
      const toRank = rank.get(to);
      if (toRank === undefined) out.push(`${file}: imports ${spec} from folder '${to}', which is not in the layer table`);
      else if (toRank >= fromRank) out.push(`${file} -> ${target} (${from}, layer ${fromRank} -> ${to}, layer ${toRank})`);
    }
  }
  return out;
}

function readTree(dir: string, base = dir): SourceFile[] {
  const out: SourceFile[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...readTree(p, base));
    else if (/\.[cm]?[jt]s$/.test(e.name)) out.push({ file: path.relative(base, p).split(path.sep).join('/'), text: fs.readFileSync(p, 'utf8') });
  }
  return out;
}

describe('host/src layering', () => {
  it('every import points down the layer table', () => {
    const files = readTree(SRC);
    expect(files.length).toBeGreaterThan(50);
    expect(layerViolations(files)).toEqual([]);
  });

  it('every folder of host/src is in the table, and the table names no missing folder', () => {
    const units = new Set(readTree(SRC).map((f) => unitOf(f.file)));
    expect([...units].filter((u) => !LAYERS.flat().includes(u))).toEqual([]);
    expect(LAYERS.flat().filter((u) => !units.has(u))).toEqual([]);
  });

  it('catches a planted upward, sideways, dynamic or re-exported import', () => {
    const planted: SourceFile[] = [
      { file: 'image/writer.ts', text: "import { quantizeHead } from '../golden/weights.js';" },
      { file: 'golden/x.ts', text: "import type { Plan } from '../plan/plan.js';" },
      { file: 'numerics/y.ts', text: "export { f } from '../errors.js';\nconst m = await import('../cli/main.js');" },
      { file: 'quant/z.ts', text: "import '../checkpoint/side-effect.js';" },
      { file: 'newthing/a.ts', text: '' },
    ];
    const v = layerViolations(planted);
    expect(v).toHaveLength(5);
    expect(v[0]).toContain('image, layer 6 -> golden, layer 7');
    expect(v[1]).toContain('golden, layer 7 -> plan, layer 7');
    expect(v[2]).toContain('numerics, layer 2 -> cli, layer 10');
    expect(v[3]).toContain('quant, layer 3 -> checkpoint, layer 4');
    expect(v[4]).toContain("folder 'newthing' is not in the layer table");
    // Downward and same-folder imports pass.
    expect(layerViolations([{ file: 'cli/commands/a.ts', text: "import { x } from '../../golden/model.js';\nimport { y } from '../options.js';" }])).toEqual([]);
  });
});
