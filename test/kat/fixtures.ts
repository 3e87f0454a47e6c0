/** Reading, writing and comparing the committed known-answer files. */

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KatRecord } from './record.js';
import { profileId, type NumericsProfile } from './profiles.js';

export const FIXTURE_ROOT = path.join('test', 'kat', 'fixtures');

export function fixturePath(profile: NumericsProfile, model: string): string {
  return path.join(FIXTURE_ROOT, profileId(profile), `${model}.json`);
}

/** The committed record, or null when the file does not exist. */
export function readFixture(profile: NumericsProfile, model: string): KatRecord | null {
  const file = fixturePath(profile, model);
  if (!fs.existsSync(file)) return null;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as KatRecord;
}

export function writeFixture(profile: NumericsProfile, record: KatRecord): string {
  const file = fixturePath(profile, record.model.name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, formatJson(record) + '\n');
  return file;
}

/** JSON with two-space indentation, but arrays of numbers and strings on one line (ids, hashes). */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\s*([^[\]{}]*?)\s*\]/g, (_m, body: string) =>
    `[${body.split(/,\s*/).filter((s) => s.length > 0).join(', ')}]`,
  );
}

/** Every leaf where two records differ, as "path: expected → actual" (empty when equal). */
export function diffRecords(expected: unknown, actual: unknown, at = ''): string[] {
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const out: string[] = [];
    if (expected.length !== actual.length) out.push(`${at}: length ${expected.length} → ${actual.length}`);
    for (let i = 0; i < Math.min(expected.length, actual.length); i++) out.push(...diffRecords(expected[i], actual[i], `${at}[${i}]`));
    return out;
  }
  if (isObject(expected) && isObject(actual)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])];
    return keys.flatMap((k) => diffRecords(expected[k], actual[k], at ? `${at}.${k}` : k));
  }
  return Object.is(expected, actual) ? [] : [`${at}: ${JSON.stringify(expected)} → ${JSON.stringify(actual)}`];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
