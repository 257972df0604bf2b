/**
 * `eprop`, `eprop-random`, `snap1` — per-synapse eligibility traces in every recurrent layer (the `diag` or
 * `snap1` trace rule, learners/traces/diag.ts) × a learning signal at time t (the `backprop` or
 * `random-feedback` signal rule):
 *
 *   ∂L/∂θ ≈ Σ_t Σ_i L_t[i] · ∂y_t[i]/∂s_t · ε_t[θ]
 *
 * - `eprop` (Bellec et al., Nature Comm. 2020): diag traces (the unit's own ∂f/∂s) × L_t = ∂L_t/∂y_t
 *   backpropagated through the network at time t only (through the layers above, no path through time).
 * - `eprop-random`: diag traces × L^l_t = B^l·∂L_t/∂ŷ_t with fixed random B^l (signals/random-feedback.ts).
 * - `snap1` (Menick et al., ICLR 2021): the diagonal of the full state Jacobian (the recurrent
 *   self-connection included) × the backprop signal.
 * The readout gets its exact gradient (its VJP at each step).
 * Exact: `eprop` and `snap1` equal BPTT for one layer without recurrent synapses (W_hh = 0; model config
 * `recurrent: false`); `snap1` also for a layer of one unit. In a stack both drop every path from a lower
 * layer's parameters through a later step of a higher layer (see `deep-eprop` for the rule that keeps them).
 * Cost per step and sample: O(S²·P) for the P recurrent-layer parameters, plus one spatial backward;
 * memory S·P numbers per sample (snap1: + the previous step's ∂h/∂s), independent of the sequence length.
 */
import type { Buf } from '../backend/backend.js';
import { UnsupportedError } from '../core/errors.js';
import type { BackwardWorkspace, Network, RecurrentBackward } from '../model/network.js';
import type { ModuleCache } from '../modules/module.js';
import { RecurrentLayer, type RecCache } from '../modules/recurrent.js';
import { ForwardPass } from '../model/forward.js';
import type { Learner, LearnerOptions, LearnerState } from './learner.js';
import { RandomFeedback } from './signals/random-feedback.js';
import { DiagTraces, type DiagRule } from './traces/diag.js';

export type SignalRule = 'backprop' | 'random-feedback';

export class TraceLearner implements Learner {
  readonly batchSize: number;
  private readonly fwd: ForwardPass;
  private readonly caches: ModuleCache[];
  private readonly traces: (DiagTraces | null)[];
  private readonly feedback: RandomFeedback | null;
  private readonly signals: (Buf | null)[];
  private readonly workspace: BackwardWorkspace;
  private readonly dOut: Buf;
  private readonly atTimeT: RecurrentBackward;

  constructor(readonly network: Network, options: LearnerOptions, readonly name: string, rule: DiagRule, signal: SignalRule) {
    const be = network.backend, B = (this.batchSize = options.batchSize);
    if (network.config.decorrelate) throw new UnsupportedError(`${name} does not support decorrelated models (decorrelate: true); use bptt or a perturbation learner`);
    const bad = network.modules.find((m) => m.recurrent && !(m instanceof RecurrentLayer));
    if (bad) throw new UnsupportedError(`${name} needs recurrent layers of a unit model; this network has a '${bad.kind}' layer`);
    this.fwd = new ForwardPass(network, B, options.seed ?? 0);
    this.caches = network.modules.map((m) => m.createCache(be, B));
    this.traces = network.modules.map((m) => (m instanceof RecurrentLayer ? new DiagTraces(m, be, B, rule) : null));
    this.feedback = signal === 'random-feedback' ? new RandomFeedback(network, 0x5eed + (options.seed ?? 0)) : null;
    this.signals = network.modules.map((m) => (m.recurrent && this.feedback ? be.alloc(B * m.outSize) : null));
    this.workspace = network.createBackwardWorkspace(B);
    this.dOut = be.alloc(B * network.outputSize);
    this.atTimeT = (i, _m, moduleCache, dy, dx) => {
      const tr = this.traces[i]!, cache = moduleCache as RecCache;
      if (this.feedback) {
        // the layer's signal is its random projection of the output error; nothing passes down
        this.feedback.signal(i, this.dOut, this.signals[i]!);
        tr.accumulate(cache, this.signals[i]!);
        if (dx) be.fill(dx, 0);
        return;
      }
      tr.accumulate(cache, dy);
      if (dx) tr.backwardInput(cache, dy, dx);
    };
  }

  get output(): Buf {
    return this.fwd.output;
  }

  startSequence(): void {
    this.fwd.resetStates();
    for (const t of this.traces) t?.reset();
  }

  step(x: ArrayLike<number>, target: ArrayLike<number> | null, mask: ArrayLike<number> | null): number {
    const net = this.network;
    this.fwd.load(x);
    const out = this.fwd.run(this.caches);
    // the traces advance at every step, with or without a loss
    this.traces.forEach((t, i) => t?.step(this.caches[i] as RecCache));
    if (!target) return 0;
    const loss = net.loss.evaluate(this.batchSize, out, target, mask, this.dOut);
    net.backwardStep(this.caches, this.dOut, this.workspace, this.atTimeT);
    return loss;
  }

  flush(): void {
    // every step's gradient was added when the step ran
  }

  stateBytes(): number {
    return this.traces.reduce((s, t) => s + (t ? t.bytes : 0), 0);
  }

  private carried(): Buf[] {
    return [...this.traces.flatMap((t) => (t ? t.buffers() : [])), ...(this.feedback ? this.feedback.buffers() : [])];
  }

  saveState(): LearnerState {
    return this.fwd.saveState(this.carried());
  }

  loadState(state: LearnerState): void {
    this.fwd.loadState(state, this.carried(), this.name);
  }
}
