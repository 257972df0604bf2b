/** The table of tasks, by the names used on the command line. */
import { ConfigError, UnknownNameError } from '../core/errors.js';
import type { NameOr, TaskName } from '../core/names.js';
import { addingTask } from './adding.js';
import { copyTask } from './copy.js';
import { cueAccumulationTask } from './cue-accumulation.js';
import { delayedXorTask } from './delayed-xor.js';
import { listopsTask } from './listops.js';
import { mackeyGlassTask } from './mackey-glass.js';
import { seqImageTask } from './seq-image.js';
import { spiralTask } from './spiral.js';
import { spikesTask } from './spikes.js';
import { storeRecallTask } from './store-recall.js';
import { tokenCopyTask } from './token-copy.js';
import { weatherTask } from './weather.js';
import type { Preset, Task, TaskInfo } from './task.js';

export type { Batch, HeldOutSplit, MetricName, Preset, SettingDoc, Task, TaskDefaults, TaskInfo } from './task.js';

export const taskTable: readonly TaskInfo[] = [copyTask, addingTask, delayedXorTask, listopsTask, seqImageTask, spiralTask, mackeyGlassTask, weatherTask, tokenCopyTask, storeRecallTask, cueAccumulationTask, spikesTask];

export const presets: readonly Preset[] = ['ci', 'paper'];

export function createTask(name: NameOr<TaskName>, preset: string = 'ci', overrides?: Record<string, number>): Task {
  const info = taskTable.find((t) => t.name === name);
  if (!info) throw new UnknownNameError('task', name, taskTable.map((t) => t.name));
  if (!presets.includes(preset as Preset)) throw new ConfigError(`unknown preset '${preset}'; presets: ${presets.join(', ')}`);
  return info.create(preset as Preset, overrides);
}
