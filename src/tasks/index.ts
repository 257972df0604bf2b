/** The table of tasks, by the names used on the command line. */
import { ConfigError, UnknownNameError } from '../core/errors.js';
import { batchBytes, checkMemory } from '../core/limits.js';
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
import { presets, type Preset, type Task, type TaskInfo } from './task.js';

export type { Batch, HeldOutSplit, MetricName, Preset, Task, TaskInfo } from './task.js';
export { presets };
export type { SettingDecl, TaskSettings } from './settings.js';

export const taskTable: readonly TaskInfo[] = [
  copyTask,
  addingTask,
  delayedXorTask,
  listopsTask,
  seqImageTask,
  spiralTask,
  mackeyGlassTask,
  weatherTask,
  tokenCopyTask,
  storeRecallTask,
  cueAccumulationTask,
  spikesTask,
];

export function createTask(name: NameOr<TaskName>, preset: string = 'ci', overrides?: Record<string, number>): Task {
  const info = taskTable.find((t) => t.name === name);
  if (!info)
    throw new UnknownNameError(
      'task',
      name,
      taskTable.map((t) => t.name),
    );
  if (!presets.includes(preset as Preset)) throw new ConfigError(`unknown preset '${preset}'; presets: ${presets.join(', ')}`);
  const task = info.create(preset as Preset, overrides);
  checkTaskSizes(task);
  return task;
}

/**
 * The sizes a task's settings imply (sequence length, input and output widths) against the memory limit,
 * before any batch is drawn: one sequence of the task must fit many times over (`--set task.pattern=1e8`
 * is refused here, not after gigabytes).
 */
function checkTaskSizes(task: Task): void {
  for (const [what, v] of [
    ['sequence length', task.seqLength],
    ['input size', task.inputSize],
    ['output size', task.outputSize],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1)
      throw new ConfigError(`task ${task.name}: its settings give a ${what} of ${v}; check the task settings (onward list)`);
  }
  const settings = Object.entries(task.settings)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  checkMemory(
    64 * batchBytes(1, task.seqLength, task.inputSize, task.outputSize),
    `task ${task.name} (${settings}: T ${task.seqLength}, ` +
      `input ${task.inputSize}, output ${task.outputSize}) at 64 sequences per batch`,
  );
}
