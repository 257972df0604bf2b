/**
 * `deep-eprop` — Millidge's generalisation of e-prop to deep networks ("Generalising E-prop to Deep Networks",
 * 2025): the `deep` trace rule with a diagonal within-layer Jacobian (learners/traces/deep.ts) × the loss
 * signal at the top layer. On a stack of recurrent layers:
 *
 *   ∂L/∂θ_k ≈ Σ_t (∂L_t/∂y^top_t) · Y^{top,k}_t,   Y carried up the stack through the exact inter-layer
 *   Jacobians, each layer's own past only through its units' own ∂f/∂s;  the readout gets its exact gradient.
 *
 * Exact (equals BPTT) on stacks whose layers have no recurrent synapses (model config `recurrent: false`),
 * where the dropped path W_hh·dy_{t−1}/dθ is zero; approximate otherwise. One layer: it is `eprop`.
 * On LRU stacks (diagonal recurrences, feed-forward blocks between layers) the same rule runs on the RTRL
 * engine with within-layer Jacobian 'diag' (rtrl.ts), where it is exact.
 * Cost per step and sample: O(S·P_k) for each layer's own traces, O(S_l·n_l·(n_{l−1} + S_l)·P_k) for each
 * pair l > k (the own block of the layer below enters at n_l per parameter); memory S_k·P_k + Σ_{l>k} S_l·n_l·P_k
 * numbers per sample (stateBytes), independent of the sequence length.
 */
import type { Buf } from '../backend/backend.js';
import { UnsupportedError } from '../core/errors.js';
import type { Network } from '../model/network.js';
import type { ModuleCache } from '../modules/module.js';
import { RecurrentLayer, type RecCache } from '../modules/recurrent.js';
import { ForwardPass } from '../model/forward.js';
import type { Learner, LearnerOptions, LearnerState } from './learner.js';
import { RtrlLearner } from './rtrl.js';
import { DeepDiagTraces } from './traces/deep.js';

export class DeepEpropLearner implements Learner {
  readonly name = 'deep-eprop';
  readonly batchSize: number;
  private readonly fwd: ForwardPass;
  private readonly caches: ModuleCache[];
  private readonly recCaches: RecCache[];
  private readonly deep: DeepDiagTraces;
  private readonly dOut: Buf;
  private readonly dyTop: Buf;

  constructor(readonly network: Network, options: LearnerOptions) {
    const be = network.backend, B = (this.batchSize = options.batchSize);
    if (network.config.decorrelate) throw new UnsupportedError('deep-eprop does not support decorrelated models (decorrelate: true); use bptt or a perturbation learner');
    const mods = network.modules, layers = mods.slice(0, -1);
    if (!layers.every((m) => m instanceof RecurrentLayer) || mods[mods.length - 1]!.recurrent) {
      throw new UnsupportedError('deep-eprop\'s trace engine runs on stacks of recurrent layers with a readout');
    }
    this.fwd = new ForwardPass(network, B, options.seed ?? 0);
    this.caches = mods.map((m) => m.createCache(be, B));
    this.recCaches = this.caches.slice(0, -1) as RecCache[];
    this.deep = new DeepDiagTraces(layers as RecurrentLayer[], be, B);
    this.dOut = be.alloc(B * network.outputSize);
    this.dyTop = be.alloc(B * layers[layers.length - 1]!.outSize);
  }

  get output(): Buf {
    return this.fwd.output;
  }

  startSequence(): void {
    this.fwd.resetStates();
    this.deep.reset();
  }

  step(x: ArrayLike<number>, target: ArrayLike<number> | null, mask: ArrayLike<number> | null): number {
    const net = this.network, mods = net.modules, top = mods.length - 1;
    this.fwd.load(x);
    const out = this.fwd.run(this.caches);
    this.deep.step(this.recCaches);
    if (!target) return 0;
    const loss = net.loss.evaluate(this.batchSize, out, target, mask, this.dOut);
    // the readout: its exact gradient, and the signal at the top recurrent layer
    const readout = mods[top]!;
    if (readout.recurrent) throw new UnsupportedError('deep-eprop: the top module must be a readout');
    readout.backward(this.caches[top]!, this.dOut, this.dyTop);
    this.deep.accumulate(this.recCaches, this.dyTop);
    return loss;
  }

  flush(): void {
    // every step's gradient was added when the step ran
  }

  stateBytes(): number {
    return this.deep.bytes;
  }

  saveState(): LearnerState {
    return this.fwd.saveState(this.deep.buffers());
  }

  loadState(state: LearnerState): void {
    this.fwd.loadState(state, this.deep.buffers(), this.name);
  }
}

/** deep-eprop on stacks of unit-model layers; on LRU stacks the RTRL engine with a diagonal within-layer Jacobian */
export function createDeepEprop(network: Network, options: LearnerOptions): Learner {
  if (network.config.model === 'lru') return new RtrlLearner(network, options, 'deep-eprop', 'diag');
  return new DeepEpropLearner(network, options);
}
