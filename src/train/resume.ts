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
import type { ModelConfig } from '../model/network.js';
import { createTask, type Task } from '../tasks/index.js';
import { applyOverrides, defaultConfig, validateConfig, type TrainConfig } from './config.js';

/** run-config keys a resumed run may change (the rest define the run and must match the checkpoint) */
export const resumableKeys: readonly string[] = ['steps', 'lr', 'clip', 'weightDecay', 'evalEvery', 'evalBatches', 'alignEvery'];

const checkpointKeys = ['train', 'step', 'optimizer', 'learner', 'dataRng', 'device'];

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** JSON with sorted keys, for comparing configs that went through a file */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (isObject(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x));
}

/**
 * Check a trainer checkpoint section and return the run config to build (with `overrides` applied where they
 * may change; `notes` receives a line per applied change). `modelConfigFor` is the trainer's own.
 */
export function checkCheckpointState(ck: unknown, fileConfig: unknown, source: string, overrides: Record<string, unknown>,
  modelConfigFor: (c: TrainConfig, t: Task) => ModelConfig, notes: string[] = []): TrainConfig {
  if (!isObject(ck)) throw new FileFormatError(`${source}: the checkpoint section must be an object`);
  const unknown = Object.keys(ck).filter((k) => !checkpointKeys.includes(k));
  if (unknown.length) throw new FileFormatError(`${source}: unknown checkpoint key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; keys: ${checkpointKeys.join(', ')}`);
  const train = ck.train;
  if (!isObject(train)) throw new FileFormatError(`${source}: the checkpoint's run config 'train' must be an object, got ${JSON.stringify(train)}`);
  if (typeof train.task !== 'string' || typeof train.preset !== 'string') throw new FileFormatError(`${source}: the checkpoint's run config names no task and preset`);
  let saved: TrainConfig;
  try {
    saved = validateConfig(applyOverrides(defaultConfig(train.task, train.preset as TrainConfig['preset']), train));
  } catch (e) {
    if (e instanceof OnwardError) throw new FileFormatError(`${source}: the checkpoint's run config: ${e.message}`);
    throw e;
  }
  const config = applyResumeOverrides(saved, overrides, notes);
  const step = ck.step;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) throw new FileFormatError(`${source}: checkpoint step ${JSON.stringify(step)} is not a count (an integer 0 … 2^53)`);
  const task = createTask(config.task, config.preset, config.taskSettings);
  const want = modelConfigFor(config, task);
  if (canonical(want) !== canonical(fileConfig)) {
    throw new FileFormatError(`${source}: the checkpoint's run config implies the model ${canonical(want)}, but the file's parameters are for ${canonical(fileConfig)}; the file is damaged`);
  }
  if (!isObject(ck.optimizer)) throw new FileFormatError(`${source}: the optimizer state is missing`);
  if (!isObject(ck.learner)) throw new FileFormatError(`${source}: the learner state is missing`);
  if (config.device === 'pcm') checkDeviceState(ck.device, source);
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
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new FileFormatError(`${source}: pcm array '${name}': '${k}' must be an array of finite numbers`);
    }
    if (typeof a.clock !== 'number' || !Number.isFinite(a.clock) || a.clock < 0) throw new FileFormatError(`${source}: pcm array '${name}': clock ${JSON.stringify(a.clock)} must be a time ≥ 0`);
    if (typeof a.updates !== 'number' || !Number.isSafeInteger(a.updates) || a.updates < 0) throw new FileFormatError(`${source}: pcm array '${name}': updates ${JSON.stringify(a.updates)} must be a count`);
  }
}

/**
 * Apply flags given with --resume: keys that may change are applied (a line in `notes` for each real change);
 * a key that would change anything else is refused with the checkpoint's value.
 */
export function applyResumeOverrides(saved: TrainConfig, overrides: Record<string, unknown>, notes: string[] = []): TrainConfig {
  let out = saved;
  for (const [key, raw] of Object.entries(overrides)) {
    if (raw === undefined) continue;
    const next = applyOverrides(saved, { [key]: raw }); // types and known keys checked the usual way
    const field = key.startsWith('task.') ? 'taskSettings' : key;
    const before = canonical((saved as unknown as Record<string, unknown>)[field]);
    const after = canonical((next as unknown as Record<string, unknown>)[field]);
    if (before === after) continue;
    if (!resumableKeys.includes(key)) {
      throw new ConfigError(`--resume: ${key} ${JSON.stringify(raw)} contradicts the checkpoint (${field} ${before}); a resumed run keeps its task, model, learner and ` +
        `sizes — start a new run (without --resume) to change them; keys that may change on resume: ${resumableKeys.join(', ')}`);
    }
    out = applyOverrides(out, { [key]: raw });
    notes.push(`resume: ${key} changed from ${before} to ${after}`);
  }
  return validateConfig(out);
}
