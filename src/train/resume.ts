/**
 * Resuming a run without silent surprises:
 *  - a checkpoint's fields are checked before anything is built from them: the checkpoint section has only known
 *    keys, its run config is resolved against the task's defaults (unknown keys refused, every value typed and
 *    range-checked), the step is a count, the device state has its arrays, and the run's model is exactly the
 *    model the file's parameters belong to;
 *  - flags given with --resume either may change on resume (the number of steps, the learning rate, clipping,
 *    evaluation cadence: applied, and said so in `notes`) or must agree with the checkpoint (task, model,
 *    sizes, learner, seed, …: a different value is refused, never ignored);
 * (The run's metrics file is continued by metrics-file.ts, in Node.) No file system here.
 */
import { FileFormatError, OnwardError, ConfigError } from '../core/errors.js';
import { applyOverrides, readRunConfig, resolveKey, resolveRunConfig, type RunConfig } from './config.js';

/** options (section.key) a resumed run may change; the rest define the run and must match the checkpoint */
export const resumableKeys: readonly string[] = [
  'train.steps',
  'train.alignEvery',
  'optimizer.lr',
  'optimizer.clip',
  'optimizer.weightDecay',
  'eval.every',
  'eval.batches',
];

const checkpointKeys = ['train', 'step', 'optimizer', 'learner', 'dataRng', 'device'];

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** a resolved config as `section.key` → canonical JSON of the value (task settings by setting) */
function flatten(c: RunConfig): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (prefix: string, v: unknown): void => {
    if (isObject(v)) for (const k of Object.keys(v).sort()) walk(prefix ? `${prefix}.${k}` : k, v[k]);
    else out.set(prefix, JSON.stringify(v));
  };
  walk('', c);
  return out;
}

/**
 * Check a trainer checkpoint section and return the run config to build (with `overrides` applied where they
 * may change; `notes` receives a line per applied change and per older key read). The network itself is built
 * from the file's model config as it is (trainer.ts); decoding the parameters checks they fit it.
 */
export function checkCheckpointState(ck: unknown, source: string, overrides: Record<string, unknown>, notes: string[] = []): RunConfig {
  if (!isObject(ck)) throw new FileFormatError(`${source}: the checkpoint section must be an object`);
  const unknown = Object.keys(ck).filter((k) => !checkpointKeys.includes(k));
  if (unknown.length)
    throw new FileFormatError(
      `${source}: unknown checkpoint key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; keys: ${checkpointKeys.join(', ')}`,
    );
  if (!isObject(ck.train))
    throw new FileFormatError(`${source}: the checkpoint's run config 'train' must be an object, got ${JSON.stringify(ck.train)}`);
  let saved: RunConfig;
  try {
    saved = resolveRunConfig(readRunConfig(ck.train, `${source}: checkpoint.train`, notes));
  } catch (e) {
    if (e instanceof OnwardError) throw new FileFormatError(`${source}: the checkpoint's run config: ${e.message}`);
    throw e;
  }
  const config = applyResumeOverrides(saved, overrides, notes);
  const step = ck.step;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0)
    throw new FileFormatError(`${source}: checkpoint step ${JSON.stringify(step)} is not a count (an integer 0 … 2^53)`);
  if (!isObject(ck.optimizer)) throw new FileFormatError(`${source}: the optimizer state is missing`);
  if (!isObject(ck.learner)) throw new FileFormatError(`${source}: the learner state is missing`);
  if (config.device.name === 'pcm') checkDeviceState(ck.device, source);
  else if (ck.device !== undefined) throw new FileFormatError(`${source}: the checkpoint holds a device state but its run uses no device`);
  return config;
}
function checkDeviceState(dev: unknown, source: string): void {
  if (!isObject(dev)) throw new FileFormatError(`${source}: the run uses device pcm but the checkpoint holds no device state`);
  if (!isObject(dev.arrays)) throw new FileFormatError(`${source}: the pcm device state has no 'arrays' object`);
  for (const [name, a] of Object.entries(dev.arrays)) {
    if (!isObject(a)) throw new FileFormatError(`${source}: pcm array '${name}' must be an object {Gp, tp, nu, chi, clock, updates}`);
    for (const k of ['Gp', 'tp', 'nu', 'chi']) {
      const v = a[k];
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
        throw new FileFormatError(`${source}: pcm array '${name}': '${k}' must be an array of finite numbers`);
    }
    if (typeof a.clock !== 'number' || !Number.isFinite(a.clock) || a.clock < 0)
      throw new FileFormatError(`${source}: pcm array '${name}': clock ${JSON.stringify(a.clock)} must be a time ≥ 0`);
    if (typeof a.updates !== 'number' || !Number.isSafeInteger(a.updates) || a.updates < 0)
      throw new FileFormatError(`${source}: pcm array '${name}': updates ${JSON.stringify(a.updates)} must be a count`);
  }
}

/**
 * Apply flags given with --resume: options that may change are applied (a line in `notes` for each real
 * change); a flag that would change anything else is refused with the checkpoint's value.
 */
export function applyResumeOverrides(saved: RunConfig, overrides: Record<string, unknown>, notes: string[] = []): RunConfig {
  let out = saved;
  const before = flatten(saved);
  const contradiction = (key: string, raw: unknown, fixed: string[], why = ''): ConfigError =>
    new ConfigError(
      `--resume: ${key} ${JSON.stringify(raw)} contradicts the checkpoint (${fixed.map((k) => `${k} ${before.get(k) ?? 'unset'}`).join(', ')}${why}); ` +
        'a resumed run keeps its task, model, learner and sizes — start a new run (without --resume) to change them; ' +
        `options that may change on resume: ${resumableKeys.join(', ')}`,
    );
  for (const [key, raw] of Object.entries(overrides)) {
    if (raw === undefined) continue;
    let applied: RunConfig;
    try {
      applied = applyOverrides(saved, { [key]: raw }); // types and known keys checked the usual way
    } catch (e) {
      // another task does not take the saved task's settings: that flag contradicts the checkpoint, say so first
      const path = resolveKey(key).path.join('.');
      if (e instanceof ConfigError && !resumableKeys.includes(path) && before.get(path) !== JSON.stringify(raw))
        throw contradiction(key, raw, [path], `: ${e.message}`);
      throw e;
    }
    const after = flatten(applied);
    const changed = [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k);
    if (changed.length === 0) continue;
    const fixed = changed.filter((k) => !resumableKeys.includes(k));
    if (fixed.length) throw contradiction(key, raw, fixed);
    out = applyOverrides(out, { [key]: raw });
    for (const k of changed) notes.push(`resume: ${k} changed from ${before.get(k)} to ${after.get(k)}`);
  }
  return out;
}
