/**
 * `lstm`: the long short-term memory unit as PyTorch's nn.LSTM computes it (gate rows i, f, g, o).
 *
 *   i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)     a_k = W_ik x + b_ik + W_hk h + b_hk
 *   c' = f ⊙ c + i ⊙ g
 *   h' = o ⊙ tanh(c')
 *
 * S = 2 (component 0 = c, component 1 = h), K = G = 4, y = h. The previous h reaches the step only
 * through the recurrent synapses, so ∂f/∂s has just two nonzero entries: ∂c'/∂c = f and
 * ∂h'/∂c = o(1 − tanh²c')·f. ∂c'/∂a = (g·i(1−i), c·f(1−f), i(1−g²), 0);
 * ∂h'/∂a = o(1 − tanh²c')·∂c'/∂a + (0, 0, 0, tanh(c')·o(1−o)); ∂y/∂s = (0, 1).
 */
import { sigmoid, type UnitModel } from './unit.js';

export const lstmUnit: UnitModel = {
  name: 'lstm',
  description: 'long short-term memory, gates i, f, g, o as PyTorch nn.LSTM',
  S: 2,
  K: 4,
  G: 4,
  ihChannel: [0, 1, 2, 3],
  unitParams: [],
  hhChannel: [0, 1, 2, 3],
  step(B, n, io) {
    const { sPrev, preIh, preHh, sNext, y, dfds, dfda, dhds } = io;
    for (let b = 0; b < B; b++) {
      const gb = b * 4 * n;
      const sb = b * 2 * n;
      for (let u = 0; u < n; u++) {
        const ai = preIh[gb + u]! + preHh[gb + u]!;
        const af = preIh[gb + n + u]! + preHh[gb + n + u]!;
        const ag = preIh[gb + 2 * n + u]! + preHh[gb + 2 * n + u]!;
        const ao = preIh[gb + 3 * n + u]! + preHh[gb + 3 * n + u]!;
        const i = sigmoid(ai),
          f = sigmoid(af),
          g = Math.tanh(ag),
          o = sigmoid(ao);
        const c = sPrev[sb + u]!;
        const cNew = f * c + i * g;
        const tc = Math.tanh(cNew);
        const hNew = o * tc;
        sNext[sb + u] = cNew;
        sNext[sb + n + u] = hNew;
        y[b * n + u] = hNew;
        if (dfds && dfda && dhds) {
          const ds = b * 4 * n; // S·S = 4 blocks: (c,c) (c,h) (h,c) (h,h)
          const oc = o * (1 - tc * tc); // ∂h'/∂c'
          dfds[ds + u] = f;
          dfds[ds + n + u] = 0;
          dfds[ds + 2 * n + u] = oc * f;
          dfds[ds + 3 * n + u] = 0;
          const da = b * 8 * n; // S·K = 8 blocks: c' wrt (i,f,g,o), then h' wrt (i,f,g,o)
          const dci = g * i * (1 - i),
            dcf = c * f * (1 - f),
            dcg = i * (1 - g * g);
          dfda[da + u] = dci;
          dfda[da + n + u] = dcf;
          dfda[da + 2 * n + u] = dcg;
          dfda[da + 3 * n + u] = 0;
          dfda[da + 4 * n + u] = oc * dci;
          dfda[da + 5 * n + u] = oc * dcf;
          dfda[da + 6 * n + u] = oc * dcg;
          dfda[da + 7 * n + u] = tc * o * (1 - o);
          dhds[sb + u] = 0;
          dhds[sb + n + u] = 1;
        }
      }
    }
  },
};
