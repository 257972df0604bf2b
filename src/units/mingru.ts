/**
 * `mingru` — the minimal GRU of Feng, Tung, Ahmed, Bengio, Hajimirsadeghi, "Were RNNs all we needed?" (2024),
 * its sequential form (the linear candidate, not the log-space variant with g(x) = x + ½ / σ(x)):
 *
 *   z = σ(a_z),   h̃ = a_h,   h' = (1 − z) ⊙ h + z ⊙ h̃        a_k = W_ik x + b_ik (+ W_hk h + b_hk)
 *
 * Gate blocks of weight_ih (rows z, h — the paper's linear_z, linear_h), S = 1, K = G = 2, y = h.
 * weight_hh: the paper's unit has no recurrent weights — its gate and candidate read x only, which is what
 * makes it a parallel scan. Here that model is `recurrent: false` (weight_hh held at exactly zero). With
 * recurrent synapses (the default of every layer) both channels also read W_hh·h_{t−1}: an extension kept
 * because every learner and test of the library treats recurrence the same way, and because it is the
 * natural "GRU without reset gate, linear candidate" — say `recurrent: false` for the published minGRU.
 * Local partials: ∂f/∂s = 1 − z; ∂f/∂a_z = (h̃ − h)·z(1 − z); ∂f/∂a_h = z; ∂h/∂s = 1.
 * Exactness: the derivative is the true one (smooth). Without recurrent synapses the state Jacobian is the
 * diagonal 1 − z, so e-prop / SnAp-1 traces are exact per layer. Cost per unit and step: one σ, O(1).
 */
import { sigmoid, type UnitModel } from './unit.js';

export const minGruUnit: UnitModel = {
  name: 'mingru',
  description: "minimal GRU (Feng et al. 2024): z = σ(a_z), h = (1 − z)·h + z·a_h; recurrent: false is the paper's unit",
  S: 1,
  K: 2,
  G: 2,
  ihChannel: [0, 1],
  hhChannel: [0, 1],
  unitParams: [],
  step(B, n, io) {
    const { sPrev, preIh, preHh, sNext, y, dfds, dfda, dhds } = io;
    for (let b = 0; b < B; b++) {
      const g = b * 2 * n,
        s = b * n;
      for (let i = 0; i < n; i++) {
        const z = sigmoid(preIh[g + i]! + preHh[g + i]!);
        const cand = preIh[g + n + i]! + preHh[g + n + i]!;
        const h = sPrev[s + i]!;
        const hNew = (1 - z) * h + z * cand;
        sNext[s + i] = hNew;
        y[s + i] = hNew;
        if (dfds && dfda && dhds) {
          dfds[s + i] = 1 - z;
          dfda[g + i] = (cand - h) * z * (1 - z);
          dfda[g + n + i] = z;
          dhds[s + i] = 1;
        }
      }
    }
  },
};
