/**
 * `anp` — activity-based node perturbation (Dalm, van Gerven, Ahmad 2023), applied step by step: the noisy
 * pass restarts every step from the clean recurrent state, noise ε ~ N(0, σ²I) goes into every preactivation
 * block, and the *measured* change δa = ã − a (the layer's own noise plus what noise in the layers below
 * did at this step) replaces the injected noise:
 *   ĝ_a = m_l·δL_b·δa_b/‖δa_b‖²   (m_l nodes of layer l per sample),  weights += ĝ_aᵀ·p.
 * A directional-derivative estimate along δa (E[ĝ] = ∂L_t/∂a when δa = ε). Cost: as np; memory: the noisy
 * recurrent state (overwritten from the clean one each step). Engine: perturbation.ts.
 */
import type { Network } from '../model/network.js';
import type { LearnerOptions } from './learner.js';
import { PerturbationLearner } from './perturbation.js';

export function createAnp(network: Network, options: LearnerOptions): PerturbationLearner {
  return new PerturbationLearner(network, options, { name: 'anp', estimator: 'activity', carry: false });
}
