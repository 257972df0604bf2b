/**
 * The playground's stream mode: the task's sequences arrive back to back as ONE unbroken stream, batch 1, and an
 * OnlineStream (src/train/stream.ts) predicts each sample and then learns from it — the state is never reset, an
 * update comes every `updateEvery` samples (0 means once per task sequence length). What the page shows is
 * prequential: every prediction was made before the network learned from that sample's target, so the running
 * loss is an honest error on data it had not seen. The same model file comes out as in episode mode.
 */
import { Rng } from '../src/core/rng.js';
import { modelConfigFor } from '../src/train/trainer.js';
import { MetricAccumulator } from '../src/train/metrics.js';
import { OnlineStream } from '../src/train/stream.js';
import type { RunConfig } from '../src/train/config.js';
import { createTask, type Batch, type Task } from '../src/tasks/index.js';
import { loadModelInto, resolveConfig, SequenceRecorder, trackPeakState, type Session } from './run.js';
import type { Progress, RunSpec, SequenceView } from './protocol.js';

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
  private lastView: SequenceView | null = null;
  private readonly peakStateBytes: () => number;
  private lossSum = 0;
  private sequencesSinceReport = 0;
  private trainMs = 0;
  private samplesSinceReport = 0;

  constructor(spec: RunSpec) {
    const { config: c, modelConfig } = resolveConfig(spec);
    this.config = c;
    this.task = createTask(c.task.name, c.task.preset, c.task.settings);
    // a loaded model file's network as it is; otherwise the page's model section on this task
    const { name: learner, ...learnerOptions } = c.learner;
    const o = c.optimizer, t = c.train;
    const updateEvery = t.updateEvery > 0 ? t.updateEvery : this.task.seqLength;
    // magnitude pruning reaches its density after two thirds of the run's updates, as in episode mode
    const updates = Math.floor((t.steps * this.task.seqLength) / updateEvery);
    this.stream = new OnlineStream({
      model: modelConfig ?? modelConfigFor(c, this.task),
      learner,
      learnerOptions,
      optimizer: { name: o.name, lr: o.lr, clip: o.clip, weightDecay: o.weightDecay, momentum: o.momentum },
      updateEvery,
      seed: t.seed,
      window: c.learner.window,
      backend: t.backend,
      dtype: t.dtype,
      device: c.device,
      pruneEvery: t.pruneEvery,
      ...(c.model.maskMethod === 'magnitude' ? { pruneUntil: t.pruneUntil > 0 ? t.pruneUntil : Math.max(1, Math.floor((2 * updates) / 3)) } : {}),
    });
    this.peakStateBytes = trackPeakState(this.stream.learner);
    if (spec.modelText !== undefined) loadModelInto(this.stream.network, spec.modelText, spec.modelName ?? 'model file');
    this.rng = new Rng(t.seed + 2);
    this.batch = this.task.batch(1, this.rng);
    this.metric = new MetricAccumulator(this.task.loss, this.task.outputSize);
    this.recorder = new SequenceRecorder(this.task.loss, this.task.outputSize);
  }

  get done(): boolean {
    return this.sequences >= this.config.train.steps;
  }

  get backend(): string {
    return `${this.stream.backend.name}/${this.stream.backend.dtype}`;
  }

  /** feed samples until `ms` milliseconds have passed (at least one task sequence's worth) or the stream is complete */
  trainFor(ms: number): number {
    const start = performance.now();
    const T = this.task.seqLength;
    let n = 0;
    while (!this.done) {
      const { x, target, mask } = this.batch;
      const t = this.t;
      this.maskBuf[0] = mask[t]![0]!;
      const r = this.stream.push(x[t]!, target[t]!, this.maskBuf[0]);
      this.lossSum += r.loss;
      this.metric.add(1, r.prediction, target[t]!, this.maskBuf);
      this.recorder.add(r.prediction, target[t]!, this.maskBuf[0]);
      this.samplesSinceReport++;
      n++;
      if (++this.t === T) {
        // the next task sequence follows at once: the network's state carries on, nothing is reset
        this.lastView = this.recorder.view();
        this.recorder.reset();
        this.batch = this.task.batch(1, this.rng);
        this.t = 0;
        this.sequences++;
        this.sequencesSinceReport++;
        if (n >= T && performance.now() - start >= ms) break;
      }
    }
    this.trainMs += performance.now() - start;
    return n;
  }

  progress(_evaluate: boolean): Progress {
    const seqs = this.sequencesSinceReport;
    // the loss per task sequence and the metric of the predictions since the last report (made before learning)
    const online = seqs > 0 ? { loss: this.lossSum / seqs, value: this.metric.value() } : null;
    const p: Progress = {
      step: this.sequences,
      steps: this.config.train.steps,
      loss: online?.loss ?? null,
      value: online?.value ?? null,
      eval: online,
      usPerStep: this.samplesSinceReport > 0 ? (this.trainMs * 1000) / this.samplesSinceReport : null,
      stateBytes: this.peakStateBytes(),
      sequence: this.lastView ?? this.recorder.view(),
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

  info(): { params: number; seqLength: number; metric: string; config: RunConfig } {
    return { params: this.stream.network.size, seqLength: this.task.seqLength, metric: this.task.metric, config: this.config };
  }

  modelText(): string {
    const { name, preset, settings } = this.task;
    return JSON.stringify(this.stream.modelFile({ name, preset, settings: { ...settings } })) + '\n';
  }
}
