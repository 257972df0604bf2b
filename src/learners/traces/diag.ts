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
 * Cost per step and sample: O(S²·P) for the layer's P own parameters; memory S·P numbers per sample (the size
 * of the layer's parameters, per state component). For S = 1 the trace step waits for the step's signal and
 * runs with the gradient accumulation in one kernel (traceUpdateRowAccumulate: each trace read and written once
 * per step — at B = 16, n = 256 the traces are 12.5 MiB and the step is bound by that traffic); a step without a
 * signal is applied alone before anything reads the traces. S = 2 (lstm) runs unrolled in TypeScript.
 *
 * API (one engine per layer, built once, allocation-free per step):
 *   const tr = new DiagTraces(layer, backend, B, 'diag');
 *   tr.reset();                         // a new sequence
 *   tr.step(cache);                     // after the layer's forward at t: ε_{t−1} → ε_t
 *   tr.accumulate(cache, signal);       // ∂L/∂θ += signal · ∂y_t/∂s_t · ε_t into the layer's gradients
 *   tr.backwardInput(cache, dy, dx);    // dx = (∂y_t/∂x_t)ᵀ·dy at time t only (the spatial signal below)
 *   tr.buffers(), tr.bytes              // checkpoints and memory reports
 */
import type { Backend, Buf, FloatArray } from '../../backend/backend.js';
import { ensureMemory } from '../../backend/memory.js';
import type { RecCache, RecurrentLayer } from '../../modules/recurrent.js';

export type DiagRule = 'diag' | 'snap1';

export class DiagTraces {
  /** own parameters of the layer (the trace's length per sample and state component) */
  readonly P: number;
  /** ε[c] (B × P), in the layer's parameter order: weight_ih, weight_hh, bias_ih, bias_hh, φ… */
  private readonly traces: Buf[];
  /** snap1: ∂h/∂s and ∂h/∂φ of the previous step (the self-connection's path into this step) */
  private readonly dhdsPrev: Buf | null;
  private readonly dhdphiPrev: Buf | null;
  private readonly dpre: Buf;
  private readonly J: Float64Array;
  private readonly jAll: Float64Array;
  private readonly selfAll: Float64Array;
  private readonly u: Float64Array;
  private readonly old: Float64Array;
  /** the traces' typed arrays, refreshed per step without allocating (a grown wasm memory replaces them) */
  private readonly eData: FloatArray[];
  private readonly offsets: { ih: number; hh: number; bih: number; bhh: number; phi: number };
  /** S = 1 fast path: per-sample row decay, input factors and learning signal, views of the trace blocks */
  private readonly aRow: Buf[];
  private readonly uIh: Buf[];
  private readonly uHh: Buf[];
  private readonly lRow: Buf;
  private readonly one: Buf;
  private readonly blocks: { ih: Buf; hh: Buf; bih: Buf; bhh: Buf }[];
  /** the same blocks of the layer's gradient (rebuilt if the layer is bound to other gradients) */
  private gradBlocks: { root: Buf; ih: Buf; hh: Buf; bih: Buf; bhh: Buf } | null = null;
  /** S = 1: the cache of a trace step whose update waits for accumulate (fused) or settle (alone) */
  private pending: RecCache | null = null;
  /** the waiting step's presynaptic inputs x_t and y_{t−1} (the next forward pass overwrites the cache's), per sample */
  private readonly xKept: Buf;
  private readonly yKept: Buf;
  private readonly kept: { x: Buf[]; yPrev: Buf[] };

  constructor(
    readonly layer: RecurrentLayer,
    be: Backend,
    readonly B: number,
    readonly rule: DiagRule,
  ) {
    const { S, G, unitParams } = layer.unit,
      n = layer.n,
      Gn = G * n;
    this.P = layer.ownRows;
    ensureMemory(be, `${rule} eligibility traces (${B} samples × ${S} × ${this.P})`, B * S * this.P * (be.dtype === 'float64' ? 8 : 4));
    this.traces = Array.from({ length: S }, () => be.alloc(B * this.P));
    this.eData = this.traces.map((t) => t.data);
    this.dhdsPrev = rule === 'snap1' ? be.alloc(B * S * n) : null;
    this.dhdphiPrev = rule === 'snap1' ? be.alloc(B * unitParams.length * n) : null;
    this.dpre = be.alloc(B * Gn);
    this.J = new Float64Array(S * S);
    this.jAll = new Float64Array(S * S * n);
    this.selfAll = new Float64Array(S * n);
    this.u = new Float64Array(S);
    this.old = new Float64Array(S);
    const hh = Gn * layer.inSize,
      bih = hh + Gn * n,
      bhh = bih + Gn;
    this.offsets = { ih: 0, hh, bih, bhh, phi: bhh + Gn };
    const factors = be.alloc(3 * B * Gn);
    this.aRow = Array.from({ length: B }, (_, b) => factors.view(b * Gn, Gn));
    this.uIh = Array.from({ length: B }, (_, b) => factors.view((B + b) * Gn, Gn));
    this.uHh = Array.from({ length: B }, (_, b) => factors.view((2 * B + b) * Gn, Gn));
    this.lRow = be.alloc(Gn);
    this.xKept = be.alloc(B * layer.inSize);
    this.yKept = be.alloc(B * n);
    this.kept = {
      x: Array.from({ length: B }, (_, b) => this.xKept.view(b * layer.inSize, layer.inSize)),
      yPrev: Array.from({ length: B }, (_, b) => this.yKept.view(b * n, n)),
    };
    this.one = be.alloc(1);
    be.fill(this.one, 1);
    const e0 = this.traces[0]!;
    this.blocks = Array.from({ length: B }, (_, b) => ({
      ih: e0.view(b * this.P, Gn * layer.inSize),
      hh: e0.view(b * this.P + hh, Gn * n),
      bih: e0.view(b * this.P + bih, Gn),
      bhh: e0.view(b * this.P + bhh, Gn),
    }));
  }

  /** ε[c] (B × P), in the layer's parameter order: weight_ih, weight_hh, bias_ih, bias_hh, φ… (settled) */
  get eligibility(): Buf[] {
    this.settle();
    return this.traces;
  }

  /** apply a trace step that is still waiting for its signal (the step had no loss, or something reads ε) */
  private settle(): void {
    if (this.pending === null) return;
    this.pending = null;
    const be = this.one.backend,
      n = this.layer.n,
      Gn = this.layer.unit.G * n,
      views = this.kept;
    for (let b = 0; b < this.B; b++) {
      const blk = this.blocks[b]!,
        a = this.aRow[b]!;
      be.traceUpdateRow(Gn, this.layer.inSize, a, this.uIh[b]!, views.x[b]!, blk.ih);
      be.traceUpdateRow(Gn, n, a, this.uHh[b]!, views.yPrev[b]!, blk.hh);
      be.traceUpdateRow(Gn, 1, a, this.uIh[b]!, this.one, blk.bih);
      be.traceUpdateRow(Gn, 1, a, this.uHh[b]!, this.one, blk.bhh);
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

  /**
   * For sample b: every unit's Jacobian J[c, c'; i] into jAll (S·S·n) and, for snap1, the self-connection's
   * weight into each component, Σ_g ∂f_c/∂a_hh(g)·W_hh,g[i, i], into selfAll (S·n).
   */
  private unitJacobians(cache: RecCache, b: number): void {
    const { S, K, G, hhChannel } = this.layer.unit,
      n = this.layer.n;
    const dfds = cache.dfds.data,
      jAll = this.jAll,
      selfAll = this.selfAll;
    for (let k = 0; k < S * S * n; k++) jAll[k] = dfds[b * S * S * n + k]!;
    if (this.rule !== 'snap1') return;
    this.one.backend.macs += S * n * (G + S);
    const dfda = cache.dfda.data,
      Whh = this.layer.weightHh.data,
      hsPrev = this.dhdsPrev!.data;
    for (let c = 0; c < S; c++) {
      for (let i = 0; i < n; i++) {
        let self = 0;
        for (let g = 0; g < G; g++) self += dfda[(b * S * K + c * K + hhChannel[g]!) * n + i]! * Whh[(g * n + i) * n + i]!;
        selfAll[c * n + i] = self;
        for (let c2 = 0; c2 < S; c2++) jAll[(c * S + c2) * n + i] = jAll[(c * S + c2) * n + i]! + self * hsPrev[(b * S + c2) * n + i]!;
      }
    }
  }

  /** J (S×S) of unit i from jAll */
  private loadJacobian(i: number): void {
    const S = this.layer.unit.S,
      n = this.layer.n;
    for (let k = 0; k < S * S; k++) this.J[k] = this.jAll[k * n + i]!;
  }

  /**
   * S = 1: the decay J[i] of row r = g·n + i and the input factors of each sample, kept for the fused update in
   * accumulate (or settle); the unit parameters advance now
   */
  private stepScalar(cache: RecCache): void {
    const { K, G, ihChannel, hhChannel } = this.layer.unit,
      n = this.layer.n;
    const dfda = cache.dfda.data;
    for (let b = 0; b < this.B; b++) {
      const a = this.aRow[b]!.data,
        uIh = this.uIh[b]!.data,
        uHh = this.uHh[b]!.data;
      this.unitJacobians(cache, b);
      for (let i = 0; i < n; i++) {
        const J = this.jAll[i]!;
        for (let g = 0; g < G; g++) {
          a[g * n + i] = J;
          uIh[g * n + i] = dfda[(b * K + ihChannel[g]!) * n + i]!;
          uHh[g * n + i] = dfda[(b * K + hhChannel[g]!) * n + i]!;
        }
      }
    }
    const be = this.one.backend;
    be.copy(cache.x, this.xKept);
    be.copy(cache.yPrev, this.yKept);
    this.pending = cache;
    this.stepUnitParams(cache);
  }

  /** the unit parameters φ (any S): one trace entry per unit and state component */
  private stepUnitParams(cache: RecCache): void {
    const { S, unitParams } = this.layer.unit,
      n = this.layer.n,
      P = this.P,
      Phi = unitParams.length;
    if (Phi === 0) return;
    const dfdphi = cache.dfdphi.data,
      e = this.traceData(),
      u = this.u;
    const hphiPrev = this.dhdphiPrev?.data;
    for (let b = 0; b < this.B; b++) {
      this.unitJacobians(cache, b);
      for (let i = 0; i < n; i++) {
        this.loadJacobian(i);
        for (let p = 0; p < Phi; p++) {
          for (let c = 0; c < S; c++) {
            let v = dfdphi[((b * S + c) * Phi + p) * n + i]!;
            if (hphiPrev) v += this.selfAll[c * n + i]! * hphiPrev[(b * Phi + p) * n + i]!;
            u[c] = v;
          }
          const k = b * P + this.offsets.phi + p * n + i;
          this.advanceEntry(e, k, 1);
        }
      }
    }
    this.one.backend.macs += this.B * Phi * n * S * (S + 1 + (hphiPrev ? 1 : 0));
  }

  /** ε[·, k0 + j] ← J·ε[·, k0 + j] + u·v[vOff + j] for j < len (J, u set by the caller); S = 2 unrolled */
  private advanceRange(e: FloatArray[], k0: number, len: number, v: FloatArray, vOff: number): void {
    if (e.length !== 2) {
      for (let j = 0; j < len; j++) this.advanceEntry(e, k0 + j, v[vOff + j]!);
      return;
    }
    const e0 = e[0]!,
      e1 = e[1]!,
      J = this.J,
      u = this.u;
    const j00 = J[0]!,
      j01 = J[1]!,
      j10 = J[2]!,
      j11 = J[3]!,
      u0 = u[0]!,
      u1 = u[1]!;
    for (let j = 0; j < len; j++) {
      const k = k0 + j,
        a0 = e0[k]!,
        a1 = e1[k]!,
        vj = v[vOff + j]!;
      e0[k] = j00 * a0 + j01 * a1 + u0 * vj;
      e1[k] = j10 * a0 + j11 * a1 + u1 * vj;
    }
  }

  /** ε[·, k] ← J·ε[·, k] + u·v for one trace entry (J, u set by the caller) */
  private advanceEntry(e: FloatArray[], k: number, v: number): void {
    const S = e.length,
      { J, u, old } = this;
    for (let c2 = 0; c2 < S; c2++) old[c2] = e[c2]![k]!;
    for (let c = 0; c < S; c++) {
      let s = u[c]! * v;
      for (let c2 = 0; c2 < S; c2++) s += J[c * S + c2]! * old[c2]!;
      e[c]![k] = s;
    }
  }

  private traceData(): FloatArray[] {
    for (let c = 0; c < this.eData.length; c++) this.eData[c] = this.traces[c]!.data;
    return this.eData;
  }

  /** bytes carried from step to step */
  get bytes(): number {
    return this.buffers().reduce((s, b) => s + b.length * (b.backend.dtype === 'float64' ? 8 : 4), 0);
  }

  buffers(): Buf[] {
    return [...this.eligibility, ...(this.dhdsPrev ? [this.dhdsPrev] : []), ...(this.dhdphiPrev ? [this.dhdphiPrev] : [])];
  }

  reset(): void {
    this.pending = null;
    for (const b of this.buffers()) b.backend.fill(b, 0);
  }

  /** advance ε by one step with the local partials the layer's forward left in `cache` */
  step(cache: RecCache): void {
    this.settle();
    if (this.layer.unit.S === 1) this.stepScalar(cache);
    else this.stepGeneral(cache);
    if (this.rule === 'snap1') {
      this.dhdsPrev!.backend.copy(cache.dhds, this.dhdsPrev!);
      this.dhdphiPrev!.backend.copy(cache.dhdphi, this.dhdphiPrev!);
    }
  }

  /** S > 1 (lstm): every entry mixes the unit's state components through J */
  private stepGeneral(cache: RecCache): void {
    const { S, K, G, ihChannel, hhChannel } = this.layer.unit;
    const n = this.layer.n,
      inp = this.layer.inSize,
      P = this.P;
    const dfda = cache.dfda.data,
      x = cache.x.data,
      yPrev = cache.yPrev.data;
    const e = this.traceData();
    const u = this.u,
      o = this.offsets;
    for (let b = 0; b < this.B; b++) {
      const eb = b * P;
      this.unitJacobians(cache, b);
      for (let i = 0; i < n; i++) {
        this.loadJacobian(i);
        for (let g = 0; g < G; g++) {
          const r = g * n + i;
          for (let c = 0; c < S; c++) u[c] = dfda[(b * S * K + c * K + ihChannel[g]!) * n + i]!;
          this.advanceRange(e, eb + o.ih + r * inp, inp, x, b * inp);
          this.advanceEntry(e, eb + o.bih + r, 1);
          for (let c = 0; c < S; c++) u[c] = dfda[(b * S * K + c * K + hhChannel[g]!) * n + i]!;
          this.advanceRange(e, eb + o.hh + r * n, n, yPrev, b * n);
          this.advanceEntry(e, eb + o.bhh + r, 1);
        }
      }
    }
    // ε ← J·ε + u·v for every weight and bias entry: S·(S + 1) multiply-adds each
    this.one.backend.macs += this.B * S * (S + 1) * o.phi;
    this.stepUnitParams(cache);
  }

  /** ∂L/∂θ += Σ_b Σ_c signal[b, i(θ)]·∂h/∂s_c·ε[b, c, θ] (+ signal·∂h/∂φ), into the layer's gradient */
  accumulate(cache: RecCache, signal: Buf): void {
    const { S, G, unitParams } = this.layer.unit;
    const n = this.layer.n,
      inp = this.layer.inSize,
      P = this.P,
      Phi = unitParams.length;
    const dhds = cache.dhds.data,
      dhdphi = cache.dhdphi.data,
      sig = signal.data;
    const grad = this.layer.ownGrad.data,
      o = this.offsets;
    if (S === 1) {
      // the weight and bias blocks: one kernel per block and sample, fused with a waiting trace step
      const be = this.one.backend,
        Gn = G * n,
        views = this.kept,
        gb = this.gradViews(),
        fused = this.pending === cache;
      if (!fused) this.settle();
      this.pending = null;
      for (let b = 0; b < this.B; b++) {
        const l = this.lRow.data;
        for (let i = 0; i < n; i++) {
          const li = sig[b * n + i]! * dhds[b * n + i]!;
          for (let g = 0; g < G; g++) l[g * n + i] = li;
        }
        be.macs += n;
        const blk = this.blocks[b]!;
        if (fused) {
          const a = this.aRow[b]!;
          be.traceUpdateRowAccumulate(Gn, inp, a, this.uIh[b]!, views.x[b]!, this.lRow, blk.ih, gb.ih);
          be.traceUpdateRowAccumulate(Gn, n, a, this.uHh[b]!, views.yPrev[b]!, this.lRow, blk.hh, gb.hh);
          be.traceUpdateRowAccumulate(Gn, 1, a, this.uIh[b]!, this.one, this.lRow, blk.bih, gb.bih);
          be.traceUpdateRowAccumulate(Gn, 1, a, this.uHh[b]!, this.one, this.lRow, blk.bhh, gb.bhh);
        } else {
          be.accumulateRows(Gn, inp, this.lRow, blk.ih, gb.ih);
          be.accumulateRows(Gn, n, this.lRow, blk.hh, gb.hh);
          be.accumulateRows(Gn, 1, this.lRow, blk.bih, gb.bih);
          be.accumulateRows(Gn, 1, this.lRow, blk.bhh, gb.bhh);
        }
        if (Phi === 0) continue;
        const e = this.traces[0]!.data,
          eb = b * P;
        for (let i = 0; i < n; i++) {
          const l = sig[b * n + i]! * dhds[b * n + i]!;
          if (l === 0) continue;
          for (let p = 0; p < Phi; p++) {
            const k = o.phi + p * n + i;
            grad[k] = grad[k]! + l * e[eb + k]!;
          }
        }
        be.macs += Phi * n;
      }
    } else {
      for (let c = 0; c < S; c++) {
        const e = this.traces[c]!.data;
        for (let b = 0; b < this.B; b++) {
          const eb = b * P;
          for (let i = 0; i < n; i++) {
            const l = sig[b * n + i]! * dhds[(b * S + c) * n + i]!;
            if (l === 0) continue;
            for (let g = 0; g < G; g++) {
              const r = g * n + i;
              for (let k = o.ih + r * inp, end = k + inp; k < end; k++) grad[k] = grad[k]! + l * e[eb + k]!;
              for (let k = o.hh + r * n, end = k + n; k < end; k++) grad[k] = grad[k]! + l * e[eb + k]!;
              grad[o.bih + r] = grad[o.bih + r]! + l * e[eb + o.bih + r]!;
              grad[o.bhh + r] = grad[o.bhh + r]! + l * e[eb + o.bhh + r]!;
            }
            for (let p = 0; p < Phi; p++) {
              const k = o.phi + p * n + i;
              grad[k] = grad[k]! + l * e[eb + k]!;
            }
          }
        }
      }
      this.one.backend.macs += S * this.B * P;
    }
    // unit parameters also reach y_t directly
    for (let b = 0; b < this.B; b++) {
      for (let p = 0; p < Phi; p++) {
        for (let i = 0; i < n; i++) {
          const k = o.phi + p * n + i;
          grad[k] = grad[k]! + sig[b * n + i]! * dhdphi[(b * Phi + p) * n + i]!;
        }
      }
    }
  }

  /** dx = (∂y_t/∂x_t)ᵀ·dy: the error at time t passed to the layer below, with no path through time */
  backwardInput(cache: RecCache, dy: Buf, dx: Buf): void {
    inputVjpAtT(this.layer, cache, dy, dx, this.dpre);
  }
}

/**
 * dx = (∂y_t/∂x_t)ᵀ·dy for a recurrent layer at time t only (s_{t−1}, y_{t−1} held): what a layer-local trace
 * engine hands the module below under the backprop-at-t signal. `pre` is B × G·n scratch.
 */
export function inputVjpAtT(layer: RecurrentLayer, cache: RecCache, dy: Buf, dx: Buf, pre: Buf): void {
  const { S, K, G, ihChannel } = layer.unit;
  const n = layer.n,
    Gn = G * n,
    B = cache.B;
  const dfda = cache.dfda.data,
    dhds = cache.dhds.data,
    d = dy.data,
    p = pre.data;
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < G; g++) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let c = 0; c < S; c++) s += dfda[(b * S * K + c * K + ihChannel[g]!) * n + i]! * dhds[(b * S + c) * n + i]!;
        p[b * Gn + g * n + i] = s * d[b * n + i]!;
      }
    }
  }
  dx.backend.gemm(false, false, B, layer.inSize, Gn, 1, pre, layer.weightIh, 0, dx);
}
