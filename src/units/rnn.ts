/**
 * `rnn`: the Elman unit of PyTorch's nn.RNN (tanh).
 *
 *   h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)        S = 1, K = 1, G = 1, y = h
 *
 * Local partials: ∂f/∂s = 0 (the only path from h_{t−1} is through the recurrent synapses),
 * ∂f/∂a = 1 − h_t², ∂h/∂s = 1.
 */
import type { UnitModel } from './unit.js';

export const rnnUnit: UnitModel = {
  name: 'rnn',
  description: 'Elman RNN, h = tanh(W_ih x + b_ih + W_hh h + b_hh) (PyTorch nn.RNN)',
  S: 1,
  K: 1,
  G: 1,
  ihChannel: [0],
  unitParams: [],
  hhChannel: [0],
  step(B, n, io) {
    const { preIh, preHh, sNext, y, dfds, dfda, dhds } = io;
    for (let j = 0; j < B * n; j++) {
      const h = Math.tanh(preIh[j]! + preHh[j]!);
      sNext[j] = h;
      y[j] = h;
      if (dfds && dfda && dhds) {
        dfds[j] = 0;
        dfda[j] = 1 - h * h;
        dhds[j] = 1;
      }
    }
  },
};
