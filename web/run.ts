/**
 * One playground run: the episodic Trainer (the same code as `onward train`) configured from the page's fields,
 * trained in time slices so the worker stays responsive, reporting what the page draws — the training loss and
 * metric, the held-out evaluation, the cost per time step, the learner's memory, and the network's predictions
 * against the target on a fresh sequence. No DOM, no worker API: the worker wires messages to it, and the Node
 * tests drive it directly.
 */
import { ForwardPass } from '../src/model/forward.js';
import { learnerTable, type Learner } from '../src/learners/index.js';
import { decodeMasksInto, decodeParamsInto, parseModelFile } from '../src/model/format.js';
import { modelNames, type ModelConfig, type Network } from '../src/model/network.js';
import type { LossSpec } from '../src/modules/loss.js';
import type { ModuleCache } from '../src/modules/module.js';
import { Rng } from '../src/core/rng.js';
import { applyOverrides, defaultConfig, listOptions, type RunConfig } from '../src/train/config.js';
import { modelSectionOf, Trainer } from '../src/train/trainer.js';
import { createTask, taskTable } from '../src/tasks/index.js';
import { unitModels } from '../src/units/index.js';
import type { Catalogue, PageDefaults, Progress, RunSpec, SequenceView } from './protocol.js';

/** what the page offers, read from the library's tables (new rows appear here by themselves) */
export function catalogue(): Catalogue {
  const tasks = taskTable.map((t) => {
    let defaults: PageDefaults | null = null;
    try {
      const d = defaultConfig(t.name, 'ci');
      createTask(t.name, 'ci');
      defaults = {
        model: d.model.name, learner: d.learner.name, hidden: d.model.hidden, layers: d.model.layers, batch: d.train.batch, lr: d.optimizer.lr,
        steps: d.train.steps, updateEvery: d.train.updateEvery,
      };
    } catch {
      defaults = null; // a task whose ci preset cannot be made here is still listed; starting it shows why
    }
    return { name: t.name, description: t.description, defaults };
  });
  const models = modelNames.map((name) => ({
    name,
    description: unitModels[name]?.description ?? 'the online-LRU paper\'s stack: encoder → [LayerNorm → LRU → GELU → GLU, residual] × layers → decoder',
  }));
  const learners = learnerTable.map((l) => ({ name: l.name, description: l.description, exact: l.exact, models: [...l.models] }));
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

/** what the worker drives: an episodic run (PlaygroundRun) or a stream (PlaygroundStream, stream-run.ts) */
export interface Session {
  readonly config: RunConfig;
  readonly done: boolean;
  /** the backend, as name/dtype */
  readonly backend: string;
  trainFor(ms: number): number;
  progress(evaluate: boolean): Progress;
  info(): { params: number; seqLength: number; metric: string; config: RunConfig };
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
  private lastEvalStep = -1;
  /** a forward pass of batch 1 for showing predictions, apart from the learner's own states */
  private readonly view: { fwd: ForwardPass; caches: ModuleCache[]; rng: Rng };
  private readonly recorder: SequenceRecorder;

  constructor(spec: RunSpec) {
    const { config, modelConfig } = resolveConfig(spec);
    this.trainer = new Trainer(config, { modelConfig });
    this.config = this.trainer.config;
    if (spec.modelText !== undefined) loadModelInto(this.trainer.network, spec.modelText, spec.modelName ?? 'model file');
    this.peakStateBytes = trackPeakState(this.trainer.learner);
    const fwd = new ForwardPass(this.trainer.network, 1);
    fwd.ctx.training = false;
    this.view = { fwd, caches: this.trainer.network.modules.map((m) => m.createCache(this.trainer.backend, 1)), rng: new Rng(this.config.train.seed + 7) };
    this.recorder = new SequenceRecorder(this.trainer.task.loss, this.trainer.task.outputSize);
  }

  get done(): boolean {
    return this.trainer.step >= this.config.train.steps;
  }

  get backend(): string {
    return `${this.trainer.backend.name}/${this.trainer.backend.dtype}`;
  }

  /** train whole batches until `ms` milliseconds have passed (at least one batch) or the run is complete */
  trainFor(ms: number): number {
    const start = performance.now();
    let n = 0;
    while (!this.done) {
      const t0 = performance.now();
      const r = this.trainer.trainStep();
      this.trainMs += performance.now() - t0;
      this.trainedSteps++;
      this.lossSum += r.loss;
      this.valueSum += r.value;
      this.sinceReport++;
      n++;
      if (performance.now() - start >= ms) break;
    }
    return n;
  }

  /** what the page draws now; evaluates on the held-out set when `evaluate` (or at the end) */
  progress(evaluate: boolean): Progress {
    const t = this.trainer;
    const T = t.task.seqLength;
    let evalResult: Progress['eval'] = null;
    if ((evaluate || this.done) && this.lastEvalStep !== t.step) {
      const e = t.evaluate();
      evalResult = { loss: e.loss, value: e.value };
      this.lastEvalStep = t.step;
    }
    const p: Progress = {
      step: t.step,
      steps: this.config.train.steps,
      loss: this.sinceReport > 0 ? this.lossSum / this.sinceReport : null,
      value: this.sinceReport > 0 ? this.valueSum / this.sinceReport : null,
      eval: evalResult,
      usPerStep: this.trainedSteps > 0 ? (this.trainMs * 1000) / (this.trainedSteps * T) : null,
      stateBytes: this.peakStateBytes(),
      sequence: this.sequence(),
      done: this.done,
    };
    this.lossSum = this.valueSum = this.sinceReport = 0;
    this.trainMs = this.trainedSteps = 0;
    return p;
  }

  /** the network's predictions on a fresh sequence of the task (batch 1), with the targets and the mask */
  sequence(): SequenceView {
    const t = this.trainer, { fwd, caches, rng } = this.view;
    const data = t.task.batch(1, rng);
    this.recorder.reset();
    fwd.resetStates();
    for (let s = 0; s < data.x.length; s++) {
      fwd.load(data.x[s]!);
      this.recorder.add(fwd.run(caches).data, data.target[s]!, data.mask[s]![0]!);
    }
    return this.recorder.view();
  }

  info(): { params: number; seqLength: number; metric: string; config: RunConfig } {
    return { params: this.trainer.network.size, seqLength: this.trainer.task.seqLength, metric: this.trainer.task.metric, config: this.config };
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

  constructor(readonly loss: LossSpec, readonly outputSize: number) {}

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
      const C = this.loss.classes, y = target[0]!;
      let best = 0, max = -Infinity, z = 0;
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

  view(): SequenceView {
    const { target, predicted, confidence, mask } = this;
    return this.loss.kind === 'ce'
      ? { kind: 'ce', classes: this.loss.classes, groups: this.outputSize / this.loss.classes, target, predicted, confidence, mask }
      : { kind: 'mse', outputs: this.outputSize, target, predicted, confidence: null, mask };
  }
}
