/**
 * `egru` — the event-based GRU (Subramoney et al., ICLR 2023; the unit of the sparse-RTRL paper, Subramoney
 * 2023): a GRU whose units communicate only when their internal state crosses a learnable threshold.
 *
 *   s_{t−1} = c_{t−1} − o_{t−1}·ϑ                      reset by subtraction, o_{t−1} = H(c_{t−1} − ϑ)
 *   r = σ(a_r),  z = σ(a_z),  g = tanh(a_nx + r ⊙ a_nh)  the gates of PyTorch's nn.GRU (rows r, z, n)
 *   c_t = z ⊙ s_{t−1} + (1 − z) ⊙ g
 *   o_t = H(c_t − ϑ),   y_t = o_t ⊙ c_t                 the output is sparse: zero for silent units
 *
 * The recurrent synapses read y_{t−1}, so a silent unit sends nothing. The derivative of the step H is
 * replaced by a pseudo-derivative of compact support, ψ(v) = γ·max(0, 1 − |v|/w) (dampening γ, width w):
 *   ∂c_t/∂c_{t−1} = z·(1 − ϑ·ψ(c_{t−1} − ϑ)),   ∂y_t/∂c_t = o_t + c_t·ψ(c_t − ϑ),
 *   ∂c_t/∂ϑ = z·(−o_{t−1} + ϑ·ψ(c_{t−1} − ϑ)),  ∂y_t/∂ϑ = −c_t·ψ(c_t − ϑ),
 * and ∂c_t/∂a as in the GRU with h replaced by s_{t−1}. A unit that is silent and farther than w from its
 * threshold has ∂y/∂c = 0 exactly — the zeros sparse RTRL skips.
 * State S = 1 (c), channels K = 4 (r, z, n_x, n_h), one unit parameter: `threshold` (ϑ), initialised as
 * σ(N(−1, 1)) (mean ≈ 0.3, the paper code's choice).
 * Defaults γ = 0.7, w = 1 (EvNN); γ = 0 switches the pseudo-derivative off (then finite differences of the
 * true, piecewise-constant step apply).
 */
import { ConfigError } from '../core/errors.js';
import { sigmoid, type UnitModel } from './unit.js';

export interface EgruOptions {
  /** γ, the height of the pseudo-derivative */
  dampening?: number;
  /** w, the half-width of its support */
  width?: number;
}

export function createEgruUnit({ dampening = 0.7, width = 1 }: EgruOptions = {}): UnitModel {
  if (!(dampening >= 0 && Number.isFinite(dampening))) throw new ConfigError(`egru: dampening must be ≥ 0, got ${dampening}`);
  if (!(width > 0 && Number.isFinite(width))) throw new ConfigError(`egru: width must be > 0, got ${width}`);
  const psi = (v: number): number => {
    const u = 1 - Math.abs(v) / width;
    return u > 0 ? dampening * u : 0;
  };
  return {
    name: 'egru',
    description: `event-based GRU: threshold events, sparse output, reset by subtraction (pseudo-derivative γ ${dampening}, width ${width})`,
    S: 1,
    K: 4,
    G: 3,
    ihChannel: [0, 1, 2],
    hhChannel: [0, 1, 3],
    unitParams: [
      {
        name: 'threshold',
        init: (n, rng) => Float64Array.from({ length: n }, () => sigmoid(rng.normal(-1, 1))),
      },
    ],
    step(B, n, io) {
      const { sPrev, preIh, preHh, sNext, y, dfds, dfda, dhds, dfdphi, dhdphi } = io;
      const theta = io.phi[0]!;
      for (let b = 0; b < B; b++) {
        const g3 = b * 3 * n,
          s1 = b * n;
        for (let i = 0; i < n; i++) {
          const th = theta[i]!;
          const cPrev = sPrev[s1 + i]!;
          const oPrev = cPrev > th ? 1 : 0;
          const sp = cPrev - oPrev * th;
          const r = sigmoid(preIh[g3 + i]! + preHh[g3 + i]!);
          const z = sigmoid(preIh[g3 + n + i]! + preHh[g3 + n + i]!);
          const anh = preHh[g3 + 2 * n + i]!;
          const g = Math.tanh(preIh[g3 + 2 * n + i]! + r * anh);
          const c = z * sp + (1 - z) * g;
          const o = c > th ? 1 : 0;
          sNext[s1 + i] = c;
          y[s1 + i] = o * c;
          if (dfds && dfda && dhds && dfdphi && dhdphi) {
            const psiPrev = psi(cPrev - th),
              psiNow = psi(c - th);
            const dg = (1 - z) * (1 - g * g);
            dfds[s1 + i] = z * (1 - th * psiPrev);
            const a = b * 4 * n;
            dfda[a + i] = dg * anh * r * (1 - r);
            dfda[a + n + i] = (sp - g) * z * (1 - z);
            dfda[a + 2 * n + i] = dg;
            dfda[a + 3 * n + i] = dg * r;
            dhds[s1 + i] = o + c * psiNow;
            dfdphi[s1 + i] = z * (-oPrev + th * psiPrev);
            dhdphi[s1 + i] = -c * psiNow;
          }
        }
      }
    },
  };
}

export const egruUnit = createEgruUnit();
