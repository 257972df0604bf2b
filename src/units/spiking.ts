/**
 * Spiking units for OSTL / OSTTP (research/osttp-and-perturbation.md §A.2): the spiking neural unit `snu`
 * (Woźniak, Pantazi, Bohnstingl, Eleftheriou, Nature Machine Intelligence 2020) and the leaky
 * integrate-and-fire unit `lif` (reset by subtraction, as snnTorch's Leaky), each with a non-spiking
 * variant whose output is a sigmoid instead of a step (`snu-sigmoid`, `lif-sigmoid`, the "soft" SNU).
 *
 *   snu:  s_t = a_t + l ⊙ s_{t−1} ⊙ (1 − y_{t−1}),         y_t = h(s_t − θ)      reset to zero after a spike
 *   lif:  s_t = β ⊙ s_{t−1} + a_t − θ ⊙ y_{t−1},           y_t = h(s_t − θ)      reset by subtraction
 *
 * a_t = W x_t (+ H y_{t−1}) + b is the synaptic input (channel 0; a layer may have no H at all). h is the
 * Heaviside step (spiking) or the logistic sigmoid (non-spiking). The unit parameters φ are per-unit and
 * learnable: `threshold` θ (init 1, IBM's neuroaikit default) and `decay` (l or β, init 0.8).
 * y_{t−1} is recomputed inside the unit from its own state, y_{t−1} = h(s_{t−1} − θ), so the reset path is
 * part of the unit's own ∂f/∂s — the per-layer traces of OSTL (its Eq. 8 term ∂s_t/∂y_{t−1}·e_{t−1}) come out
 * of the unit's local partials and are exact for a layer without recurrent synapses.
 *
 * The step's derivative is replaced by a surrogate ψ(v) = γ·(1 − tanh²(v/w)) (neuroaikit's tanh
 * pseudo-derivative, height γ = dampening, width w); γ = 0 switches it off (then finite differences of the
 * true, piecewise-constant step apply). The sigmoid variants use the true derivative σ'(v).
 * With ψ_ = ψ(s_{t−1} − θ) (σ' for the sigmoid variant), ψ = ψ(s_t − θ), r = 1 for the sigmoid variant and
 * r = 0 for the spiking snu (its reset is not differentiated through the surrogate, see below):
 *   snu: ∂f/∂s = l·((1 − y_{t−1}) − r·s_{t−1}ψ_),  ∂f/∂a = 1,  ∂f/∂θ = r·l·s_{t−1}ψ_,  ∂f/∂l = s_{t−1}(1 − y_{t−1})
 *   lif: ∂f/∂s = β − θψ_,                         ∂f/∂a = 1,  ∂f/∂θ = −y_{t−1} + θψ_,  ∂f/∂β = s_{t−1}
 *   both: ∂y/∂s = ψ, ∂y/∂θ = −ψ, ∂y/∂decay = 0.                                   S = 1, K = 1, G = 1.
 *
 * Two choices of the snu, measured (issue 19; ci spikes task, 2 × 32 units without recurrent synapses, 300
 * updates, accuracy mean of seeds 0 and 1 over 16 held-out batches, chance 0.25):
 * - g is the identity, as neuroaikit's SNU cell has it by default, not a ReLU. With s = ReLU(…) a unit whose
 *   input is negative sits at exactly 0 with ∂f/∂a = 0, so no gradient reaches it or its input weights until
 *   a positive input lifts it; on sparse spike input most units are there most of the time (39 % of the
 *   layer-1 unit-steps had s > 0 at initialisation) and nothing learned: bptt 0.38, ostl 0.39, osttp 0.35.
 *   A positive bias offset (+0.15), a lower threshold (0.3) or a straight-through ReLU derivative did not
 *   help (bptt 0.42 / 0.42 / 0.24, osttp 0.28 / 0.30 / 0.25); the identity: bptt 0.34, osttp 0.63.
 * - the reset gate (1 − y_{t−1}) is treated as a constant in the spiking snu's derivatives (the common
 *   "detached reset" of surrogate-gradient training): its surrogate term −l·s_{t−1}·ψ_ is as large as the
 *   leak itself near the threshold and of the opposite sign, and taking it made the traces flip sign at every
 *   near-spike. Identity with a detached reset: bptt 0.47, osttp 0.80 (lif on the same runs: bptt 0.55,
 *   osttp 0.79). The lif keeps its reset path (detaching it there lost ground: osttp 0.79 → 0.70). With γ = 0
 *   the term is zero anyway, so finite differences of the true step still check BPTT; the sigmoid variant is
 *   smooth and keeps the exact derivative of its reset.
 */
import { ConfigError } from '../core/errors.js';
import { sigmoid, type UnitModel, type UnitParam } from './unit.js';

export type SpikingKind = 'snu' | 'lif';

export interface SpikingOptions {
  /** 'step': spikes with the surrogate derivative; 'sigmoid': the non-spiking (soft) variant */
  output?: 'step' | 'sigmoid';
  /** γ, the surrogate's height (step output only) */
  dampening?: number;
  /** w, the surrogate's width (step output only) */
  width?: number;
}

export const constant = (name: string, value: number): UnitParam => ({ name, init: (n) => new Float64Array(n).fill(value) });

/**
 * The output nonlinearity h(v) and the derivative the learners use, h'(v): the Heaviside step with the tanh
 * surrogate ψ(v) = γ·(1 − tanh²(v/w)), or the logistic sigmoid with its true derivative. Shared with `alif`.
 */
export function spikeOutput(
  output: 'step' | 'sigmoid',
  dampening: number,
  width: number,
): { h: (v: number) => number; dh: (v: number) => number } {
  if (output === 'step') {
    return {
      h: (v) => (v > 0 ? 1 : 0),
      dh: (v) => {
        const t = Math.tanh(v / width);
        return dampening * (1 - t * t);
      },
    };
  }
  return {
    h: sigmoid,
    dh: (v) => {
      const s = sigmoid(v);
      return s * (1 - s);
    },
  };
}

export function createSpikingUnit(kind: SpikingKind, { output = 'step', dampening = 1, width = 1 }: SpikingOptions = {}): UnitModel {
  if (kind !== 'snu' && kind !== 'lif') throw new ConfigError(`spiking unit: kind must be 'snu' or 'lif', got '${String(kind)}'`);
  if (!(dampening >= 0 && Number.isFinite(dampening))) throw new ConfigError(`${kind}: dampening must be ≥ 0, got ${dampening}`);
  if (!(width > 0 && Number.isFinite(width))) throw new ConfigError(`${kind}: width must be > 0, got ${width}`);
  const spiking = output === 'step';
  const { h, dh } = spikeOutput(output, dampening, width);
  const name = spiking ? kind : `${kind}-sigmoid`;
  const what =
    kind === 'snu'
      ? 'spiking neural unit: s = W x + H y + l·s·(1 − y), reset to zero'
      : 'leaky integrate-and-fire: s = β·s + W x + H y − θ·y, reset by subtraction';
  return {
    name,
    description: `${what}; y = ${spiking ? `step(s − θ) (tanh surrogate γ ${dampening}, width ${width})` : 'σ(s − θ) (non-spiking)'}; learnable θ and decay`,
    S: 1,
    K: 1,
    G: 1,
    ihChannel: [0],
    hhChannel: [0],
    unitParams: [constant('threshold', 1), constant('decay', 0.8)],
    step(B, n, io) {
      const { sPrev, preIh, preHh, sNext, y, dfds, dfda, dhds, dfdphi, dhdphi } = io;
      const theta = io.phi[0]!,
        decay = io.phi[1]!;
      const grads = dfds && dfda && dhds && dfdphi && dhdphi;
      for (let b = 0; b < B; b++) {
        const o = b * n,
          p = b * 2 * n;
        for (let i = 0; i < n; i++) {
          const th = theta[i]!,
            l = decay[i]!;
          const sp = sPrev[o + i]!;
          const yPrev = h(sp - th);
          const a = preIh[o + i]! + preHh[o + i]!;
          let s: number;
          if (kind === 'snu') {
            s = a + l * sp * (1 - yPrev);
            if (grads) {
              // the spiking snu's reset is detached (the file comment): no surrogate term through y_{t−1}
              const resetTerm = spiking ? 0 : sp * dh(sp - th);
              dfds[o + i] = l * (1 - yPrev - resetTerm);
              dfda[o + i] = 1;
              dfdphi[p + i] = l * resetTerm;
              dfdphi[p + n + i] = sp * (1 - yPrev);
            }
          } else {
            s = l * sp + a - th * yPrev;
            if (grads) {
              const psiPrev = dh(sp - th);
              dfds[o + i] = l - th * psiPrev;
              dfda[o + i] = 1;
              dfdphi[p + i] = -yPrev + th * psiPrev;
              dfdphi[p + n + i] = sp;
            }
          }
          sNext[o + i] = s;
          y[o + i] = h(s - th);
          if (grads) {
            const psi = dh(s - th);
            dhds[o + i] = psi;
            dhdphi[p + i] = -psi;
            dhdphi[p + n + i] = 0;
          }
        }
      }
    },
  };
}
