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
import type { Backend, Buf } from '../../backend/backend.js';
import type { LruCache, LruLayer, LruTraces } from '../../modules/lru.js';
import type { RecurrentCarry } from '../../modules/module.js';

export type LruTraceMode = 'online' | 'spatial' | 'truncated1';

export class LruLayerTraces {
  readonly fused = true;
  private readonly carry: RecurrentCarry;
  private readonly traces: LruTraces | null;

  constructor(readonly layer: LruLayer, be: Backend, B: number, readonly mode: LruTraceMode) {
    this.carry = layer.createCarry(be, B);
    this.traces = mode === 'online' ? layer.createTraces(be, B) : null;
  }

  get bytes(): number {
    return this.traces ? this.traces.bytes : 0;
  }

  buffers(): Buf[] {
    return this.traces ? this.layer.traceBuffers(this.traces) : [];
  }

  reset(): void {
    if (this.traces) this.layer.resetTraces(this.traces);
  }

  advance(): void {
    // fused into accumulate
  }

  accumulate(cache: LruCache, signal: Buf, dx: Buf | null): void {
    const m = this.layer, carry = this.carry;
    m.backwardSpatial(cache, signal, dx, carry);
    if (this.traces) {
      m.traceStep(cache, this.traces, carry);
      if (dx) m.backwardInputOnly(cache, dx, carry);
    } else {
      m.backwardSpatialInput(cache, dx, carry, this.mode === 'truncated1' ? 1 : 0);
    }
  }
}
