/**
 * `online-lru` — online learning of LRU stacks (Zucchet, Meier, Schug, Mujika, Sacramento, NeurIPS 2023):
 * the `diag` trace rule × the `backprop` signal rule.
 *
 * At each step t the loss is backpropagated through the network at time t only ("spatial"): the error
 * δ_t = ∂L_t/∂h_t reaches every LRU layer's state without any path through time. Each LRU layer keeps,
 * per sample, eligibility traces that are its exact RTRL sensitivities (the recurrence is elementwise):
 *   e^λ_t = λ ⊙ e^λ_{t−1} + h_{t−1},   e^γ_t = λ ⊙ e^γ_{t−1} + B x_t,   e^B_t = λ ⊙ e^B_{t−1} + γ ⊗ x_t,
 * and the gradients of ν_log, θ_log, γ_log, B_re, B_im are Σ_t δ_t·e_t (real pairs of the complex product).
 * Everything else (C, D, GLU, LayerNorm, encoder, decoder) gets its spatial gradient.
 *
 * Exact (equals BPTT): a one-layer network's LRU parameters and everything downstream of it; in a stack,
 * the top LRU layer and everything above. Approximate: every parameter upstream of an LRU (the encoder and
 * the LayerNorm in front of it, lower layers), whose influence through a later recurrence is dropped.
 * Cost per step and sample, per layer: the trace update and δ·e accumulation, ≈ 9·N·H multiply-adds (one
 * fused pass over the N×H complex trace), on top of the forward and the spatial backward; memory: the
 * traces, 2·N·H + 4·N numbers — the size of B_re and B_im — independent of the sequence length.
 *
 * Baselines of the paper, same signal, other traces:
 * - `spatial`: no temporal credit — λ gets zero gradient; B and γ only their instantaneous gradient.
 * - `truncated1`: one-step truncation — e^λ := h_{t−1}, e^γ := B x_t, B from the current input only.
 */
import type { Buf } from '../backend/backend.js';
import { ensureMemory, plannedBytes } from '../backend/memory.js';
import { UnsupportedError } from '../core/errors.js';
import type { Network, BackwardWorkspace, RecurrentBackward } from '../model/network.js';
import { LruLayer, type LruCache, type LruTraces } from '../modules/lru.js';
import type { ModuleCache, RecurrentCarry } from '../modules/module.js';
import { ForwardPass } from '../model/forward.js';
import type { Learner, LearnerOptions, LearnerState } from './learner.js';

export type OnlineLruMode = 'online' | 'spatial' | 'truncated1';

export class OnlineLruLearner implements Learner {
  readonly batchSize: number;
  private readonly fwd: ForwardPass;
  private readonly caches: ModuleCache[];
  private readonly carries: (RecurrentCarry | null)[];
  private readonly traces: (LruTraces | null)[];
  private readonly workspace: BackwardWorkspace;
  private readonly dOut: Buf;
  private readonly atTimeT: RecurrentBackward;

  constructor(readonly network: Network, options: LearnerOptions, readonly name: string, readonly mode: OnlineLruMode) {
    const be = network.backend, B = (this.batchSize = options.batchSize);
    if (!network.modules.some((m) => m instanceof LruLayer)) {
      throw new UnsupportedError(`${name} trains LRU stacks (model 'lru'); this network has no LRU layer`);
    }
    this.fwd = new ForwardPass(network, B, options.seed ?? 0);
    this.caches = network.modules.map((m) => m.createCache(be, B));
    this.carries = network.modules.map((m) => (m.recurrent ? m.createCarry(be, B) : null));
    if (mode === 'online') {
      ensureMemory(be, `${name} traces (${B} samples)`, plannedBytes(be.dtype, (plan) => {
        for (const m of network.modules) if (m instanceof LruLayer) m.createTraces(plan, B);
      }));
    }
    this.traces = network.modules.map((m) => (m instanceof LruLayer && mode === 'online' ? m.createTraces(be, B) : null));
    this.workspace = network.createBackwardWorkspace(B);
    this.dOut = be.alloc(B * network.outputSize);
    this.atTimeT = (i, m, moduleCache, dy, dx) => {
      const cache = moduleCache as LruCache;
      const carry = this.carries[i]!;
      if (!(m instanceof LruLayer)) {
        // pool_st: straight through, no parameters, nothing carried
        m.backward(cache, dy, dx, carry);
        return;
      }
      m.backwardSpatial(cache, dy, dx, carry);
      if (this.mode === 'online') {
        m.traceStep(cache, this.traces[i]!, carry);
        if (dx) m.backwardInputOnly(cache, dx, carry);
      } else {
        m.backwardSpatialInput(cache, dx, carry, this.mode === 'truncated1' ? 1 : 0);
      }
    };
  }

  get output(): Buf {
    return this.fwd.output;
  }

  startSequence(): void {
    this.fwd.resetStates();
    this.network.modules.forEach((m, i) => {
      const tr = this.traces[i];
      if (tr && m instanceof LruLayer) m.resetTraces(tr);
    });
  }

  step(x: ArrayLike<number>, target: ArrayLike<number> | null, mask: ArrayLike<number> | null): number {
    const net = this.network;
    this.fwd.load(x);
    const out = this.fwd.run(this.caches);
    let loss = 0;
    if (target) loss = net.loss.evaluate(this.batchSize, out, target, mask, this.dOut);
    else net.backend.fill(this.dOut, 0);
    // the traces advance at every step, with or without a loss (δ = 0 then)
    net.backwardStep(this.caches, this.dOut, this.workspace, this.atTimeT);
    return loss;
  }

  flush(): void {
    // every step's gradient was added when the step ran
  }

  stateBytes(): number {
    return this.traces.reduce((s, t) => s + (t ? t.bytes : 0), 0);
  }

  private traceBuffers(): Buf[] {
    const out: Buf[] = [];
    this.network.modules.forEach((m, i) => {
      const tr = this.traces[i];
      if (tr && m instanceof LruLayer) out.push(...m.traceBuffers(tr));
    });
    return out;
  }

  saveState(): LearnerState {
    return this.fwd.saveState(this.traceBuffers());
  }

  loadState(state: LearnerState): void {
    this.fwd.loadState(state, this.traceBuffers(), this.name);
  }
}
