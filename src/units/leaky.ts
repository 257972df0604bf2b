/**
 * `leaky` — a leaky-integrator unit with a learnable time constant per unit (the rate-based analogue of
 * e-prop's LIF neuron, without spikes):
 *
 *   α = σ(leak),   s_t = α ⊙ s_{t−1} + (1 − α) ⊙ tanh(W_ih x_t + b_ih + W_hh y_{t−1} + b_hh),   y_t = s_t
 *
 * Unlike the Elman `rnn` (∂f/∂s = 0), the unit's own state carries memory: ∂f/∂s = α. Without recurrent
 * synapses (model config `recurrent: false`) a layer of these is diagonal in time — the case where
 * e-prop's eligibility traces, and Millidge's deep e-prop on a stack, are exact.
 * Local partials, g = tanh(a): ∂f/∂s = α, ∂f/∂a = (1 − α)(1 − g²), ∂f/∂leak = α(1 − α)(s_{t−1} − g),
 * ∂h/∂s = 1, ∂h/∂leak = 0. S = 1, K = 1, G = 1; unit parameter `leak`, initialised so α ~ U(0.5, 0.95).
 */
import { sigmoid, type UnitModel } from './unit.js';

export const leakyUnit: UnitModel = {
  name: 'leaky',
  description: 'leaky integrator, s = σ(leak)·s + (1 − σ(leak))·tanh(W_ih x + b_ih + W_hh y + b_hh), y = s',
  S: 1,
  K: 1,
  G: 1,
  ihChannel: [0],
  hhChannel: [0],
  unitParams: [
    {
      name: 'leak',
      init: (n, rng) =>
        Float64Array.from({ length: n }, () => {
          const alpha = 0.5 + 0.45 * rng.uniform();
          return Math.log(alpha / (1 - alpha));
        }),
    },
  ],
  step(B, n, io) {
    const { sPrev, preIh, preHh, phi, sNext, y, dfds, dfda, dhds, dfdphi, dhdphi } = io;
    const leak = phi[0]!;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < n; i++) {
        const j = b * n + i;
        const alpha = sigmoid(leak[i]!);
        const g = Math.tanh(preIh[j]! + preHh[j]!);
        const s = alpha * sPrev[j]! + (1 - alpha) * g;
        sNext[j] = s;
        y[j] = s;
        if (dfds && dfda && dhds && dfdphi && dhdphi) {
          dfds[j] = alpha;
          dfda[j] = (1 - alpha) * (1 - g * g);
          dhds[j] = 1;
          dfdphi[j] = alpha * (1 - alpha) * (sPrev[j]! - g);
          dhdphi[j] = 0;
        }
      }
    }
  },
};
