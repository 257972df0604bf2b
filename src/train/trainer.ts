/**
 * The episodic training driver: a batch of sequences at a time, one step at a time through the learner,
 * an optimizer update every `updateEvery` steps or at the end of each sequence, a periodic evaluation on
 * a fixed held-out set, and checkpoints that resume exactly (parameters, optimizer state, learner state,
 * both generators, counters).
 */
import type { Backend, Buf } from '../backend/backend.js';
import { createBackend } from '../backend/index.js';
import { FileFormatError } from '../core/errors.js';
import { Rng, type RngState } from '../core/rng.js';
import { createLearner, type Learner, type LearnerOptions } from '../learners/index.js';
import { ForwardPass } from '../model/forward.js';
import { Network, type ModelConfig } from '../model/network.js';
import { LIBRARY, MODEL_FORMAT, MODEL_VERSION, decodeMasksInto, decodeParamsInto, encodeMasks, encodeParams, type ModelFile } from '../model/format.js';
import { createOptimizer, type Optimizer, type OptimizerState } from '../optim/optimizers.js';
import { constant, warmupCosine } from '../optim/schedule.js';
import { createTask, type Task } from '../tasks/index.js';
import { PcmDevice, type PcmDeviceState } from '../hardware/pcm.js';
import {
  decodeLearnerStateInto, decodeOptimizerStateInto, encodeLearnerState, encodeOptimizerState, type EncodedLearnerState, type EncodedOptimizerState,
} from './checkpoint.js';
import { applyOverrides, pcmSettings, validateConfig, type TrainConfig } from './config.js';
import { MetricAccumulator } from './metrics.js';
import { compare, parameterGroups, pick } from '../check/gradcheck.js';

/** per parameter group ('layers.0', …, 'readout', 'all'): the learner's gradient against BPTT's */
export type Alignment = Record<string, { cosine: number; normRatio: number }>;

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

/** What a checkpoint adds to a model file. */
export interface CheckpointState {
  train: TrainConfig;
  step: number;
  optimizer: EncodedOptimizerState;
  learner: EncodedLearnerState;
  dataRng: RngState;
  /** device: pcm — the conductances, accumulators, clocks and the device's generator */
  device?: PcmDeviceState;
}

/** The model config a run's network is built from. */
export function modelConfigFor(config: TrainConfig, task: Task): ModelConfig {
  const base: ModelConfig = { model: config.model, inputSize: task.inputSize, hidden: config.hidden, layers: config.layers, outputSize: task.outputSize, loss: task.loss };
  if (config.model === 'egru' || config.model === 'snu' || config.model === 'lif') Object.assign(base, { dampening: config.dampening, width: config.width });
  if (config.decorrelate && config.model !== 'lru') base.decorrelate = true;
  if (config.model !== 'lru' && (config.density < 1 || config.maskMethod === 'magnitude')) {
    Object.assign(base, { density: config.density, maskMethod: config.maskMethod });
  }
  if (config.model !== 'lru' && config.recurrent === 'off') base.recurrent = false;
  if (config.model !== 'lru') return base;
  return {
    ...base, stateSize: config.stateSize > 0 ? config.stateSize : Math.max(1, Math.floor(config.hidden / 2)),
    rMin: config.rMin, rMax: config.rMax, maxPhase: config.maxPhase, dropout: config.dropout, pooling: config.pooling,
  };
}

/** The learner options of a run (also used to build the same learner elsewhere, e.g. for bench's alignment). */
export function learnerOptionsFor(config: TrainConfig): LearnerOptions {
  return { batchSize: config.batch, window: config.window, seed: config.seed + 1, noise: config.noise, decorrelationRate: config.decorLr, projection: config.projection, targetTiming: config.targetTiming };
}

export class Trainer {
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
  private readonly before: Buf | null;
  /** the most bytes the learner kept for its gradient at any update so far (BPTT's peak is just before its sweep) */
  peakStateBytes = 0;
  private readonly metric: MetricAccumulator;
  /** the alignment measured at the start of the last step with alignEvery (null: none yet) */
  lastAlignment: Alignment | null = null;
  private alignLearners: { learner: Learner; bptt: Learner } | null = null;
  private evalPass: { fwd: ForwardPass; caches: ReturnType<Network['modules'][number]['createCache']>[] } | null = null;

  constructor(readonly config: TrainConfig) {
    validateConfig(config);
    this.task = createTask(config.task, config.preset, config.taskSettings);
    this.backend = createBackend({ backend: config.backend, dtype: config.dtype });
    this.network = new Network(modelConfigFor(config, this.task), this.backend, config.seed);
    this.learner = createLearner(config.learner, this.network, learnerOptionsFor(config));
    const schedule = config.schedule === 'cosine'
      ? warmupCosine({ peak: config.lr, warmup: Math.min(config.warmup, this.totalUpdates()), total: Math.max(1, this.totalUpdates()) })
      : constant(config.lr);
    this.optimizer = createOptimizer({ name: config.optimizer, lr: schedule, clip: config.clip, weightDecay: config.weightDecay, momentum: config.momentum });
    this.optState = this.optimizer.init(this.backend, this.network.size);
    this.dataRng = new Rng(config.seed + 2);
    this.device = config.device === 'pcm' ? new PcmDevice(this.network.params, pcmSettings(config), config.seed + 3) : null;
    this.before = this.device ? this.backend.alloc(this.network.size) : null;
    this.network.applyMasks();
    this.metric = new MetricAccumulator(this.task.loss, this.task.outputSize, this.task.metric);
  }

  /** optimizer updates over the whole run (for the schedule) */
  totalUpdates(): number {
    const perSequence = this.config.updateEvery > 0 ? Math.ceil(this.task.seqLength / this.config.updateEvery) : 1;
    return this.config.steps * perSequence;
  }

  private update(): void {
    this.peakStateBytes = Math.max(this.peakStateBytes, this.learner.stateBytes());
    this.learner.flush();
    const net = this.network;
    net.applyMasks(); // masked weights get no gradient ...
    if (this.device) this.backend.copy(net.params.flat, this.before!);
    this.optimizer.update(net.grads.flat, this.optState, net.params.flat);
    // on the device, the optimizer's update goes out as programming pulses; the weights are what the device holds
    if (this.device) this.device.program(net.params.flat, this.before!, (name) => net.params.entry(name).offset);
    net.applyMasks(); // ... and stay exactly zero
    net.zeroGrads();
    this.prune();
  }

  /** magnitude pruning: density falls from 1 to the target along (1 − t/T)³ (Zhu & Gupta 2017) */
  private prune(): void {
    const c = this.config;
    if (c.maskMethod !== 'magnitude' || this.network.masks.size === 0) return;
    const t = this.optState.count;
    const until = c.pruneUntil > 0 ? c.pruneUntil : Math.max(1, Math.floor((2 * this.totalUpdates()) / 3));
    if (t % c.pruneEvery !== 0 || t > until) return;
    this.network.pruneByMagnitude(c.density + (1 - c.density) * (1 - t / until) ** 3);
  }

  /** one training batch; returns its loss (L per sequence, averaged over the batch) and metric */
  trainStep(): EvalResult {
    const { batch: B, updateEvery } = this.config;
    const data = this.task.batch(B, this.dataRng);
    const T = data.x.length;
    if (this.config.alignEvery > 0 && this.step % this.config.alignEvery === 0) this.lastAlignment = this.align(data);
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
        this.update();
        pending = 0;
      }
    }
    if (pending > 0) this.update();
    this.step++;
    return { loss, value: this.metric.value() };
  }

  /**
   * The learner's whole-sequence gradient on `data` against BPTT's, same parameters, per parameter group.
   * Separate learner instances do it, so the training learner's state and generator are untouched.
   */
  align(data: { x: Float64Array[]; target: Float64Array[]; mask: Float64Array[] }): Alignment {
    const net = this.network, B = this.config.batch;
    this.alignLearners ??= {
      learner: createLearner(this.config.learner, net, learnerOptionsFor(this.config)),
      bptt: createLearner('bptt', net, { batchSize: B }),
    };
    const grad = (l: Learner): Float64Array => {
      net.zeroGrads();
      l.startSequence();
      for (let t = 0; t < data.x.length; t++) l.step(data.x[t]!, data.target[t]!, data.mask[t]!);
      l.flush();
      net.applyMasks();
      const g = Float64Array.from(net.grads.flat.data);
      net.zeroGrads();
      return g;
    };
    const g = grad(this.alignLearners.learner), ref = grad(this.alignLearners.bptt);
    const out: Alignment = {};
    for (const grp of parameterGroups(net)) {
      const { cosine, normRatio } = compare(pick(g, grp.index), pick(ref, grp.index));
      out[grp.layer] = { cosine, normRatio };
    }
    return out;
  }

  /** loss and metric on the held-out batches (the same ones every time), with the parameters as they are */
  evaluate(): EvalResult {
    const B = this.config.batch;
    if (!this.evalPass) {
      const fwd = new ForwardPass(this.network, B);
      fwd.ctx.training = false;
      this.evalPass = { fwd, caches: this.network.modules.map((m) => m.createCache(this.backend, B)) };
    }
    const { fwd, caches } = this.evalPass;
    const rng = new Rng(this.config.seed + 1_000_003);
    const acc = new MetricAccumulator(this.task.loss, this.task.outputSize, this.task.metric);
    let loss = 0;
    for (let i = 0; i < this.config.evalBatches; i++) {
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
    this.device?.writeWeights();
    this.network.applyMasks();
    return { loss: loss / this.config.evalBatches, value: acc.value() };
  }

  modelFile(): ModelFile<ModelConfig> {
    const masks = encodeMasks(this.network.masks);
    return {
      format: MODEL_FORMAT, version: MODEL_VERSION, library: LIBRARY, config: this.network.config, params: encodeParams(this.network.params),
      ...(masks ? { masks } : {}),
    };
  }

  checkpointFile(): ModelFile<ModelConfig, CheckpointState> {
    return {
      ...this.modelFile(),
      checkpoint: {
        train: this.config,
        step: this.step,
        optimizer: encodeOptimizerState(this.optState),
        learner: encodeLearnerState(this.learner),
        dataRng: this.dataRng.getState(),
        ...(this.device ? { device: this.device.saveState() } : {}),
      },
    };
  }

  /**
   * Rebuild a trainer from a checkpoint file's contents; `source` names it in errors; `overrides` may change
   * e.g. the number of steps. (Reading the file from disk is `resumeTrainer` in files.ts, for Node.)
   */
  static fromCheckpointFile(file: ModelFile, source: string, overrides: Record<string, unknown> = {}): Trainer {
    const ck = (file as ModelFile<ModelConfig, CheckpointState>).checkpoint;
    if (!ck || !ck.train) throw new FileFormatError(`'${source}' is a model file without a checkpoint section; it cannot resume a run`);
    const trainer = new Trainer(validateConfig(applyOverrides(ck.train, overrides)));
    decodeParamsInto(trainer.network.params, file.params, source);
    decodeMasksInto(trainer.network.masks, file.masks, source);
    if (!Number.isInteger(ck.step) || ck.step < 0) throw new FileFormatError(`${source}: checkpoint step ${ck.step} is not a count`);
    trainer.step = ck.step;
    decodeOptimizerStateInto(trainer.optState, ck.optimizer, source);
    decodeLearnerStateInto(trainer.learner, ck.learner, source);
    trainer.dataRng.setState(ck.dataRng);
    if (trainer.device) {
      if (!ck.device) throw new FileFormatError(`${source}: the run uses device pcm but the checkpoint holds no device state`);
      trainer.device.loadState(ck.device);
      trainer.network.applyMasks();
    }
    return trainer;
  }
}
