/**
 * `three-factor` — eligibility traces × a modulatory third factor the caller supplies (the neo-Hebbian
 * three-factor rule, Gerstner et al., Front. Neural Circuits 2018; reward-based e-prop, Bellec et al. 2020):
 *
 *   factors 1, 2:  ε_t = (∂f/∂s)·ε_{t−1} + ∂f/∂a·p_t,  e_t = ∂y_t/∂s·ε_t      the diag rule (pre × post, per synapse)
 *   factor 3:      m_t (B × outputSize), supplied by the caller at step t, in place of the output error
 *   update:        ∂θ += Σ_i L_t[i]·e_t[i, θ],   L_t = m_t backpropagated through the layers above at time t only
 *                  (the readout's transposed weights — as e-prop's signal; the readout itself gets m_t·∂ŷ/∂W_out)
 *
 * API (the hook for reinforcement-style learning from a stream):
 *   learner.step(x_t, null, null)      predict (and advance the traces) without a loss
 *   learner.modulate(m)                then add m·(this step's eligibility) — m a number (every sample and
 *                                      output), B numbers (one per sample, the same for every output) or
 *                                      B × outputSize numbers. Sign: m plays ∂L/∂ŷ (gradient descent lowers
 *                                      m·ŷ): for a reward r and an exploration step ξ = a − ŷ, pass e.g.
 *                                      m = −(r − baseline)·ξ/σ² (REINFORCE). May be called once or more per step.
 *   `hasModulator(learner)` tells a three-factor learner from others (e.g. `stream.learner`).
 * Default when no modulator is given: a step with a target learns from the loss's own output error ∂ℓ_t/∂ŷ_t —
 * the row is then `eprop`, bit for bit (a claim of the table); a step with neither learns nothing.
 * Exact: what e-prop is exact for, when m_t = ∂ℓ_t/∂ŷ_t; otherwise a three-factor update (a gradient of Σ m·ŷ
 * through e-prop's traces). Cost: e-prop's per step; modulate() is one spatial backward and the gradient
 * accumulation of one step; memory e-prop's (S·P per sample) plus B × outputSize for the modulator.
 * LRU stacks are refused: their fused kernel advances the traces inside the accumulation, so a modulator after
 * the step would advance them twice (not implemented, not a mathematical limit).
 */
import type { Buf } from '../backend/backend.js';
import { ConfigError, NonFiniteError, ShapeError } from '../core/errors.js';
import type { Network } from '../model/network.js';
import { ComposedLearner } from './composed.js';
import { createSignal, createTrace, type Recipe } from './compose.js';
import type { Learner, LearnerOptions } from './learner.js';

export const threeFactorRecipe: Recipe = { trace: 'diag', signal: 'backprop' };

/** a learner that takes a third factor after each step */
export interface ModulatedLearner extends Learner {
  modulate(m: number | ArrayLike<number>): void;
}

export function hasModulator(learner: Learner): learner is ModulatedLearner {
  return typeof (learner as Partial<ModulatedLearner>).modulate === 'function';
}

export class ThreeFactorLearner extends ComposedLearner implements ModulatedLearner {
  private readonly modulator: Buf;
  /** a step has run since the sequence started (its caches and traces are what modulate() reads) */
  private stepped = false;

  constructor(network: Network, options: LearnerOptions) {
    super(network, options, 'three-factor', createTrace('diag', network, options.batchSize), createSignal('backprop', network, options));
    this.modulator = network.backend.alloc(options.batchSize * network.outputSize);
  }

  override startSequence(): void {
    super.startSequence();
    this.stepped = false;
  }

  override step(x: ArrayLike<number>, target: ArrayLike<number> | null, mask: ArrayLike<number> | null): number {
    const loss = super.step(x, target, mask);
    this.stepped = true;
    return loss;
  }

  /** add m·(the last step's eligibility) into the gradients: the third factor of the last step */
  modulate(m: number | ArrayLike<number>): void {
    if (!this.stepped) throw new ConfigError('three-factor: modulate(m) applies to the last step; call step(x, …) first');
    const B = this.batchSize,
      O = this.network.outputSize,
      out = this.modulator.data;
    if (typeof m === 'number') {
      if (!Number.isFinite(m)) throw new NonFiniteError(`three-factor: the modulator is ${m}`);
      out.fill(m);
    } else {
      if (m.length !== 1 && m.length !== B && m.length !== B * O) {
        throw new ShapeError(
          `three-factor: the modulator has ${m.length} numbers; give 1, B = ${B} (one per sample) or B × outputSize = ${B * O}`,
        );
      }
      for (let k = 0; k < B * O; k++) {
        const v = m.length === B * O ? m[k]! : m.length === B ? m[Math.floor(k / O)]! : m[0]!;
        if (!Number.isFinite(v)) throw new NonFiniteError(`three-factor: modulator entry ${k} is ${v}`);
        out[k] = v;
      }
    }
    this.signal.deliver!({ caches: this.caches, dOut: this.modulator, trace: this.trace });
  }
}

export function createThreeFactor(network: Network, options: LearnerOptions): ThreeFactorLearner {
  return new ThreeFactorLearner(network, options);
}
