/**
 * The playground's stream mode: the task's sequences arrive back to back as ONE unbroken stream, batch 1, and an
 * OnlineStream (src/train/stream.ts) predicts each sample and then learns from it — the state is never reset, an
 * update comes every `updateEvery` samples (0 means once per task sequence length). What the page shows is
 * prequential: every prediction was made before the network learned from that sample's target, so the running
 * loss and metric (the library's MetricAccumulator, with the task's metric) are honest errors on data it had not
 * seen. The same model file comes out as in episode mode.
 *
 * The hidden states come from a shadow forward pass (no dropout, no perturbation) fed the same samples just before
 * the stream takes each one, so it sees the same weights the stream's own forward pass sees, from the same start.
 */
import type { ModuleCache } from '../src/modules/module.js';
import { ForwardPass } from '../src/model/forward.js';
import { Rng } from '../src/core/rng.js';
import { learnerOptionsFor, modelConfigFor } from '../src/train/trainer.js';
import { MetricAccumulator } from '../src/train/metrics.js';
import { OnlineStream } from '../src/train/stream.js';
import type { RunConfig } from '../src/train/config.js';
import { createTask, type Batch, type Task } from '../src/tasks/index.js';
import { higherIsBetter } from '../src/tasks/task.js';
import { DivergenceWatch } from './divergence.js';
import { AlignmentProbe, HiddenRecorder, inputRows, isSpiking, traceSizes } from './inside.js';
import { loadModelInto, referenceLevel, resolveConfig, runSettings, SequenceRecorder, trackPeakState, type Session } from './run.js';
import type { Divergence, LayerTrace, Progress, RunInfo, RunSpec, SequenceView } from './protocol.js';

export class PlaygroundStream implements Session {
  readonly config: RunConfig;
  readonly task: Task;
  readonly stream: OnlineStream;
  private readonly rng: Rng;
  private batch: Batch;
  /** position in the current task sequence, and task sequences consumed */
  private t = 0;
  private sequences = 0;
  private readonly maskBuf = new Float64Array(1);
  private readonly metric: MetricAccumulator;
  private readonly recorder: SequenceRecorder;
  private readonly hidden: HiddenRecorder;
  private readonly shadow: { fwd: ForwardPass; caches: ModuleCache[] };
  /** the last complete task sequence: what it showed, and its data (for the alignment) */
  private last: { view: SequenceView; layers: LayerTrace[]; batch: Batch } | null = null;
  private readonly peakStateBytes: () => number;
  private readonly watch = new DivergenceWatch();
  private readonly probe: AlignmentProbe | null;
  private lossSum = 0;
  private sequenceLoss = 0;
  private sequencesSinceReport = 0;
  private trainMs = 0;
  private samplesSinceReport = 0;

  constructor(spec: RunSpec) {
    const { config: c, modelConfig } = resolveConfig(spec);
    this.config = c;
    this.task = createTask(c.task.name, c.task.preset, c.task.settings);
    const learnerOptions = { ...learnerOptionsFor(c), batchSize: 1 };
    const o = c.optimizer,
      t = c.train;
    const updateEvery = t.updateEvery > 0 ? t.updateEvery : this.task.seqLength;
    // magnitude pruning reaches its density after two thirds of the run's updates, as in episode mode
    const updates = Math.floor((t.steps * this.task.seqLength) / updateEvery);
    this.stream = new OnlineStream({
      // a loaded model file's network as it is; otherwise the page's model section on this task
      model: modelConfig ?? modelConfigFor(c, this.task),
      learner: c.learner.name,
      optimizer: { name: o.name, lr: o.lr, clip: o.clip, weightDecay: o.weightDecay, momentum: o.momentum },
      updateEvery,
      seed: t.seed,
      window: c.learner.window,
      learnerOptions,
      backend: t.backend,
      dtype: t.dtype,
      device: c.device,
      pruneEvery: t.pruneEvery,
      ...(c.model.maskMethod === 'magnitude'
        ? { pruneUntil: t.pruneUntil > 0 ? t.pruneUntil : Math.max(1, Math.floor((2 * updates) / 3)) }
        : {}),
    });
    this.peakStateBytes = trackPeakState(this.stream.learner);
    if (spec.modelText !== undefined) loadModelInto(this.stream.network, spec.modelText, spec.modelName ?? 'model file');
    this.rng = new Rng(runSettings(c).seed + 2);
    this.batch = this.task.batch(1, this.rng);
    this.metric = new MetricAccumulator(this.task.loss, this.task.outputSize, this.task.metric);
    this.recorder = new SequenceRecorder(this.task.loss, this.task.outputSize);
    this.hidden = new HiddenRecorder(this.stream.network);
    const fwd = new ForwardPass(this.stream.network, 1);
    fwd.ctx.training = false;
    this.shadow = { fwd, caches: this.stream.network.modules.map((m) => m.createCache(this.stream.backend, 1)) };
    const learner = this.stream.learner.name;
    this.probe = learner === 'bptt' ? null : new AlignmentProbe(this.stream.network, learner, learnerOptions);
  }

  get step(): number {
    return this.sequences;
  }

  get steps(): number {
    return runSettings(this.config).steps;
  }

  get diverged(): Divergence | null {
    return this.watch.diverged;
  }

  get done(): boolean {
    return this.sequences >= this.steps || this.watch.diverged !== null;
  }

  get backend(): string {
    return `${this.stream.backend.name}/${this.stream.backend.dtype}`;
  }

  /** feed samples until `ms` milliseconds have passed (at least one task sequence's worth), `until` sequences are done, or the stream is complete */
  trainFor(ms: number, until = Infinity): number {
    const start = performance.now();
    const T = this.task.seqLength;
    let n = 0,
      learnMs = 0;
    while (!this.done && this.sequences < until) {
      const { x, target, mask } = this.batch;
      const t = this.t;
      this.maskBuf[0] = mask[t]![0]!;
      this.shadow.fwd.load(x[t]!);
      this.shadow.fwd.run(this.shadow.caches);
      this.hidden.add(this.shadow.fwd.acts);
      const t0 = performance.now();
      let r;
      try {
        r = this.stream.push(x[t]!, target[t]!, this.maskBuf[0]);
      } catch (e) {
        if (this.watch.fromError(this.sequences + 1, e)) break;
        throw e;
      }
      learnMs += performance.now() - t0;
      this.sequenceLoss += r.loss;
      this.metric.add(1, r.prediction, target[t]!, this.maskBuf);
      this.recorder.add(r.prediction, target[t]!, this.maskBuf[0]);
      this.samplesSinceReport++;
      n++;
      if (++this.t === T) {
        // the next task sequence follows at once: the network's state carries on, nothing is reset
        this.last = { view: this.recorder.view(inputRows(this.batch)), layers: this.hidden.layers(), batch: this.batch };
        this.recorder.reset();
        this.hidden.reset();
        this.batch = this.task.batch(1, this.rng);
        this.t = 0;
        this.sequences++;
        this.sequencesSinceReport++;
        this.lossSum += this.sequenceLoss;
        const diverged = this.watch.check(this.sequences, this.sequenceLoss, this.metric.value());
        this.sequenceLoss = 0;
        if (diverged || (n >= T && performance.now() - start >= ms)) break;
      }
    }
    this.trainMs += learnMs;
    return n;
  }

  progress(): Progress {
    const seqs = this.sequencesSinceReport;
    // the loss per task sequence and the metric of the predictions since the last report (made before learning)
    const online = seqs > 0 ? { loss: this.lossSum / seqs, value: this.metric.value() } : null;
    const finite = this.watch.diverged === null;
    const p: Progress = {
      step: this.sequences,
      steps: this.steps,
      loss: online?.loss ?? null,
      value: online?.value ?? null,
      eval: online,
      usPerStep: this.samplesSinceReport > 0 ? (this.trainMs * 1000) / this.samplesSinceReport : null,
      stateBytes: this.peakStateBytes(),
      sequence: this.last?.view ?? this.recorder.view(inputRows(this.batch)),
      inside: {
        layers: this.last?.layers ?? this.hidden.layers(),
        spiking: isSpiking(this.stream.network.config.model),
        traces: traceSizes(this.stream.learner),
      },
      // the learner's gradient on the last task sequence (from zero state, the weights as they are now) against BPTT's
      alignment: this.probe && this.last && finite ? this.probe.measure(this.last.batch) : null,
      diverged: this.watch.diverged,
      done: this.done,
    };
    if (seqs > 0) {
      this.lossSum = 0;
      this.sequencesSinceReport = 0;
      this.metric.reset();
    }
    this.trainMs = this.samplesSinceReport = 0;
    return p;
  }

  info(): Omit<RunInfo, 'pointEvery' | 'backend'> {
    return {
      params: this.stream.network.size,
      seqLength: this.task.seqLength,
      metric: this.task.metric,
      reference: referenceLevel(this.task),
      higherIsBetter: higherIsBetter(this.task.metric),
      config: this.config,
    };
  }

  modelText(): string {
    const { name, preset, settings } = this.task;
    return JSON.stringify(this.stream.modelFile({ name, preset, settings: { ...settings } })) + '\n';
  }
}
