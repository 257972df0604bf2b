/**
 * `bptt` — backpropagation through time, the reference every other rule is checked against; and
 * `tbptt` — the same sweep over windows of k steps (TBPTT(k, k)).
 *
 * Forward: store each step's module caches and ∂L_t/∂ŷ_t. flush(): for t = last … first,
 *   δ_top = ∂L_t/∂ŷ_t;  δ flows down the chain through each module's VJP; recurrent modules add the carry
 *   from t+1 (∂L/∂s_t through s_{t+1}, ∂L/∂y_t through W_hh) and pass theirs to t−1.
 * Exact over the stored steps. tbptt flushes every k steps by itself, so no credit crosses a window
 * boundary (biased; with k ≥ T it is bptt).
 * Cost: time ≈ 2–3× the forward pass; memory O(T·B·(activations per step)), growing with the window.
 * Reference: Werbos 1990; Williams & Peng 1990 (truncation).
 */
import type { Buf } from '../backend/backend.js';
import { cacheBytes, elementBytes } from '../core/bytes.js';
import { ConfigError } from '../core/errors.js';
import type { BackwardWorkspace, Network, RecurrentBackward } from '../model/network.js';
import type { ModuleCache, RecurrentCarry } from '../modules/module.js';
import { ForwardPass } from '../model/forward.js';
import type { Learner, LearnerOptions, LearnerState } from './learner.js';

interface StepRecord {
  caches: ModuleCache[];
  dOut: Buf;
  bytes: number;
}

export class BpttLearner implements Learner {
  readonly batchSize: number;
  protected readonly fwd: ForwardPass;
  /** stored steps; the pool grows to the longest window seen and is then reused */
  private readonly records: StepRecord[] = [];
  private stored = 0;
  /** the next flush ends a window of k steps inside the sequence (set by step, read by flush) */
  private atTruncation = false;
  /** by module: the carry of each recurrent module from t+1 to t (null for feed-forward ones) */
  protected readonly carries: (RecurrentCarry | null)[];
  private readonly workspace: BackwardWorkspace;
  /** the recurrent modules' part of a reverse step: their backward with the carry from t+1 */
  private readonly throughTime: RecurrentBackward;

  constructor(
    readonly network: Network,
    options: LearnerOptions,
    readonly name = 'bptt',
    private readonly window = Infinity,
  ) {
    this.batchSize = options.batchSize;
    const be = network.backend,
      B = this.batchSize;
    this.fwd = new ForwardPass(network, B, options.seed ?? 0);
    this.carries = network.modules.map((m) => (m.recurrent ? m.createCarry(be, B) : null));
    this.workspace = network.createBackwardWorkspace(B);
    this.throughTime = (i, m, cache, dy, dx) => m.backward(cache, dy, dx, this.carries[i]!);
  }

  get output(): Buf {
    return this.fwd.output;
  }

  startSequence(): void {
    this.fwd.resetStates();
    this.stored = 0;
  }

  step(x: ArrayLike<number>, target: ArrayLike<number> | null, mask: ArrayLike<number> | null): number {
    this.fwd.load(x);
    const rec = this.record(this.stored);
    const out = this.fwd.run(rec.caches);
    let loss = 0;
    if (target) loss = this.network.loss.evaluate(this.batchSize, out, target, mask, rec.dOut);
    else this.network.backend.fill(rec.dOut, 0);
    this.stored++;
    if (this.stored >= this.window) {
      // through flush() itself, so a wrapper of flush (the playground's peak-memory probe) sees tbptt's own sweeps
      this.atTruncation = true;
      this.flush();
    }
    return loss;
  }

  private record(t: number): StepRecord {
    if (t < this.records.length) return this.records[t]!;
    const be = this.network.backend,
      B = this.batchSize;
    const caches = this.network.modules.map((m) => m.createCache(be, B));
    const dOut = be.alloc(B * this.network.outputSize);
    const rec = { caches, dOut, bytes: cacheBytes(caches) + dOut.length * elementBytes(be.dtype) };
    this.records.push(rec);
    return rec;
  }

  flush(): void {
    const atTruncation = this.atTruncation;
    this.atTruncation = false;
    this.sweep(atTruncation);
  }

  /**
   * The backward sweep over the stored steps. atTruncation: the sweep ends a window of k steps inside the
   * sequence (tbptt's own flush), not an update boundary or the sequence's end.
   */
  private sweep(atTruncation: boolean): void {
    if (this.stored === 0) return;
    this.seedCarries(atTruncation);
    for (let t = this.stored - 1; t >= 0; t--) {
      const rec = this.records[t]!;
      this.network.backwardStep(rec.caches, rec.dOut, this.workspace, this.throughTime);
    }
    this.stored = 0;
    this.afterSweep();
  }

  /** the credit arriving from after the stored steps: none (truncated) — DNI puts its synthetic gradient here */
  protected seedCarries(_atTruncation: boolean): void {
    const be = this.network.backend;
    for (const c of this.carries) {
      if (c) {
        be.fill(c.dS, 0);
        be.fill(c.dY, 0);
      }
    }
  }

  /** after a sweep the carries hold ∂L/∂(s, y) at the step before the window (DNI's training target) */
  protected afterSweep(): void {}

  /** buffers a subclass carries across windows (checkpoints), in a fixed order */
  protected carriedBuffers(): Buf[] {
    return [];
  }

  stateBytes(): number {
    // what the rule keeps to compute its gradient: the stored steps of the current window (and a subclass's buffers)
    let bytes = this.carriedBuffers().reduce((s, b) => s + b.length * elementBytes(this.network.backend.dtype), 0);
    for (let t = 0; t < this.stored; t++) bytes += this.records[t]!.bytes;
    return bytes;
  }

  saveState(): LearnerState {
    if (this.stored > 0) {
      throw new ConfigError(
        `${this.name}: a checkpoint must be taken at an update boundary (the stored window of ${this.stored} steps has not been flushed)`,
      );
    }
    return this.fwd.saveState(this.carriedBuffers());
  }

  loadState(state: LearnerState): void {
    this.fwd.loadState(state, this.carriedBuffers(), this.name);
    this.stored = 0;
  }
}

export function createTbptt(network: Network, options: LearnerOptions): BpttLearner {
  const k = options.window ?? 0;
  if (!Number.isInteger(k) || k < 1) throw new ConfigError(`tbptt needs a window k ≥ 1 (option 'window'), got ${options.window}`);
  return new BpttLearner(network, options, 'tbptt', k);
}
