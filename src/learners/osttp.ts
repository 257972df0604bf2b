/**
 * `osttp` — online spatio-temporal learning with target projection (Ortner, Pes, Gentinetta, Frenkel,
 * Pantazi, AICAS 2023, arXiv:2304.05124): OSTL's per-layer eligibility traces (the `diag` trace rule) ×
 * the `target-projection` signal rule (DRTP) for the hidden layers; the output layer learns from its own
 * error (research/osttp-and-perturbation.md §A.5).
 *
 *   hidden layer l:  ε^l_t = (∂s_t/∂s_{t−1}) ε^l_{t−1} + ∂s_t/∂θ^l,   e^l_t = (∂y_t/∂s_t) ε^l_t (+ ∂y_t/∂θ)
 *                    L^l_t = B^l · ŷ*_t                  (fixed random B^l, seeded, in the checkpoint; Eq. 11)
 *                    at the scored steps (mask 1), or with targetTiming 'every-step' at every step, the
 *                    unscored ones included (braintrace's target_timing 'per-step'): the signal needs no
 *                    output, so a label known for the whole sequence can teach while the input arrives
 *                    ∂θ^l += L^l_t · e^l_t                                                            (Eq. 6)
 *   output layer:    the readout's own gradient at time t, (softmax(ŷ_t) − ŷ*_t)·y^Lᵀ for ce, (ŷ_t − y*_t)·y^Lᵀ for mse
 *
 * Order inside one step, bottom to top: layer l runs its forward step, advances its traces and adds its
 * gradient at once — before layer l+1 has even run at this step. Nothing travels down the network (no
 * weight transport: no layer ever reads another layer's weights to learn) and nothing waits for the output
 * (no update locking); nothing is kept from earlier steps but the traces (no backward pass through time).
 * With the trainer's updateEvery = 1 every layer is updated at every step from that step's quantities only.
 * Exact: the output layer's gradient (it equals BPTT's readout gradient); the hidden updates are not
 * gradients (a feedback-alignment-like teaching signal), so the rule is approximate.
 * Cost per step and sample: O(S²·P) trace update and accumulation for the P recurrent-layer parameters,
 * O(n_l·outputSize) per layer for the signal, the readout's outer product; memory S·P per sample plus the
 * projection matrices — independent of the sequence length.
 * Supports networks of recurrent layers of any unit model followed by the dense readout (not the LRU stack).
 */
import type { Buf } from '../backend/backend.js';
import { UnsupportedError } from '../core/errors.js';
import type { Network } from '../model/network.js';
import { Dense } from '../modules/dense.js';
import type { Module, ModuleCache } from '../modules/module.js';
import { RecurrentLayer, type RecCache } from '../modules/recurrent.js';
import { ForwardPass } from '../model/forward.js';
import type { Learner, LearnerOptions, LearnerState } from './learner.js';
import { TargetProjection } from './signals/target-projection.js';
import { DiagTraces } from './traces/diag.js';

export class OsttpLearner implements Learner {
  readonly name = 'osttp';
  readonly batchSize: number;
  private readonly fwd: ForwardPass;
  private readonly caches: ModuleCache[];
  private readonly layers: RecurrentLayer[];
  private readonly traces: DiagTraces[];
  private readonly readout: Module;
  /** the fixed random projections B^l of the target (read-only use: tests, inspection) */
  readonly projection: TargetProjection;
  private readonly signals: Buf[];
  private readonly dOut: Buf;
  private readonly everyStep: boolean;

  constructor(readonly network: Network, options: LearnerOptions) {
    const be = network.backend, B = (this.batchSize = options.batchSize);
    const mods = network.modules, top = mods.length - 1;
    const hidden = mods.slice(0, top);
    if (!(mods[top] instanceof Dense) || hidden.some((m) => !(m instanceof RecurrentLayer)) || network.skipFrom.some((s) => s !== null)) {
      throw new UnsupportedError(`osttp trains recurrent layers of a unit model under a dense readout; this network is ${mods.map((m) => m.kind).join(' → ')}`);
    }
    this.layers = hidden as RecurrentLayer[];
    this.readout = mods[top] as Module;
    this.fwd = new ForwardPass(network, B, options.seed ?? 0);
    this.caches = mods.map((m) => m.createCache(be, B));
    this.traces = this.layers.map((l) => new DiagTraces(l, be, B, 'diag'));
    this.projection = new TargetProjection(network, B, 0x7a26e7 + (options.seed ?? 0), options.projection !== 'raw');
    this.signals = this.layers.map((l) => be.alloc(B * l.outSize));
    this.dOut = be.alloc(B * network.outputSize);
    this.everyStep = options.targetTiming === 'every-step';
  }

  get output(): Buf {
    return this.fwd.output;
  }

  startSequence(): void {
    this.fwd.resetStates();
    for (const t of this.traces) t.reset();
  }

  step(x: ArrayLike<number>, target: ArrayLike<number> | null, mask: ArrayLike<number> | null): number {
    const fwd = this.fwd, top = this.layers.length;
    fwd.load(x);
    // 'every-step': the target is a label given at every step, scored or not (mask 0): project it regardless
    if (target) this.projection.encode(target, this.everyStep ? null : mask);
    let input = fwd.input;
    for (let l = 0; l < top; l++) {
      const layer = this.layers[l]!, cache = this.caches[l] as RecCache;
      layer.forward(input, fwd.acts[l]!, cache, fwd.ctx, fwd.states[l]!);
      // this layer learns now, from its own traces and the target: nothing above it has run yet
      this.traces[l]!.step(cache);
      if (target) {
        this.projection.signal(l, this.signals[l]!);
        this.traces[l]!.accumulate(cache, this.signals[l]!);
      }
      input = fwd.acts[l]!;
    }
    this.readout.forward(input, fwd.acts[top]!, this.caches[top]!, fwd.ctx);
    if (!target) return 0;
    const loss = this.network.loss.evaluate(this.batchSize, fwd.acts[top]!, target, mask, this.dOut);
    // the output layer's own error; dx = null: nothing is sent down, W_readout is not read
    this.readout.backward(this.caches[top]!, this.dOut, null);
    return loss;
  }

  flush(): void {
    // every step's gradient was added when the step ran
  }

  stateBytes(): number {
    return this.traces.reduce((s, t) => s + t.bytes, 0);
  }

  private carried(): Buf[] {
    return [...this.traces.flatMap((t) => t.buffers()), ...this.projection.buffers()];
  }

  saveState(): LearnerState {
    return this.fwd.saveState(this.carried());
  }

  loadState(state: LearnerState): void {
    this.fwd.loadState(state, this.carried(), this.name);
  }
}
