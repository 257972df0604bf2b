/** The messages between the page and a training worker (one worker per learner being compared). */
import type { OptionDoc, RunConfig } from '../src/train/config.js';
import type { Preset } from '../src/tasks/index.js';

export interface Catalogue {
  /** presets: the ones that can be built in this environment (a preset that needs files from disk is left out) */
  tasks: { name: string; description: string; presets: Preset[]; defaults: PageDefaults | null }[];
  models: { name: string; description: string; spiking: boolean }[];
  /** refusals: why a learner does not run on a unit model (by model name), from the learner table */
  learners: { name: string; description: string; exact: boolean; models: string[]; refusals: Record<string, string> }[];
  /** every option of the run config (key as --set takes it, type, default, one line of documentation), from the schemas */
  options: OptionDoc[];
}

/** a task's ci preset resolved: every option's value by its key (model.hidden, learner.name, …), for the page's fields */
export type PageDefaults = Record<string, string | number | boolean>;

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
  | {
      kind: 'ce';
      classes: number;
      groups: number;
      target: number[];
      predicted: number[];
      confidence: number[];
      mask: number[];
      input: number[][];
    }
  | { kind: 'mse'; outputs: number; target: number[]; predicted: number[]; confidence: null; mask: number[]; input: number[][] };

/** one recurrent layer's outputs over the shown sequence: values[t][unit] (the first units, batch sample 0) */
export interface LayerTrace {
  name: string;
  units: number;
  /** shown units of all the layer has */
  total: number;
  values: number[][];
}

/** a look inside the network: hidden states over the shown sequence, and the learner's traces */
export interface InsideView {
  layers: LayerTrace[];
  /** whether the unit model emits spikes (then `values` are drawn as a raster: a dot where the output is non-zero) */
  spiking: boolean;
  /** root-mean-square of each array the learner carries between steps (influence matrices, eligibility traces) */
  traces: { label: string; rms: number; numbers: number }[];
}

/** the learner's gradient on one batch against BPTT's on the same batch and parameters, per parameter group */
export type AlignmentView = { layer: string; cosine: number; normRatio: number }[];

export interface Divergence {
  /** the training batch (stream: task sequence) at which it was seen */
  step: number;
  /** what was seen, in words */
  what: string;
}

export interface Progress {
  /** training batches done, of `steps` */
  step: number;
  steps: number;
  /** mean training loss (per sequence) and metric over the batches since the last report */
  loss: number | null;
  value: number | null;
  /** held-out evaluation (stream: the prequential loss and metric since the last report) */
  eval: { loss: number; value: number } | null;
  /** microseconds per time step of training (a batch of B sequences advancing one step), over the batches since the last report */
  usPerStep: number | null;
  /** bytes the learner keeps to compute its gradient, at its largest (just before an update) */
  stateBytes: number;
  sequence: SequenceView;
  inside: InsideView;
  /** null for bptt itself (it is the reference) */
  alignment: AlignmentView | null;
  diverged: Divergence | null;
  done: boolean;
}

export type ToWorker =
  | { type: 'catalogue' }
  | { type: 'start'; spec: RunSpec; paused?: boolean }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'step' }
  | { type: 'model' };

export interface RunInfo {
  params: number;
  seqLength: number;
  metric: string;
  /** where the metric stands with no learning: chance level for accuracies, 1 for NRMSE (predicting the mean), 0 for MSE */
  reference: number;
  higherIsBetter: boolean;
  /** a chart point is reported every this many training batches (stream: task sequences) */
  pointEvery: number;
  config: RunConfig;
  backend: string;
}

export type FromWorker =
  | { type: 'catalogue'; catalogue: Catalogue }
  | ({ type: 'started' } & RunInfo)
  | { type: 'progress'; progress: Progress }
  /** between chart points: how far training is (so a slow run still shows it is moving) */
  | { type: 'tick'; step: number }
  | { type: 'model'; text: string }
  | { type: 'error'; name: string; message: string };
