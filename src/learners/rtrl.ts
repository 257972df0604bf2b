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
 * With within = 'diag' the same engine is the `deep` trace rule of DESIGN §5 (Millidge, "Generalising E-prop
 * to Deep Networks", 2025) — `deep-eprop` on LRU stacks uses it (stacks of unit-model layers use the compact
 * engine of traces/deep.ts, the same gradient): for the parameters θ_k of layer k, the trace of every layer
 * l ≥ k is carried forward by the recursion of the note,
 *   ε^{l,k}_t = (∂f^l/∂s) ε^{l,k}_{t−1} + (∂f^l/∂a)·W^l_ih·(dy^{l−1}_t/dθ_k)      (l > k; + immediate at l = k)
 * — the within-layer Jacobian reduced to each unit's own ∂f/∂s (e-prop's approximation), the inter-layer
 * Jacobians exact — and the learning signal is taken at the top: ∂L_t/∂θ_k = (dŷ_t/dθ_k)·∂L_t/∂ŷ_t.
 * Exact on stacks of diagonal layers (LRU stacks; units without recurrent synapses), where the dropped
 * path is zero; approximate otherwise. Memory: S·N_l·P_k numbers per layer pair l ≥ k per sample (what
 * stateBytes reports), time O(N_l·P_k·(S + d_l)) per pair per sample and step.
 */
import type { Network } from '../model/network.js';
import type { WithinJacobian } from '../modules/module.js';
import { ComposedLearner } from './composed.js';
import { createSignal, type Recipe } from './compose.js';
import { UnsupportedError } from '../core/errors.js';
import type { LearnerOptions } from './learner.js';
import { FullInfluence } from './traces/full.js';

export const rtrlRecipe: Recipe = { trace: 'full', signal: 'output' };

/** the full influence × the output error; within = 'diag' is the deep rule on the same engine */
export class RtrlLearner extends ComposedLearner {
  constructor(network: Network, options: LearnerOptions, name = 'rtrl', within: WithinJacobian = 'full') {
    if (network.config.decorrelate) throw new UnsupportedError(`${name} does not support decorrelated models (decorrelate: true); use bptt or a perturbation learner`);
    super(network, options, name, new FullInfluence(network, options.batchSize, within), createSignal('output', network, options));
  }
}
