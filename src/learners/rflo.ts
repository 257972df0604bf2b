/**
 * `rflo` — random-feedback local online learning (J. M. Murray, "Local online learning in recurrent networks
 * with random feedback", eLife 8:e43299, 2019), on leaky rate units:
 *
 *   network:   h_t = (1 − 1/τ)·h_{t−1} + (1/τ)·φ(W_hh h_{t−1} + W_ih x_t + b)      (the `leaky` unit, α = 1 − 1/τ;
 *                                                                                 the Elman `rnn` is τ = 1)
 *   trace:     P_t[i, j] = (1 − 1/τ_i)·P_{t−1}[i, j] + (1/τ_i)·φ'(a_t[i])·p_t[j]   p = x_t, h_{t−1} or 1
 *   signal:    L_t = B·∂L_t/∂ŷ_t                 B: n × outputSize, fixed random N(0, 1/outputSize), seeded
 *   update:    ∂L/∂W[i, j] ≈ Σ_t L_t[i]·P_t[i, j];  the readout gets its exact gradient
 * RFLO drops, from RTRL's recursion, every path through the recurrent weights (only the unit's leak carries
 * the trace forward) and replaces the readout's transposed weights by a fixed random matrix. On these units the
 * trace is the `diag` rule (the unit's own ∂f/∂s is the leak) and the signal the `random-feedback` rule: the
 * row is e-prop with random feedback restricted to the rate units RFLO is defined for (the leak of `leaky` is
 * learnable here, its trace entry from ∂f/∂leak; Murray's τ is fixed).
 * Option `feedback`: 'random' (default, Murray's rule) or 'transposed' (the signal backpropagated through the
 * layers above at time t instead — the readout's transposed weights, the case the paper compares against).
 * Exact: the readout always; with 'transposed' feedback, one layer and no recurrent synapses, every parameter
 * (the leak is then the whole state Jacobian and the signal is ∂L_t/∂y_t). Approximate otherwise.
 * Cost per step and sample: 2 multiply-adds per trace entry plus one for the gradient, O(n·outputSize) for
 * the feedback; memory one trace per parameter of each recurrent layer (P numbers) plus the B matrices —
 * independent of the sequence length.
 * Gated and spiking units have no fixed leak (their own ∂f/∂s is a gate or a reset): the same pairing there is
 * the row `eprop-random`.
 */
import type { Network } from '../model/network.js';
import { compose, type Recipe } from './compose.js';
import type { Learner, LearnerOptions } from './learner.js';

export const rfloRecipe: Recipe = { trace: 'diag', signal: 'random-feedback' };

export function createRflo(network: Network, options: LearnerOptions): Learner {
  const recipe: Recipe = options.feedback === 'transposed' ? { trace: 'diag', signal: 'backprop' } : rfloRecipe;
  return compose('rflo', network, options, recipe);
}
