/**
 * `eprop`, `eprop-random`, `snap1` — per-synapse eligibility traces in every recurrent layer (the `diag` or
 * `snap1` trace rule, learners/traces/diag.ts) × a learning signal at time t (the `backprop` or
 * `random-feedback` signal rule):
 *
 *   ∂L/∂θ ≈ Σ_t Σ_i L_t[i] · ∂y_t[i]/∂s_t · ε_t[θ]
 *
 * - `eprop` (Bellec et al., Nature Comm. 2020): diag traces (the unit's own ∂f/∂s) × L_t = ∂L_t/∂y_t
 *   backpropagated through the network at time t only (through the layers above, no path through time).
 * - `eprop-random`: diag traces × L^l_t = B^l·∂L_t/∂ŷ_t with fixed random B^l (signals/random-feedback.ts).
 * - `snap1` (Menick et al., ICLR 2021): the diagonal of the full state Jacobian (the recurrent
 *   self-connection included) × the backprop signal.
 * The readout gets its exact gradient (its VJP at each step). On an LRU stack the diag rule runs the LRU's own
 * elementwise traces (traces/lru.ts): `eprop` there is `online-lru`, and `snap1` coincides with it (the
 * recurrence is diagonal); random feedback reaches each LRU layer's output and nothing passes below it.
 * Exact: `eprop` and `snap1` equal BPTT for one layer without recurrent synapses (W_hh = 0; model config
 * `recurrent: false`); `snap1` also for a layer of one unit. In a stack both drop every path from a lower
 * layer's parameters through a later step of a higher layer (see `deep-eprop` for the rule that keeps them).
 * Cost per step and sample: O(S²·P) for the P recurrent-layer parameters, plus one spatial backward;
 * memory S·P numbers per sample (snap1: + the previous step's ∂h/∂s), independent of the sequence length.
 *
 * κ filter (`eprop`, `ostl`: option `kappa`, default 0; Bellec et al. 2020, the leaky readout's F_κ): the
 * eligibility traces are low-pass filtered, ē_t = κ·ē_{t−1} + e_t, and the gradient is Σ_t L_t·ē_t
 * (traces/kappa.ts). kappa = 0 builds no filter: the row is e-prop bit for bit (a claim of the table).
 * κ > 0: B·P more numbers and (S + 2)·P more multiply-adds per step and sample; approximate (onward's readout
 * does not leak, so the filter is not the paper's exact readout term). Not on LRU layers (refused).
 */
import type { Recipe } from './compose.js';

export const epropRecipe: Recipe = { trace: 'diag', signal: 'backprop' };
/** eprop's own row (and ostl): the same recipe, reading the κ filter option */
export const epropKappaRecipe: Recipe = { ...epropRecipe, kappa: true };
export const epropRandomRecipe: Recipe = { trace: 'diag', signal: 'random-feedback' };
export const snap1Recipe: Recipe = { trace: 'snap1', signal: 'backprop' };
