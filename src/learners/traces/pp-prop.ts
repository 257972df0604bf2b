/**
 * The `pp-prop` trace rule (BrainTrace's pp_prop, alias ES-D-RTRL: Wang et al., "Model-agnostic linear-memory
 * online learning in spiking neural networks", Nature Communications 2026): the per-synapse trace of the
 * `diag` rule, ε[c, r, j] ≈ ∂s_t[c, i(r)]/∂W[r, j], replaced by a product of an output factor per row and an
 * input factor per presynaptic neuron, each smoothed exponentially with the decay α (option `traceDecay`):
 *
 *   input factors (per presynaptic source p ∈ {x_t, y_{t−1}, 1}):  ε_p ← α·ε_p + p_t
 *   output factors (per gate row r = g·n + i, state component c):  ε_f[c, r] ← α·Σ_c' ∂f_c/∂s_c'·ε_f[c', r] + (1 − α)·∂f_c/∂a_{k(r)}
 *   trace:      ε[c, r, j] ≈ ε_f[c, r]·ε_p[j]        (rows of W_ih and b_ih pair with x and 1, of W_hh and b_hh with y_{t−1} and 1)
 *   gradient:   ∂L/∂W[r, j] += Σ_b L_t[b, i]·(Σ_c ∂y/∂s_c·ε_f[b, c, r])·ε_p[b, j]        one gemm per synapse group
 * The unit parameters φ (one per unit, elementwise) keep the exact diag trace ε_φ ← ∂f/∂s·ε_φ + ∂f/∂φ (the
 * parameter dimension is the smaller one there, as BrainTrace's hybrid rule picks).
 * Exact: with α = 0 the trace is the immediate derivative ∂f/∂a·p_t, which is the diag trace on units whose
 * own ∂f/∂s is zero (the Elman rnn): pp-prop equals eprop there, and BPTT for one layer without recurrent
 * synapses. Otherwise biased: the true trace is a sum of rank-one terms Σ_τ (Π D)·u_τ ⊗ p_τ, and the product
 * of two smoothed factors keeps only a rank-one summary of it.
 * Cost per step and sample: O(in + n) for the input factors, O(S²·G·n) for the output factors, the gradient
 * G·n·(in + n) multiply-adds (one outer product per group, as the forward's matmul); memory
 * in + n + 1 + 2·S·G·n + S·Φ·n numbers per sample — O(B(I + O)) instead of the diag rule's O(B·I·O).
 */
import type { Backend, Buf, FloatArray } from '../../backend/backend.js';
import { ensureMemory } from '../../backend/memory.js';
import type { RecCache, RecurrentLayer } from '../../modules/recurrent.js';
import { inputVjpAtT } from './diag.js';

export class PpPropTraces {
  /** input factors: ε_x (B × in), ε_y (B × n), ε_1 (B) */
  private readonly inX: Buf;
  private readonly inY: Buf;
  private readonly inOne: Buf;
  /** output factors of the W_ih / W_hh rows: S components × (B × G·n), component-major per sample */
  private readonly outIh: Buf;
  private readonly outHh: Buf;
  /** exact diag traces of the unit parameters φ: B × S × Φ × n */
  private readonly phiTraces: Buf;
  /** the rows' learning signals L·Σ_c ∂y/∂s_c·ε_f (B × G·n per group) and scratch */
  private readonly lIh: Buf;
  private readonly lHh: Buf;
  private readonly dpre: Buf;
  private readonly old: Float64Array;
  private readonly offsets: { ih: number; hh: number; bih: number; bhh: number; phi: number };
  /** views of the layer's gradient blocks (rebuilt if the layer is bound to other gradients) */
  private gradBlocks: { root: Buf; ih: Buf; hh: Buf; bih: Buf; bhh: Buf } | null = null;

  constructor(
    readonly layer: RecurrentLayer,
    be: Backend,
    readonly B: number,
    readonly decay: number,
  ) {
    const { S, G, unitParams } = layer.unit,
      n = layer.n,
      Gn = G * n,
      Phi = unitParams.length;
    const numbers = B * (layer.inSize + n + 1 + 2 * S * Gn + S * Phi * n);
    ensureMemory(be, `pp-prop factorised traces (${B} samples × ${numbers / B})`, numbers * (be.dtype === 'float64' ? 8 : 4));
    this.inX = be.alloc(B * layer.inSize);
    this.inY = be.alloc(B * n);
    this.inOne = be.alloc(B);
    this.outIh = be.alloc(B * S * Gn);
    this.outHh = be.alloc(B * S * Gn);
    this.phiTraces = be.alloc(B * S * Phi * n);
    this.lIh = be.alloc(B * Gn);
    this.lHh = be.alloc(B * Gn);
    this.dpre = be.alloc(B * Gn);
    this.old = new Float64Array(S);
    const hh = Gn * layer.inSize,
      bih = hh + Gn * n,
      bhh = bih + Gn;
    this.offsets = { ih: 0, hh, bih, bhh, phi: bhh + Gn };
  }

  /** the carried factors (checkpoints) */
  buffers(): Buf[] {
    return [this.inX, this.inY, this.inOne, this.outIh, this.outHh, this.phiTraces];
  }

  get bytes(): number {
    return this.buffers().reduce((s, b) => s + b.length * (b.backend.dtype === 'float64' ? 8 : 4), 0);
  }

  reset(): void {
    for (const b of this.buffers()) b.backend.fill(b, 0);
  }

  /** advance every factor by one step with the local partials the layer's forward left in `cache` */
  step(cache: RecCache): void {
    const be = this.inX.backend,
      a = this.decay;
    be.axpby(1, cache.x, a, this.inX);
    be.axpby(1, cache.yPrev, a, this.inY);
    const one = this.inOne.data;
    for (let b = 0; b < this.B; b++) one[b] = a * one[b]! + 1;
    const { S, G, ihChannel, hhChannel, unitParams } = this.layer.unit,
      n = this.layer.n,
      Gn = G * n,
      Phi = unitParams.length;
    const dfds = cache.dfds.data,
      dfda = cache.dfda.data,
      dfdphi = cache.dfdphi.data;
    const fIh = this.outIh.data,
      fHh = this.outHh.data,
      ePhi = this.phiTraces.data,
      old = this.old;
    for (let b = 0; b < this.B; b++) {
      for (let g = 0; g < G; g++) {
        for (let i = 0; i < n; i++) {
          const r = g * n + i;
          this.advanceRow(fIh, dfds, dfda, b, r, i, ihChannel[g]!);
          this.advanceRow(fHh, dfds, dfda, b, r, i, hhChannel[g]!);
        }
      }
      for (let p = 0; p < Phi; p++) {
        for (let i = 0; i < n; i++) {
          for (let c = 0; c < S; c++) old[c] = ePhi[((b * S + c) * Phi + p) * n + i]!;
          for (let c = 0; c < S; c++) {
            let s = dfdphi[((b * S + c) * Phi + p) * n + i]!;
            for (let c2 = 0; c2 < S; c2++) s += dfds[(b * S * S + c * S + c2) * n + i]! * old[c2]!;
            ePhi[((b * S + c) * Phi + p) * n + i] = s;
          }
        }
      }
    }
    be.macs += this.B * (this.layer.inSize + n + 1 + 2 * Gn * S * (S + 1) + Phi * n * S * (S + 1));
  }

  /** ε_f[c, r] ← α·Σ_c' ∂f_c/∂s_c'·ε_f[c', r] + (1 − α)·∂f_c/∂a_ch for sample b, row r of unit i */
  private advanceRow(f: FloatArray, dfds: FloatArray, dfda: FloatArray, b: number, r: number, i: number, ch: number): void {
    const { S, K, G } = this.layer.unit,
      n = this.layer.n,
      Gn = G * n,
      a = this.decay,
      old = this.old;
    for (let c = 0; c < S; c++) old[c] = f[(b * S + c) * Gn + r]!;
    for (let c = 0; c < S; c++) {
      let s = (1 - a) * dfda[(b * S * K + c * K + ch) * n + i]!;
      for (let c2 = 0; c2 < S; c2++) s += a * dfds[(b * S * S + c * S + c2) * n + i]! * old[c2]!;
      f[(b * S + c) * Gn + r] = s;
    }
  }

  private gradViews(): { root: Buf; ih: Buf; hh: Buf; bih: Buf; bhh: Buf } {
    const g = this.layer.ownGrad;
    if (this.gradBlocks?.root === g) return this.gradBlocks;
    const Gn = this.layer.unit.G * this.layer.n,
      o = this.offsets;
    return (this.gradBlocks = {
      root: g,
      ih: g.view(o.ih, Gn * this.layer.inSize),
      hh: g.view(o.hh, Gn * this.layer.n),
      bih: g.view(o.bih, Gn),
      bhh: g.view(o.bhh, Gn),
    });
  }

  /** ∂L/∂θ += the factorised traces × the signal (B × n), into the layer's gradient */
  accumulate(cache: RecCache, signal: Buf): void {
    const { S, G, unitParams } = this.layer.unit,
      n = this.layer.n,
      Gn = G * n,
      Phi = unitParams.length,
      B = this.B;
    const dhds = cache.dhds.data,
      dhdphi = cache.dhdphi.data,
      sig = signal.data;
    const fIh = this.outIh.data,
      fHh = this.outHh.data,
      lIh = this.lIh.data,
      lHh = this.lHh.data,
      ePhi = this.phiTraces.data;
    for (let b = 0; b < B; b++) {
      for (let r = 0; r < Gn; r++) {
        const i = r % n;
        let sIh = 0,
          sHh = 0;
        for (let c = 0; c < S; c++) {
          const h = dhds[(b * S + c) * n + i]!;
          sIh += h * fIh[(b * S + c) * Gn + r]!;
          sHh += h * fHh[(b * S + c) * Gn + r]!;
        }
        lIh[b * Gn + r] = sig[b * n + i]! * sIh;
        lHh[b * Gn + r] = sig[b * n + i]! * sHh;
      }
    }
    const be = this.inX.backend,
      gv = this.gradViews(),
      o = this.offsets,
      inp = this.layer.inSize;
    be.macs += 2 * B * Gn * (S + 1);
    be.gemm(true, false, Gn, inp, B, 1, this.lIh, this.inX, 1, gv.ih);
    be.gemm(true, false, Gn, n, B, 1, this.lHh, this.inY, 1, gv.hh);
    be.gemv(true, B, Gn, 1, this.lIh, this.inOne, 1, gv.bih);
    be.gemv(true, B, Gn, 1, this.lHh, this.inOne, 1, gv.bhh);
    if (Phi === 0) return;
    const g = gv.root.data;
    for (let b = 0; b < B; b++) {
      for (let p = 0; p < Phi; p++) {
        for (let i = 0; i < n; i++) {
          let e = dhdphi[(b * Phi + p) * n + i]!;
          for (let c = 0; c < S; c++) e += dhds[(b * S + c) * n + i]! * ePhi[((b * S + c) * Phi + p) * n + i]!;
          const k = o.phi + p * n + i;
          g[k] = g[k]! + sig[b * n + i]! * e;
        }
      }
    }
    be.macs += B * Phi * n * (S + 1);
  }

  /** dx = (∂y_t/∂x_t)ᵀ·dy at time t (the spatial signal below) */
  backwardInput(cache: RecCache, dy: Buf, dx: Buf): void {
    inputVjpAtT(this.layer, cache, dy, dx, this.dpre);
  }
}
