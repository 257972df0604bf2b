/**
 * `tanp` — activity-based node perturbation in time (García Fernández, Keemink, van Gerven 2024; the
 * authors' code calls it ANP). As `anp`, but the noisy pass carries its own recurrent state, so the measured
 *   δa_t = ã_t − a_t = ε_t + W_hh·(ỹ_{t−1} − y_{t−1}) + (noise from the layers below)
 * holds all noise injected so far, propagated through the recurrence — the change that actually caused δL_t:
 *   ĝ_a = m_l·δL_b·δa_b/‖δa_b‖²,  weights += ĝ_aᵀ·p.
 * With decorrelated layer inputs (model option decorrelate, learner option decorrelationRate) this is the
 * paper's best method. Stochastic, instantaneous-gradient estimate. Cost: two forward passes; memory: the
 * noisy recurrent state, independent of the sequence length. Engine: perturbation.ts.
 */
import type { Network } from '../model/network.js';
import type { LearnerOptions } from './learner.js';
import { PerturbationLearner } from './perturbation.js';

export function createTanp(network: Network, options: LearnerOptions): PerturbationLearner {
  return new PerturbationLearner(network, options, { name: 'tanp', estimator: 'activity', carry: true });
}
