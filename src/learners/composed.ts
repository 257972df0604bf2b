/**
 * The one step loop of every trace × signal learner (rules.ts): forward, advance the traces, and hand the
 * step's learning signal to them.
 *
 *   signal rule that waits for the output (backprop at t, random feedback, the output error):
 *     forward through the network → trace.advance → loss → signal.deliver (the signal walks to each layer)
 *   signal rule that frees each layer (target projection — OSTTP's "no update locking"):
 *     for each module, bottom to top: forward; a recurrent module advances its traces and adds its
 *     gradient at once from its own signal, before the module above has run; the readout learns from its
 *     own error (dx = null: nothing is sent down, no weight above a layer is read).
 * Traces advance at every step, with or without a loss (a fused rule gets a zero signal then).
 */
import type { Buf } from '../backend/backend.js';
import { ShapeError, UnsupportedError } from '../core/errors.js';
import type { Network } from '../model/network.js';
import { OnlineLearnerBase } from './base.js';
import type { LearnerOptions, LearnerState } from './learner.js';
import type { SignalRule, SignalStep, TraceRule } from './rules.js';

export class ComposedLearner extends OnlineLearnerBase {
  private readonly dOut: Buf;
  private readonly stepView: SignalStep;
  /** freeing signal rules: one signal buffer per recurrent module */
  private readonly layerSignals: (Buf | null)[];

  constructor(
    network: Network,
    options: LearnerOptions,
    name: string,
    readonly trace: TraceRule,
    readonly signal: SignalRule,
  ) {
    super(network, options, name);
    const be = network.backend,
      B = options.batchSize,
      mods = network.modules;
    this.dOut = be.alloc(B * network.outputSize);
    this.stepView = { caches: this.caches, dOut: this.dOut, trace };
    if (signal.freesLayers && (mods[mods.length - 1]!.recurrent || trace.takes !== 'layer')) {
      throw new UnsupportedError(
        `${name}: a signal that frees each layer needs layer-local traces under a readout; this network is ${mods.map((m) => m.kind).join(' → ')}`,
      );
    }
    this.layerSignals = mods.map((m) => (signal.freesLayers && m.recurrent ? be.alloc(B * m.outSize) : null));
    trace.bindActivations?.(this.fwd.acts);
    if (trace.stats) this.stats = () => trace.stats!();
  }

  /** the trace rule's statistics, when it keeps any */
  stats?: () => Record<string, number>;

  override saveState(): LearnerState {
    const st = super.saveState();
    if (this.trace.extraState) st.traces.push(...this.trace.extraState());
    return st;
  }

  override loadState(state: LearnerState): void {
    const extra = this.trace.extraRecords ?? 0;
    if (extra === 0) {
      super.loadState(state);
      return;
    }
    // the buffers are laid out for the current masks first, then filled, then the records applied
    this.trace.reset();
    if (state.traces.length < extra)
      throw new ShapeError(`${this.name} state holds ${state.traces.length} arrays, expected more than ${extra}`);
    super.loadState({ ...state, traces: state.traces.slice(0, state.traces.length - extra) });
    this.trace.loadExtraState!(state.traces.slice(state.traces.length - extra));
  }

  protected carried(): Buf[] {
    return [...this.trace.buffers(), ...this.signal.buffers()];
  }

  protected resetCarried(): void {
    this.trace.reset();
  }

  stateBytes(): number {
    return this.trace.bytes;
  }

  step(x: ArrayLike<number>, target: ArrayLike<number> | null, mask: ArrayLike<number> | null): number {
    this.fwd.load(x);
    if (this.signal.freesLayers) return this.stepLayerByLayer(target, mask);
    const net = this.network,
      trace = this.trace;
    const out = this.fwd.run(this.caches);
    if (!trace.advancesInAccumulate) trace.advance(this.caches, null);
    let loss = 0;
    if (target) loss = net.loss.evaluate(this.batchSize, out, target, mask, this.dOut);
    else if (trace.advancesInAccumulate) net.backend.fill(this.dOut, 0);
    else return 0;
    this.signal.deliver!(this.stepView);
    return loss;
  }

  private stepLayerByLayer(target: ArrayLike<number> | null, mask: ArrayLike<number> | null): number {
    const net = this.network,
      fwd = this.fwd,
      mods = net.modules,
      top = mods.length - 1,
      trace = this.trace;
    if (target) this.signal.begin!(target, mask);
    let input = fwd.input;
    for (let i = 0; i < top; i++) {
      const m = mods[i]!,
        cache = this.caches[i]!;
      if (m.recurrent) m.forward(input, fwd.acts[i]!, cache, fwd.ctx, fwd.states[i]!);
      else m.forward(input, fwd.acts[i]!, cache, fwd.ctx);
      const j = net.skipFrom[i];
      if (j !== null && j !== undefined) net.backend.axpy(1, j === 0 ? fwd.input : fwd.acts[j - 1]!, fwd.acts[i]!);
      if (m.recurrent) {
        // this layer learns now, from its own traces and signal: nothing above it has run yet
        const sig = this.layerSignals[i]!;
        trace.advance(this.caches, i);
        if (target) {
          this.signal.layerSignal!(i, sig);
          trace.accumulate(this.caches, i, sig, null);
        } else if (trace.advancesInAccumulate) {
          net.backend.fill(sig, 0);
          trace.accumulate(this.caches, i, sig, null);
        }
      }
      input = fwd.acts[i]!;
    }
    const readout = mods[top]!;
    if (readout.recurrent) throw new UnsupportedError(`${this.name}: the top module must be a readout`);
    readout.forward(input, fwd.acts[top]!, this.caches[top]!, fwd.ctx);
    if (!target) return 0;
    const loss = net.loss.evaluate(this.batchSize, fwd.acts[top]!, target, mask, this.dOut);
    // the output layer's own error; dx = null: nothing is sent down, the readout's weights are not read
    readout.backward(this.caches[top]!, this.dOut, null);
    return loss;
  }
}
