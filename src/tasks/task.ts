/**
 * Tasks: seeded generators of sequence batches, each with a `ci` preset (runs in seconds) and a `paper`
 * preset (the sizes of the paper it comes from). A batch is T steps of {x: B×inputSize, target, mask: B};
 * targets are class ids (B×groups) for `ce` tasks and numbers (B×outputSize) for `mse` tasks.
 */
import type { Rng } from '../core/rng.js';
import type { LossSpec } from '../modules/loss.js';
import type { TaskSettings } from './settings.js';

/** the presets every task has: `ci` (runs in seconds) and `paper` (the sizes of its paper) */
export const presets = ['ci', 'paper'] as const;
export type Preset = (typeof presets)[number];

export interface Batch {
  x: Float64Array[];
  target: Float64Array[];
  mask: Float64Array[];
  /** optional: each sequence as readable text (token tasks such as listops), for `onward data` */
  raw?: string[];
  /**
   * optional: where the task's metric is scored (T × B, 1 = counted), when that differs from where the loss
   * is taken (`mask`). seq-image trains on every step but scores its accuracy at the last one, as the
   * papers report it. Absent: the metric counts every masked step.
   */
  score?: Float64Array[];
}

/** A held-out split read in order, for evaluating on all of it (a file-backed task's test set). */
export interface HeldOutSplit {
  /** sequences in the split */
  readonly size: number;
  /** sequences start … start+B−1; past the end of the split the rows are padding with mask and score 0 */
  batch(start: number, B: number): Batch;
}

/** what `value` in a summary measures: accuracy-like (higher is better) or an error (lower is better) */
export type MetricName = 'bit_accuracy' | 'accuracy' | 'mse' | 'nrmse';

/** accuracy-like metrics grow as a model learns; errors (mse, nrmse) fall */
export function higherIsBetter(metric: string): boolean {
  const errors: readonly string[] = ['mse', 'nrmse'] satisfies MetricName[];
  return !errors.includes(metric);
}

export interface Task {
  readonly name: string;
  readonly preset: Preset;
  /** the resolved settings of this task instance (saved with every run) */
  readonly settings: Readonly<Record<string, number>>;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly seqLength: number;
  readonly loss: LossSpec;
  readonly metric: MetricName;
  /** a batch of B sequences drawn from rng */
  batch(B: number, rng: Rng): Batch;
  /**
   * a batch of held-out sequences for evaluation (a loader's test split); when absent, evaluation draws from
   * batch() with a generator of its own, which for a generator task is already data never trained on
   */
  evalBatch?(B: number, rng: Rng): Batch;
  /** the whole held-out split in order (file-backed tasks), for `onward eval` over all of it */
  readonly heldOut?: HeldOutSplit;
}

export interface TaskInfo {
  name: string;
  description: string;
  /** its settings, each declared once (check, one line of documentation, named choices) with its presets' values: tasks/settings.ts */
  settingTable: TaskSettings;
  create(preset: Preset, overrides?: Record<string, number>): Task;
}

/** T zero-filled per-step arrays of the given width */
export function steps(T: number, width: number): Float64Array[] {
  return Array.from({ length: T }, () => new Float64Array(width));
}
