/**
 * `rtrl` — real-time recurrent learning (Williams & Zipser 1989), exact, full influence matrices; on a
 * stack the influence is carried across layers, so it is also `deep-rtrl`.
 *
 * For every sample, each module keeps the influence of all parameters up to and including its own on
 * its output, as rows (one per parameter). Recurrent modules carry M_t = ds_t/dθ forward:
 *   M_t = (∂f/∂s)·M_{t−1} + (∂f/∂a)·(W_hh·dy_{t−1}/dθ + W_ih·dx_t/dθ + immediate),
 * feed-forward modules map dx/dθ to dy/dθ through their Jacobian and add their own parameters' rows, and at
 * the top ∂L_t/∂θ = (dŷ_t/dθ)·∂L_t/∂ŷ_t is added to the gradient at every step — no history is stored.
 * Exact: equals BPTT over the same steps (parameters fixed in between).
 * Cost per step and sample: O(G·n·(n + d)·P) time for P parameters (O(n⁴) for a single layer),
 * O(S·n·P) memory, independent of the sequence length.
 * Reference: R. J. Williams, D. Zipser, Neural Computation 1(2), 1989.
 *
 * With within = 'diag' the same engine is the `deep` trace rule of DESIGN §5 (Millidge, "Generalising E-prop
 * to Deep Networks", 2025) — `deep-eprop` on LRU stacks uses it (stacks of unit-model layers use the compact
 * engine of traces/deep.ts, the same gradient): for the parameters θ_k of layer k, the trace of every layer
 * l ≥ k is carried forward by the recursion of the note,
 *   ε^{l,k}_t = (∂f^l/∂s) ε^{l,k}_{t−1} + (∂f^l/∂a)·W^l_ih·(dy^{l−1}_t/dθ_k)      (l > k; + immediate at l = k)
 * — the within-layer Jacobian reduced to each unit's own ∂f/∂s (e-prop's approximation), the inter-layer
 * Jacobians exact — and the learning signal is taken at the top: ∂L_t/∂θ_k = (dŷ_t/dθ_k)·∂L_t/∂ŷ_t.
 * Exact on stacks of diagonal layers (LRU stacks; units without recurrent synapses), where the dropped
 * path is zero; approximate otherwise. Memory: S·N_l·P_k numbers per layer pair l ≥ k per sample (what
 * stateBytes reports), time O(N_l·P_k·(S + d_l)) per pair per sample and step.
 */
import type { Buf } from '../backend/backend.js';
import { UnsupportedError } from '../core/errors.js';
import { ensureMemory, plannedBytes } from '../backend/memory.js';
import type { Network } from '../model/network.js';
import type { Influence, ModuleCache, WithinJacobian } from '../modules/module.js';
import { ForwardPass } from '../model/forward.js';
import type { Learner, LearnerOptions, LearnerState } from './learner.js';

interface SampleTangents {
  /** dy_i/dθ for each module's output (rows_i × out_i) */
  ty: Buf[];
  /** residual blocks: the rows of ty[i] that receive the block input's tangent */
  skipRows: (Buf | null)[];
  /** feed-forward modules: the propagated and the own rows of ty */
  tyIn: (Buf | null)[];
  tyOwn: (Buf | null)[];
  influence: (Influence | null)[];
}

export class RtrlLearner implements Learner {
  readonly batchSize: number;
  private readonly fwd: ForwardPass;
  private readonly caches: ModuleCache[];
  private readonly samples: SampleTangents[];
  private readonly dOut: Buf;
  private readonly dOutRow: Buf[];

  constructor(readonly network: Network, options: LearnerOptions, readonly name = 'rtrl', within: WithinJacobian = 'full') {
    if (network.config.decorrelate) throw new UnsupportedError(`${name} does not support decorrelated models (decorrelate: true); use bptt or a perturbation learner`);
    const be = network.backend, B = (this.batchSize = options.batchSize);
    // the influence matrices are the state: refuse up front what cannot fit (backend/memory.ts)
    ensureMemory(be, `${name}'s influence matrices (${B} × dθ/ds per sample)`, B * plannedBytes(be.dtype, (plan) => {
      network.modules.forEach((m, i) => {
        const Rin = network.rowsBefore[i]!;
        plan.alloc((Rin + network.ownRows[i]!) * m.outSize);
        if (m.recurrent) m.createInfluence(plan, Rin, within);
      });
    }));
    this.fwd = new ForwardPass(network, B, options.seed ?? 0);
    this.caches = network.modules.map((m) => m.createCache(be, B));
    this.dOut = be.alloc(B * network.outputSize);
    this.dOutRow = Array.from({ length: B }, (_, b) => this.dOut.view(b * network.outputSize, network.outputSize));
    this.samples = Array.from({ length: B }, () => {
      const s: SampleTangents = { ty: [], skipRows: [], tyIn: [], tyOwn: [], influence: [] };
      network.modules.forEach((m, i) => {
        const Rin = network.rowsBefore[i]!, rows = Rin + network.ownRows[i]!;
        const ty = be.alloc(rows * m.outSize);
        s.ty.push(ty);
        const j = network.skipFrom[i];
        s.skipRows.push(j !== null && j !== undefined && j > 0 ? ty.view(0, network.rowsBefore[j]! * m.outSize) : null);
        if (m.recurrent) {
          s.influence.push(m.createInfluence(be, Rin, within));
          s.tyIn.push(null);
          s.tyOwn.push(null);
        } else {
          s.influence.push(null);
          s.tyIn.push(Rin > 0 ? ty.view(0, Rin * m.outSize) : null);
          s.tyOwn.push(ty.view(Rin * m.outSize, network.ownRows[i]! * m.outSize));
        }
      });
      return s;
    });
  }

  get output(): Buf {
    return this.fwd.output;
  }

  startSequence(): void {
    this.fwd.resetStates();
    const mods = this.network.modules;
    for (const s of this.samples) {
      mods.forEach((m, i) => {
        if (m.recurrent) m.resetInfluence(s.influence[i]!);
      });
    }
  }

  step(x: ArrayLike<number>, target: ArrayLike<number> | null, mask: ArrayLike<number> | null): number {
    const net = this.network, be = net.backend, mods = net.modules;
    this.fwd.load(x);
    const out = this.fwd.run(this.caches);
    const loss = target ? net.loss.evaluate(this.batchSize, out, target, mask, this.dOut) : 0;
    const top = mods.length - 1;
    const P = net.size;
    for (let b = 0; b < this.batchSize; b++) {
      const s = this.samples[b]!;
      let tx: Buf | null = null;
      for (let i = 0; i <= top; i++) {
        const m = mods[i]!;
        if (m.recurrent) m.tangent(b, this.caches[i]!, tx, s.ty[i]!, s.influence[i]!);
        else m.tangent(b, this.caches[i]!, tx, s.tyIn[i]!, s.tyOwn[i]!);
        // a residual block adds its input, so its input's tangent rows add too
        const skip = s.skipRows[i];
        if (skip) be.axpy(1, s.ty[net.skipFrom[i]! - 1]!, skip);
        tx = s.ty[i]!;
      }
      // ∂L_t/∂θ = (dŷ_t/dθ)·∂L_t/∂ŷ_t, added at once: nothing about this step is kept
      if (target) be.gemv(false, P, net.outputSize, 1, s.ty[top]!, this.dOutRow[b]!, 1, net.grads.flat);
    }
    return loss;
  }

  flush(): void {
    // every step's gradient was added when the step ran
  }

  stateBytes(): number {
    let bytes = 0;
    for (const s of this.samples) for (const inf of s.influence) bytes += inf ? inf.bytes : 0;
    return bytes;
  }

  private carried(): Buf[] {
    const bufs: Buf[] = [];
    for (const s of this.samples) {
      this.network.modules.forEach((m, i) => {
        if (m.recurrent) bufs.push(...m.influenceBuffers(s.influence[i]!));
      });
    }
    return bufs;
  }

  saveState(): LearnerState {
    return this.fwd.saveState(this.carried());
  }

  loadState(state: LearnerState): void {
    this.fwd.loadState(state, this.carried(), this.name);
  }
}
