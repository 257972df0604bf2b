/**
 * `--threads N`: one learner step split over N threads by samples. The calling thread runs the first share of
 * the batch on the network itself; N − 1 worker threads (parallel-worker.ts) each hold a copy of the network and
 * a learner for their share. The threads share nothing but SharedArrayBuffers: inputs, outputs and losses of
 * every step, and, when the gradient is read (flush), each worker's gradient, which the calling thread adds to
 * its own in worker order — a fixed reduction order, so a run is reproducible; against one thread the sums
 * differ only in float rounding. Parameters go out to the workers before the first step after a flush (the
 * optimizer updates them in between).
 *
 * Each share is normalised as a part of the whole batch: its samples' mask weights are scaled by B_k / B, so
 * the per-sample weight mask/B of the loss (and of every gradient) is that of one thread with the full batch.
 *
 * Steps synchronise with Atomics (wait/notify on the shared control words), so `step` stays synchronous as the
 * Learner interface wants; that needs Atomics.wait on the calling thread (Node, or a browser worker). Not for
 * learners with their own random draws when results must match one thread (each worker's generator is its
 * own), nor for sparse or device-backed networks, mid-sequence checkpoints of the workers' state, or B < N.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BackendName, Buf } from '../backend/backend.js';
import { ConfigError, UnsupportedError } from '../core/errors.js';
import { createLearner, type Learner, type LearnerOptions, type LearnerState } from '../learners/index.js';
import type { Network } from '../model/network.js';

/** control words per worker: [command, …]; commands below; the worker writes 0 when done */
export const Cmd = { idle: 0, step: 1, stepNoTarget: 2, start: 3, flush: 4, params: 5, quit: 6 } as const;

export interface WorkerSetup {
  modelConfig: Network['config'];
  backend: { backend: BackendName; dtype: 'float32' | 'float64' };
  learner: string;
  options: LearnerOptions;
  /** this worker's index among the workers (0-based) and its control word */
  index: number;
  control: SharedArrayBuffer;
  /** the shared step buffers: x, target, mask (in), output, loss and state bytes (out), gradient, parameters */
  x: SharedArrayBuffer;
  target: SharedArrayBuffer;
  mask: SharedArrayBuffer;
  output: SharedArrayBuffer;
  info: SharedArrayBuffer;
  grad: SharedArrayBuffer;
  params: SharedArrayBuffer;
}

interface Share {
  worker: Worker;
  start: number;
  B: number;
  x: Float64Array;
  target: Float64Array;
  mask: Float64Array;
  output: Float64Array;
  info: Float64Array;
  grad: Float64Array;
}

const f64 = (n: number): SharedArrayBuffer => new SharedArrayBuffer(8 * Math.max(1, n));

/** the first share stays on the calling thread; shares differ by at most one sample */
export function splitBatch(B: number, threads: number): { start: number; B: number }[] {
  return Array.from({ length: threads }, (_, k) => {
    const start = Math.floor((k * B) / threads);
    return { start, B: Math.floor(((k + 1) * B) / threads) - start };
  });
}

export class ParallelLearner implements Learner {
  readonly name: string;
  readonly batchSize: number;
  readonly output: Buf;
  private readonly local: Learner;
  private readonly localB: number;
  private readonly shares: Share[];
  private readonly control: Int32Array;
  private readonly params: Float64Array;
  private readonly localMask: Float64Array;
  private paramsStale = true;
  private closed = false;

  constructor(
    readonly network: Network,
    name: string,
    options: LearnerOptions,
    readonly threads: number,
  ) {
    const B = options.batchSize;
    if (!Number.isInteger(threads) || threads < 2)
      throw new ConfigError(`threads must be an integer ≥ 2 for a parallel learner, got ${threads}`);
    if (B < threads)
      throw new ConfigError(`--threads ${threads} needs a batch of at least ${threads} samples, got ${B}; use fewer threads`);
    if (network.masks.size > 0) throw new UnsupportedError('--threads does not support sparse networks (masks) yet; use one thread');
    this.name = name;
    this.batchSize = B;
    const parts = splitBatch(B, threads);
    this.localB = parts[0]!.B;
    this.local = createLearner(name, network, { ...options, batchSize: this.localB });
    const be = network.backend,
      net = network;
    this.output = be.alloc(B * net.outputSize);
    this.control = new Int32Array(new SharedArrayBuffer(4 * threads));
    const paramsBuf = f64(net.size);
    this.params = new Float64Array(paramsBuf);
    this.localMask = new Float64Array(this.localB);
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    const script = new URL(`./parallel-worker${ext}`, import.meta.url);
    const inSize = net.config.inputSize,
      tw = net.loss.targetWidth;
    this.shares = parts.slice(1).map((p, k) => {
      const bufs = {
        x: f64(p.B * inSize),
        target: f64(p.B * tw),
        mask: f64(p.B),
        output: f64(p.B * net.outputSize),
        info: f64(3),
        grad: f64(net.size),
      };
      const setup: WorkerSetup = {
        modelConfig: net.config,
        backend: { backend: be.name, dtype: be.dtype },
        learner: name,
        options: { ...options, batchSize: p.B, seed: (options.seed ?? 0) + 1000 * (k + 1) },
        index: k + 1,
        control: this.control.buffer as SharedArrayBuffer,
        params: paramsBuf,
        ...bufs,
      };
      const worker = startWorker(script, setup);
      worker.unref();
      return {
        worker,
        start: p.start,
        B: p.B,
        x: new Float64Array(bufs.x),
        target: new Float64Array(bufs.target),
        mask: new Float64Array(bufs.mask),
        output: new Float64Array(bufs.output),
        info: new Float64Array(bufs.info),
        grad: new Float64Array(bufs.grad),
      };
    });
    // the workers build their learners now; a failure there (say, memory) reaches the caller at the first wait
    this.broadcast(Cmd.params);
  }

  /** post a command to every worker (after the shared inputs are written) */
  private post(cmd: number): void {
    for (let k = 1; k <= this.shares.length; k++) {
      Atomics.store(this.control, k, cmd);
      Atomics.notify(this.control, k);
    }
  }

  /** wait until every worker has finished its command; their multiply-adds join the backend's counter */
  private wait(): void {
    for (let k = 1; k <= this.shares.length; k++) {
      for (;;) {
        const v = Atomics.load(this.control, k);
        if (v === Cmd.idle) break;
        if (v < 0)
          throw new ConfigError(`parallel learner: worker ${k} failed (see its message above); rerun with one thread to see the error`);
        Atomics.wait(this.control, k, v, 50);
      }
      const info = this.shares[k - 1]!.info;
      this.network.backend.macs += info[2]!;
      info[2] = 0;
    }
  }

  private broadcast(cmd: number): void {
    if (cmd === Cmd.params) this.params.set(this.network.params.flat.data);
    this.post(cmd);
    this.wait();
    if (cmd === Cmd.params) this.paramsStale = false;
  }

  startSequence(): void {
    if (this.paramsStale) this.broadcast(Cmd.params);
    this.post(Cmd.start);
    this.local.startSequence();
    this.wait();
  }

  step(x: ArrayLike<number>, target: ArrayLike<number> | null, mask: ArrayLike<number> | null): number {
    if (this.paramsStale) this.broadcast(Cmd.params);
    const B = this.batchSize,
      d = x.length / B,
      tw = target ? target.length / B : 0;
    for (const s of this.shares) {
      for (let i = 0; i < s.B * d; i++) s.x[i] = x[s.start * d + i]!;
      if (target) {
        for (let i = 0; i < s.B * tw; i++) s.target[i] = target[s.start * tw + i]!;
        for (let b = 0; b < s.B; b++) s.mask[b] = ((mask ? mask[s.start + b]! : 1) * s.B) / B;
      }
    }
    this.post(target ? Cmd.step : Cmd.stepNoTarget);
    let localTarget: ArrayLike<number> | null = null;
    if (target) {
      for (let b = 0; b < this.localB; b++) this.localMask[b] = ((mask ? mask[b]! : 1) * this.localB) / B;
      localTarget = this.localB === B ? target : subarray(target, 0, this.localB * tw);
    }
    const xLocal = subarray(x, 0, this.localB * d);
    let loss = this.local.step(xLocal, localTarget, target ? this.localMask : null);
    this.wait();
    const o = this.network.outputSize,
      out = this.output.data;
    out.set(this.local.output.data.subarray(0, this.localB * o));
    for (const s of this.shares) {
      out.set(s.output.subarray(0, s.B * o), s.start * o);
      loss += s.info[0]!;
    }
    return loss;
  }

  /** complete every share's gradient and add the workers' to the network's, in worker order */
  flush(): void {
    this.post(Cmd.flush);
    this.local.flush();
    this.wait();
    const g = this.network.grads.flat,
      be = this.network.backend,
      gd = g.data;
    for (const s of this.shares) for (let i = 0; i < gd.length; i++) gd[i] = gd[i]! + s.grad[i]!;
    be.macs += this.shares.length * gd.length;
    this.paramsStale = true; // the optimizer updates the parameters next
  }

  stateBytes(): number {
    return this.local.stateBytes() + this.shares.reduce((s, w) => s + w.info[1]!, 0);
  }

  /**
   * The calling thread's share only: the episodic trainer checkpoints between sequences, where every share
   * restarts at startSequence, so that is all a resume needs there. The workers' mid-sequence states are not
   * saved: resume mid-sequence (a stream) with one thread.
   */
  saveState(): LearnerState {
    return this.local.saveState();
  }

  loadState(state: LearnerState): void {
    this.local.loadState(state);
    this.paramsStale = true;
  }

  /** stop the workers (they are unref'd, so a process also exits without it) */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.post(Cmd.quit);
  }
}

/**
 * The worker thread. From the TypeScript sources (tests, `node --import tsx`) the worker registers tsx's loader
 * first: loader hooks are per thread, and a worker does not inherit the parent's.
 */
function startWorker(script: URL, setup: WorkerSetup): Worker {
  if (!script.pathname.endsWith('.ts')) return new Worker(script, { workerData: setup });
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(script.href)}); })`;
  return new Worker(code, { eval: true, workerData: setup });
}

/** a view of the first `length` numbers, without copying when the input is a typed array */
function subarray(a: ArrayLike<number>, start: number, length: number): ArrayLike<number> {
  if (a instanceof Float64Array || a instanceof Float32Array) return a.subarray(start, start + length);
  return Array.prototype.slice.call(a, start, start + length) as number[];
}

/** batches from this size up are split over the machine's cores by default */
export const PARALLEL_MIN_BATCH = 8;

/**
 * The default thread count for a batch of B: the cores available for batches ≥ 8 (never more threads than
 * samples), one for smaller batches and streams (B = 1), where a step is too short to pay for the hand-off.
 */
export function defaultThreads(B: number): number {
  return B >= PARALLEL_MIN_BATCH ? Math.max(1, Math.min(availableParallelism(), B)) : 1;
}

/** a learner for `threads` threads: the learner itself for one thread, a ParallelLearner otherwise */
export function createThreadedLearner(name: string, network: Network, options: LearnerOptions, threads = 1): Learner {
  if (!Number.isInteger(threads) || threads < 1) throw new ConfigError(`threads must be a whole number ≥ 1, got ${threads}`);
  return threads > 1 ? new ParallelLearner(network, name, options, threads) : createLearner(name, network, options);
}
