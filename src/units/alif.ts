/**
 * `alif` — the adaptive leaky integrate-and-fire neuron: LIF with a threshold that rises after each spike and
 * decays back (the LSNN neuron of e-prop, Bellec et al., Nature Communications 2020, Methods "ALIF"), with
 * `alif-sigmoid`, its non-spiking variant (output σ instead of the step; what finite differences can check).
 *
 *   A_t = θ + β·b_t                         the adaptive threshold (base θ, strength β, adaptation b)
 *   y_t = h(v_t − A_t)                      h = Heaviside step (spiking) or the logistic sigmoid
 *   v_t = α·v_{t−1} + a_t − θ·y_{t−1}       reset by subtraction of the base threshold, as in the paper
 *   b_t = ρ·b_{t−1} + y_{t−1}               each spike raises the threshold by β, decaying with ρ
 *
 * a_t = W_ih x_t + b_ih (+ W_hh y_{t−1} + b_hh) is the synaptic input (channel 0). As in `lif`, y_{t−1} is
 * recomputed inside the unit from its own state, y_{t−1} = h(v_{t−1} − θ − β·b_{t−1}), so the reset and the
 * adaptation are the unit's own ∂f/∂s: e-prop's two-component eligibility traces (the paper's ε^v, ε^a) come
 * out of the generic per-unit traces, exact per layer without recurrent synapses.
 * S = 2 (component 0 = v, component 1 = b), K = G = 1. Unit parameters φ, per unit and learnable:
 * `threshold` θ (init 1, as lif), `decay` α (init 0.8, as lif), `adaptation_decay` ρ (init 0.9),
 * `adaptation_strength` β (init 0.2). (The paper fixes α = e^{−1/τ_m}, ρ = e^{−1/τ_a} with τ_a of hundreds
 * of steps for its long tasks; the defaults here suit the short sequences of the tests and ci tasks.)
 *
 * The step's derivative is lif's surrogate ψ(u) = γ·(1 − tanh²(u/w)) (height γ = dampening, width w; γ = 0
 * switches it off), the sigmoid variant's the true σ'. With u = v − θ − β·b, ψ_ = ψ(u_{t−1}), ψ = ψ(u_t):
 *   ∂v/∂v_{t−1} = α − θψ_,   ∂v/∂b_{t−1} = θβψ_,     ∂v/∂a = 1
 *   ∂b/∂v_{t−1} = ψ_,        ∂b/∂b_{t−1} = ρ − βψ_,  ∂b/∂a = 0
 *   ∂v/∂θ = −y_{t−1} + θψ_,  ∂v/∂α = v_{t−1},  ∂v/∂ρ = 0,       ∂v/∂β = θ·b_{t−1}ψ_
 *   ∂b/∂θ = −ψ_,             ∂b/∂α = 0,        ∂b/∂ρ = b_{t−1},  ∂b/∂β = −b_{t−1}ψ_
 *   ∂y/∂v = ψ,  ∂y/∂b = −βψ,  ∂y/∂θ = −ψ,  ∂y/∂α = ∂y/∂ρ = 0,  ∂y/∂β = −b_t·ψ
 * Exactness: the sigmoid variant's partials are the true derivative (finite differences check them); the
 * spiking variant's are exact for the surrogate-replaced step (RTRL == BPTT), not for the step itself.
 * Cost per unit and step: two state components, O(1) (two exponentials in tanh/σ); RTRL's influence carries
 * S = 2 rows per unit, as for the LSTM.
 */
import { ConfigError } from '../core/errors.js';
import type { UnitModel } from './unit.js';
import { constant, spikeOutput } from './spiking.js';

export interface AlifOptions {
  /** 'step': spikes with the surrogate derivative; 'sigmoid': the non-spiking variant */
  output?: 'step' | 'sigmoid';
  /** γ, the surrogate's height (step output only) */
  dampening?: number;
  /** w, the surrogate's width (step output only) */
  width?: number;
}

export function createAlifUnit({ output = 'step', dampening = 1, width = 1 }: AlifOptions = {}): UnitModel {
  if (output !== 'step' && output !== 'sigmoid') throw new ConfigError(`alif: output must be 'step' or 'sigmoid', got '${String(output)}'`);
  if (!(dampening >= 0 && Number.isFinite(dampening))) throw new ConfigError(`alif: dampening must be ≥ 0, got ${dampening}`);
  if (!(width > 0 && Number.isFinite(width))) throw new ConfigError(`alif: width must be > 0, got ${width}`);
  const spiking = output === 'step';
  const { h, dh } = spikeOutput(output, dampening, width);
  return {
    name: spiking ? 'alif' : 'alif-sigmoid',
    description:
      'adaptive LIF (LSNN): v = α·v + W x + H y − θ·y, b = ρ·b + y, threshold θ + β·b; y = ' +
      (spiking ? `step(v − θ − β·b) (tanh surrogate γ ${dampening}, width ${width})` : 'σ(v − θ − β·b) (non-spiking)') +
      '; learnable θ, α, ρ, β',
    S: 2,
    K: 1,
    G: 1,
    ihChannel: [0],
    hhChannel: [0],
    unitParams: [constant('threshold', 1), constant('decay', 0.8), constant('adaptation_decay', 0.9), constant('adaptation_strength', 0.2)],
    step(B, n, io) {
      const { sPrev, preIh, preHh, sNext, y, dfds, dfda, dhds, dfdphi, dhdphi } = io;
      const theta = io.phi[0]!,
        alpha = io.phi[1]!,
        rho = io.phi[2]!,
        beta = io.phi[3]!;
      const grads = dfds && dfda && dhds && dfdphi && dhdphi;
      for (let b = 0; b < B; b++) {
        const o = b * n,
          s2 = b * 2 * n;
        for (let i = 0; i < n; i++) {
          const th = theta[i]!,
            al = alpha[i]!,
            rh = rho[i]!,
            be = beta[i]!;
          const vp = sPrev[s2 + i]!,
            bp = sPrev[s2 + n + i]!;
          const uPrev = vp - th - be * bp;
          const yPrev = h(uPrev);
          const v = al * vp + preIh[o + i]! + preHh[o + i]! - th * yPrev;
          const ad = rh * bp + yPrev;
          const u = v - th - be * ad;
          sNext[s2 + i] = v;
          sNext[s2 + n + i] = ad;
          y[o + i] = h(u);
          if (grads) {
            const psiPrev = dh(uPrev),
              psi = dh(u);
            const ds = b * 4 * n; // (v,v) (v,b) (b,v) (b,b)
            dfds[ds + i] = al - th * psiPrev;
            dfds[ds + n + i] = th * be * psiPrev;
            dfds[ds + 2 * n + i] = psiPrev;
            dfds[ds + 3 * n + i] = rh - be * psiPrev;
            dfda[s2 + i] = 1;
            dfda[s2 + n + i] = 0;
            dhds[s2 + i] = psi;
            dhds[s2 + n + i] = -be * psi;
            const dp = b * 8 * n; // v wrt (θ, α, ρ, β), then b wrt (θ, α, ρ, β)
            dfdphi[dp + i] = -yPrev + th * psiPrev;
            dfdphi[dp + n + i] = vp;
            dfdphi[dp + 2 * n + i] = 0;
            dfdphi[dp + 3 * n + i] = th * bp * psiPrev;
            dfdphi[dp + 4 * n + i] = -psiPrev;
            dfdphi[dp + 5 * n + i] = 0;
            dfdphi[dp + 6 * n + i] = bp;
            dfdphi[dp + 7 * n + i] = -bp * psiPrev;
            const hp = b * 4 * n;
            dhdphi[hp + i] = -psi;
            dhdphi[hp + n + i] = 0;
            dhdphi[hp + 2 * n + i] = 0;
            dhdphi[hp + 3 * n + i] = -ad * psi;
          }
        }
      }
    },
  };
}
