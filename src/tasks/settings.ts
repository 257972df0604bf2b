/**
 * A task's settings and the `task` section of a run configuration. Each task declares its settings once, in its
 * own file, with `setting` (an integer: its check and one line of documentation; named choices for a setting that
 * picks among options) and the values of its presets: from the declaration come the zod schema that checks
 * `--set task.X=…` and config files, the JSON Schema of `onward schema` and what `onward list --task NAME` shows.
 * Lookups are own-property only, so a setting named `toString` or `__proto__` is refused like any unknown name.
 */
import { z } from 'zod';
import { ConfigError, show } from '../core/errors.js';
import { presets, type Preset } from './task.js';

export const taskSectionSchema = z.strictObject({
  name: z.string().min(1).default('copy').describe('the task, by its name in the task table (onward list)'),
  preset: z.enum(presets).default('ci').describe("'ci': sizes that train in seconds; 'paper': the sizes of the paper the task comes from"),
  settings: z
    .record(z.string(), z.number().int().min(0))
    .default({})
    .describe('the task\'s own settings overriding its preset (e.g. {"bits": 4}); --set task.<setting>=N'),
});

export type TaskSection = z.output<typeof taskSectionSchema>;

/** one setting as declared: an integer in [min, max], what it means, and the names of its codes when it picks among options */
export interface SettingDecl {
  readonly schema: z.ZodNumber;
  readonly min: number;
  readonly max?: number;
  readonly doc: string;
  readonly choices?: Readonly<Record<string, number>>;
}

/**
 * A task setting: an integer ≥ `min` (1 unless said), ≤ `max` (or the largest code of `choices`), and one line
 * of documentation. `choices` names the codes (`{synthetic: 1, 'fashion-mnist': 2}`): `--set task.source=synthetic`.
 */
export function setting(doc: string, check: { min?: number; max?: number; choices?: Readonly<Record<string, number>> } = {}): SettingDecl {
  const min = check.min ?? 1;
  const max = check.max ?? (check.choices ? Math.max(...Object.values(check.choices)) : undefined);
  const named = check.choices
    ? `; ${Object.entries(check.choices)
        .map(([n, c]) => `${n} (${c})`)
        .join(', ')}`
    : '';
  let schema = z.number().int().min(min);
  if (max !== undefined) schema = schema.max(max);
  return {
    schema: schema.describe(doc + named),
    min,
    ...(max !== undefined ? { max } : {}),
    doc,
    ...(check.choices ? { choices: check.choices } : {}),
  };
}

/** a task's settings: the declarations, the schema made of them (strict: no other key) and the values of each preset */
export interface TaskSettings<K extends string = string> {
  readonly declared: Readonly<Record<K, SettingDecl>>;
  /** every setting, as the resolved settings of a task (its preset's values under the overrides) must be */
  readonly schema: z.ZodType<Record<string, number>>;
  readonly presets: Readonly<Record<Preset, Readonly<Record<K, number>>>>;
}

export function taskSettings<K extends string>(
  declared: Record<K, SettingDecl>,
  presets: Record<Preset, Record<NoInfer<K>, number>>,
): TaskSettings<K> {
  const shape = Object.fromEntries(Object.entries<SettingDecl>(declared).map(([k, d]) => [k, d.schema]));
  return { declared, schema: z.strictObject(shape) as unknown as z.ZodType<Record<string, number>>, presets };
}

function range(d: SettingDecl): string {
  if (d.max !== undefined) return `an integer from ${d.min} to ${d.max}`;
  return d.min === 1 ? 'a positive integer' : `an integer ≥ ${d.min}`;
}

/** refuse overrides that name no setting of the task, or a value its declaration does not allow */
export function checkSettings(task: string, spec: TaskSettings, overrides: Readonly<Record<string, unknown>> = {}): void {
  for (const [k, v] of Object.entries(overrides)) {
    const d = Object.hasOwn(spec.declared, k) ? spec.declared[k] : undefined;
    if (!d) throw new ConfigError(`task ${task}: unknown setting '${k}'; settings: ${Object.keys(spec.declared).join(', ')}`);
    if (!d.schema.safeParse(v).success)
      throw new ConfigError(`task ${task}: setting ${k} must be ${range(d)}, got ${show(v)} (${d.schema.description})`);
  }
}

/** a task's settings: its preset's values under the overrides, every one checked */
export function resolveSettings<K extends string>(
  task: string,
  preset: Preset,
  spec: TaskSettings<K>,
  overrides: Record<string, number> = {},
): Record<K, number> {
  const base = Object.hasOwn(spec.presets, preset) ? spec.presets[preset] : undefined;
  if (!base) throw new ConfigError(`task ${task}: unknown preset '${preset}'; presets: ${Object.keys(spec.presets).join(', ')}`);
  checkSettings(task, spec, overrides);
  const out = { ...base, ...overrides } as Record<K, number>;
  spec.schema.parse(out); // the preset's own values hold to the declarations too (a test checks every preset)
  return out;
}

/** the JSON Schema of a task's settings as a config file gives them (any of them; the preset gives the rest) */
export function settingsJsonSchema(spec: TaskSettings): Record<string, unknown> {
  const js = z.toJSONSchema(spec.schema, { io: 'input' }) as Record<string, unknown>;
  delete js.$schema;
  delete js.required;
  return js;
}
