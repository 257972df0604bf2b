/**
 * The `diag` and `snap1` trace rules: per-synapse eligibility traces of one recurrent layer (any unit model),
 * for B samples. A parameter θ of the layer (a row of W_ih or W_hh, a bias, a unit parameter φ) feeds one
 * unit i(θ) directly; the trace keeps only that unit's sensitivity, one number per state component c:
 *
 *   ε_t[c, θ] = Σ_c' J_t[c, c'; i] · ε_{t−1}[c', θ] + I_t[c, θ]                        (ε ≈ ∂s_t[c, i(θ)]/∂θ)
 *
 * with the immediate derivative I_t (s_{t−1} held): ∂f_c/∂a_k · p_j for synapse (k, i, j) of group p (x_t
 * or y_{t−1}), ∂f_c/∂a_k for a bias, ∂f_c/∂φ for a unit parameter; and the per-unit Jacobian
 *   diag:   J_t[c, c'; i] = ∂f_c/∂s_c'  (the unit's own dynamics only — e-prop, Bellec et al. 2020)
 *   snap1:  J_t[c, c'; i] = ∂f_c/∂s_c' + Σ_g ∂f_c/∂a_hh(g) · W_hh,g[i, i] · ∂h/∂s_c'(t−1)
 *           (the diagonal of the full state Jacobian, recurrent self-connection included — SnAp-1,
 *           Menick et al. 2021; φ's immediate also gets the self path through ∂h/∂φ(t−1)).
 * The gradient a learning signal L_t = ∂L/∂y_t (B × n, from any signal rule) makes from the traces:
 *   ∂L/∂θ += Σ_b Σ_c L_t[b, i(θ)] · ∂h/∂s_c[b, i(θ)] · ε_t[b, c, θ]   (+ L_t · ∂h/∂φ for unit parameters).
 * Exact (equals RTRL restricted to the layer) when the layer has no recurrent synapses (W_hh = 0): then the
 * state Jacobian is diagonal and both rules are it; snap1 is also exact for a layer of one unit.
 * Cost per step and sample: O(S²·P) for the layer's P own parameters (a few passes over the trace);
 * memory S·P numbers per sample (the size of the layer's parameters, per state component).
 *
 * API (one engine per layer, built once, allocation-free per step):
 *   const tr = new DiagTraces(layer, backend, B, 'diag');
 *   tr.reset();                         // a new sequence
 *   tr.step(cache);                     // after the layer's forward at t: ε_{t−1} → ε_t
 *   tr.accumulate(cache, signal);       // ∂L/∂θ += signal · ∂y_t/∂s_t · ε_t into the layer's gradients
 *   tr.backwardInput(cache, dy, dx);    // dx = (∂y_t/∂x_t)ᵀ·dy at time t only (the spatial signal below)
 *   tr.buffers(), tr.bytes              // checkpoints and memory reports
 */
import type { Backend, Buf } from '../../backend/backend.js';
import type { RecCache, RecurrentLayer } from '../../modules/recurrent.js';

export type DiagRule = 'diag' | 'snap1';

export class DiagTraces {
  /** own parameters of the layer (the trace's length per sample and state component) */
  readonly P: number;
  /** ε[c] (B × P), in the layer's parameter order: weight_ih, weight_hh, bias_ih, bias_hh, φ… */
  readonly eligibility: Buf[];
  /** snap1: ∂h/∂s and ∂h/∂φ of the previous step (the self-connection's path into this step) */
  private readonly dhdsPrev: Buf | null;
  private readonly dhdphiPrev: Buf | null;
  private readonly dpre: Buf;
  private readonly J: Float64Array;
  private readonly u: Float64Array;
  private readonly old: Float64Array;
  private readonly L: Float64Array;
  private readonly offsets: { ih: number; hh: number; bih: number; bhh: number; phi: number };

  constructor(readonly layer: RecurrentLayer, be: Backend, readonly B: number, readonly rule: DiagRule) {
    const { S, G, unitParams } = layer.unit, n = layer.n, Gn = G * n;
    this.P = layer.ownRows;
    this.eligibility = Array.from({ length: S }, () => be.alloc(B * this.P));
    this.dhdsPrev = rule === 'snap1' ? be.alloc(B * S * n) : null;
    this.dhdphiPrev = rule === 'snap1' ? be.alloc(B * unitParams.length * n) : null;
    this.dpre = be.alloc(B * Gn);
    this.J = new Float64Array(S * S);
    this.u = new Float64Array(S);
    this.old = new Float64Array(S);
    this.L = new Float64Array(S);
    const hh = Gn * layer.inSize, bih = hh + Gn * n, bhh = bih + Gn;
    this.offsets = { ih: 0, hh, bih, bhh, phi: bhh + Gn };
  }

  /** bytes carried from step to step */
  get bytes(): number {
    return this.buffers().reduce((s, b) => s + b.length * (b.backend.dtype === 'float64' ? 8 : 4), 0);
  }

  buffers(): Buf[] {
    return [...this.eligibility, ...(this.dhdsPrev ? [this.dhdsPrev] : []), ...(this.dhdphiPrev ? [this.dhdphiPrev] : [])];
  }

  reset(): void {
    for (const b of this.buffers()) b.backend.fill(b, 0);
  }

  /** advance ε by one step with the local partials the layer's forward left in `cache` */
  step(cache: RecCache): void {
    const { S, K, G, ihChannel, hhChannel, unitParams } = this.layer.unit;
    const n = this.layer.n, inp = this.layer.inSize, P = this.P, Phi = unitParams.length;
    const dfds = cache.dfds.data, dfda = cache.dfda.data, dfdphi = cache.dfdphi.data, x = cache.x.data, yPrev = cache.yPrev.data;
    const e = this.eligibility.map((b) => b.data);
    const Whh = this.layer.weightHh.data;
    const snap = this.rule === 'snap1', hsPrev = this.dhdsPrev?.data, hphiPrev = this.dhdphiPrev?.data;
    const { J, u, old } = this;
    const o = this.offsets;
    for (let b = 0; b < this.B; b++) {
      const eb = b * P;
      for (let i = 0; i < n; i++) {
        // the unit's Jacobian J[c, c']
        for (let c = 0; c < S; c++) {
          for (let c2 = 0; c2 < S; c2++) {
            let v = dfds[(b * S * S + c * S + c2) * n + i]!;
            if (snap) {
              let self = 0;
              for (let g = 0; g < G; g++) self += dfda[(b * S * K + c * K + hhChannel[g]!) * n + i]! * Whh[(g * n + i) * n + i]!;
              v += self * hsPrev![(b * S + c2) * n + i]!;
            }
            J[c * S + c2] = v;
          }
        }
        const advance = (off: number, len: number, v: ArrayLike<number> | null, vOff: number): void => {
          for (let j = 0; j < len; j++) {
            const vj = v ? v[vOff + j]! : 1, k = eb + off + j;
            if (S === 1) {
              e[0]![k] = J[0]! * e[0]![k]! + u[0]! * vj;
              continue;
            }
            for (let c2 = 0; c2 < S; c2++) old[c2] = e[c2]![k]!;
            for (let c = 0; c < S; c++) {
              let s = u[c]! * vj;
              for (let c2 = 0; c2 < S; c2++) s += J[c * S + c2]! * old[c2]!;
              e[c]![k] = s;
            }
          }
        };
        for (let g = 0; g < G; g++) {
          const r = g * n + i;
          for (let c = 0; c < S; c++) u[c] = dfda[(b * S * K + c * K + ihChannel[g]!) * n + i]!;
          advance(o.ih + r * inp, inp, x, b * inp);
          advance(o.bih + r, 1, null, 0);
          for (let c = 0; c < S; c++) u[c] = dfda[(b * S * K + c * K + hhChannel[g]!) * n + i]!;
          advance(o.hh + r * n, n, yPrev, b * n);
          advance(o.bhh + r, 1, null, 0);
        }
        for (let p = 0; p < Phi; p++) {
          for (let c = 0; c < S; c++) {
            let v = dfdphi[((b * S + c) * Phi + p) * n + i]!;
            if (snap) {
              let self = 0;
              for (let g = 0; g < G; g++) self += dfda[(b * S * K + c * K + hhChannel[g]!) * n + i]! * Whh[(g * n + i) * n + i]!;
              v += self * hphiPrev![(b * Phi + p) * n + i]!;
            }
            u[c] = v;
          }
          advance(o.phi + p * n + i, 1, null, 0);
        }
      }
    }
    if (snap) {
      this.dhdsPrev!.backend.copy(cache.dhds, this.dhdsPrev!);
      this.dhdphiPrev!.backend.copy(cache.dhdphi, this.dhdphiPrev!);
    }
  }

  /** ∂L/∂θ += Σ_b Σ_c signal[b, i(θ)]·∂h/∂s_c·ε[b, c, θ] (+ signal·∂h/∂φ), into the layer's gradient */
  accumulate(cache: RecCache, signal: Buf): void {
    const { S, G, unitParams } = this.layer.unit;
    const n = this.layer.n, inp = this.layer.inSize, P = this.P, Phi = unitParams.length;
    const dhds = cache.dhds.data, dhdphi = cache.dhdphi.data, sig = signal.data;
    const grad = this.layer.ownGrad.data, e = this.eligibility.map((b) => b.data);
    const L = this.L, o = this.offsets;
    for (let b = 0; b < this.B; b++) {
      const eb = b * P;
      for (let i = 0; i < n; i++) {
        const d = sig[b * n + i]!;
        if (d === 0) continue;
        for (let c = 0; c < S; c++) L[c] = d * dhds[(b * S + c) * n + i]!;
        const add = (off: number, len: number): void => {
          for (let c = 0; c < S; c++) {
            const l = L[c]!, ec = e[c]!;
            if (l === 0) continue;
            for (let j = 0; j < len; j++) grad[off + j] = grad[off + j]! + l * ec[eb + off + j]!;
          }
        };
        for (let g = 0; g < G; g++) {
          const r = g * n + i;
          add(o.ih + r * inp, inp);
          add(o.hh + r * n, n);
          add(o.bih + r, 1);
          add(o.bhh + r, 1);
        }
        for (let p = 0; p < Phi; p++) {
          add(o.phi + p * n + i, 1);
          const k = o.phi + p * n + i;
          grad[k] = grad[k]! + d * dhdphi[(b * Phi + p) * n + i]!;
        }
      }
    }
  }

  /** dx = (∂y_t/∂x_t)ᵀ·dy: the error at time t passed to the layer below, with no path through time */
  backwardInput(cache: RecCache, dy: Buf, dx: Buf): void {
    const { S, K, G, ihChannel } = this.layer.unit;
    const n = this.layer.n, Gn = G * n;
    const dfda = cache.dfda.data, dhds = cache.dhds.data, d = dy.data, pre = this.dpre.data;
    for (let b = 0; b < this.B; b++) {
      for (let g = 0; g < G; g++) {
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let c = 0; c < S; c++) s += dfda[(b * S * K + c * K + ihChannel[g]!) * n + i]! * dhds[(b * S + c) * n + i]!;
          pre[b * Gn + g * n + i] = s * d[b * n + i]!;
        }
      }
    }
    dx.backend.gemm(false, false, this.B, this.layer.inSize, Gn, 1, this.dpre, this.layer.weightIh, 0, dx);
  }
}
