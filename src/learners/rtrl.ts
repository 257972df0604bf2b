/**
 * `rtrl` — real-time recurrent learning (Williams & Zipser 1989), exact, full influence matrices; on a
 * stack the influence is carried across layers, so it is also `deep-rtrl`.
 *
 * For every sample, each module keeps the influence of all parameters up to and including its own on
 * its output, as rows (one per parameter). Recurrent modules carry M_t = ds_t/dθ forward:
 *   M_t = (∂f/∂s)·M_{t−1} + (∂f/∂a)·(W_hh·dy_{t−1}/dθ + W_ih·dx_t/dθ + immediate),
 * feed-forward modules map dx/dθ to dy/dθ through their Jacobian and add their own parameters' rows, and at
 * the top ∂L_t/∂θ = (dŷ_t/dθ)·∂L_t/∂ŷ_t is added to the gradient at every step — no history is stored.
 * Exact: equals BPTT over the same steps (parameters fixed in between).
 * Cost per step and sample: O(G·n·(n + d)·P) time for P parameters (O(n⁴) for a single layer),
 * O(S·n·P) memory, independent of the sequence length.
 * Reference: R. J. Williams, D. Zipser, Neural Computation 1(2), 1989.
 *
 * The engine is the `full` trace rule (traces/full.ts) × the output error (signals/output.ts).
 */
import type { Network } from '../model/network.js';
import { ComposedLearner } from './composed.js';
import { createSignal, type Recipe } from './compose.js';
import { UnsupportedError } from '../core/errors.js';
import type { LearnerOptions } from './learner.js';
import { FullInfluence } from './traces/full.js';

export const rtrlRecipe: Recipe = { trace: 'full', signal: 'output' };

/** the full influence × the output error */
export class RtrlLearner extends ComposedLearner {
  constructor(network: Network, options: LearnerOptions, name = 'rtrl') {
    if (network.config.decorrelate)
      throw new UnsupportedError(`${name} does not support decorrelated models (decorrelate: true); use bptt or a perturbation learner`);
    super(network, options, name, new FullInfluence(network, options.batchSize), createSignal('output', network, options));
  }
}
