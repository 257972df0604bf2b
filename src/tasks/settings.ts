/** Resolving a task's settings: preset values, overridden by the user's, all checked. */
import { ConfigError } from '../core/errors.js';
import type { Preset } from './task.js';

export function resolveSettings<K extends string>(task: string, preset: Preset, presets: Record<Preset, Record<K, number>>,
  overrides: Record<string, number> = {}): Record<K, number> {
  const base = presets[preset];
  if (!base) throw new ConfigError(`task ${task}: unknown preset '${preset}'; presets: ${Object.keys(presets).join(', ')}`);
  const out = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (!Object.hasOwn(base, k)) throw new ConfigError(`task ${task}: unknown setting '${k}'; settings: ${Object.keys(base).join(', ')}`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(`task ${task}: setting ${k} must be a positive integer, got ${v}`);
    out[k as K] = v;
  }
  return out;
}
