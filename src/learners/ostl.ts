/**
 * `ostl` — online spatio-temporal learning (Bohnstingl, Woźniak, Pantazi, Eleftheriou, IEEE TNNLS 2023,
 * arXiv:2007.12723): the `diag` trace rule × the `backprop` signal rule, on networks of unit models — the
 * spiking units (snu, lif) it was made for, their sigmoid variants, and any other unit model.
 *
 *   temporal:  ε^l_t = (∂s_t/∂s_{t−1}) ε^l_{t−1} + ∂s_t/∂θ^l,  e^l_t = (∂y_t/∂s_t) ε^l_t (+ ∂y_t/∂θ)   (OSTL Eqs. 8–9)
 *   spatial:   L^l_t = ∂E_t/∂y^l_t, backpropagated through the layers above at time t only
 *   update:    ∂E/∂θ^l ≈ Σ_t L^l_t · e^l_t                                                              (Eq. 6)
 * The reset of a spiking unit (y_{t−1} recomputed from s_{t−1} inside the unit) is part of its ∂s_t/∂s_{t−1},
 * so the traces are the exact per-layer sensitivities when the layer has no recurrent synapses (model config
 * `recurrent: false`): then `ostl` equals BPTT for one layer (and for the top layer of a stack), the
 * "gradient-equivalence for shallow SNNs" of the paper. With recurrent synapses, and for lower layers of a
 * stack, it drops the cross-unit and cross-layer temporal terms.
 * The row is an alias of `eprop` (the same trace × signal, the same options, the κ filter included); cost per step and
 * sample O(S²·P) for the P recurrent-layer parameters plus one spatial backward, memory S·P per sample,
 * independent of the sequence length. Weight transport: the spatial signal uses the transposed weights of
 * the layers above, and every layer waits for the output error (see `osttp` for the rule without either).
 */
import type { Network } from '../model/network.js';
import { compose } from './compose.js';
import { epropKappaRecipe } from './eprop.js';
import type { Learner, LearnerOptions } from './learner.js';

export function createOstl(network: Network, options: LearnerOptions): Learner {
  return compose('ostl', network, options, epropKappaRecipe);
}
