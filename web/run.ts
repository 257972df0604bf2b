/**
 * One playground run: the episodic Trainer (the same code as `onward train`) configured from the page's fields,
 * trained in time slices so the worker stays responsive, reporting what the page draws — the training loss and
 * metric, the held-out evaluation, the cost per time step, the learner's memory, and the network's predictions
 * against the target on a fresh sequence. No DOM, no worker API: the worker wires messages to it, and the Node
 * tests drive it directly.
 */
import { ForwardPass } from '../src/learners/forward.js';
import { learnerTable } from '../src/learners/index.js';
import { decodeMasksInto, decodeParamsInto, parseModelFile } from '../src/model/format.js';
import { modelNames, type ModelConfig } from '../src/model/network.js';
import type { ModuleCache } from '../src/modules/module.js';
import { Rng } from '../src/core/rng.js';
import { applyOverrides, defaultConfig, validateConfig, type TrainConfig } from '../src/run/config.js';
import { Trainer } from '../src/run/trainer.js';
import { taskTable } from '../src/tasks/index.js';
import { unitModels } from '../src/units/index.js';
import type { Catalogue, Progress, RunSpec, SequenceView } from './protocol.js';

/** what the page offers, read from the library's tables (new rows appear here by themselves) */
export function catalogue(): Catalogue {
  const tasks = taskTable.map((t) => {
    let defaults: Partial<TrainConfig> | null = null;
    try {
      const d = defaultConfig(t.name, 'ci');
      defaults = { model: d.model, learner: d.learner, hidden: d.hidden, layers: d.layers, batch: d.batch, lr: d.lr, steps: d.steps, updateEvery: d.updateEvery };
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
  return { tasks, models, learners };
}

/** the page's fields → a full run config, exactly as `onward train --task … --set key=value` resolves them */
export function resolveConfig(spec: RunSpec): TrainConfig {
  let config = applyOverrides(defaultConfig(spec.task, spec.preset), { evalEvery: 0, ...spec.overrides });
  if (spec.modelText !== undefined) {
    // a loaded model file decides the network's shape; the page's task and training settings stay
    const c = parseModelFile(spec.modelText, spec.modelName ?? 'model file').config as Partial<ModelConfig>;
    const shape: Record<string, unknown> = {};
    for (const k of ['model', 'hidden', 'layers', 'stateSize', 'rMin', 'rMax', 'maxPhase', 'dropout', 'pooling', 'dampening', 'width', 'density', 'maskMethod'] as const) {
      if (c[k] !== undefined) shape[k] = c[k];
    }
    config = applyOverrides(config, shape);
  }
  return validateConfig(config);
}

export class PlaygroundRun {
  readonly trainer: Trainer;
  readonly config: TrainConfig;
  /** training time and batches since the last report (the cost curve shows the recent cost, not a running mean) */
  private trainMs = 0;
  private trainedSteps = 0;
  /** the most the learner held at any flush (bptt holds its window until then; online learners hold constant traces) */
  private peakStateBytes = 0;
  private lossSum = 0;
  private valueSum = 0;
  private sinceReport = 0;
  private lastEvalStep = -1;
  /** a forward pass of batch 1 for showing predictions, apart from the learner's own states */
  private readonly view: { fwd: ForwardPass; caches: ModuleCache[]; rng: Rng };

  constructor(spec: RunSpec) {
    this.config = resolveConfig(spec);
    this.trainer = new Trainer(this.config);
    if (spec.modelText !== undefined) {
      const name = spec.modelName ?? 'model file';
      const file = parseModelFile(spec.modelText, name);
      decodeParamsInto(this.trainer.network.params, file.params, name);
      decodeMasksInto(this.trainer.network.masks, file.masks, name);
    }
    // measure what the learner holds just before each flush, where a windowed rule (bptt) holds the most
    const learner = this.trainer.learner, flush = learner.flush.bind(learner);
    learner.flush = () => {
      this.peakStateBytes = Math.max(this.peakStateBytes, learner.stateBytes());
      flush();
    };
    const fwd = new ForwardPass(this.trainer.network, 1);
    fwd.ctx.training = false;
    this.view = { fwd, caches: this.trainer.network.modules.map((m) => m.createCache(this.trainer.backend, 1)), rng: new Rng(this.config.seed + 7) };
  }

  get done(): boolean {
    return this.trainer.step >= this.config.steps;
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
      steps: this.config.steps,
      loss: this.sinceReport > 0 ? this.lossSum / this.sinceReport : null,
      value: this.sinceReport > 0 ? this.valueSum / this.sinceReport : null,
      eval: evalResult,
      usPerStep: this.trainedSteps > 0 ? (this.trainMs * 1000) / (this.trainedSteps * T) : null,
      stateBytes: Math.max(this.peakStateBytes, t.learner.stateBytes()),
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
    const loss = t.task.loss, o = t.task.outputSize;
    const target: number[] = [], predicted: number[] = [], confidence: number[] = [], mask: number[] = [];
    fwd.resetStates();
    for (let s = 0; s < data.x.length; s++) {
      fwd.load(data.x[s]!);
      const out = fwd.run(caches).data;
      mask.push(data.mask[s]![0]!);
      if (loss.kind === 'ce') {
        // the first output group: the target class, the predicted class and the probability given to the target
        const C = loss.classes, y = data.target[s]![0]!;
        let best = 0, max = -Infinity, z = 0;
        for (let c = 0; c < C; c++) max = Math.max(max, out[c]!);
        for (let c = 0; c < C; c++) {
          z += Math.exp(out[c]! - max);
          if (out[c]! > out[best]!) best = c;
        }
        target.push(y);
        predicted.push(best);
        confidence.push(Math.exp(out[y]! - max) / z);
      } else {
        target.push(data.target[s]![0]!);
        predicted.push(out[0]!);
      }
    }
    return loss.kind === 'ce'
      ? { kind: 'ce', classes: loss.classes, groups: o / loss.classes, target, predicted, confidence, mask }
      : { kind: 'mse', outputs: o, target, predicted, confidence: null, mask };
  }

  info(): { params: number; seqLength: number; metric: string; config: TrainConfig } {
    return { params: this.trainer.network.size, seqLength: this.trainer.task.seqLength, metric: this.trainer.task.metric, config: this.config };
  }

  /** the trained model, in the model-file format the command line reads */
  modelText(): string {
    return JSON.stringify(this.trainer.modelFile()) + '\n';
  }
}
