/**
 * A task's settings and the `task` section of a run configuration. Each task declares its settings (all
 * positive integers: lengths, bits, classes, …) as a preset table in its own file; a run picks the task, the
 * preset and overrides of single settings, which are checked here. Lookups are own-property only, so a
 * setting named `toString` or `__proto__` is refused like any unknown name.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import type { Preset } from './task.js';

export const taskSectionSchema = z.strictObject({
  name: z.string().min(1).default('copy').describe('the task, by its name in the task table (onward list)'),
  preset: z
    .enum(['ci', 'paper'])
    .default('ci')
    .describe("'ci': sizes that train in seconds; 'paper': the sizes of the paper the task comes from"),
  settings: z
    .record(z.string(), z.number().int().min(1))
    .default({})
    .describe('the task\'s own settings overriding its preset (e.g. {"bits": 4}); --set task.<setting>=N'),
});

export type TaskSection = z.output<typeof taskSectionSchema>;

export function resolveSettings<K extends string>(
  task: string,
  preset: Preset,
  presets: Record<Preset, Record<K, number>>,
  overrides: Record<string, number> = {},
): Record<K, number> {
  const base = Object.hasOwn(presets, preset) ? presets[preset] : undefined;
  if (!base) throw new ConfigError(`task ${task}: unknown preset '${preset}'; presets: ${Object.keys(presets).join(', ')}`);
  const out = { ...base };
  for (const [k, v] of Object.entries(overrides)) {
    if (!Object.hasOwn(base, k)) throw new ConfigError(`task ${task}: unknown setting '${k}'; settings: ${Object.keys(base).join(', ')}`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw new ConfigError(`task ${task}: setting ${k} must be a positive integer, got ${v}`);
    out[k as K] = v;
  }
  return out;
}
