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

/** What one task setting means; settings that choose among options name them (value name → code). */
export interface SettingDoc {
  help: string;
  choices?: Readonly<Record<string, number>>;
}

/** what `value` in a summary measures: accuracy-like (higher is better) or an error (lower is better) */
export type MetricName = 'bit_accuracy' | 'accuracy' | 'mse' | 'nrmse';

/** accuracy-like metrics grow as a model learns; errors (mse, nrmse) fall */
export function higherIsBetter(metric: string): boolean {
  const errors: readonly string[] = ['mse', 'nrmse'] satisfies MetricName[];
  return !errors.includes(metric);
}

/** Training defaults a task suggests for its preset (the command line overrides them). */
export interface TaskDefaults {
  model: string;
  learner: string;
  hidden: number;
  layers: number;
  batch: number;
  steps: number;
  lr: number;
  /** lru stacks: complex states per layer, initial |λ| range, dropout, pooling */
  stateSize?: number;
  rMin?: number;
  rMax?: number;
  dropout?: number;
  pooling?: 'none' | 'pool_st';
  /** egru: pseudo-derivative height and half-width; recurrent weight density */
  dampening?: number;
  width?: number;
  density?: number;
  /** 'off': recurrent layers without recurrent synapses */
  recurrent?: 'on' | 'off';
  /** learning-rate schedule: constant, or linear warm-up then cosine decay */
  schedule?: 'constant' | 'cosine';
  warmup?: number;
  /** perturbation learners: noise scale, decorrelation on/off and its rate */
  noise?: number;
  decorrelate?: boolean;
  decorLr?: number;
  /** osttp: 'every-step' when the target at every step (scored or not) is the sequence's label */
  targetTiming?: 'scored' | 'every-step';
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
  readonly defaults: TaskDefaults;
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
  create(preset: Preset, overrides?: Record<string, number>): Task;
  /** what each setting means, shown by `onward list --task NAME` */
  settingDocs?: Readonly<Record<string, SettingDoc>>;
}

/** T zero-filled per-step arrays of the given width */
export function steps(T: number, width: number): Float64Array[] {
  return Array.from({ length: T }, () => new Float64Array(width));
}
