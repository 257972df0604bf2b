/**
 * Streaming: a network that keeps learning while data arrives. One unbroken sequence, batch 1, one sample at
 * a time from any source (an array, a generator, a socket, a sensor — anything `for await` can walk):
 *
 *   for each sample (x_t, y_t):  ŷ_t = the network's prediction from x_t and its state   (made BEFORE learning
 *                                  from y_t: test-then-train, so the running loss is an honest forecast error)
 *                                accumulate this step's gradient into the learner (traces, no history)
 *                                every k samples: the update step of every driver (update.ts: flush, masks,
 *                                  optimizer, device, masks, zero, prune)
 *
 * Memory is what the learner and optimizer hold when they are built — nothing grows with the number of samples:
 * the online learners (rtrl, online-lru, ...) keep fixed-size traces; bptt/tbptt keep the at most k steps of the
 * current update window. A sample with no target (target null, or mask 0) is predicted but adds no gradient.
 *
 * Pause and resume: stop consuming (break out of the loop) and take `checkpointFile()`: the trainer's model-file
 * format with a `checkpoint.stream` section (the stream's config and counters), the optimizer state, the
 * learner state and the accumulated gradient of a partial update window — so a resumed stream continues bit for
 * bit. Learners that store a window (bptt) can only be checkpointed at an update boundary and say so.
 *
 * A stream may train through a device (`device: {name: 'pcm', …}`: every sample reads the synapses afresh, every
 * update goes out as programming pulses) and prune by magnitude (a model with maskMethod 'magnitude'; `pruneUntil`
 * names the update at which its density is reached, since a stream has no length), as the episodic trainer does.
 */
import type { Backend, BackendName, FloatArray } from '../backend/backend.js';
import { createBackend } from '../backend/index.js';
import { ConfigError, DivergenceError, FileFormatError, ShapeError, show } from '../core/errors.js';
import { deviceSectionSchema, pcmSettingsOf, PcmDevice, type DeviceSection } from '../hardware/pcm.js';
import { createLearner, type Learner, type LearnerOptions } from '../learners/index.js';
import type { ModelFile, ModelTask } from '../model/format.js';
import { Network, validateModelConfig, type ModelConfig } from '../model/network.js';
import { createOptimizer, type Optimizer, type OptimizerState } from '../optim/optimizers.js';
import { checkpointFileOf, modelFileOf, restoreCheckpoint, type TrainingState } from './checkpoint.js';
import { pruneSchedule, UpdateStep } from './update.js';
import { DivergenceMonitor } from './divergence.js';
import { checkSample, type SampleShape } from './sample-check.js';

export interface StreamConfig {
  /** the network (inputSize = the width of x, outputSize and loss = what the targets are) */
  model: ModelConfig;
  /** a learner from the learner table that supports the model */
  learner: string;
  optimizer: {
    name: 'sgd' | 'adam' | 'adamw';
    lr: number;
    clip?: number;
    weightDecay?: number;
    momentum?: number;
    beta1?: number;
    beta2?: number;
  };
  /** apply an update every k samples (1: every sample) */
  updateEvery: number;
  /** seeds the network's initialisation (and the learner's own generator with seed + 1) */
  seed: number;
  /** tbptt's truncation window */
  window?: number;
  /** further options of the learner (as its table row takes them); batchSize is always 1 and seed is seed + 1 */
  learnerOptions?: Partial<LearnerOptions>;
  backend?: BackendName;
  dtype?: 'float32' | 'float64';
  /** the device the synapses live on (the run config's device section; default: none, ideal weights); its generator is seed + 3 */
  device?: Partial<DeviceSection>;
  /** magnitude pruning (model.maskMethod 'magnitude'): prune every this many updates (default 10) … */
  pruneEvery?: number;
  /** … until this update, where the model's density is reached (required for magnitude pruning: a stream has no length) */
  pruneUntil?: number;
}

/** One sample of a stream: the input, and the target when it is known (null: predict only). */
export interface StreamSample {
  x: ArrayLike<number>;
  target?: ArrayLike<number> | null;
  /** weight of this sample's loss, 0 or 1 (default 1) */
  mask?: number;
}

/** What one step of a stream reports: the same object every step, refreshed — copy what you keep. */
export interface StreamStep {
  /** samples consumed so far, this one included */
  step: number;
  /** this sample's loss, taken before learning from it (0 without a target) */
  loss: number;
  /** the prediction ŷ_t (outputSize numbers): a view that the next step overwrites — copy it to keep it */
  prediction: FloatArray;
  /** whether an optimizer update was applied after this sample */
  updated: boolean;
}

/** What a stream adds to a model file: its config and counters, and the shared training state (with the accumulated gradient). */
export interface StreamCheckpoint extends TrainingState {
  stream: { config: StreamConfig; step: number; pending: number; updates: number };
}

export function validateStreamConfig(c: StreamConfig): StreamConfig {
  if (!c || typeof c !== 'object')
    throw new ConfigError('stream config: expected an object {model, learner, optimizer, updateEvery, seed}');
  const keys = [
    'model',
    'learner',
    'optimizer',
    'updateEvery',
    'seed',
    'window',
    'learnerOptions',
    'backend',
    'dtype',
    'device',
    'pruneEvery',
    'pruneUntil',
  ];
  const unknown = Object.keys(c).filter((k) => !keys.includes(k));
  if (unknown.length)
    throw new ConfigError(
      `stream config: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; keys: ${keys.join(', ')}`,
    );
  if (c.learnerOptions !== undefined && (!c.learnerOptions || typeof c.learnerOptions !== 'object'))
    throw new ConfigError('stream config: learnerOptions must be an object');
  validateModelConfig(c.model);
  if (!Number.isInteger(c.updateEvery) || c.updateEvery < 1)
    throw new ConfigError(`stream config: updateEvery must be an integer ≥ 1, got ${show(c.updateEvery)}`);
  if (!Number.isInteger(c.seed) || c.seed < 0) throw new ConfigError(`stream config: seed must be an integer ≥ 0, got ${show(c.seed)}`);
  if (!c.optimizer || typeof c.optimizer !== 'object' || typeof c.optimizer.lr !== 'number' || !(c.optimizer.lr >= 0))
    throw new ConfigError(`stream config: optimizer.lr must be a number ≥ 0, got ${show(c.optimizer?.lr)}`);
  if (typeof c.learner !== 'string') throw new ConfigError(`stream config: learner must be a learner name, got ${show(c.learner)}`);
  if (c.device !== undefined) {
    const d = deviceSectionSchema.safeParse(c.device);
    if (!d.success)
      throw new ConfigError(
        `stream config: device: ${d.error.issues.map((i) => `${i.path.join('.') || '(device)'}: ${i.message}`).join('; ')}`,
      );
  }
  if (c.model.maskMethod === 'magnitude' && c.pruneUntil === undefined) {
    throw new ConfigError(
      "stream config: magnitude pruning needs pruneUntil, the update at which the model's density is reached (a stream has no length to take it from)",
    );
  }
  return c;
}

export class OnlineStream {
  readonly backend: Backend;
  readonly network: Network;
  readonly learner: Learner;
  readonly optimizer: Optimizer;
  readonly optState: OptimizerState;
  /** device pcm: the synapses on simulated phase-change memory; null for ideal weights */
  readonly device: PcmDevice | null;
  private readonly updater: UpdateStep;
  /** samples consumed */
  step = 0;
  /** optimizer updates applied */
  updates = 0;
  /** samples since the last update */
  private pending = 0;
  private readonly mask = new Float64Array(1);
  /** the report of the latest step: one object, refreshed each step, so a step allocates nothing */
  private readonly report: StreamStep;
  /** what a sample must look like (checked before it touches anything) */
  private readonly sampleShape: SampleShape;
  /** non-finite losses, predictions or weights stop the stream (divergence.ts) */
  private readonly monitor = new DivergenceMonitor(
    'stream',
    'resume from the last checkpoint saved before this step with a lower learning rate',
    false,
  );
  /** set when the stream diverged: it takes no more samples and writes no checkpoint */
  diverged: DivergenceError | null = null;

  constructor(
    readonly config: StreamConfig,
    backend?: Backend,
  ) {
    validateStreamConfig(config);
    this.backend = backend ?? createBackend({ backend: config.backend, dtype: config.dtype });
    this.network = new Network(config.model, this.backend, config.seed);
    this.learner = createLearner(config.learner, this.network, {
      ...config.learnerOptions,
      batchSize: 1,
      window: config.window,
      seed: config.seed + 1,
    });
    this.optimizer = createOptimizer({ ...config.optimizer });
    this.optState = this.optimizer.init(this.backend, this.network.size);
    const device = deviceSectionSchema.parse(config.device ?? {});
    this.device = device.name === 'pcm' ? new PcmDevice(this.network.params, pcmSettingsOf(device), config.seed + 3) : null;
    this.updater = new UpdateStep(
      this.network,
      this.learner,
      this.optimizer,
      this.optState,
      this.device,
      pruneSchedule(this.network, config.pruneEvery ?? 10, config.pruneUntil ?? 0),
    );
    this.network.applyMasks();
    this.learner.startSequence();
    this.report = { step: 0, loss: 0, prediction: this.learner.output.data, updated: false };
    this.sampleShape = {
      inputSize: this.network.inputSize,
      targetWidth: this.network.loss.targetWidth,
      loss: config.model.loss,
      dtype: this.backend.dtype,
    };
  }

  /** one sample: predict ŷ_t, then learn from the target (if any); updates every `updateEvery` samples */
  push(x: ArrayLike<number>, target: ArrayLike<number> | null = null, mask = 1): StreamStep {
    if (this.diverged) throw this.diverged;
    checkSample(this.sampleShape, this.step, x, target, mask); // before anything moves: a rejected sample changes nothing
    this.mask[0] = target ? mask : 0;
    this.device?.read(); // every sample reads the synapses afresh (read noise per use)
    const loss = this.learner.step(x, target, target ? this.mask : null);
    this.step++;
    this.pending++;
    let updated = false;
    try {
      this.monitor.loss(this.step - 1, loss);
      this.monitor.predictions(this.step - 1, this.learner.output.data);
      if (this.pending === this.config.updateEvery) {
        this.update();
        updated = true;
      }
    } catch (e) {
      if (e instanceof DivergenceError) this.diverged = e;
      throw e;
    }
    const r = this.report;
    r.step = this.step;
    r.loss = loss;
    r.prediction = this.learner.output.data; // re-derived: a growing wasm memory replaces the view
    r.updated = updated;
    return r;
  }

  private update(): void {
    this.updater.apply();
    this.monitor.weights(this.step - 1, this.network.params);
    this.pending = 0;
    this.updates++;
  }

  /**
   * Consume a source, yielding each step's report. Stops when the source ends, after `steps` samples, or when
   * `signal` aborts (checked between samples); the stream can then be checkpointed or run on.
   */
  async *run(
    source: AsyncIterable<StreamSample> | Iterable<StreamSample>,
    options: { steps?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<StreamStep> {
    const limit = options.steps ?? Infinity;
    if (limit <= 0 || options.signal?.aborted) return;
    let taken = 0;
    for await (const s of source) {
      if (!s || typeof s !== 'object')
        throw new ShapeError(`stream sample ${this.step}: expected {x, target?, mask?}, got ${s === null ? 'null' : typeof s}`);
      yield this.push(s.x, s.target ?? null, s.mask ?? 1);
      if (++taken >= limit || options.signal?.aborted) return;
    }
  }

  /** bytes the learner keeps to compute its gradient (constant for the online learners) */
  stateBytes(): number {
    return this.learner.stateBytes();
  }

  /**
   * the trained model, in the model-file format the CLI reads (`onward eval --model-file`); `task`: the task its
   * samples came from, if they came from one, recorded so the file alone can be evaluated
   */
  modelFile(task?: ModelTask): ModelFile<ModelConfig> {
    return modelFileOf(this.network, task);
  }

  /** everything needed to resume exactly: a model file with a `checkpoint` section */
  checkpointFile(): ModelFile<ModelConfig, StreamCheckpoint> {
    // a checkpoint that could not be loaded again is never written
    if (this.diverged)
      throw new DivergenceError(
        `stream: no checkpoint after divergence (${this.diverged.message})`,
        this.diverged.step,
        this.diverged.quantity,
      );
    return checkpointFileOf(
      this,
      undefined,
      { stream: { config: this.config, step: this.step, pending: this.pending, updates: this.updates } },
      { grads: true },
    );
  }

  /** a stream resumed from a checkpoint file's contents; `source` names it in errors */
  static fromCheckpointFile(file: ModelFile, source: string, backend?: Backend): OnlineStream {
    const ck = (file as ModelFile<ModelConfig, StreamCheckpoint>).checkpoint;
    if (!ck?.stream) throw new FileFormatError(`'${source}' has no stream checkpoint section; it cannot resume a stream`);
    const { config, step, pending, updates } = ck.stream;
    const s = new OnlineStream(config, backend);
    for (const [what, v] of [
      ['step', step],
      ['pending', pending],
      ['updates', updates],
    ] as const) {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
        throw new FileFormatError(`${source}: stream ${what} ${show(v)} is not a count (an integer 0 … 2^53)`);
    }
    if (pending >= config.updateEvery)
      throw new FileFormatError(`${source}: stream pending ${pending} must be below updateEvery ${config.updateEvery}`);
    restoreCheckpoint(s, file, ck, source, { grads: true });
    s.step = step;
    s.pending = pending;
    s.updates = updates;
    return s;
  }
}
