/**
 * One playground run: the episodic Trainer (the same code as `onward train`) configured from the page's fields,
 * trained in slices so the worker stays responsive. At each chart point (a fixed share of the run, see
 * schedule.ts) it reports what the page draws: the training loss and metric since the last point, the held-out
 * evaluation (Trainer.evaluate, the library's own), the cost per time step, the learner's memory, the network's
 * predictions against the target on a fresh sequence with its input and hidden states, the learner's traces, and
 * its gradient's alignment with BPTT on a fresh batch. A run that diverges stops and says at which step. No DOM,
 * no worker API: the worker wires messages to it, and the Node tests drive it directly.
 */
import { ForwardPass } from '../src/model/forward.js';
import { learnerTable, type Learner } from '../src/learners/index.js';
import { decodeMasksInto, decodeParamsInto, parseModelFile } from '../src/model/format.js';
import { modelNames, type ModelConfig, type Network } from '../src/model/network.js';
import type { LossSpec } from '../src/modules/loss.js';
import type { ModuleCache } from '../src/modules/module.js';
import { Rng } from '../src/core/rng.js';
import { applyOverrides, defaultConfig, listOptions, type RunConfig } from '../src/train/config.js';
import { learnerOptionsFor, modelSectionOf, Trainer } from '../src/train/trainer.js';
import { createTask, presets as PRESETS, taskTable, type Task } from '../src/tasks/index.js';
import { higherIsBetter } from '../src/tasks/task.js';
import { unitModels } from '../src/units/index.js';
import { DivergenceWatch } from './divergence.js';
import { AlignmentProbe, HiddenRecorder, inputRows, isSpiking, traceSizes } from './inside.js';
import type { Catalogue, Divergence, PageDefaults, Progress, RunInfo, RunSpec, SequenceView } from './protocol.js';

/** a resolved config's values by option key (the keys of listOptions); objects (task.settings) are left out */
export function optionValues(c: RunConfig): PageDefaults {
  const out: PageDefaults = {};
  for (const [section, values] of Object.entries(c))
    for (const [k, v] of Object.entries(values as Record<string, unknown>))
      if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[`${section}.${k}`] = v;
  return out;
}

/** what the page offers, read from the library's tables (new rows appear here by themselves) */
export function catalogue(): Catalogue {
  const tasks = taskTable.map((t) => {
    let defaults: PageDefaults | null = null;
    try {
      const d = defaultConfig(t.name, 'ci');
      createTask(t.name, 'ci');
      defaults = optionValues(d);
    } catch {
      defaults = null; // a task whose ci preset cannot be made here is still listed; starting it shows why
    }
    // a preset is offered only when its task can be built here (seq-image's paper preset reads IDX files from disk)
    const presets = PRESETS.filter((p) => {
      try {
        createTask(t.name, p, {});
        return true;
      } catch {
        return false;
      }
    });
    return { name: t.name, description: t.description, presets, defaults };
  });
  const models = modelNames.map((name) => ({
    name,
    description:
      unitModels[name]?.description ??
      "the online-LRU paper's stack: encoder → [LayerNorm → LRU → GELU → GLU, residual] × layers → decoder",
    spiking: isSpiking(name),
  }));
  const learners = learnerTable.map((l) => ({
    name: l.name,
    description: l.description,
    exact: l.exact,
    models: [...l.models],
    refusals: { ...l.refusals },
  }));
  return { tasks, models, learners, options: listOptions() };
}

/**
 * The page's fields → a full run config, exactly as `onward train --task … --set key=value` resolves them. A
 * loaded model file decides the network: the run builds it from the file's model config as it is (`modelConfig`),
 * and the config's model section describes that network; the page's task and training settings stay.
 */
export function resolveConfig(spec: RunSpec): { config: RunConfig; modelConfig?: ModelConfig } {
  const config = applyOverrides(defaultConfig(spec.task, spec.preset), { 'eval.every': 0, ...spec.overrides });
  if (spec.modelText === undefined) return { config };
  const modelConfig = parseModelFile(spec.modelText, spec.modelName ?? 'model file').config as ModelConfig;
  return { config: applyOverrides(config, { model: modelSectionOf(modelConfig) }), modelConfig };
}

/** where a task's metric stands with no learning: chance for accuracies, 1 for NRMSE (the mean's), 0 for MSE */
export function referenceLevel(task: Task): number {
  if (task.metric === 'nrmse') return 1;
  if (task.metric === 'mse') return 0;
  if (task.loss.kind === 'ce') return 1 / task.loss.classes;
  return 0.5; // bit accuracy of a regression onto 0/1 targets
}

/** the run settings the sessions read besides building their driver: one place, so a change of the config's shape is one edit */
export function runSettings(c: RunConfig): { seed: number; steps: number } {
  return { seed: c.train.seed, steps: c.train.steps };
}

/** what the worker drives: an episodic run (PlaygroundRun) or a stream (PlaygroundStream, stream-run.ts) */
export interface Session {
  readonly config: RunConfig;
  /** training batches (stream: task sequences) done, of `steps` */
  readonly step: number;
  readonly steps: number;
  /** complete, or stopped by a divergence */
  readonly done: boolean;
  readonly diverged: Divergence | null;
  /** the backend, as name/dtype */
  readonly backend: string;
  /** train until `ms` milliseconds have passed (at least one batch or sequence), step `until` is reached, or the run is done */
  trainFor(ms: number, until?: number): number;
  /** a chart point: what the page draws now */
  progress(): Progress;
  info(): Omit<RunInfo, 'pointEvery' | 'backend'>;
  modelText(): string;
}

/**
 * Follow the most a learner holds to compute its gradient: a windowed rule (bptt, tbptt) holds the most just before
 * it flushes, and flushed it holds nothing, so the flush is wrapped to measure first (tbptt's own flushes every k
 * steps call the same method). Online learners hold constant traces. Returns the peak so far.
 */
export function trackPeakState(learner: Learner): () => number {
  let peak = 0;
  const flush = learner.flush.bind(learner);
  learner.flush = () => {
    peak = Math.max(peak, learner.stateBytes());
    flush();
  };
  return () => Math.max(peak, learner.stateBytes());
}

/** load a model file's parameters (and synapse masks) into a network built from the same shape */
export function loadModelInto(network: Network, text: string, name: string): void {
  const file = parseModelFile(text, name);
  decodeParamsInto(network.params, file.params, name);
  decodeMasksInto(network.masks, file.masks, name);
}

export class PlaygroundRun implements Session {
  readonly trainer: Trainer;
  readonly config: RunConfig;
  /** training time and batches since the last report (the cost curve shows the recent cost, not a running mean) */
  private trainMs = 0;
  private trainedSteps = 0;
  /** the most the learner has held */
  private readonly peakStateBytes: () => number;
  private lossSum = 0;
  private valueSum = 0;
  private sinceReport = 0;
  /** a forward pass of batch 1 for showing predictions, apart from the learner's own states */
  private readonly view: { fwd: ForwardPass; caches: ModuleCache[]; rng: Rng };
  private readonly recorder: SequenceRecorder;
  private readonly hidden: HiddenRecorder;
  private readonly watch = new DivergenceWatch();
  /** alignment with BPTT on a fresh batch at each point (none for bptt: it is the reference) */
  private readonly probe: AlignmentProbe | null;
  private readonly alignRng: Rng;

  constructor(spec: RunSpec) {
    const { config, modelConfig } = resolveConfig(spec);
    this.trainer = new Trainer(config, { modelConfig });
    this.config = this.trainer.config;
    if (spec.modelText !== undefined) loadModelInto(this.trainer.network, spec.modelText, spec.modelName ?? 'model file');
    this.peakStateBytes = trackPeakState(this.trainer.learner);
    const fwd = new ForwardPass(this.trainer.network, 1);
    fwd.ctx.training = false;
    const { seed } = runSettings(this.config);
    this.view = { fwd, caches: this.trainer.network.modules.map((m) => m.createCache(this.trainer.backend, 1)), rng: new Rng(seed + 7) };
    this.recorder = new SequenceRecorder(this.trainer.task.loss, this.trainer.task.outputSize);
    this.hidden = new HiddenRecorder(this.trainer.network);
    const learner = this.trainer.learner.name;
    this.probe = learner === 'bptt' ? null : new AlignmentProbe(this.trainer.network, learner, learnerOptionsFor(this.config));
    this.alignRng = new Rng(seed + 11);
  }

  get step(): number {
    return this.trainer.step;
  }

  get steps(): number {
    return runSettings(this.config).steps;
  }

  get diverged(): Divergence | null {
    return this.watch.diverged;
  }

  get done(): boolean {
    return this.trainer.step >= this.steps || this.watch.diverged !== null;
  }

  get backend(): string {
    return `${this.trainer.backend.name}/${this.trainer.backend.dtype}`;
  }

  trainFor(ms: number, until = Infinity): number {
    const start = performance.now();
    let n = 0;
    while (!this.done && this.trainer.step < until) {
      const t0 = performance.now();
      let r;
      try {
        r = this.trainer.trainStep();
      } catch (e) {
        if (this.watch.fromError(this.trainer.step + 1, e)) break;
        throw e;
      }
      this.trainMs += performance.now() - t0;
      this.trainedSteps++;
      this.lossSum += r.loss;
      this.valueSum += r.value;
      this.sinceReport++;
      n++;
      if (this.watch.check(this.trainer.step, r.loss, r.value)) break;
      if (performance.now() - start >= ms) break;
    }
    return n;
  }

  progress(): Progress {
    const t = this.trainer;
    const T = t.task.seqLength;
    const finite = this.watch.diverged === null;
    const e = finite ? t.evaluate() : null;
    const p: Progress = {
      step: t.step,
      steps: this.steps,
      loss: this.sinceReport > 0 ? this.lossSum / this.sinceReport : null,
      value: this.sinceReport > 0 ? this.valueSum / this.sinceReport : null,
      eval: e ? { loss: e.loss, value: e.value } : null,
      usPerStep: this.trainedSteps > 0 ? (this.trainMs * 1000) / (this.trainedSteps * T) : null,
      stateBytes: this.peakStateBytes(),
      sequence: this.sequence(),
      inside: { layers: this.hidden.layers(), spiking: isSpiking(t.network.config.model), traces: traceSizes(t.learner) },
      alignment: this.probe && finite ? this.probe.measure(t.task.batch(t.learner.batchSize, this.alignRng)) : null,
      diverged: this.watch.diverged,
      done: this.done,
    };
    this.lossSum = this.valueSum = this.sinceReport = 0;
    this.trainMs = this.trainedSteps = 0;
    return p;
  }

  /** the network's predictions on a fresh sequence of the task (batch 1), with the targets, the mask, the input and the hidden states */
  sequence(): SequenceView {
    const t = this.trainer,
      { fwd, caches, rng } = this.view;
    const data = t.task.batch(1, rng);
    this.recorder.reset();
    this.hidden.reset();
    fwd.resetStates();
    for (let s = 0; s < data.x.length; s++) {
      fwd.load(data.x[s]!);
      this.recorder.add(fwd.run(caches).data, data.target[s]!, data.mask[s]![0]!);
      this.hidden.add(fwd.acts);
    }
    return this.recorder.view(inputRows(data));
  }

  info(): Omit<RunInfo, 'pointEvery' | 'backend'> {
    const task = this.trainer.task;
    return {
      params: this.trainer.network.size,
      seqLength: task.seqLength,
      metric: task.metric,
      reference: referenceLevel(task),
      higherIsBetter: higherIsBetter(task.metric),
      config: this.config,
    };
  }

  /** the trained model, in the model-file format the command line reads */
  modelText(): string {
    return JSON.stringify(this.trainer.modelFile()) + '\n';
  }
}

/** a sequence's predictions (batch 1, the first output group or output) beside its targets, for the page to draw */
export class SequenceRecorder {
  private target: number[] = [];
  private predicted: number[] = [];
  private confidence: number[] = [];
  private mask: number[] = [];

  constructor(
    readonly loss: LossSpec,
    readonly outputSize: number,
  ) {}

  reset(): void {
    this.target = [];
    this.predicted = [];
    this.confidence = [];
    this.mask = [];
  }

  get length(): number {
    return this.target.length;
  }

  /** one step: the output (outputSize numbers), the target (a class id per group for ce) and the mask */
  add(out: ArrayLike<number>, target: ArrayLike<number>, mask: number): void {
    this.mask.push(mask);
    if (this.loss.kind === 'ce') {
      // the first output group: the target class, the predicted class and the probability given to the target
      const C = this.loss.classes,
        y = target[0]!;
      let best = 0,
        max = -Infinity,
        z = 0;
      for (let c = 0; c < C; c++) max = Math.max(max, out[c]!);
      for (let c = 0; c < C; c++) {
        z += Math.exp(out[c]! - max);
        if (out[c]! > out[best]!) best = c;
      }
      this.target.push(y);
      this.predicted.push(best);
      this.confidence.push(Math.exp(out[y]! - max) / z);
    } else {
      this.target.push(target[0]!);
      this.predicted.push(out[0]!);
    }
  }

  view(input: number[][]): SequenceView {
    const { target, predicted, confidence, mask } = this;
    return this.loss.kind === 'ce'
      ? { kind: 'ce', classes: this.loss.classes, groups: this.outputSize / this.loss.classes, target, predicted, confidence, mask, input }
      : { kind: 'mse', outputs: this.outputSize, target, predicted, confidence: null, mask, input };
  }
}
