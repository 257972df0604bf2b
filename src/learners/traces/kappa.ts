/**
 * The κ filter of e-prop (Bellec et al., Nature Communications 11:3625, 2020, Eq. 3 and Methods "leaky
 * readout"): the eligibility traces low-pass filtered with the readout's leak κ before they meet the learning
 * signal, so that an error at step t reaches the synapses that were eligible a few steps earlier:
 *
 *   e_t[θ] = Σ_c ∂y_t/∂s_c · ε_t[c, θ]   (+ ∂y_t/∂φ for a unit parameter φ)      the eligibility trace (diag.ts)
 *   ē_t[θ] = κ·ē_{t−1}[θ] + e_t[θ]                                               F_κ, the filter
 *   ∂L/∂θ += Σ_b L_t[b, i(θ)] · ē_t[b, θ]                                         instead of L_t · e_t
 *
 * With κ = 0 the filter is the identity and the rule is e-prop; the learner rows build no filter then, so
 * `kappa: 0` is e-prop bit for bit. In the paper the filter makes the rule exact for a readout that itself
 * leaks with κ (y_t = κ·y_{t−1} + W_out z_t); onward's readout does not leak, so here κ > 0 is a bias toward
 * credit for earlier activity (approximate, never exact for κ > 0).
 * Cost per step and sample: B·S·P multiply-adds for the filter and B·P for the gradient (the trace step runs
 * unfused: its eligibility is read at every step); memory B·P numbers more than e-prop per layer.
 *
 * API: const f = new KappaFilter(traces, be, κ);  f.step(cache) after traces.step(cache) at every step;
 *      f.accumulate(cache, signal) in place of traces.accumulate; f.buffers(), f.bytes; f.reset().
 */
import type { Backend, Buf } from '../../backend/backend.js';
import { ensureMemory } from '../../backend/memory.js';
import type { RecCache } from '../../modules/recurrent.js';
import type { DiagTraces } from './diag.js';

export class KappaFilter {
  /** ē (B × P) in the layer's parameter order: weight_ih, weight_hh, bias_ih, bias_hh, φ… */
  private readonly filtered: Buf;
  /** the unit i(θ) of each trace entry θ (the layer's parameters feed one unit each) */
  private readonly unitOf: Int32Array;
  /** the first entry of the unit parameters φ */
  private readonly phiStart: number;

  constructor(
    readonly traces: DiagTraces,
    be: Backend,
    readonly kappa: number,
  ) {
    const layer = traces.layer,
      n = layer.n,
      Gn = layer.unit.G * n,
      P = traces.P,
      B = traces.B;
    ensureMemory(be, `κ-filtered eligibility traces (${B} samples × ${P})`, B * P * (be.dtype === 'float64' ? 8 : 4));
    this.filtered = be.alloc(B * P);
    this.unitOf = new Int32Array(P);
    let k = 0;
    for (let r = 0; r < Gn; r++) for (let j = 0; j < layer.inSize; j++) this.unitOf[k++] = r % n;
    for (let r = 0; r < Gn; r++) for (let j = 0; j < n; j++) this.unitOf[k++] = r % n;
    for (let rep = 0; rep < 2; rep++) for (let r = 0; r < Gn; r++) this.unitOf[k++] = r % n;
    this.phiStart = k;
    for (; k < P; k++) this.unitOf[k] = (k - this.phiStart) % n;
  }

  get bytes(): number {
    return this.filtered.length * (this.filtered.backend.dtype === 'float64' ? 8 : 4);
  }

  buffers(): Buf[] {
    return [this.filtered];
  }

  reset(): void {
    this.filtered.backend.fill(this.filtered, 0);
  }

  /** ē ← κ·ē + e_t, with e_t from the settled traces and the step's ∂y/∂s, ∂y/∂φ */
  step(cache: RecCache): void {
    const eps = this.traces.eligibility.map((t) => t.data),
      S = eps.length,
      n = this.traces.layer.n,
      B = this.traces.B,
      P = this.traces.P,
      Phi = this.traces.layer.unit.unitParams.length;
    const f = this.filtered.data,
      dhds = cache.dhds.data,
      dhdphi = cache.dhdphi.data,
      unitOf = this.unitOf,
      kappa = this.kappa,
      phi0 = this.phiStart;
    for (let b = 0; b < B; b++) {
      const eb = b * P;
      for (let k = 0; k < P; k++) {
        const i = unitOf[k]!;
        let e = 0;
        for (let c = 0; c < S; c++) e += dhds[(b * S + c) * n + i]! * eps[c]![eb + k]!;
        if (k >= phi0) e += dhdphi[(b * Phi + Math.floor((k - phi0) / n)) * n + i]!;
        f[eb + k] = kappa * f[eb + k]! + e;
      }
    }
    this.filtered.backend.macs += B * P * (S + 1);
  }

  /** ∂L/∂θ += Σ_b signal[b, i(θ)] · ē[b, θ], into the layer's gradient */
  accumulate(signal: Buf): void {
    const n = this.traces.layer.n,
      B = this.traces.B,
      P = this.traces.P;
    const f = this.filtered.data,
      sig = signal.data,
      grad = this.traces.layer.ownGrad.data,
      unitOf = this.unitOf;
    for (let b = 0; b < B; b++) {
      const eb = b * P;
      for (let k = 0; k < P; k++) grad[k] = grad[k]! + sig[b * n + unitOf[k]!]! * f[eb + k]!;
    }
    this.filtered.backend.macs += B * P;
  }
}
