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
import type { TrainConfig } from '../src/train/config.js';
import { createTask, type Batch, type Task } from '../src/tasks/index.js';
import { loadModelInto, resolveConfig, SequenceRecorder, trackPeakState, type Session } from './run.js';
import type { Progress, RunSpec, SequenceView } from './protocol.js';

export class PlaygroundStream implements Session {
  readonly config: TrainConfig;
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
    this.config = resolveConfig(spec);
    const c = this.config;
    this.task = createTask(c.task, c.preset, c.taskSettings);
    this.stream = new OnlineStream({
      model: modelConfigFor(c, this.task),
      learner: c.learner,
      optimizer: { name: c.optimizer, lr: c.lr, clip: c.clip, weightDecay: c.weightDecay, momentum: c.momentum },
      updateEvery: c.updateEvery > 0 ? c.updateEvery : this.task.seqLength,
      seed: c.seed,
      window: c.window,
      backend: c.backend,
      dtype: c.dtype,
    });
    this.peakStateBytes = trackPeakState(this.stream.learner);
    if (spec.modelText !== undefined) loadModelInto(this.stream.network, spec.modelText, spec.modelName ?? 'model file');
    this.rng = new Rng(c.seed + 2);
    this.batch = this.task.batch(1, this.rng);
    this.metric = new MetricAccumulator(this.task.loss, this.task.outputSize);
    this.recorder = new SequenceRecorder(this.task.loss, this.task.outputSize);
  }

  get done(): boolean {
    return this.sequences >= this.config.steps;
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
      steps: this.config.steps,
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

  info(): { params: number; seqLength: number; metric: string; config: TrainConfig } {
    return { params: this.stream.network.size, seqLength: this.task.seqLength, metric: this.task.metric, config: this.config };
  }

  modelText(): string {
    return JSON.stringify(this.stream.modelFile()) + '\n';
  }
}
