/**
 * `kf-rtrl` — Kronecker-factored RTRL (Mujika, Meier & Steger, NeurIPS 2018), per recurrent layer. A synapse
 * block β — the gate block g of one synapse group, its weights and bias (W_ih,g | b_ih,g, or W_hh,g | b_hh,g),
 * n rows of m_β = in + 1 or n + 1 inputs — writes into its units through one preactivation channel k_β, so its
 * immediate influence on the state is a Kronecker product:
 *
 *   I_t^β = â_β ⊗ D_β,   â_β = [x_t; 1] or [y_{t−1}; 1],   D_β[(c, l), i] = δ_li·∂f_c/∂a_{k_β}[l]   (S·n × n)
 *
 * KF-RTRL keeps the block's influence as one such product, M_t^β ≈ u_t ⊗ A_t (u ∈ R^{m_β}, A ∈ R^{S·n × n}),
 * and mixes the carried and the new product with one random sign σ per block and step:
 *
 *   u_t = p1·u_{t−1} + σ·p2·â_β          A_t = J_t·A_{t−1}/p1 + σ·D_β/p2
 *   p1 = √(‖J_t·A_{t−1}‖ / ‖u_{t−1}‖),   p2 = √(‖D_β‖ / ‖â_β‖)        (the scaling of least variance)
 *
 * with J_t the layer's full state Jacobian (traces/state-tangent.ts, n columns per block). A product of norm
 * zero is dropped (exact). The gradient from the layer's signal L_t: ∂L/∂W_β[i, ·] += (Aᵀ·(∂h/∂s)ᵀ·L_t)_i·u.
 * The unit parameters φ (n per parameter, S·n × n of influence — the size of one A) are carried exactly:
 * M^φ_t = J_t·M^φ_{t−1} + ∂f/∂φ + the path through y_{t−1} = h(s_{t−1}; φ), with ∂h/∂φ at the output.
 *
 * The paper derives it for h_t = f(W·[h_{t−1}; x_t; 1]) (the `rnn` unit, G = 1, one block over [x; h; 1]). The
 * factorisation holds for every unit model of DESIGN §4 — each gate block of each synapse group feeds one
 * channel of its own units, so ∂f/∂a is diagonal in the units — and this file applies it per synapse block
 * (2·G blocks per layer; for the rnn, W_ih and W_hh get one product each instead of one together: two
 * rank-one terms instead of the paper's one).
 *
 * Unbiased: E[σ] = 0, so E[u_t ⊗ A_t] = J_t·E[u_{t−1} ⊗ A_{t−1}] + I_t^β = M_t^β by induction (the trajectory
 * does not depend on the draws while the parameters are fixed); for one layer the expected gradient is
 * rtrl's (= BPTT's), measured in test/learners/unbiased.test.ts. In a stack each layer estimates its own
 * influence and gets the signal backpropagated at t (the layer-local rule in expectation, as uoro).
 * Cost per step and sample: the JVP of (2G + Φ)·n columns, G·(2G + Φ)·n³ multiply-adds in gemm plus
 * S·(S + G)·(2G + Φ)·n², O(n²) for the scaling and O(G·n·(n + d)) for the gradient: O(n³) time; memory
 * (S + 1)·(2G + Φ)·n² + G·(n + d + 2) numbers — O(n²), against RTRL's O(n³·(n + d)).
 * Reference: A. Mujika, F. Meier, A. Steger, "Approximating real-time recurrent learning with random Kronecker
 * factors", NeurIPS 2018.
 */
import type { Buf } from '../../backend/backend.js';
import { ensureMemory } from '../../backend/memory.js';
import type { Rng } from '../../core/rng.js';
import type { RecCache, RecurrentLayer } from '../../modules/recurrent.js';
import { inputVjpAtT } from './diag.js';
import { type EstimatorEngine, norm, sign, StateTangent } from './state-tangent.js';

export class KfRtrlLayer implements EstimatorEngine {
  /** tangent columns: 2G synapse blocks of n, then Φ unit parameters of n */
  readonly C: number;
  /** the input factors of all blocks per sample: G·(in + 1) for the ih blocks, then G·(n + 1) */
  readonly U: number;
  /** A and M^φ (B × S·n·C), their output tangent dy/d(column) (B × n·C), the factors u (B × U) */
  private readonly T: Buf;
  private readonly Y: Buf;
  private readonly YRow: Buf[];
  private readonly u: Buf;
  /** scratch: J·T of one sample, r = Yᵀ·L */
  private readonly out: Buf;
  private readonly r: Buf;
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
      Gn = G * n,
      inp = layer.inSize;
    this.C = (2 * G + unitParams.length) * n;
    this.U = G * (inp + 1) + G * (n + 1);
    const carried = S * n * this.C + n * this.C + this.U;
    ensureMemory(be, `kf-rtrl's Kronecker factors (${B} samples × ${carried})`, B * carried * (be.dtype === 'float64' ? 8 : 4));
    this.T = be.alloc(B * S * n * this.C);
    this.Y = be.alloc(B * n * this.C);
    this.YRow = Array.from({ length: B }, (_, b) => this.Y.view(b * n * this.C, n * this.C));
    this.u = be.alloc(B * this.U);
    this.out = be.alloc(S * n * this.C);
    this.r = be.alloc(this.C);
    this.tangent = new StateTangent(layer, this.C);
    this.pre = be.alloc(B * Gn);
    const hh = Gn * inp,
      bih = hh + Gn * n,
      bhh = bih + Gn;
    this.o = { hh, bih, bhh, phi: bhh + Gn };
  }

  get bytes(): number {
    return this.buffers().reduce((s, b) => s + b.length * (b.backend.dtype === 'float64' ? 8 : 4), 0);
  }

  buffers(): Buf[] {
    return [this.T, this.Y, this.u];
  }

  reset(): void {
    for (const b of this.buffers()) b.backend.fill(b, 0);
  }

  advance(cache: RecCache, rng: Rng): void {
    const layer = this.layer,
      { S, K, G, ihChannel, hhChannel, unitParams } = layer.unit,
      n = layer.n,
      inp = layer.inSize,
      C = this.C,
      U = this.U,
      Phi = unitParams.length,
      be = this.u.backend;
    const dfda = cache.dfda.data,
      dfdphi = cache.dfdphi.data,
      dhdphi = cache.dhdphi.data,
      x = cache.x.data,
      yPrev = cache.yPrev.data;
    for (let b = 0; b < this.B; b++) {
      const T = this.T.data,
        tb = b * S * n * C,
        out = this.out.data,
        u = this.u.data,
        ub = b * U;
      this.tangent.propagate(cache, b, T, tb, this.YRow[b]!, out, 0);
      // the unit parameters, exactly: + ∂f/∂φ (their path through y_{t−1} is in Y)
      for (let c = 0; c < S; c++)
        for (let p = 0; p < Phi; p++)
          for (let m = 0; m < n; m++) {
            const k = (c * n + m) * C + (2 * G + p) * n + m;
            out[k] = out[k]! + dfdphi[((b * S + c) * Phi + p) * n + m]!;
          }
      for (let k = 2 * G * n; k < C; k++) for (let cl = 0; cl < S * n; cl++) T[tb + cl * C + k] = out[cl * C + k]!;
      // each synapse block: one random sign mixes the carried product and the new one
      for (let beta = 0; beta < 2 * G; beta++) {
        const ih = beta < G,
          g = ih ? beta : beta - G,
          ch = ih ? ihChannel[g]! : hhChannel[g]!,
          m = ih ? inp : n,
          uo = ub + (ih ? g * (inp + 1) : G * (inp + 1) + g * (n + 1)),
          col = beta * n;
        let nJA = 0,
          nD = 0,
          nA = 1; // the bias input
        for (let cl = 0; cl < S * n; cl++) for (let i = 0; i < n; i++) nJA += out[cl * C + col + i]! ** 2;
        for (let c = 0; c < S; c++) for (let l = 0; l < n; l++) nD += dfda[(b * S * K + c * K + ch) * n + l]! ** 2;
        const src = ih ? x : yPrev,
          so = b * m;
        for (let j = 0; j < m; j++) nA += src[so + j]! ** 2;
        nJA = Math.sqrt(nJA);
        nD = Math.sqrt(nD);
        nA = Math.sqrt(nA);
        const nU = norm(u, uo, m + 1),
          keepOld = nJA > 0 && nU > 0,
          keepNew = nD > 0;
        const s = sign(rng),
          p1 = keepOld ? Math.sqrt(nJA / nU) : 0,
          p2 = keepNew ? Math.sqrt(nD / nA) : 0;
        const uOld = keepOld ? p1 : 0,
          uNew = keepNew ? s * p2 : 0,
          aOld = keepOld ? 1 / p1 : 0,
          aNew = keepNew ? s / p2 : 0;
        for (let j = 0; j < m; j++) u[uo + j] = uOld * u[uo + j]! + uNew * src[so + j]!;
        u[uo + m] = uOld * u[uo + m]! + uNew;
        for (let cl = 0; cl < S * n; cl++) for (let i = 0; i < n; i++) T[tb + cl * C + col + i] = aOld * out[cl * C + col + i]!;
        for (let c = 0; c < S; c++)
          for (let l = 0; l < n; l++) {
            const k = tb + (c * n + l) * C + col + l;
            T[k] = T[k]! + aNew * dfda[(b * S * K + c * K + ch) * n + l]!;
          }
        be.macs += 3 * S * n * n + 2 * (m + 1) + 2 * S * n;
      }
      // dy_t/d(column), with the unit parameters' direct path through h
      this.tangent.outputTangent(cache, b, T, tb, this.YRow[b]!);
      const Yd = this.YRow[b]!.data;
      for (let p = 0; p < Phi; p++)
        for (let m2 = 0; m2 < n; m2++) {
          const k = m2 * C + (2 * G + p) * n + m2;
          Yd[k] = Yd[k]! + dhdphi[(b * Phi + p) * n + m2]!;
        }
      be.macs += S * Phi * n;
    }
  }

  accumulate(cache: RecCache, signal: Buf, dx: Buf | null): void {
    const layer = this.layer,
      { G, unitParams } = layer.unit,
      n = layer.n,
      inp = layer.inSize,
      C = this.C,
      U = this.U,
      Phi = unitParams.length,
      o = this.o,
      be = this.u.backend;
    const g = layer.ownGrad.data,
      sig = signal.data,
      Y = this.Y.data,
      u = this.u.data,
      r = this.r.data;
    for (let b = 0; b < this.B; b++) {
      // r = Yᵀ·L: the signal's weight on every column
      for (let k = 0; k < C; k++) r[k] = 0;
      for (let l = 0; l < n; l++) {
        const L = sig[b * n + l]!,
          yo = b * n * C + l * C;
        if (L !== 0) for (let k = 0; k < C; k++) r[k] = r[k]! + L * Y[yo + k]!;
      }
      for (let gg = 0; gg < G; gg++) {
        const uIh = b * U + gg * (inp + 1),
          uHh = b * U + G * (inp + 1) + gg * (n + 1);
        for (let i = 0; i < n; i++) {
          const row = gg * n + i,
            rIh = r[gg * n + i]!,
            rHh = r[(G + gg) * n + i]!;
          for (let j = 0; j < inp; j++) g[row * inp + j] = g[row * inp + j]! + rIh * u[uIh + j]!;
          g[o.bih + row] = g[o.bih + row]! + rIh * u[uIh + inp]!;
          for (let j = 0; j < n; j++) g[o.hh + row * n + j] = g[o.hh + row * n + j]! + rHh * u[uHh + j]!;
          g[o.bhh + row] = g[o.bhh + row]! + rHh * u[uHh + n]!;
        }
      }
      for (let k = 0; k < Phi * n; k++) g[o.phi + k] = g[o.phi + k]! + r[2 * G * n + k]!;
      be.macs += n * C + G * n * (inp + n + 2) + Phi * n;
    }
    if (dx) inputVjpAtT(layer, cache, signal, dx, this.pre);
  }
}
