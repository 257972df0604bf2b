/**
 * The `full` trace rule (RTRL's influence, Williams & Zipser 1989): for every sample, each module keeps the
 * influence of all parameters up to and including its own on its output, as rows (one per parameter).
 * Recurrent modules carry M_t = ds_t/dθ forward from their one-step partials (the influence engine, influence.ts):
 *   M_t = (∂f/∂s)·M_{t−1} + (∂f/∂a)·(W_hh·dy_{t−1}/dθ + W_ih·dx_t/dθ + immediate),
 * feed-forward modules map dx/dθ to dy/dθ through their Jacobian and add their own parameters' rows; the
 * output signal then gives ∂L_t/∂θ = (dŷ_t/dθ)ᵀ·∂L_t/∂ŷ_t at every step. Exact: equals BPTT over the same steps.
 * On a stack of diagonal layers (LRU) it is also the `deep` rule: each layer's own ∂f/∂s is its whole
 * within-layer Jacobian there (traces/deep-rule.ts).
 * Cost per step and sample: O(G·n·(n + d)·P) time for P parameters (O(n⁴) for one layer), O(S·n·P) memory.
 * With the `sparse` layout (influence.ts) the engine stores only what can be non-zero — on an LRU layer its own
 * parameters' influence is diagonal — and gives the same numbers: sparse-rtrl on LRU stacks.
 * An optional restriction (snap2's sparsity pattern, traces/snap2.ts) is applied to each recurrent module's
 * influence right after its tangent, before anything reads it; without one nothing changes.
 */
import type { Buf } from '../../backend/backend.js';
import { ensureMemory, plannedBytes } from '../../backend/memory.js';
import type { Network } from '../../model/network.js';
import type { ModuleCache } from '../../modules/module.js';
import type { TraceRule } from '../rules.js';
import { createInfluence, type InfluenceLayout, type ModuleInfluence } from './influence.js';

interface SampleTangents {
  /** dy_i/dθ for each module's output (rows_i × out_i) */
  ty: Buf[];
  /** residual blocks: the rows of ty[i] that receive the block input's tangent */
  skipRows: (Buf | null)[];
  /** feed-forward modules: the propagated and the own rows of ty */
  tyIn: (Buf | null)[];
  tyOwn: (Buf | null)[];
  influence: (ModuleInfluence | null)[];
}

/** keeps part of a recurrent module's influence: applied to module i's influence and dy/dθ after its tangent */
export interface InfluenceRestriction {
  apply(i: number, influence: ModuleInfluence, ty: Buf): void;
}

export class FullInfluence implements TraceRule {
  readonly takes = 'output';
  readonly advancesInAccumulate = false;
  private readonly samples: SampleTangents[];
  private readonly dOutRow: Buf[] = [];
  private boundTo: Buf | null = null;

  constructor(
    readonly network: Network,
    readonly B: number,
    readonly restriction: InfluenceRestriction | null = null,
    readonly layout: InfluenceLayout = 'dense',
  ) {
    const be = network.backend;
    // the influence matrices are the state: refuse up front what cannot fit (backend/memory.ts)
    ensureMemory(
      be,
      `the influence matrices (${B} × dθ/ds per sample)`,
      B *
        plannedBytes(be.dtype, (plan) => {
          network.modules.forEach((m, i) => {
            const Rin = network.rowsBefore[i]!;
            plan.alloc((Rin + network.ownRows[i]!) * m.outSize);
            if (m.recurrent) createInfluence(m, plan, Rin, layout);
          });
        }),
    );
    this.samples = Array.from({ length: B }, () => {
      const s: SampleTangents = { ty: [], skipRows: [], tyIn: [], tyOwn: [], influence: [] };
      network.modules.forEach((m, i) => {
        const Rin = network.rowsBefore[i]!,
          rows = Rin + network.ownRows[i]!;
        const ty = be.alloc(rows * m.outSize);
        s.ty.push(ty);
        const j = network.skipFrom[i];
        s.skipRows.push(j !== null && j !== undefined && j > 0 ? ty.view(0, network.rowsBefore[j]! * m.outSize) : null);
        if (m.recurrent) {
          s.influence.push(createInfluence(m, be, Rin, layout));
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

  get bytes(): number {
    let bytes = 0;
    for (const s of this.samples) for (const inf of s.influence) bytes += inf ? inf.bytes : 0;
    return bytes;
  }

  buffers(): Buf[] {
    const bufs: Buf[] = [];
    for (const s of this.samples) {
      this.network.modules.forEach((m, i) => {
        if (m.recurrent) bufs.push(...s.influence[i]!.buffers());
      });
    }
    return bufs;
  }

  reset(): void {
    const mods = this.network.modules;
    for (const s of this.samples) {
      mods.forEach((m, i) => {
        if (m.recurrent) s.influence[i]!.reset();
      });
    }
  }

  /** every sample's tangents through the chain, bottom to top */
  advance(caches: readonly ModuleCache[]): void {
    const net = this.network,
      be = net.backend,
      mods = net.modules,
      top = mods.length - 1;
    for (let b = 0; b < this.B; b++) {
      const s = this.samples[b]!;
      let tx: Buf | null = null;
      for (let i = 0; i <= top; i++) {
        const m = mods[i]!;
        if (m.recurrent) {
          s.influence[i]!.step(b, caches[i]!, tx, s.ty[i]!);
          this.restriction?.apply(i, s.influence[i]!, s.ty[i]!);
        } else m.tangent(b, caches[i]!, tx, s.tyIn[i]!, s.tyOwn[i]!);
        // a residual block adds its input, so its input's tangent rows add too
        const skip = s.skipRows[i];
        if (skip) be.axpy(1, s.ty[net.skipFrom[i]! - 1]!, skip);
        tx = s.ty[i]!;
      }
    }
  }

  /** ∂L_t/∂θ += (dŷ_t/dθ)·∂L_t/∂ŷ_t per sample, added at once: nothing about this step is kept */
  accumulate(_caches: readonly ModuleCache[], _i: number | null, dOut: Buf): void {
    const net = this.network,
      be = net.backend,
      top = net.modules.length - 1,
      o = net.outputSize;
    if (this.boundTo !== dOut) {
      this.dOutRow.length = 0;
      for (let b = 0; b < this.B; b++) this.dOutRow.push(dOut.view(b * o, o));
      this.boundTo = dOut;
    }
    for (let b = 0; b < this.B; b++) be.gemv(false, net.size, o, 1, this.samples[b]!.ty[top]!, this.dOutRow[b]!, 1, net.grads.flat);
  }
}
