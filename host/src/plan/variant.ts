/**
 * What-if variants of a hardware build: `tellme plan --set memory.weight_ports=3` changes one
 * field of the board's description before planning. The result is validated like any board file
 * (schema and consistency rules) and gets its own build hash.
 */
import { TellmeError } from '../errors.js';
import { hwConfigFromObject } from '../hwconfig/load.js';
import type { HwConfig, LoadedHwConfig } from '../hwconfig/types.js';
import { deepMerge } from './ablation.js';

/** `a.b.c=value` -> { a: { b: { c: value } } }; the value is JSON when it parses, else a string. */
export function parseSetting(setting: string): Record<string, unknown> {
  const eq = setting.indexOf('=');
  const path = eq > 0 ? setting.slice(0, eq).trim() : '';
  if (!/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/.test(path)) {
    throw new TellmeError('E_USAGE', `--set ${JSON.stringify(setting)} is not FIELD=VALUE with a dotted field path`, 'Write e.g. --set numerics.kv_format=int8 or --set memory.weight_ports=3.');
  }
  const raw = setting.slice(eq + 1).trim();
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  const keys = path.split('.');
  let patch: Record<string, unknown> = { [keys.pop()!]: value };
  while (keys.length) patch = { [keys.pop()!]: patch };
  return patch;
}

/** The build with every setting applied in order (the file name records them). */
export function applySettings(hw: LoadedHwConfig, settings: readonly string[]): LoadedHwConfig {
  if (!settings.length) return hw;
  let cfg: HwConfig = structuredClone(hw.config);
  for (const s of settings) cfg = deepMerge(cfg, parseSetting(s));
  return hwConfigFromObject(cfg, `${hw.file} with --set ${settings.join(' --set ')}`);
}
