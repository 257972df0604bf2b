/**
 * `osttp` — online spatio-temporal learning with target projection (Ortner, Pes, Gentinetta, Frenkel,
 * Pantazi, AICAS 2023, arXiv:2304.05124): OSTL's per-layer eligibility traces (the `diag` trace rule) ×
 * the `target-projection` signal rule (DRTP) for the hidden layers; the output layer learns from its own
 * error (research/osttp-and-perturbation.md §A.5).
 *
 *   hidden layer l:  ε^l_t = (∂s_t/∂s_{t−1}) ε^l_{t−1} + ∂s_t/∂θ^l,   e^l_t = (∂y_t/∂s_t) ε^l_t (+ ∂y_t/∂θ)
 *                    L^l_t = B^l · ŷ*_t                  (fixed random B^l, seeded, in the checkpoint; Eq. 11)
 *                    at the scored steps (mask 1), or with targetTiming 'every-step' at every step, the
 *                    unscored ones included (braintrace's target_timing 'per-step'): the signal needs no
 *                    output, so a label known for the whole sequence can teach while the input arrives
 *                    ∂θ^l += L^l_t · e^l_t                                                            (Eq. 6)
 *   output layer:    the readout's own gradient at time t, (softmax(ŷ_t) − ŷ*_t)·y^Lᵀ for ce, (ŷ_t − y*_t)·y^Lᵀ for mse
 *
 * Order inside one step, bottom to top: layer l runs its forward step, advances its traces and adds its
 * gradient at once — before layer l+1 has even run at this step. Nothing travels down the network (no
 * weight transport: no layer ever reads another layer's weights to learn) and nothing waits for the output
 * (no update locking); nothing is kept from earlier steps but the traces (no backward pass through time).
 * With the trainer's updateEvery = 1 every layer is updated at every step from that step's quantities only.
 * Exact: the output layer's gradient (it equals BPTT's readout gradient); the hidden updates are not
 * gradients (a feedback-alignment-like teaching signal), so the rule is approximate.
 * Cost per step and sample: O(S²·P) trace update and accumulation for the P recurrent-layer parameters,
 * O(n_l·outputSize) per layer for the signal, the readout's outer product; memory S·P per sample plus the
 * projection matrices — independent of the sequence length.
 * Runs on networks of recurrent layers of any unit model, and on LRU stacks, under a readout; on an LRU stack the
 * feed-forward modules between the layers get no signal (only the recurrent layers and the readout learn).
 */
import type { Network } from '../model/network.js';
import { ComposedLearner } from './composed.js';
import { createSignal, createTrace, type Recipe } from './compose.js';
import type { LearnerOptions } from './learner.js';
import type { TargetProjectionSignal, TargetProjection } from './signals/target-projection.js';

export const osttpRecipe: Recipe = { trace: 'diag', signal: 'target-projection' };

export class OsttpLearner extends ComposedLearner {
  /** the fixed random projections B^l of the target (read-only use: tests, inspection) */
  readonly projection: TargetProjection;

  constructor(network: Network, options: LearnerOptions) {
    const signal = createSignal('target-projection', network, options) as TargetProjectionSignal;
    super(network, options, 'osttp', createTrace('diag', network, options.batchSize), signal);
    this.projection = signal.projection;
  }
}
