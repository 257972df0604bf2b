/**
 * `mgu` — the minimal gated unit (Zhou, Wu, Zhang, Zhou, "Minimal gated unit for recurrent neural networks",
 * 2016): a GRU with one gate, the forget gate f, serving as both update and reset gate. Written in PyTorch
 * nn.GRU's form, where the gate multiplies the recurrent part of the candidate's preactivation:
 *
 *   f = σ(a_f)                              a_f = W_if x + b_if + W_hf h + b_hf
 *   n = tanh(a_nx + f ⊙ a_nh)               a_nx = W_in x + b_in,  a_nh = W_hn h + b_hn
 *   h' = (1 − f) ⊙ h + f ⊙ n
 *
 * The paper gates the state before the matrix product, n = tanh(W_h (f ⊙ h) + U x + b). That form is not
 * on this abstraction — a unit sees only its preactivation channels W·y, after the product — so, as
 * PyTorch does for the GRU's reset gate (and cuDNN), the gate multiplies W_hn h + b_hn instead; the two
 * differ only in where the gate sits relative to W_hn (and in b_hn being gated). With recurrent: false the
 * candidate is tanh(a_nx + f·b_hn).
 * Gate blocks (rows f, n) of weight_ih feed channels (f, n_x), of weight_hh (f, n_h): S = 1, K = 3, G = 2.
 * Local partials: ∂f/∂s = 1 − f; ∂f/∂a_f = f(1 − f)·((n − h) + f(1 − n²)·a_nh); ∂f/∂a_nx = f(1 − n²);
 * ∂f/∂a_nh = f²(1 − n²); ∂h/∂s = 1.
 * Exactness: the true derivative (smooth). Cost per unit and step: one σ, one tanh, O(1); two gate blocks
 * where the GRU has three.
 */
import { sigmoid, type UnitModel } from './unit.js';

export const mguUnit: UnitModel = {
  name: 'mgu',
  description:
    'minimal gated unit (Zhou et al. 2016), gate f outside W_hn as in PyTorch nn.GRU: n = tanh(a_nx + f·a_nh), h = (1 − f)·h + f·n',
  S: 1,
  K: 3,
  G: 2,
  ihChannel: [0, 1],
  hhChannel: [0, 2],
  unitParams: [],
  step(B, n, io) {
    const { sPrev, preIh, preHh, sNext, y, dfds, dfda, dhds } = io;
    for (let b = 0; b < B; b++) {
      const g = b * 2 * n,
        s = b * n;
      for (let i = 0; i < n; i++) {
        const f = sigmoid(preIh[g + i]! + preHh[g + i]!);
        const anh = preHh[g + n + i]!;
        const c = Math.tanh(preIh[g + n + i]! + f * anh);
        const h = sPrev[s + i]!;
        const hNew = (1 - f) * h + f * c;
        sNext[s + i] = hNew;
        y[s + i] = hNew;
        if (dfds && dfda && dhds) {
          const dc = f * (1 - c * c); // ∂h'/∂(candidate preactivation)
          const a = b * 3 * n;
          dfds[s + i] = 1 - f;
          dfda[a + i] = f * (1 - f) * (c - h + dc * anh);
          dfda[a + n + i] = dc;
          dfda[a + 2 * n + i] = dc * f;
          dhds[s + i] = 1;
        }
      }
    }
  },
};
