/**
 * `ur-lstm` — the LSTM with a uniformly initialised forget gate and a refine gate (A. Gu, C. Gulcehre,
 * T. Le Paine, M. Hoffman, R. Pascanu, "Improving the Gating Mechanism of Recurrent Neural Networks",
 * ICML 2020, the UR-LSTM of §3–4):
 *
 *   f = σ(a_f + φ),  r = σ(a_r − φ)              φ = forget_bias, uniform gate initialisation (below)
 *   g = r·(1 − (1 − f)²) + (1 − r)·f² = f² + 2·r·f·(1 − f)        the refined forget gate, in (0, 1)
 *   u = tanh(a_u),   o = σ(a_o)
 *   c' = g ⊙ c + (1 − g) ⊙ u                     the input gate tied to 1 − g
 *   h' = o ⊙ tanh(c')
 * a_k = W_ik x + b_ik + W_hk h + b_hk with gate rows f, r, u, o (the paper's and BrainTrace URLSTMCell's
 * order; PyTorch has no UR-LSTM). The refine gate lets the effective gate g move anywhere in (f², 1 − (1 − f)²)
 * with gradients that do not vanish near saturation. Uniform gate initialisation: φ_i = σ⁻¹(u_i),
 * u_i ~ U[1/n, 1 − 1/n] (clipped to 1/2 for n ≤ 2), so the units' forget gates start spread over time scales;
 * φ is a learnable unit parameter (the paper keeps it as the gates' bias).
 * S = 2 (component 0 = c, component 1 = h), K = G = 4, y = h. Local partials, with
 * γ_f = ∂g/∂f = 2f + 2r(1 − 2f), γ_r = ∂g/∂r = 2f(1 − f), oc = o·(1 − tanh²c'):
 *   ∂c'/∂c = g,  ∂c'/∂a_f = (c − u)·γ_f·f(1 − f),  ∂c'/∂a_r = (c − u)·γ_r·r(1 − r),  ∂c'/∂a_u = (1 − g)(1 − u²),
 *   ∂c'/∂a_o = 0,  ∂c'/∂φ = ∂c'/∂a_f − ∂c'/∂a_r;  ∂h'/∂· = oc·∂c'/∂·, plus ∂h'/∂a_o = tanh(c')·o(1 − o);
 *   ∂y/∂s = (0, 1), ∂y/∂φ = 0.
 * Exactness: the true derivative (smooth). Cost per unit and step: three σ, two tanh, O(1) — as the LSTM.
 */
import { sigmoid, type UnitModel } from './unit.js';

export const urLstmUnit: UnitModel = {
  name: 'ur-lstm',
  description: 'UR-LSTM (Gu et al. 2020): LSTM with a refine gate r on the forget gate f, g = f² + 2rf(1 − f), input gate 1 − g',
  S: 2,
  K: 4,
  G: 4,
  ihChannel: [0, 1, 2, 3],
  hhChannel: [0, 1, 2, 3],
  unitParams: [
    {
      name: 'forget_bias',
      init: (n, rng) => {
        const lo = Math.min(1 / n, 0.5);
        return Float64Array.from({ length: n }, () => {
          const u = lo + (1 - 2 * lo) * rng.uniform();
          return Math.log(u / (1 - u));
        });
      },
    },
  ],
  step(B, n, io) {
    const { sPrev, preIh, preHh, sNext, y, dfds, dfda, dhds, dfdphi, dhdphi } = io;
    const bias = io.phi[0]!;
    const grads = dfds && dfda && dhds && dfdphi && dhdphi;
    for (let b = 0; b < B; b++) {
      const gb = b * 4 * n,
        sb = b * 2 * n;
      for (let i = 0; i < n; i++) {
        const phi = bias[i]!;
        const f = sigmoid(preIh[gb + i]! + preHh[gb + i]! + phi);
        const r = sigmoid(preIh[gb + n + i]! + preHh[gb + n + i]! - phi);
        const u = Math.tanh(preIh[gb + 2 * n + i]! + preHh[gb + 2 * n + i]!);
        const o = sigmoid(preIh[gb + 3 * n + i]! + preHh[gb + 3 * n + i]!);
        const g = f * f + 2 * r * f * (1 - f);
        const c = sPrev[sb + i]!;
        const cNew = g * c + (1 - g) * u;
        const tc = Math.tanh(cNew);
        const hNew = o * tc;
        sNext[sb + i] = cNew;
        sNext[sb + n + i] = hNew;
        y[b * n + i] = hNew;
        if (grads) {
          const oc = o * (1 - tc * tc);
          const ds = b * 4 * n; // (c,c) (c,h) (h,c) (h,h)
          dfds[ds + i] = g;
          dfds[ds + n + i] = 0;
          dfds[ds + 2 * n + i] = oc * g;
          dfds[ds + 3 * n + i] = 0;
          const gf = 2 * f + 2 * r * (1 - 2 * f),
            gr = 2 * f * (1 - f);
          const dcf = (c - u) * gf * f * (1 - f),
            dcr = (c - u) * gr * r * (1 - r),
            dcu = (1 - g) * (1 - u * u);
          const da = b * 8 * n; // c' wrt (f, r, u, o), then h' wrt (f, r, u, o)
          dfda[da + i] = dcf;
          dfda[da + n + i] = dcr;
          dfda[da + 2 * n + i] = dcu;
          dfda[da + 3 * n + i] = 0;
          dfda[da + 4 * n + i] = oc * dcf;
          dfda[da + 5 * n + i] = oc * dcr;
          dfda[da + 6 * n + i] = oc * dcu;
          dfda[da + 7 * n + i] = tc * o * (1 - o);
          dhds[sb + i] = 0;
          dhds[sb + n + i] = 1;
          const dp = b * 2 * n; // c' wrt φ, then h' wrt φ (Φ = 1)
          dfdphi[dp + i] = dcf - dcr;
          dfdphi[dp + n + i] = oc * (dcf - dcr);
          dhdphi[b * n + i] = 0;
        }
      }
    }
  },
};
