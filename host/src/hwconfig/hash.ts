/**
 * Content hash of a hardware build: sha256 over the canonical JSON (keys sorted at every level,
 * no whitespace, numbers as JSON.stringify writes them) of the config without the fields that do
 * not change the build: "$schema", "description", "notes" and "sources".
 */
import { createHash } from 'node:crypto';
import type { HwConfig } from './types.js';

/** Fields excluded from the build hash (documentation only). */
export const HASH_EXCLUDED_FIELDS = ['$schema', 'description', 'notes', 'sources'] as const;

/** Canonical JSON: object keys sorted (UTF-16 code unit order), arrays in order, no whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`canonicalJson: non-finite number ${value}`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function hwConfigHash(config: HwConfig): string {
  const copy: Record<string, unknown> = { ...config };
  for (const k of HASH_EXCLUDED_FIELDS) delete copy[k];
  return createHash('sha256').update(canonicalJson(copy), 'utf8').digest('hex');
}
