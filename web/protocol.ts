/** The messages between the page and a training worker (one worker per learner being compared). */
import type { OptionDoc, RunConfig } from '../src/train/config.js';
import type { Preset } from '../src/tasks/index.js';

export interface Catalogue {
  /** each task with what its ci preset chooses for the page's fields (null: its ci preset cannot be made here) */
  tasks: { name: string; description: string; defaults: PageDefaults | null }[];
  models: { name: string; description: string }[];
  learners: { name: string; description: string; exact: boolean; models: string[] }[];
  /** every option of the run config (key as --set takes it, type, default, one line of documentation), from the schemas */
  options: OptionDoc[];
}

/** the page's fields that a task preset fills */
export interface PageDefaults {
  model: string;
  learner: string;
  hidden: number;
  layers: number;
  batch: number;
  lr: number;
  steps: number;
  updateEvery: number;
}

/** what to run: a task and preset, config overrides as `--set` takes them, and optionally a model file to start from */
export interface RunSpec {
  /** 'episodes': batches of sequences, as `onward train`; 'stream': the sequences back to back as one stream, batch 1 */
  mode?: 'episodes' | 'stream';
  task: string;
  preset: Preset;
  overrides: Record<string, unknown>;
  modelText?: string;
  modelName?: string;
}

export type SequenceView =
  | { kind: 'ce'; classes: number; groups: number; target: number[]; predicted: number[]; confidence: number[]; mask: number[] }
  | { kind: 'mse'; outputs: number; target: number[]; predicted: number[]; confidence: null; mask: number[] };

export interface Progress {
  /** training batches done, of `steps` */
  step: number;
  steps: number;
  /** mean training loss (per sequence) and metric over the batches since the last report */
  loss: number | null;
  value: number | null;
  /** held-out evaluation, when one was made for this report */
  eval: { loss: number; value: number } | null;
  /** microseconds per time step of training (a batch of B sequences advancing one step), over the batches since the last report */
  usPerStep: number | null;
  /** bytes the learner keeps to compute its gradient, at its largest (just before an update) */
  stateBytes: number;
  sequence: SequenceView;
  done: boolean;
}

export type ToWorker =
  | { type: 'catalogue' }
  | { type: 'start'; spec: RunSpec; paused?: boolean }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'model' };

export type FromWorker =
  | { type: 'catalogue'; catalogue: Catalogue }
  | { type: 'started'; params: number; seqLength: number; metric: string; config: RunConfig; backend: string }
  | { type: 'progress'; progress: Progress }
  | { type: 'model'; text: string }
  | { type: 'error'; message: string };
