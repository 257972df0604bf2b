/**
 * `pp-prop` — BrainTrace's pp_prop / ES-D-RTRL (Wang et al., Nature Communications 17:1745, 2026; BrainScale's
 * IODimVjpAlgorithm): the `pp-prop` trace rule (traces/pp-prop.ts) × the `backprop` signal rule.
 *
 *   ε_p ← α·ε_p + p_t                          per presynaptic input (x_t, y_{t−1}, 1)
 *   ε_f ← α·(∂f/∂s)·ε_f + (1 − α)·∂f/∂a        per gate row of a synapse group (and state component)
 *   ∂L/∂W[r, j] ≈ Σ_t L_t[i(r)]·(∂y_t/∂s·ε_f[r])·ε_p[j]       L_t: ∂L_t/∂y_t backpropagated at time t only
 * The unit parameters keep exact per-unit traces; the readout gets its exact gradient.
 * Exact: with traceDecay α = 0 on units whose own ∂f/∂s is zero (rnn) the factorised trace is the immediate
 * derivative, which is e-prop's trace there — equal to `eprop`, and to BPTT for one layer without recurrent
 * synapses (claims of the table). Approximate elsewhere (a rank-one summary of the per-synapse trace).
 * Cost per step and sample: O(S²·G·n + in + n) for the factors and G·n·(in + n) for the gradient's outer
 * products; memory in + n + 1 + 2·S·G·n (+ S·Φ·n) numbers per layer — O(B(I + O)) where e-prop keeps O(B·I·O).
 * LRU layers are refused (their traces are elementwise and already exact: online-lru).
 */
import type { Recipe } from './compose.js';

export const ppPropRecipe: Recipe = { trace: 'pp-prop', signal: 'backprop' };
