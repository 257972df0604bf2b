/**
 * `dni` — decoupled neural interfaces for recurrent networks (Jaderberg, Czarnecki, Osindero, Vinyals, Graves,
 * Silver, Kavukcuoglu, "Decoupled Neural Interfaces using Synthetic Gradients", ICML 2017, §3.1): truncated
 * BPTT over windows of k steps (the bptt engine), where the credit from beyond each truncation point is not
 * dropped but predicted by a learned synthetic gradient, a linear map of the recurrent state:
 *
 *   per recurrent module l, at the end of a window (time T, state s_T):
 *     ĝ^l(s_T) = [A_S·s_T + c_S ; A_Y·s_T + c_Y] ≈ [∂L_{>T}/∂s_T ; ∂L_{>T}/∂y_T]   (the carry from T+1 to T)
 *   the window's sweep starts from the carry ĝ(s_T) instead of zero (the bootstrap), and ends with the true
 *   carry δ_{t0−1} = ∂(L_window + ĝ(s_T)·s_T)/∂(s, y)_{t0−1} at the step before the window, which is the target
 *   of the synthetic gradient at that state (remembered from the previous window's end):
 *     A ← A − η·(1/B)·Σ_b (ĝ(s_{t0−1}) − δ_{t0−1})_b·s_{t0−1,b}ᵀ,   c ← c − η·(1/B)·Σ_b (ĝ − δ)_b
 *   (a TD-like target: it contains the next window's own prediction).
 * Bootstrapping happens at the learner's truncation points only (every `window` steps); an update boundary the
 * trainer asks for, or the end of a sequence, gets no synthetic credit (nothing follows the end of a sequence).
 * The synthetic module's parameters start at zero and are the learner's (in its checkpoint), trained with their
 * own rate η (option `syntheticLr`); they are not the network's and no optimizer sees them.
 * The target is bootstrapped as for an endless stream: on short sequences the truncation points near the end
 * have little future, and on slow units (measured: `leaky`, T = 12, window 3) the linear map learns the
 * stream's fixed point and over-predicts — there dni's gradient is further from BPTT's than tbptt's.
 * Measured on the bench's ci spikes task (lif): the bootstrap diverges (NaN weights by step ~150, for η = 0.01 and
 * 0.001 alike; a normalised step did not help) — the target feeds the map's own prediction back through the
 * window, which is unstable where the window's state Jacobian amplifies; the trainer stops with a
 * DivergenceError. A bootstrap discount or clipping would be the remedy (not built).
 * Exact: with η = 0 the synthetic gradient stays at zero and the rule is tbptt, bit for bit (a claim of the
 * table); with a window at least the sequence's length it is bptt. Otherwise biased (the prediction's error).
 * Cost per step: tbptt's (the stored window, a sweep every k steps) plus, per window and module, two
 * B × S·n × (S·n + n) products for the prediction and the same for its update; memory tbptt's window plus
 * (S·n + n)·(S·n + 1) parameters and B·S·n for the remembered state per recurrent module.
 */
import type { Buf } from '../backend/backend.js';
import { ConfigError } from '../core/errors.js';
import type { Network } from '../model/network.js';
import { BpttLearner } from './bptt.js';
import type { LearnerOptions } from './learner.js';

/** the synthetic gradient of one recurrent module: its maps, the state remembered at the last truncation */
interface Synthetic {
  module: number;
  /** state width S·n and the carry widths */
  sw: number;
  yw: number;
  AS: Buf;
  AY: Buf;
  cS: Buf;
  cY: Buf;
  /** s at the end of the previous window (B × sw) and scratch for the prediction's error */
  prev: Buf;
  errS: Buf;
  errY: Buf;
}

export class DniLearner extends BpttLearner {
  private readonly synthetic: Synthetic[];
  /** 1 when `prev` holds the state at the end of a window of this sequence */
  private readonly hasPrev: Buf;
  private readonly ones: Buf;
  private readonly lr: number;

  constructor(network: Network, options: LearnerOptions) {
    const k = options.window ?? 0;
    if (!Number.isInteger(k) || k < 1) throw new ConfigError(`dni needs a window k ≥ 1 (option 'window'), got ${options.window}`);
    const lr = options.syntheticLr ?? 0.01;
    if (!(lr >= 0 && Number.isFinite(lr))) throw new ConfigError(`dni: syntheticLr must be a number ≥ 0, got ${lr}`);
    super(network, options, 'dni', k);
    this.lr = lr;
    const be = network.backend,
      B = options.batchSize;
    this.synthetic = [];
    network.modules.forEach((m, i) => {
      const c = this.carries[i];
      if (!m.recurrent || !c || m.stateSize === 0) return;
      const sw = c.dS.length / B,
        yw = c.dY.length / B;
      this.synthetic.push({
        module: i,
        sw,
        yw,
        AS: be.alloc(sw * sw),
        AY: be.alloc(yw * sw),
        cS: be.alloc(sw),
        cY: be.alloc(yw),
        prev: be.alloc(B * sw),
        errS: be.alloc(B * sw),
        errY: be.alloc(B * yw),
      });
    });
    this.hasPrev = be.alloc(1);
    this.ones = be.alloc(B);
    be.fill(this.ones, 1);
  }

  /** the synthetic gradient's maps per recurrent module (read-only use: tests, inspection) */
  get maps(): readonly { AS: Buf; AY: Buf; cS: Buf; cY: Buf }[] {
    return this.synthetic;
  }

  override startSequence(): void {
    super.startSequence();
    this.hasPrev.data[0] = 0;
  }

  protected override carriedBuffers(): Buf[] {
    return [...this.synthetic.flatMap((g) => [g.AS, g.AY, g.cS, g.cY, g.prev]), this.hasPrev];
  }

  /** the window's sweep starts from ĝ(s_T) at a truncation point, from zero elsewhere */
  protected override seedCarries(atTruncation: boolean): void {
    super.seedCarries(atTruncation);
    if (!atTruncation) return;
    for (const g of this.synthetic) {
      const c = this.carries[g.module]!,
        s = this.fwd.states[g.module]!.s;
      this.predict(g, s, c.dS, c.dY);
    }
  }

  /** train each synthetic gradient at the state before the window towards the carry the sweep delivered there */
  protected override afterSweep(): void {
    const be = this.network.backend,
      B = this.batchSize,
      step = -this.lr / B;
    const trained = this.hasPrev.data[0] === 1 && this.lr > 0;
    for (const g of this.synthetic) {
      const c = this.carries[g.module]!;
      if (trained) {
        this.predict(g, g.prev, g.errS, g.errY);
        be.axpy(-1, c.dS, g.errS);
        be.axpy(-1, c.dY, g.errY);
        be.gemm(true, false, g.sw, g.sw, B, step, g.errS, g.prev, 1, g.AS);
        be.gemm(true, false, g.yw, g.sw, B, step, g.errY, g.prev, 1, g.AY);
        be.gemv(true, B, g.sw, step, g.errS, this.ones, 1, g.cS);
        be.gemv(true, B, g.yw, step, g.errY, this.ones, 1, g.cY);
      }
      be.copy(this.fwd.states[g.module]!.s, g.prev);
    }
    this.hasPrev.data[0] = 1;
  }

  /** [outS; outY] = ĝ(s) for B states */
  private predict(g: Synthetic, s: Buf, outS: Buf, outY: Buf): void {
    const be = this.network.backend,
      B = this.batchSize;
    be.gemm(false, true, B, g.sw, g.sw, 1, s, g.AS, 0, outS);
    be.ger(B, g.sw, 1, this.ones, g.cS, outS);
    be.gemm(false, true, B, g.yw, g.sw, 1, s, g.AY, 0, outY);
    be.ger(B, g.yw, 1, this.ones, g.cY, outY);
  }
}

export function createDni(network: Network, options: LearnerOptions): DniLearner {
  return new DniLearner(network, options);
}
