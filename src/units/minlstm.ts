/**
 * `minlstm` — the minimal LSTM of Feng et al., "Were RNNs all we needed?" (2024), sequential form with the
 * normalised gates (the length-independent scaling of its §3.2.3) and a linear candidate:
 *
 *   f = σ(a_f),  i = σ(a_i),  f' = f / (f + i),  i' = i / (f + i),  h̃ = a_h
 *   h' = f' ⊙ h + i' ⊙ h̃                                 a_k = W_ik x + b_ik (+ W_hk h + b_hk)
 *
 * Gate blocks of weight_ih (rows f, i, h — the paper's linear_f, linear_i, linear_h), S = 1, K = G = 3, y = h.
 * weight_hh as for `mingru`: the published unit has none (`recurrent: false`); with recurrent synapses
 * (the layer default) all three channels also read W_hh·h_{t−1}, an extension of the paper's unit.
 * With d = f + i: ∂f/∂s = f'; ∂f/∂a_f = i(h − h̃)/d² · f(1 − f); ∂f/∂a_i = f(h̃ − h)/d² · i(1 − i);
 * ∂f/∂a_h = i'; ∂h/∂s = 1.
 * Exactness: the true derivative (smooth); without recurrent synapses the state Jacobian is the diagonal f',
 * so e-prop / SnAp-1 traces are exact per layer. Cost per unit and step: two σ, O(1).
 */
import { sigmoid, type UnitModel } from './unit.js';

export const minLstmUnit: UnitModel = {
  name: 'minlstm',
  description: "minimal LSTM (Feng et al. 2024): h = (f·h + i·a_h)/(f + i), f = σ(a_f), i = σ(a_i); recurrent: false is the paper's unit",
  S: 1,
  K: 3,
  G: 3,
  ihChannel: [0, 1, 2],
  hhChannel: [0, 1, 2],
  unitParams: [],
  step(B, n, io) {
    const { sPrev, preIh, preHh, sNext, y, dfds, dfda, dhds } = io;
    for (let b = 0; b < B; b++) {
      const g = b * 3 * n,
        s = b * n;
      for (let u = 0; u < n; u++) {
        const f = sigmoid(preIh[g + u]! + preHh[g + u]!);
        const i = sigmoid(preIh[g + n + u]! + preHh[g + n + u]!);
        const cand = preIh[g + 2 * n + u]! + preHh[g + 2 * n + u]!;
        const d = f + i;
        const h = sPrev[s + u]!;
        const hNew = (f * h + i * cand) / d;
        sNext[s + u] = hNew;
        y[s + u] = hNew;
        if (dfds && dfda && dhds) {
          const dd = d * d;
          dfds[s + u] = f / d;
          dfda[g + u] = ((i * (h - cand)) / dd) * f * (1 - f);
          dfda[g + n + u] = ((f * (cand - h)) / dd) * i * (1 - i);
          dfda[g + 2 * n + u] = i / d;
          dhds[s + u] = 1;
        }
      }
    }
  },
};
