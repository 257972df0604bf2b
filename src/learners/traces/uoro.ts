/**
 * `uoro` — unbiased online recurrent optimisation (Tallec & Ollivier, ICLR 2018), per recurrent layer. The
 * layer's influence M_t = ds_t/dθ (state S·n × own parameters P) is replaced by a rank-one estimate s̃_t·θ̃_tᵀ,
 * refreshed at every step with a fresh vector ν of independent random signs (one per state number):
 *
 *   s̃_t = ρ0·J_t·s̃_{t−1} + ρ1·ν           θ̃_t = θ̃_{t−1}/ρ0 + (νᵀ·I_t)/ρ1
 *   ρ0 = √(‖θ̃_{t−1}‖ / ‖J_t·s̃_{t−1}‖),   ρ1 = √(‖νᵀ·I_t‖ / ‖ν‖)      (the scaling of least variance)
 *
 * with J_t the layer's full state Jacobian (traces/state-tangent.ts: one JVP column) and I_t = ∂s_t/∂θ with
 * s_{t−1} held — νᵀ·I_t is one VJP of the step onto the parameters: (Σ_c ν_c ∂f_c/∂a_k)_i times x_t, y_{t−1}
 * or 1 for the synapses and biases, and for a unit parameter φ_i its own ∂f/∂φ plus the path through
 * y_{t−1} = h(s_{t−1}; φ) and W_hh. A product whose norm is zero contributes nothing and is dropped (exact,
 * and it keeps ρ finite). The gradient: ∂L/∂θ += (L_t·ỹ_t)·θ̃_t + L_t·∂h/∂φ, where ỹ_t = Σ_c ∂h/∂s_c ⊙ s̃_t,c
 * and L_t is the layer's learning signal (backprop at t).
 *
 * Unbiased: E[ν νᵀ] = 1 and the cross terms have mean zero, so E[s̃_t θ̃_tᵀ] = J_t·E[s̃_{t−1}θ̃_{t−1}ᵀ] + I_t
 * = M_t by induction (the trajectory does not depend on the draws while the parameters are fixed): for one
 * layer the expected gradient is rtrl's (= BPTT's); test/learners/unbiased.test.ts measures it. In a stack
 * each layer estimates its own influence and gets the signal backpropagated at t (e-prop's structure): the
 * expectation is then the layer-local rule, which drops paths from a lower layer through a later step of a
 * higher one. The variance is high and grows with n and with time (the paper's own finding).
 * Cost per step and sample: one JVP column (G·n² + S·n·(S + G)), one VJP (G·n + P), O(P) for the updates and
 * norms, P for the gradient: O(n² + P) time; memory S·n + n + P numbers (+ the unit parameters' ∂h/∂φ of the
 * previous step). Reference: C. Tallec, Y. Ollivier, "Unbiased online recurrent optimization", ICLR 2018.
 */
import type { Buf } from '../../backend/backend.js';
import { ensureMemory } from '../../backend/memory.js';
import type { Rng } from '../../core/rng.js';
import type { RecCache, RecurrentLayer } from '../../modules/recurrent.js';
import { inputVjpAtT } from './diag.js';
import { type EstimatorEngine, norm, sign, StateTangent } from './state-tangent.js';

export class UoroLayer implements EstimatorEngine {
  readonly P: number;
  /** s̃ (B × S·n), θ̃ (B × P), ỹ = ∂h/∂s·s̃ (B × n), the previous step's ∂h/∂φ (B × Φ·n) */
  private readonly sTilde: Buf;
  private readonly thetaTilde: Buf;
  private readonly yTilde: Buf;
  private readonly yTildeRow: Buf[];
  private readonly dhdphiPrev: Buf;
  /** scratch: J·s̃, ν, νᵀI, the gate deltas of ν and W_hhᵀ·(hh deltas) */
  private readonly js: Buf;
  private readonly nu: Buf;
  private readonly v: Buf;
  private readonly daHh: Buf;
  private readonly daIh: Buf;
  private readonly back: Buf;
  private readonly tangent: StateTangent;
  private readonly pre: Buf;
  private readonly o: { hh: number; bih: number; bhh: number; phi: number };

  constructor(
    readonly layer: RecurrentLayer,
    readonly B: number,
  ) {
    const be = layer.weightIh.backend,
      { S, G, unitParams } = layer.unit,
      n = layer.n,
      Gn = G * n;
    this.P = layer.ownRows;
    ensureMemory(
      be,
      `uoro's rank-one estimates (${B} samples × (${S * n + n} + ${this.P}))`,
      B * (S * n + n + this.P) * (be.dtype === 'float64' ? 8 : 4),
    );
    this.sTilde = be.alloc(B * S * n);
    this.thetaTilde = be.alloc(B * this.P);
    this.yTilde = be.alloc(B * n);
    this.yTildeRow = Array.from({ length: B }, (_, b) => this.yTilde.view(b * n, n));
    this.dhdphiPrev = be.alloc(B * unitParams.length * n);
    this.js = be.alloc(S * n);
    this.nu = be.alloc(S * n);
    this.v = be.alloc(this.P);
    this.daIh = be.alloc(Gn);
    this.daHh = be.alloc(Gn);
    this.back = be.alloc(n);
    this.tangent = new StateTangent(layer, 1);
    this.pre = be.alloc(B * Gn);
    const hh = Gn * layer.inSize,
      bih = hh + Gn * n,
      bhh = bih + Gn;
    this.o = { hh, bih, bhh, phi: bhh + Gn };
  }

  get bytes(): number {
    return this.buffers().reduce((s, b) => s + b.length * (b.backend.dtype === 'float64' ? 8 : 4), 0);
  }

  buffers(): Buf[] {
    return [this.sTilde, this.thetaTilde, this.yTilde, this.dhdphiPrev];
  }

  reset(): void {
    for (const b of this.buffers()) b.backend.fill(b, 0);
  }

  advance(cache: RecCache, rng: Rng): void {
    const layer = this.layer,
      { S, K, G, ihChannel, hhChannel, unitParams } = layer.unit,
      n = layer.n,
      inp = layer.inSize,
      P = this.P,
      Phi = unitParams.length,
      be = this.v.backend,
      o = this.o;
    const dfda = cache.dfda.data,
      dfdphi = cache.dfdphi.data,
      x = cache.x.data,
      yPrev = cache.yPrev.data;
    for (let b = 0; b < this.B; b++) {
      const sT = this.sTilde.data,
        tT = this.thetaTilde.data,
        sb = b * S * n,
        tb = b * P;
      // J·s̃ (one tangent column) from s̃ and ỹ of the previous step
      this.tangent.propagate(cache, b, sT, sb, this.yTildeRow[b]!, this.js.data, 0);
      // ν and its VJP onto the parameters (s_{t−1}, y_{t−1} held)
      const nu = this.nu.data,
        dIh = this.daIh.data,
        dHh = this.daHh.data,
        v = this.v.data;
      for (let k = 0; k < S * n; k++) nu[k] = sign(rng);
      for (let g = 0; g < G; g++) {
        for (let i = 0; i < n; i++) {
          let sIh = 0,
            sHh = 0;
          for (let c = 0; c < S; c++) {
            sIh += nu[c * n + i]! * dfda[(b * S * K + c * K + ihChannel[g]!) * n + i]!;
            sHh += nu[c * n + i]! * dfda[(b * S * K + c * K + hhChannel[g]!) * n + i]!;
          }
          dIh[g * n + i] = sIh;
          dHh[g * n + i] = sHh;
          const r = g * n + i;
          for (let j = 0; j < inp; j++) v[r * inp + j] = sIh * x[b * inp + j]!;
          for (let j = 0; j < n; j++) v[o.hh + r * n + j] = sHh * yPrev[b * n + j]!;
          v[o.bih + r] = sIh;
          v[o.bhh + r] = sHh;
        }
      }
      be.macs += 2 * G * n * S + o.phi;
      if (Phi > 0) {
        // a unit parameter also moves y_{t−1} = h(s_{t−1}; φ), which W_hh carries into this step
        be.gemv(true, G * n, n, 1, layer.weightHh, this.daHh, 0, this.back);
        const w = this.back.data,
          hp = this.dhdphiPrev.data;
        for (let p = 0; p < Phi; p++) {
          for (let m = 0; m < n; m++) {
            let s = hp[(b * Phi + p) * n + m]! * w[m]!;
            for (let c = 0; c < S; c++) s += nu[c * n + m]! * dfdphi[((b * S + c) * Phi + p) * n + m]!;
            v[o.phi + p * n + m] = s;
          }
        }
        be.macs += Phi * n * (S + 1);
      }
      // the variance-minimising scaling; a product of norm zero is dropped
      const js = this.js.data,
        nTheta = norm(tT, tb, P),
        nJs = norm(js, 0, S * n),
        nV = norm(v, 0, P),
        keepOld = nTheta > 0 && nJs > 0,
        keepNew = nV > 0;
      const rho0 = keepOld ? Math.sqrt(nTheta / nJs) : 0,
        rho1 = keepNew ? Math.sqrt(nV / Math.sqrt(S * n)) : 0;
      const a0 = keepOld ? rho0 : 0,
        a1 = keepNew ? rho1 : 0,
        b0 = keepOld ? 1 / rho0 : 0,
        b1 = keepNew ? 1 / rho1 : 0;
      for (let k = 0; k < S * n; k++) sT[sb + k] = a0 * js[k]! + a1 * nu[k]!;
      for (let k = 0; k < P; k++) tT[tb + k] = b0 * tT[tb + k]! + b1 * v[k]!;
      be.macs += 2 * (S * n + P) + P + S * n;
      this.tangent.outputTangent(cache, b, sT, sb, this.yTildeRow[b]!);
    }
    be.copy(cache.dhdphi, this.dhdphiPrev);
  }

  accumulate(cache: RecCache, signal: Buf, dx: Buf | null): void {
    const layer = this.layer,
      n = layer.n,
      P = this.P,
      Phi = layer.unit.unitParams.length,
      be = this.v.backend,
      phi0 = this.o.phi;
    const g = layer.ownGrad.data,
      sig = signal.data,
      yT = this.yTilde.data,
      tT = this.thetaTilde.data,
      dhdphi = cache.dhdphi.data;
    for (let b = 0; b < this.B; b++) {
      let q = 0;
      for (let i = 0; i < n; i++) q += sig[b * n + i]! * yT[b * n + i]!;
      if (q !== 0) for (let k = 0; k < P; k++) g[k] = g[k]! + q * tT[b * P + k]!;
      // a unit parameter also reaches y_t directly
      for (let p = 0; p < Phi; p++)
        for (let m = 0; m < n; m++) g[phi0 + p * n + m] = g[phi0 + p * n + m]! + sig[b * n + m]! * dhdphi[(b * Phi + p) * n + m]!;
      be.macs += n + P + Phi * n;
    }
    if (dx) inputVjpAtT(layer, cache, signal, dx, this.pre);
  }
}
