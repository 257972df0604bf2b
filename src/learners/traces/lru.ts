/**
 * The LRU layer's own traces — the `diag` trace rule on a complex diagonal layer, and the two baselines of
 * the online-LRU paper (Zucchet et al., NeurIPS 2023). The recurrence h_t = λ⊙h_{t−1} + γ⊙(B x_t) is
 * elementwise, so the per-unit traces are the layer's exact RTRL sensitivities:
 *
 *   e^λ_t = λ⊙e^λ_{t−1} + h_{t−1},   e^γ_t = λ⊙e^γ_{t−1} + B x_t,   e^B_t = λ⊙e^B_{t−1} + γ⊗x_t
 *   ∂L/∂(ν_log, θ_log, γ_log, B) += δ_t·e_t,   δ_t = ∂L_t/∂h_t from the layer's signal through C (at time t only)
 *
 * (real pairs of the complex products; see modules/lru.ts for the VJPs). The fused complex kernel
 * (backend.complexTraceStep) advances e^B and accumulates δ·e^B in one pass: the diag rule's fast path on
 * this layer — it advances in accumulate, so the step loop feeds it a zero signal at steps without a loss.
 * Modes: 'online' (the traces above; the diag and snap1 rules, which coincide on a diagonal recurrence),
 * 'spatial' (no temporal credit: λ gets nothing, B and γ their instantaneous gradient), 'truncated1'
 * (one-step truncation: e^λ := h_{t−1}, e^γ := B x_t).
 * C and D get their gradient from the signal at time t (exact: they are read out at t).
 * Cost per step and sample ≈ 9·N·H multiply-adds; memory 2·N·H + 4·N numbers per sample ('online'), none otherwise.
 */
import { ensureMemory } from '../../backend/memory.js';
import type { Backend, Buf } from '../../backend/backend.js';
import type { LruCache, LruCarry, LruLayer } from '../../modules/lru.js';
import { bytesOf } from '../rules.js';

export type LruTraceMode = 'online' | 'spatial' | 'truncated1';

/** per-sample views the fused kernel reads: e^B rows, and the error and input rows of the one cache and carry */
interface SampleRows {
  bRe: Buf;
  bIm: Buf;
  dRe: Buf;
  dIm: Buf;
  x: Buf;
}

export class LruLayerTraces {
  readonly fused = true;
  private readonly carry: LruCarry;
  /** 'online': e^λ and e^γ ([re B×N][im B×N]) and e^B (B × N×H, real and imaginary parts); empty otherwise */
  private readonly traces: Buf[];
  private rows: SampleRows[] | null = null;
  private boundTo: LruCache | null = null;

  constructor(
    readonly layer: LruLayer,
    be: Backend,
    readonly B: number,
    readonly mode: LruTraceMode,
  ) {
    const N = layer.N,
      H = layer.inSize;
    if (mode === 'online')
      ensureMemory(be, `online-lru traces (${B} samples)`, (4 * B * N + 2 * B * N * H) * (be.dtype === 'float64' ? 8 : 4));
    this.carry = layer.createCarry(be, B);
    this.traces = mode === 'online' ? [be.alloc(B * 2 * N), be.alloc(B * 2 * N), be.alloc(B * N * H), be.alloc(B * N * H)] : [];
  }

  get bytes(): number {
    return bytesOf(this.traces);
  }

  buffers(): Buf[] {
    return this.traces;
  }

  reset(): void {
    for (const b of this.traces) b.backend.fill(b, 0);
  }

  advance(): void {
    // fused into accumulate
  }

  accumulate(cache: LruCache, signal: Buf, dx: Buf | null): void {
    const m = this.layer,
      carry = this.carry;
    m.backwardAtStep(cache, signal, dx, carry);
    if (this.mode === 'online') {
      this.traceStep(cache);
      if (dx) m.backwardInputOnly(cache, dx, carry);
    } else {
      m.backwardInputAtStep(cache, dx, carry, this.mode === 'truncated1' ? 1 : 0);
    }
  }

  /**
   * Advance the traces to step t and add δ_t·e_t to the gradients of ν_log, θ_log, γ_log, B_re, B_im, where
   * δ_t = carry.dh is this step's error at h_t (from backwardAtStep):
   *   e^λ ← λ e^λ + h_{t−1},  e^γ ← λ e^γ + B x_t,  e^B ← λ e^B + γ ⊗ x_t  (real pairs of the complex products).
   */
  private traceStep(cache: LruCache): void {
    const m = this.layer,
      c = this.carry;
    const be = c.dh.backend,
      B = cache.B,
      N = m.N,
      H = m.inSize,
      off = B * N;
    const [lamBuf, gamBuf, bReBuf, bImBuf] = this.traces as [Buf, Buf, Buf, Buf];
    const lam = lamBuf.data,
      gam = gamBuf.data,
      hp = cache.hPrev.data,
      bx = cache.bx.data,
      dh = c.dh.data;
    const nu = m.p.nu.data,
      th = m.p.theta.data;
    const gnu = m.g.nu.data,
      gth = m.g.theta.data,
      gga = m.g.gamma.data;
    for (let i = 0; i < N; i++) {
      const lr = m.lamRe[i]!,
        li = m.lamIm[i]!;
      let dlr = 0,
        dli = 0,
        dg = 0;
      for (let b = 0; b < B; b++) {
        const r = b * N + i;
        const er = lr * lam[r]! - li * lam[off + r]! + hp[r]!,
          ei = lr * lam[off + r]! + li * lam[r]! + hp[off + r]!;
        lam[r] = er;
        lam[off + r] = ei;
        const fr = lr * gam[r]! - li * gam[off + r]! + bx[r]!,
          fi = lr * gam[off + r]! + li * gam[r]! + bx[off + r]!;
        gam[r] = fr;
        gam[off + r] = fi;
        const gr = dh[r]!,
          gi = dh[off + r]!;
        dlr += gr * er + gi * ei;
        dli += -gr * ei + gi * er;
        dg += gr * fr + gi * fi;
      }
      m.accumulateLambda(i, dlr, dli, nu, th, gnu, gth);
      gga[i] = gga[i]! + m.gamma[i]! * dg;
    }
    if (this.boundTo !== cache) {
      this.rows = Array.from({ length: B }, (_, b) => ({
        bRe: bReBuf.view(b * N * H, N * H),
        bIm: bImBuf.view(b * N * H, N * H),
        dRe: c.dhRe.view(b * N, N),
        dIm: c.dhIm.view(b * N, N),
        x: cache.x.view(b * H, H),
      }));
      this.boundTo = cache;
    }
    const rows = this.rows!;
    for (let b = 0; b < B; b++) {
      const v = rows[b]!;
      be.complexTraceStep(N, H, m.lamReBuf, m.lamImBuf, m.gammaBuf, v.x, v.dRe, v.dIm, v.bRe, v.bIm, m.g.Bre, m.g.Bim);
    }
  }
}
