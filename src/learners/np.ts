/**
 * `np` — node perturbation (Williams 1992; Cauwenberghs 1993; the baseline of García Fernández et al. 2024).
 * Noise ε ~ N(0, σ²I) is added to every preactivation block of the noisy pass at every step; the noisy pass
 * carries its own recurrent state (so δL_t also holds the effect of earlier noise, which NP ignores):
 *   ĝ_a = (δL_b / σ²)·ε_b,   weights += ĝ_aᵀ·p (p the clean presynaptic input).
 * Unbiased for ∂L_t/∂a to first order in σ (E[ε εᵀ] = σ²I, earlier noise is independent of ε_t).
 * Cost per step: two forward passes + outer products of the weights' size; memory: the noisy recurrent
 * state. Engine: perturbation.ts.
 */
import type { Network } from '../model/network.js';
import type { LearnerOptions } from './learner.js';
import { PerturbationLearner } from './perturbation.js';

export function createNp(network: Network, options: LearnerOptions): PerturbationLearner {
  return new PerturbationLearner(network, options, { name: 'np', estimator: 'node', carry: true });
}
