/**
 * The run configuration: every knob of a training run, nested by the part that owns it —
 *
 *   task       the task, its preset and settings          (tasks/settings.ts)
 *   model      the network's shape and unit model          (model/options.ts)
 *   learner    the learner and its options                 (learners/options.ts)
 *   optimizer  optimizer, learning rate, schedule, clip    (optim/options.ts)
 *   device     ideal weights or simulated pcm              (hardware/pcm.ts)
 *   train      batch, steps, update interval, seed, …      (here)
 *   eval       evaluation interval and size                (here)
 *
 * Each part declares its options once as a zod schema (type, default, check, one line of documentation);
 * from them come the TypeScript types, the checks, the JSON Schema of a config file (`onward schema`) and
 * the option lists of `--help` and the playground (`listOptions`). A run resolves in layers: the sections'
 * defaults, the task preset's row (train/presets.ts), a config file, the flags, `--set`. Unknown keys are
 * refused (strict objects; lookups are own-property only, so `toString` or `__proto__` is just an unknown
 * key). Run configs of older versions were flat (`decorLr`, `evalEvery`, `pcmLevels`, …): `readRunConfig`
 * reads them once and says so.
 */
import { z } from 'zod';
import { backendNames } from '../backend/backend.js';
import { ConfigError, UnknownNameError } from '../core/errors.js';
import { deviceSectionSchema, pcmSettingsOf } from '../hardware/pcm.js';
import { learnerSectionSchema } from '../learners/options.js';
import { modelSectionSchema } from '../model/options.js';
import { optimizerSectionSchema } from '../optim/options.js';
import { presets, taskTable, type Preset } from '../tasks/index.js';
import { checkSettings, settingsJsonSchema, taskSectionSchema } from '../tasks/settings.js';
import { presetFor } from './presets.js';

export const trainSectionSchema = z.strictObject({
  batch: z.number().int().min(1).describe('sequences per training batch'),
  steps: z.number().int().min(0).describe('training batches (each a whole sequence)'),
  updateEvery: z.number().int().min(0).default(0).describe('0: an update at the end of each sequence; k > 0: every k time steps'),
  seed: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe('seeds the initialisation (seed), the learner (seed+1), the data (seed+2) and the device (seed+3)'),
  backend: z
    .enum(backendNames)
    .default('wasm')
    .describe(
      "numeric backend: 'wasm' (float32 SIMD), 'ts' (plain TypeScript, float32 or float64) or 'native' (wasm with OpenBLAS's matrix products; Node, needs koffi and libopenblas0-pthread)",
    ),
  dtype: z.enum(['float32', 'float64']).default('float32').describe("'float64' needs backend 'ts'"),
  threads: z.number().int().min(1).default(1).describe('threads the batch is split over (train/parallel.ts; 1: the calling thread only)'),
  alignEvery: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe("every this many steps, the learner's gradient against BPTT's on the step's batch, per layer, into metrics.jsonl (0: never)"),
  pruneEvery: z.number().int().min(1).default(10).describe("model.maskMethod 'magnitude': prune every this many updates"),
  pruneUntil: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe("model.maskMethod 'magnitude': the update at which the target density is reached (0: two thirds of the run)"),
});

export type TrainSection = z.output<typeof trainSectionSchema>;

export const evalSectionSchema = z.strictObject({
  every: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('evaluate (and checkpoint) every this many steps (0: only at the end; default: a tenth of train.steps)'),
  batches: z.number().int().min(1).default(4).describe('held-out batches per evaluation'),
});

const sections = {
  task: taskSectionSchema,
  model: modelSectionSchema,
  learner: learnerSectionSchema,
  optimizer: optimizerSectionSchema,
  device: deviceSectionSchema,
  train: trainSectionSchema,
  eval: evalSectionSchema,
} as const;
type SectionName = keyof typeof sections;
const sectionNames = Object.keys(sections) as SectionName[];

export const runConfigSchema = z.strictObject(sections);

/** a config file (and every layer of a resolution): any part of a run configuration */
export const runFileSchema = z.strictObject({
  $schema: z.string().optional().describe('the JSON Schema this file follows (onward schema)'),
  task: taskSectionSchema.partial().optional(),
  model: modelSectionSchema.partial().optional(),
  learner: learnerSectionSchema.partial().optional(),
  optimizer: optimizerSectionSchema.partial().optional(),
  device: deviceSectionSchema.partial().optional(),
  train: trainSectionSchema.partial().optional(),
  eval: evalSectionSchema.partial().optional(),
});

type Parsed = z.output<typeof runConfigSchema>;
/** a fully resolved run configuration (saved as the run's config.json and in every checkpoint) */
export type RunConfig = Omit<Parsed, 'eval'> & { eval: { every: number; batches: number } };
/** part of a run configuration: a preset row, a config file, the flags */
export type RunConfigInput = z.input<typeof runFileSchema>;

// ---- checking ----

function knownKeys(path: PropertyKey[]): string {
  const s = path[0];
  if (path.length === 1 && typeof s === 'string' && Object.hasOwn(sections, s))
    return Object.keys(sections[s as SectionName].shape).join(', ');
  return sectionNames.join(', ');
}

/** parse with a schema, turning its issues into one ConfigError that names each key and what it must be */
/** an own '__proto__' key anywhere (JSON.parse makes one): zod's records drop it silently, so it is refused by name here */
function refuseProtoKeys(value: unknown, what: string, at: string[] = []): void {
  if (!value || typeof value !== 'object') return;
  if (Object.hasOwn(value, '__proto__'))
    throw new ConfigError(`${what}: unknown key '${[...at, '__proto__'].join('.')}' ('__proto__' is no option or setting)`);
  for (const [k, v] of Object.entries(value)) refuseProtoKeys(v, what, [...at, k]);
}

function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  refuseProtoKeys(value, what);
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => {
    const at = i.path.map(String).join('.');
    const got = 'input' in i && i.input !== undefined ? `, got ${JSON.stringify(i.input)}` : '';
    if (i.code === 'unrecognized_keys') {
      return `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `'${at ? at + '.' : ''}${k}'`).join(', ')}; keys${at ? ` of ${at}` : ''}: ${knownKeys(i.path)}`;
    }
    if (i.code === 'invalid_value') return `${at} must be one of ${i.values.map(String).join(', ')}${got}`;
    if (i.code === 'invalid_type' && i.input === undefined)
      return `${at} is missing (${i.expected}); give it in a config file or with --set ${at}=…`;
    return `${at || '(config)'}: ${i.message}${got}`;
  });
  throw new ConfigError(`${what}: ${problems.join('; ')}`);
}

/** what no single option can check: relations between options of different parts */
export function checkRunConfig(c: RunConfig): RunConfig {
  const m = c.model;
  if (!(m.rMin <= m.rMax)) throw new ConfigError(`config: need model.rMin ≤ model.rMax, got ${m.rMin}, ${m.rMax}`);
  if (!m.recurrent && m.maskMethod === 'magnitude') {
    throw new ConfigError('config: model.recurrent false holds weight_hh at zero; magnitude pruning (model.maskMethod) would revive it');
  }
  if (m.decorrelate && m.name === 'lru')
    throw new ConfigError('config: model.decorrelate is available for rnn, gru, lstm and egru models, not lru');
  if (c.device.name === 'pcm') pcmSettingsOf(c.device);
  const task = taskTable.find((t) => t.name === c.task.name);
  if (task) checkSettings(task.name, task.settingTable, c.task.settings);
  if (c.train.backend === 'wasm' && c.train.dtype === 'float64')
    throw new ConfigError("config: the wasm backend is float32; use train.backend 'ts' for float64");
  return c;
}

// ---- keys: dotted paths, section names, unique option names, and the flat names of older versions ----

type Path = [SectionName, string] | ['task', 'settings', string];

/** JSON types of every option, from the schemas (how a --set string becomes a value) */
const optionTypes = new Map<string, string>();
for (const s of sectionNames) {
  const js = z.toJSONSchema(sections[s], { io: 'input' }) as { properties: Record<string, { type?: string }> };
  for (const [k, p] of Object.entries(js.properties)) optionTypes.set(`${s}.${k}`, p.type ?? 'string');
}

/** option name → the sections that have it (a name in one section only may be given without its section) */
const owners = new Map<string, SectionName[]>();
for (const s of sectionNames) for (const k of Object.keys(sections[s].shape)) owners.set(k, [...(owners.get(k) ?? []), s]);

const onOff =
  (key: string) =>
  (v: unknown): unknown => {
    if (v === 'on' || v === true || v === 'true') return true;
    if (v === 'off' || v === false || v === 'false') return false;
    throw new ConfigError(`config: ${key} must be one of on, off, true, false, got ${JSON.stringify(v)}`);
  };

/** the flat keys of older run configs whose new place is not found by their name alone */
const legacyKeys: Record<string, { path: Path; convert?: (v: unknown) => unknown }> = {
  decorLr: { path: ['learner', 'decorrelationRate'] },
  evalEvery: { path: ['eval', 'every'] },
  evalBatches: { path: ['eval', 'batches'] },
  recurrent: { path: ['model', 'recurrent'], convert: onOff('recurrent') },
};

interface ResolvedKey {
  path: Path;
  convert?: (v: unknown) => unknown;
  /** set when the key is an older version's flat name */
  legacy?: boolean;
}

function unknownKey(key: string): ConfigError {
  const keys = sectionNames.flatMap((s) => Object.keys(sections[s].shape).map((k) => `${s}.${k}`));
  return new ConfigError(`unknown config key '${key}'; keys: ${keys.join(', ')}, task.<setting>`);
}

/** where a key of --set, a flag or an older flat config goes */
export function resolveKey(key: string): ResolvedKey {
  const dot = key.indexOf('.');
  if (dot > 0) {
    const s = key.slice(0, dot),
      rest = key.slice(dot + 1).split('.');
    if (!Object.hasOwn(sections, s)) throw unknownKey(key);
    const section = s as SectionName;
    if (rest.length === 1 && Object.hasOwn(sections[section].shape, rest[0]!)) return { path: [section, rest[0]!] };
    // task settings: task.settings.bits, or task.bits as before
    if (section === 'task' && rest.length === 2 && rest[0] === 'settings') return { path: ['task', 'settings', rest[1]!] };
    if (section === 'task' && rest.length === 1) return { path: ['task', 'settings', rest[0]!] };
    throw new ConfigError(`unknown config key '${key}'; keys of ${section}: ${knownKeys([section])}`);
  }
  if (Object.hasOwn(sections, key)) return { path: [key as SectionName, 'name'] };
  if (Object.hasOwn(legacyKeys, key)) return { ...legacyKeys[key]!, legacy: true };
  // pcmLevels, pcmReadNoise, …: device.levels, device.readNoise, …
  if (/^pcm[A-Z]/.test(key)) {
    const leaf = key[3]!.toLowerCase() + key.slice(4);
    if (Object.hasOwn(deviceSectionSchema.shape, leaf)) return { path: ['device', leaf], legacy: true };
  }
  const own = owners.has(key) ? owners.get(key)! : [];
  if (own.length === 1) return { path: [own[0]!, key] };
  if (own.length > 1)
    throw new ConfigError(`config key '${key}' is ambiguous; give its section: ${own.map((s) => `${s}.${key}`).join(', ')}`);
  throw unknownKey(key);
}

/** a --set string as the value its option takes (numbers, booleans); other values pass as they are */
function coerce(path: Path, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  const key = path.join('.');
  const type = path.length === 3 ? 'integer' : optionTypes.get(key);
  if (type === 'number' || type === 'integer') {
    const v = raw.trim() === '' ? NaN : Number(raw);
    if (!Number.isFinite(v)) throw new ConfigError(`config: ${key} must be a number, got ${JSON.stringify(raw)}`);
    return v;
  }
  if (type === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw new ConfigError(`config: ${key} must be true or false, got ${JSON.stringify(raw)}`);
    return raw === 'true';
  }
  return raw;
}

type Layer = Partial<Record<SectionName, Record<string, unknown>>>;

function setPath(layer: Layer, path: Path, value: unknown): void {
  const section = (layer[path[0]] ??= {});
  if (path.length === 3) {
    const settings = (section.settings ??= {}) as Record<string, unknown>;
    // an own property even for '__proto__' (an assignment would set the prototype and the key would vanish unchecked)
    Object.defineProperty(settings, path[2], { value, enumerable: true, writable: true, configurable: true });
  } else section[path[1]] = value;
}

/**
 * Overrides as a layer of a run configuration. Keys are dotted paths (`learner.noise`), a section's name for
 * its `name` (`learner: 'rtrl'`), an option name found in one section only (`noise`), a whole section as an
 * object (`train: {steps: 20}`), or an older flat name (`decorLr`, `pcmLevels`; listed in `notes` when given).
 */
export function overridesLayer(overrides: Record<string, unknown>, notes?: string[]): RunConfigInput {
  const layer: Layer = {};
  for (const [key, raw] of Object.entries(overrides)) {
    if (raw === undefined || key === '$schema') continue;
    if (Object.hasOwn(sections, key) && raw !== null && typeof raw === 'object') {
      for (const [k, v] of Object.entries(raw)) {
        if (key === 'task' && k === 'settings' && v && typeof v === 'object')
          layer.task = { ...layer.task, settings: { ...(layer.task?.settings as object), ...v } };
        else (layer[key as SectionName] ??= {})[k] = v;
      }
      continue;
    }
    if (key === 'taskSettings') {
      if (!raw || typeof raw !== 'object') throw new ConfigError('config: taskSettings must be an object');
      for (const [k, v] of Object.entries(raw)) setPath(layer, ['task', 'settings', k], v);
      notes?.push(`'taskSettings' is 'task.settings'`);
      continue;
    }
    const r = resolveKey(key);
    if (r.legacy) notes?.push(`'${key}' is '${r.path.join('.')}'`);
    setPath(layer, r.path, coerce(r.path, r.convert ? r.convert(raw) : raw));
  }
  return layer as RunConfigInput;
}

/** one layer over another (sections merged key by key, task settings merged by setting) */
function merge(under: Layer, over: RunConfigInput): Layer {
  const out: Layer = { ...under };
  for (const s of sectionNames) {
    const o = (over as Layer)[s];
    if (o === undefined) continue;
    if (o === null || typeof o !== 'object') throw new ConfigError(`config: '${s}' must be an object of options (keys: ${knownKeys([s])})`);
    // a key given as undefined is not given
    const merged: Record<string, unknown> = { ...out[s], ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) };
    if (s === 'task' && (out.task?.settings || o.settings))
      merged.settings = { ...(out.task?.settings as object), ...(o.settings as object) };
    out[s] = merged;
  }
  return out;
}

/**
 * Resolve a run configuration from layers (each any part of one, later layers win): the task preset's row
 * under them all, every option checked, the relations between parts checked.
 */
export function resolveRunConfig(...layers: RunConfigInput[]): RunConfig {
  for (const l of layers) parseWith(runFileSchema, l, 'config');
  const pick = (k: 'name' | 'preset'): string | undefined =>
    layers.reduce<string | undefined>((v, l) => (l.task?.[k] as string | undefined) ?? v, undefined);
  const task = pick('name') ?? 'copy',
    preset = pick('preset') ?? 'ci';
  if (!taskTable.some((t) => t.name === task))
    throw new UnknownNameError(
      'task',
      task,
      taskTable.map((t) => t.name),
    );
  if (!(presets as readonly string[]).includes(preset)) throw new ConfigError(`unknown preset '${preset}'; presets: ${presets.join(', ')}`);
  let merged: Layer = Object.fromEntries(sectionNames.map((s) => [s, {}]));
  for (const l of [presetFor(task, preset as Preset), ...layers]) merged = merge(merged, l);
  return finish(parseWith(runConfigSchema, merged, 'config'));
}

function finish(c: Parsed): RunConfig {
  const every = c.eval.every ?? Math.max(1, Math.floor(c.train.steps / 10));
  // keys in one order whatever was given (a config's hash, bench's config id, depends on it)
  return checkRunConfig({ ...c, eval: { every, batches: c.eval.batches } });
}

/** The defaults of a task and preset: the sections' defaults under the preset's row. */
export function defaultConfig(task = 'copy', preset: Preset = 'ci'): RunConfig {
  return resolveRunConfig({ task: { name: task, preset } });
}

/** Overrides (a file, flags, --set; keys as `overridesLayer` takes them) on a resolved config, all checked. */
export function applyOverrides(config: RunConfig, overrides: Record<string, unknown>, notes?: string[]): RunConfig {
  const merged = merge(config as unknown as Layer, overridesLayer(overrides, notes));
  return finish(parseWith(runConfigSchema, merged, 'config'));
}

/** whether a stored config is in the flat form of older versions (`task` a name, not a section) */
function isFlat(value: Record<string, unknown>): boolean {
  return Object.keys(value).some(
    (k) => k !== '$schema' && (!Object.hasOwn(sections, k) || typeof value[k] !== 'object' || value[k] === null),
  );
}

/**
 * A stored run config (a config file, a checkpoint's, a run's config.json) as a layer. The flat form of
 * older versions is read once and converted; `notes` says what was renamed.
 */
export function readRunConfig(value: unknown, source: string, notes?: string[]): RunConfigInput {
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(`${source}: a run config is a JSON object (sections: ${sectionNames.join(', ')})`);
  const v = value as Record<string, unknown>;
  if (!isFlat(v)) return parseWith(runFileSchema, v, source);
  const renamed: string[] = [];
  const layer = overridesLayer(v, renamed);
  notes?.push(
    `${source}: a flat run config of an older onward, read as nested sections${renamed.length ? ` (${renamed.join(', ')})` : ''}; ` +
      'write it anew (onward schema) to drop this note',
  );
  return layer;
}

// ---- documentation: option lists and the JSON Schema ----

export interface OptionDoc {
  /** the key as --set takes it, e.g. 'learner.noise' */
  key: string;
  type: 'number' | 'integer' | 'boolean' | 'string' | 'object';
  /** the allowed values of a choice */
  choices?: readonly string[];
  /** undefined: no default of its own (the task preset gives it, or it is derived, see doc) */
  default?: unknown;
  /** a number's range from its checks (`exclusive`: the bound itself is refused) */
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  doc: string;
}

type JsonProperty = {
  type?: string;
  enum?: string[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
};

/** a bound of a number's range, when it bounds anything (zod writes ±2⁵³−1 for an integer's own range) */
const bound = (v: number | undefined): v is number => v !== undefined && Math.abs(v) < Number.MAX_SAFE_INTEGER;

function rangeOf(p: JsonProperty): Pick<OptionDoc, 'minimum' | 'maximum' | 'exclusiveMinimum' | 'exclusiveMaximum'> {
  return {
    ...(bound(p.minimum)
      ? { minimum: p.minimum }
      : bound(p.exclusiveMinimum)
        ? { minimum: p.exclusiveMinimum, exclusiveMinimum: true }
        : {}),
    ...(bound(p.maximum)
      ? { maximum: p.maximum }
      : bound(p.exclusiveMaximum)
        ? { maximum: p.exclusiveMaximum, exclusiveMaximum: true }
        : {}),
  };
}

/** every option of the run configuration, section by section, from the schemas (for --help and the playground) */
export function listOptions(): OptionDoc[] {
  const out: OptionDoc[] = [];
  for (const s of sectionNames) {
    const js = z.toJSONSchema(sections[s], { io: 'input' }) as { properties: Record<string, JsonProperty> };
    for (const [k, p] of Object.entries(js.properties)) {
      out.push({
        key: `${s}.${k}`,
        type: (p.enum ? 'string' : (p.type ?? 'string')) as OptionDoc['type'],
        ...(p.enum ? { choices: p.enum } : {}),
        ...(p.default !== undefined ? { default: p.default } : {}),
        ...rangeOf(p),
        doc: p.description ?? '',
      });
    }
  }
  return out;
}

/** the JSON Schema of a run config file (`onward train --config run.json`), written by `onward schema` */
export function runConfigJsonSchema(): Record<string, unknown> {
  const js = z.toJSONSchema(runFileSchema, { io: 'input' }) as unknown as { properties: { task: Record<string, unknown> } };
  // each task's own settings (tasks/settings.ts), for the task the file names
  js.properties.task.allOf = taskTable.map((t) => ({
    if: { properties: { name: { const: t.name } }, required: ['name'] },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword (this object is data, never awaited)
    then: { properties: { settings: settingsJsonSchema(t.settingTable) } },
  }));
  return {
    ...js,
    title: 'onward run configuration',
    description: 'Any part of a run configuration; the rest comes from the task preset (train/presets.ts) and the defaults.',
  };
}
