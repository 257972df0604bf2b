/**
 * Tasks: seeded generators of sequence batches, each with a `ci` preset (runs in seconds) and a `paper`
 * preset (the sizes of the paper it comes from). A batch is T steps of {x: B×inputSize, target, mask: B};
 * targets are class ids (B×groups) for `ce` tasks and numbers (B×outputSize) for `mse` tasks.
 */
import type { Rng } from '../core/rng.js';
import type { LossSpec } from '../modules/loss.js';

export type Preset = 'ci' | 'paper';

export interface Batch {
  x: Float64Array[];
  target: Float64Array[];
  mask: Float64Array[];
  /** optional: each sequence as readable text (token tasks such as listops), for `onward data` */
  raw?: string[];
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
}

export interface TaskInfo {
  name: string;
  description: string;
  create(preset: Preset, overrides?: Record<string, number>): Task;
}

/** T zero-filled per-step arrays of the given width */
export function steps(T: number, width: number): Float64Array[] {
  return Array.from({ length: T }, () => new Float64Array(width));
}
