/**
 * `online-lru` — online learning of LRU stacks (Zucchet, Meier, Schug, Mujika, Sacramento, NeurIPS 2023):
 * the `diag` trace rule × the `backprop` signal rule — the very row of `eprop`, named as in the paper
 * (on an LRU layer the diag rule runs the LRU's own traces, learners/traces/lru.ts).
 *
 * At each step t the loss is backpropagated through the network at time t only ("spatial"): the error
 * δ_t = ∂L_t/∂h_t reaches every LRU layer's state without any path through time. Each LRU layer keeps,
 * per sample, eligibility traces that are its exact RTRL sensitivities (the recurrence is elementwise):
 *   e^λ_t = λ ⊙ e^λ_{t−1} + h_{t−1},   e^γ_t = λ ⊙ e^γ_{t−1} + B x_t,   e^B_t = λ ⊙ e^B_{t−1} + γ ⊗ x_t,
 * and the gradients of ν_log, θ_log, γ_log, B_re, B_im are Σ_t δ_t·e_t (real pairs of the complex product).
 * Everything else (C, D, GLU, LayerNorm, encoder, decoder) gets its spatial gradient.
 *
 * Exact (equals BPTT): a one-layer network's LRU parameters and everything downstream of it; in a stack,
 * the top LRU layer and everything above. Approximate: every parameter upstream of an LRU (the encoder and
 * the LayerNorm in front of it, lower layers), whose influence through a later recurrence is dropped.
 * Cost per step and sample, per layer: the trace update and δ·e accumulation, ≈ 9·N·H multiply-adds (one
 * fused pass over the N×H complex trace), on top of the forward and the spatial backward; memory: the
 * traces, 2·N·H + 4·N numbers — the size of B_re and B_im — independent of the sequence length.
 *
 * Baselines of the paper, same signal, other traces:
 * - `spatial`: no temporal credit — λ gets zero gradient; B and γ only their instantaneous gradient.
 * - `truncated1`: one-step truncation — e^λ := h_{t−1}, e^γ := B x_t, B from the current input only.
 */
import { UnsupportedError } from '../core/errors.js';
import type { Network } from '../model/network.js';
import { LruLayer } from '../modules/lru.js';
import { compose, type Recipe } from './compose.js';
import type { Learner, LearnerOptions } from './learner.js';

export const spatialRecipe: Recipe = { trace: 'spatial', signal: 'backprop' };
export const truncated1Recipe: Recipe = { trace: 'truncated1', signal: 'backprop' };

/** an LRU-stack row: refuses networks without an LRU layer, naming the model */
export function lruRow(name: string, recipe: Recipe) {
  return (network: Network, options: LearnerOptions): Learner => {
    if (!network.modules.some((m) => m instanceof LruLayer))
      throw new UnsupportedError(`${name} trains LRU stacks (model 'lru'); this network has no LRU layer`);
    return compose(name, network, options, recipe);
  };
}
