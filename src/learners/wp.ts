/**
 * `wp` — weight perturbation (Jabri & Flower 1992; the baseline of García Fernández et al. 2024).
 * At every step the noisy pass runs with all trained parameters perturbed, θ̃ = θ + Ε, Ε ~ N(0, σ²I) fresh
 * each step, and carries its own recurrent state:
 *   ĝ_θ = (Σ_b δL_b / σ²)·Ε,   δL_b = (mask_b/B)·(ℓ(ỹ_b) − ℓ(y_b)).
 * Stochastic estimate of ∂L_t/∂θ (first order in σ); variance grows with the number of parameters P, so it
 * is the slowest of the four. Cost per step: two forward passes + O(P) for noise, copy and update; memory:
 * the noisy recurrent state and a copy of the parameters. Engine: perturbation.ts.
 */
import type { Network } from '../model/network.js';
import type { LearnerOptions } from './learner.js';
import { PerturbationLearner } from './perturbation.js';

export function createWp(network: Network, options: LearnerOptions): PerturbationLearner {
  return new PerturbationLearner(network, options, { name: 'wp', estimator: 'weight', carry: true });
}
