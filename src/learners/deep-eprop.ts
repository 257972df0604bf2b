/**
 * `deep-eprop` — Millidge's generalisation of e-prop to deep networks ("Generalising E-prop to Deep Networks",
 * 2025): the `deep` trace rule with a diagonal within-layer Jacobian (learners/traces/deep.ts) × the loss
 * signal at the top layer. On a stack of recurrent layers:
 *
 *   ∂L/∂θ_k ≈ Σ_t (∂L_t/∂y^top_t) · Y^{top,k}_t,   Y carried up the stack through the exact inter-layer
 *   Jacobians, each layer's own past only through its units' own ∂f/∂s;  the readout gets its exact gradient.
 *
 * Exact (equals BPTT) on stacks whose layers have no recurrent synapses (model config `recurrent: false`),
 * where the dropped path W_hh·dy_{t−1}/dθ is zero; approximate otherwise. One layer: it is `eprop`.
 * On LRU stacks (diagonal recurrences, feed-forward blocks between layers) the same rule runs on the full
 * influence engine with within-layer Jacobian 'diag' (traces/full.ts), where it is exact.
 * Cost per step and sample: O(S·P_k) for each layer's own traces, O(S_l·n_l·(n_{l−1} + S_l)·P_k) for each
 * pair l > k (the own block of the layer below enters at n_l per parameter); memory S_k·P_k + Σ_{l>k} S_l·n_l·P_k
 * numbers per sample (stateBytes), independent of the sequence length.
 */
import type { Network } from '../model/network.js';
import { compose, type Recipe } from './compose.js';
import type { Learner, LearnerOptions } from './learner.js';

export const deepEpropRecipe: Recipe = { trace: 'deep', signal: 'output' };

export function createDeepEprop(network: Network, options: LearnerOptions): Learner {
  return compose('deep-eprop', network, options, deepEpropRecipe);
}
