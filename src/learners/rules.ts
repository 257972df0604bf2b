/**
 * The two engines every gradient-based online learner is made of (DESIGN §5):
 *
 *   trace rule  — how parameter sensitivities move forward in time: ε_t = J_t·ε_{t−1} + I_t (full, sparse,
 *                 diag, snap1, deep, and the LRU's own elementwise traces), advanced from the layer caches
 *                 the forward pass left, and turned into a gradient by a learning signal: ∂L/∂θ += L_t·e_t.
 *   signal rule — which error reaches each layer at time t: backprop at t (the loss backpropagated through
 *                 the network at this step only), fixed random feedback, target projection, or the output
 *                 error itself (for traces carried all the way to the output: full influence, deep).
 *
 * A learner is a row of the table: trace × signal × options, run by the one step loop of compose/learner.ts.
 * A trace rule says which signal it multiplies (`takes`): each layer's own (B × n_i at module i), or the error
 * at the network's output (B × outputSize). Both rules expose their carried buffers (checkpoints) and bytes.
 */
import type { Buf } from '../backend/backend.js';
import type { ModuleCache } from '../modules/module.js';

export interface TraceRule {
  /** 'layer': a signal per recurrent module; 'output': the error at the network's output */
  readonly takes: 'layer' | 'output';
  /**
   * layer rules whose fused kernel advances the traces while it accumulates (the LRU's complex kernel):
   * the step loop then delivers a zero signal at steps without a loss, so the traces still move
   */
  readonly advancesInAccumulate: boolean;
  readonly bytes: number;
  buffers(): Buf[];
  reset(): void;
  /** advance one step from the caches of module i (layer rules), or of every module (i = null, output rules) */
  advance(caches: readonly ModuleCache[], i: number | null): void;
  /**
   * layer rules: add signal·e^i_t into module i's gradients; with dx, also write the signal's VJP onto the
   * module's input at time t (no path through time) — what backprop at t sends to the module below.
   * output rules (i = null): add (dŷ_t/dθ)ᵀ·signal.
   */
  accumulate(caches: readonly ModuleCache[], i: number | null, signal: Buf, dx: Buf | null): void;
}

/** what a signal rule sees of the step: the caches, the output error, the trace rule to feed */
export interface SignalStep {
  caches: ModuleCache[];
  /** ∂L_t/∂ŷ_t (B × outputSize) */
  dOut: Buf;
  trace: TraceRule;
}

export interface SignalRule {
  /**
   * the rule needs nothing from above a layer, so each layer learns as soon as its own forward step is done,
   * before the next layer runs (no update locking): the step loop then runs module by module and asks
   * layerSignal for each recurrent module
   */
  readonly freesLayers: boolean;
  readonly bytes: number;
  buffers(): Buf[];
  /** non-freeing rules: after the loss, feed every layer's signal (or the output error) to the trace rule */
  deliver?(step: SignalStep): void;
  /** freeing rules: once per step, before the forward: what the signal depends on (the target) */
  begin?(target: ArrayLike<number>, mask: ArrayLike<number> | null): void;
  /** freeing rules: module i's signal (B × n_i) into out */
  layerSignal?(i: number, out: Buf): void;
}

export function bytesOf(bufs: readonly Buf[]): number {
  return bufs.reduce((s, b) => s + b.length * (b.backend.dtype === 'float64' ? 8 : 4), 0);
}
