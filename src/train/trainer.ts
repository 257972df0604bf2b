/**
 * The episodic training driver: a batch of sequences at a time, one step at a time through the learner,
 * an optimizer update every `updateEvery` steps or at the end of each sequence, a periodic evaluation on
 * a fixed held-out set, and checkpoints that resume exactly (parameters, optimizer state, learner state,
 * both generators, counters).
 */
import type { Backend } from '../backend/backend.js';
import { createBackend } from '../backend/index.js';
import { ConfigError, FileFormatError, UnsupportedError } from '../core/errors.js';
import { checkCount, checkModelMemory, getLimits, limitFlags, runBytes } from '../core/limits.js';
import { Rng, type RngState } from '../core/rng.js';
import { createLearner, type Learner, type LearnerOptions } from '../learners/index.js';
import { createThreadedLearner } from './parallel.js';
import { ForwardPass } from '../model/forward.js';
import { Network, validateModelConfig, type ModelConfig } from '../model/network.js';
import type { ModelFile, ModelTask } from '../model/format.js';
import { createOptimizer, type Optimizer, type OptimizerState } from '../optim/optimizers.js';
import { constant, warmupCosine } from '../optim/schedule.js';
import { createTask, type Task } from '../tasks/index.js';
import type { PcmDevice } from '../hardware/pcm.js';
import { alignment, sequenceGradient, type Alignment } from '../check/alignment.js';
import { checkpointFileOf, modelFileOf, restoreCheckpoint, type TrainingState } from './checkpoint.js';
import { applyOverrides, checkRunConfig, type RunConfig } from './config.js';
import { MetricAccumulator } from './metrics.js';
import { driverUpdateStep, type UpdateStep } from './update.js';
import { DivergenceMonitor, trainingHint } from './divergence.js';
import { checkCheckpointState } from './resume.js';

export type { Alignment } from '../check/alignment.js';

export interface EvalResult {
  loss: number;
  value: number;
}

export interface Summary {
  task: string;
  model: string;
  learner: string;
  metric: string;
  value: number;
  loss: number;
  steps: number;
  seconds: number;
}

/** What a training run's checkpoint adds to a model file: its config and counters, and the shared training state. */
export interface CheckpointState extends TrainingState {
  train: RunConfig;
  step: number;
  dataRng: RngState;
}

/** The model config a run's network is built from: the run's model section and what the task's data decides. */
export function modelConfigFor(config: RunConfig, task: Task): ModelConfig {
  const m = config.model;
  const base: ModelConfig = {
    model: m.name,
    inputSize: task.inputSize,
    hidden: m.hidden,
    layers: m.layers,
    outputSize: task.outputSize,
    loss: task.loss,
  };
  if (m.name === 'egru' || m.name === 'snu' || m.name === 'lif' || m.name === 'alif')
    Object.assign(base, { dampening: m.dampening, width: m.width });
  if (m.decorrelate && m.name !== 'lru') base.decorrelate = true;
  if (m.name !== 'lru' && (m.density < 1 || m.maskMethod === 'magnitude'))
    Object.assign(base, { density: m.density, maskMethod: m.maskMethod });
  if (m.name !== 'lru' && !m.recurrent) base.recurrent = false;
  if (m.name !== 'lru') return base;
  return {
    ...base,
    stateSize: m.stateSize > 0 ? m.stateSize : Math.max(1, Math.floor(m.hidden / 2)),
    rMin: m.rMin,
    rMax: m.rMax,
    maxPhase: m.maxPhase,
    dropout: m.dropout,
    pooling: m.pooling,
  };
}

/** The learner options of a run (also used to build the same learner elsewhere, e.g. for bench's alignment). */
export function learnerOptionsFor(config: RunConfig): LearnerOptions {
  const { name: _name, ...options } = config.learner;
  return { batchSize: config.train.batch, seed: config.train.seed + 1, ...options };
}

/** the model section that describes a model config as it is (so a run config says what a loaded model is) */
export function modelSectionOf(mc: ModelConfig): Record<string, unknown> {
  // what a model config leaves out has its network default, which the section then states (a preset may differ)
  const out: Record<string, unknown> = {
    name: mc.model,
    hidden: mc.hidden,
    layers: mc.layers,
    recurrent: true,
    decorrelate: false,
    density: 1,
    maskMethod: 'static',
  };
  for (const k of [
    'stateSize',
    'rMin',
    'rMax',
    'maxPhase',
    'dropout',
    'pooling',
    'dampening',
    'width',
    'density',
    'maskMethod',
    'recurrent',
    'decorrelate',
  ] as const) {
    if (mc[k] !== undefined) out[k] = mc[k];
  }
  return out;
}

export interface TrainerOptions {
  /**
   * build the network from this model config as it is (a loaded model file) instead of from the run's model
   * section; the run's model section is set to describe it, and its sizes must fit the task
   */
  modelConfig?: ModelConfig;
}

export class Trainer {
  readonly config: RunConfig;
  readonly task: Task;
  readonly backend: Backend;
  readonly network: Network;
  readonly learner: Learner;
  readonly optimizer: Optimizer;
  readonly optState: OptimizerState;
  /** the stream of training batches */
  readonly dataRng: Rng;
  /** completed training batches */
  step = 0;
  /** device: pcm — the synapses on simulated phase-change memory; null for ideal digital weights */
  readonly device: PcmDevice | null;
  private readonly updater: UpdateStep;
  private readonly metric: MetricAccumulator;
  /** the alignment measured at the start of the last step with alignEvery (null: none yet) */
  lastAlignment: Alignment | null = null;
  private alignLearners: { learner: Learner; bptt: Learner } | null = null;
  private evalPass: { fwd: ForwardPass; caches: ReturnType<Network['modules'][number]['createCache']>[] } | null = null;
  /** a non-finite or exploded loss, or non-finite weights, stop the run (divergence.ts) */
  readonly monitor = new DivergenceMonitor('training', trainingHint);
  /** what a resume changed (flags that may change on resume), one line each */
  resumeNotes: string[] = [];

  constructor(config: RunConfig, options: TrainerOptions = {}) {
    checkRunConfig(config);
    this.task = createTask(config.task.name, config.task.preset, config.task.settings);
    let modelConfig = modelConfigFor(config, this.task);
    if (options.modelConfig) {
      modelConfig = validateModelConfig(options.modelConfig);
      const { inputSize, outputSize } = modelConfig;
      if (
        inputSize !== this.task.inputSize ||
        outputSize !== this.task.outputSize ||
        JSON.stringify(modelConfig.loss) !== JSON.stringify(this.task.loss)
      ) {
        throw new ConfigError(
          `the model takes ${inputSize} inputs and gives ${outputSize} outputs (loss ${JSON.stringify(modelConfig.loss)}); ` +
            `task ${config.task.name} (${config.task.preset}) has ${this.task.inputSize} inputs, ${this.task.outputSize} outputs, loss ${JSON.stringify(this.task.loss)}; ` +
            'choose the task (and settings) the model was trained on',
        );
      }
      config = applyOverrides(config, { model: modelSectionOf(modelConfig) });
    }
    this.config = config;
    const t = config.train;
    // the declared sizes against the limits (core/limits.ts), before any buffer of the run is allocated
    checkModelMemory(
      modelConfig,
      runBytes(modelConfig, t.batch, this.task.seqLength, this.task.outputSize),
      ` at batch ${t.batch}, T ${this.task.seqLength}`,
    );
    checkCount(config.eval.batches, getLimits().maxEvalBatches, 'eval.batches', limitFlags.maxEvalBatches!);
    this.backend = createBackend({ backend: t.backend, dtype: t.dtype });
    this.network = new Network(modelConfig, this.backend, t.seed);
    if (t.threads > 1 && config.device.name !== 'none')
      throw new UnsupportedError(
        'threads > 1 with a device model: the device reads its synapses at every step on the calling thread only; use one thread',
      );
    this.learner = createThreadedLearner(config.learner.name, this.network, learnerOptionsFor(config), t.threads);
    const o = config.optimizer;
    const schedule =
      o.schedule === 'cosine'
        ? warmupCosine({ peak: o.lr, warmup: Math.min(o.warmup, this.totalUpdates()), total: Math.max(1, this.totalUpdates()) })
        : constant(o.lr);
    this.optimizer = createOptimizer({ name: o.name, lr: schedule, clip: o.clip, weightDecay: o.weightDecay, momentum: o.momentum });
    this.optState = this.optimizer.init(this.backend, this.network.size);
    this.dataRng = new Rng(t.seed + 2);
    const until = t.pruneUntil > 0 ? t.pruneUntil : Math.max(1, Math.floor((2 * this.totalUpdates()) / 3));
    this.updater = driverUpdateStep(this, config.device, t.seed, { every: t.pruneEvery, until });
    this.device = this.updater.device;
    this.network.applyMasks();
    this.metric = new MetricAccumulator(this.task.loss, this.task.outputSize, this.task.metric);
  }

  /** the task this run trains on, as a model file records it */
  get taskRecord(): ModelTask {
    return { name: this.task.name, preset: this.task.preset, settings: { ...this.task.settings } };
  }

  /** the most bytes the learner kept for its gradient at any update so far (BPTT's peak is just before its sweep) */
  get peakStateBytes(): number {
    return this.updater.peakStateBytes;
  }

  /** optimizer updates over the whole run (for the schedule) */
  totalUpdates(): number {
    const { updateEvery, steps } = this.config.train;
    const perSequence = updateEvery > 0 ? Math.ceil(this.task.seqLength / updateEvery) : 1;
    return steps * perSequence;
  }

  /** the one update step (train/update.ts), then the weights checked: a non-finite weight stops the run here */
  private applyUpdate(): void {
    this.updater.apply();
    this.monitor.weights(this.step, this.network.params);
  }

  /** one training batch; returns its loss (L per sequence, averaged over the batch) and metric */
  trainStep(): EvalResult {
    const { batch: B, updateEvery, alignEvery } = this.config.train;
    const data = this.task.batch(B, this.dataRng);
    const T = data.x.length;
    if (alignEvery > 0 && this.step % alignEvery === 0) this.lastAlignment = this.align(data);
    this.learner.startSequence();
    this.metric.reset();
    let loss = 0;
    let pending = 0;
    for (let t = 0; t < T; t++) {
      this.device?.read(); // every time step reads the synapses afresh (read noise per use)
      loss += this.learner.step(data.x[t]!, data.target[t]!, data.mask[t]!);
      this.metric.add(B, this.learner.output.data, data.target[t]!, data.score?.[t] ?? data.mask[t]!); // the metric where the task scores it
      pending++;
      if (updateEvery > 0 && pending === updateEvery) {
        this.applyUpdate();
        pending = 0;
      }
    }
    this.monitor.loss(this.step, loss);
    if (pending > 0) this.applyUpdate();
    this.step++;
    return { loss, value: this.metric.value() };
  }

  /**
   * The learner's whole-sequence gradient on `data` against BPTT's, same parameters, per parameter group.
   * Separate learner instances do it, so the training learner's state and generator are untouched.
   */
  align(data: { x: Float64Array[]; target: Float64Array[]; mask: Float64Array[] }): Alignment {
    const net = this.network;
    this.alignLearners ??= {
      learner: createLearner(this.config.learner.name, net, learnerOptionsFor(this.config)),
      bptt: createLearner('bptt', net, { batchSize: this.config.train.batch }),
    };
    return alignment(net, sequenceGradient(this.alignLearners.learner, data), sequenceGradient(this.alignLearners.bptt, data));
  }

  /** loss and metric on the held-out batches (the same ones every time), with the parameters as they are */
  evaluate(): EvalResult {
    const B = this.config.train.batch,
      batches = this.config.eval.batches;
    if (!this.evalPass) {
      const fwd = new ForwardPass(this.network, B);
      fwd.ctx.training = false;
      this.evalPass = { fwd, caches: this.network.modules.map((m) => m.createCache(this.backend, B)) };
    }
    const { fwd, caches } = this.evalPass;
    // evaluation reads the device with its own noise draws and puts the device's generator back afterwards,
    // so how often a run evaluates never changes what it trains
    const deviceRng = this.device?.rng.getState();
    const rng = new Rng(this.config.train.seed + 1_000_003);
    const acc = new MetricAccumulator(this.task.loss, this.task.outputSize, this.task.metric);
    let loss = 0;
    for (let i = 0; i < batches; i++) {
      const data = this.task.evalBatch ? this.task.evalBatch(B, rng) : this.task.batch(B, rng);
      fwd.resetStates();
      for (let t = 0; t < data.x.length; t++) {
        this.device?.read(false);
        fwd.load(data.x[t]!);
        const out = fwd.run(caches);
        loss += this.network.loss.evaluate(B, out, data.target[t]!, data.mask[t]!, null);
        acc.add(B, out.data, data.target[t]!, data.score?.[t] ?? data.mask[t]!);
      }
    }
    if (this.device) {
      this.device.rng.setState(deviceRng!);
      this.device.writeWeights();
    }
    this.network.applyMasks();
    return { loss: loss / batches, value: acc.value() };
  }

  /** the trained model with the task it was trained on: `onward eval --model-file` needs nothing else */
  modelFile(): ModelFile<ModelConfig> {
    return modelFileOf(this.network, this.taskRecord);
  }

  checkpointFile(): ModelFile<ModelConfig, CheckpointState> {
    // never a checkpoint that could not be loaded again (non-finite weights are refused on loading)
    this.monitor.weights(this.step, this.network.params);
    return checkpointFileOf(this, this.taskRecord, { train: this.config, step: this.step, dataRng: this.dataRng.getState() });
  }

  /**
   * Rebuild a trainer from a checkpoint file's contents; `source` names it in errors; `overrides` may change
   * e.g. the number of steps (keys as applyOverrides takes them). A checkpoint of an older version (a flat run
   * config) is read once with a note in `notes`. (Reading the file from disk is `resumeTrainer` in files.ts.)
   */
  static fromCheckpointFile(file: ModelFile, source: string, overrides: Record<string, unknown> = {}, notes?: string[]): Trainer {
    const ck = (file as ModelFile<ModelConfig, CheckpointState>).checkpoint;
    if (!ck?.train) throw new FileFormatError(`'${source}' is a model file without a checkpoint section; it cannot resume a run`);
    // every field range-checked, unknown keys refused (before anything is built); the network is the file's, as it is
    const resumeNotes = notes ?? [];
    const config = checkCheckpointState(ck, source, overrides, resumeNotes);
    // the run config and the parameters must describe one network: a difference means a damaged file
    const held = modelSectionOf(validateModelConfig(file.config as ModelConfig));
    for (const k of ['name', 'hidden', 'layers'] as const) {
      if (config.model[k] !== held[k]) {
        throw new FileFormatError(
          `${source}: the checkpoint's run config has model.${k} ${JSON.stringify(config.model[k])}, but the file's parameters are for ` +
            `${JSON.stringify(held[k])}; the file is damaged`,
        );
      }
    }
    const trainer = new Trainer(config, { modelConfig: file.config as ModelConfig });
    trainer.resumeNotes = resumeNotes;
    restoreCheckpoint(trainer, file, ck, source);
    trainer.step = ck.step;
    trainer.dataRng.setState(ck.dataRng);
    return trainer;
  }
}
