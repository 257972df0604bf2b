/**
 * A layer-local trace rule over a whole network: one engine per recurrent module, each advanced from its
 * own cache and turned into a gradient by the signal its module receives (rules.ts, takes = 'layer').
 *
 *   unit-model layers (modules/recurrent.ts)  the `diag` or `snap1` rule of traces/diag.ts
 *   LRU layers (modules/lru.ts)               the LRU's elementwise traces (traces/lru.ts), the diag rule's
 *                                             fast path there (snap1 = diag on a diagonal recurrence), or a
 *                                             paper baseline ('spatial', 'truncated1')
 *   parameterless recurrent modules (pool_st)  their straight-through VJP, nothing carried
 * With dx the engine also returns its module's VJP at time t onto the input (the backprop-at-t signal below).
 */
import type { Backend, Buf } from '../../backend/backend.js';
import { UnsupportedError } from '../../core/errors.js';
import type { Network } from '../../model/network.js';
import { LruLayer, type LruCache } from '../../modules/lru.js';
import type { ModuleCache, RecurrentCarry, RecurrentModule } from '../../modules/module.js';
import { RecurrentLayer, type RecCache } from '../../modules/recurrent.js';
import type { TraceRule } from '../rules.js';
import { DiagTraces } from './diag.js';
import { KappaFilter } from './kappa.js';
import { LruLayerTraces } from './lru.js';
import { PpPropTraces } from './pp-prop.js';

export type LayerTraceKind = 'diag' | 'snap1' | 'spatial' | 'truncated1' | 'pp-prop';

interface LayerEngine {
  readonly fused: boolean;
  readonly bytes: number;
  buffers(): Buf[];
  reset(): void;
  advance(cache: ModuleCache): void;
  accumulate(cache: ModuleCache, signal: Buf, dx: Buf | null): void;
}

class UnitLayerEngine implements LayerEngine {
  readonly fused = false;
  constructor(readonly traces: DiagTraces) {}
  get bytes(): number {
    return this.traces.bytes;
  }
  buffers(): Buf[] {
    return this.traces.buffers();
  }
  reset(): void {
    this.traces.reset();
  }
  advance(cache: ModuleCache): void {
    this.traces.step(cache as RecCache);
  }
  accumulate(cache: ModuleCache, signal: Buf, dx: Buf | null): void {
    this.traces.accumulate(cache as RecCache, signal);
    if (dx) this.traces.backwardInput(cache as RecCache, signal, dx);
  }
}

/** diag traces whose eligibility is low-pass filtered with κ before it meets the signal (traces/kappa.ts) */
class KappaEngine implements LayerEngine {
  readonly fused = false;
  constructor(
    readonly traces: DiagTraces,
    readonly filter: KappaFilter,
  ) {}
  get bytes(): number {
    return this.traces.bytes + this.filter.bytes;
  }
  buffers(): Buf[] {
    return [...this.traces.buffers(), ...this.filter.buffers()];
  }
  reset(): void {
    this.traces.reset();
    this.filter.reset();
  }
  advance(cache: ModuleCache): void {
    this.traces.step(cache as RecCache);
    this.filter.step(cache as RecCache);
  }
  accumulate(cache: ModuleCache, signal: Buf, dx: Buf | null): void {
    this.filter.accumulate(signal);
    if (dx) this.traces.backwardInput(cache as RecCache, signal, dx);
  }
}

/** pp-prop's factorised input/output traces (traces/pp-prop.ts) */
class PpPropEngine implements LayerEngine {
  readonly fused = false;
  constructor(readonly traces: PpPropTraces) {}
  get bytes(): number {
    return this.traces.bytes;
  }
  buffers(): Buf[] {
    return this.traces.buffers();
  }
  reset(): void {
    this.traces.reset();
  }
  advance(cache: ModuleCache): void {
    this.traces.step(cache as RecCache);
  }
  accumulate(cache: ModuleCache, signal: Buf, dx: Buf | null): void {
    this.traces.accumulate(cache as RecCache, signal);
    if (dx) this.traces.backwardInput(cache as RecCache, signal, dx);
  }
}

class LruEngine implements LayerEngine {
  readonly fused = true;
  constructor(readonly traces: LruLayerTraces) {}
  get bytes(): number {
    return this.traces.bytes;
  }
  buffers(): Buf[] {
    return this.traces.buffers();
  }
  reset(): void {
    this.traces.reset();
  }
  advance(): void {
    // the fused kernel advances in accumulate
  }
  accumulate(cache: ModuleCache, signal: Buf, dx: Buf | null): void {
    this.traces.accumulate(cache as LruCache, signal, dx);
  }
}

/** a recurrent module without parameters (pool_st): its VJP at t, nothing carried */
class PassEngine implements LayerEngine {
  readonly fused = false;
  readonly bytes = 0;
  private readonly carry: RecurrentCarry;
  constructor(
    readonly module: RecurrentModule,
    be: Backend,
    B: number,
  ) {
    this.carry = module.createCarry(be, B);
  }
  buffers(): Buf[] {
    return [];
  }
  reset(): void {}
  advance(): void {}
  accumulate(cache: ModuleCache, signal: Buf, dx: Buf | null): void {
    this.module.backward(cache, signal, dx, this.carry);
  }
}

/** why a layer-local rule cannot run on a module, or null when it can */
export function layerTraceRefusal(network: Network, kind: LayerTraceKind): string | null {
  for (const m of network.modules) {
    if (!m.recurrent) continue;
    if (m instanceof RecurrentLayer && (kind === 'diag' || kind === 'snap1' || kind === 'pp-prop')) continue;
    if (m instanceof LruLayer && kind === 'pp-prop') {
      return "pp-prop factorises the dense synapse matrices of unit-model layers; an LRU layer's recurrence is elementwise and its traces are already exact at the parameters' size (use online-lru)";
    }
    if (m instanceof LruLayer || m.paramSpecs().length === 0) continue;
    return `the '${kind}' trace rule has no engine for a '${m.kind}' layer`;
  }
  if (!network.modules.some((m) => m instanceof LruLayer) && (kind === 'spatial' || kind === 'truncated1')) {
    return `the '${kind}' trace rule is a baseline of the LRU's own traces; this network has no LRU layer`;
  }
  return null;
}

export class LayerTraceRule implements TraceRule {
  readonly takes = 'layer';
  readonly advancesInAccumulate: boolean;
  /** by module index: the engine of each recurrent module (null for feed-forward ones) */
  readonly engines: (LayerEngine | null)[];

  /** kappa: e-prop's low-pass filter on the eligibility traces (traces/kappa.ts); 0 (the default) builds none */
  /** traceDecay: pp-prop's smoothing α of its factors */
  constructor(
    network: Network,
    be: Backend,
    B: number,
    kind: LayerTraceKind,
    { kappa = 0, traceDecay = 0 }: { kappa?: number; traceDecay?: number } = {},
  ) {
    const refusal = layerTraceRefusal(network, kind);
    if (refusal) throw new UnsupportedError(refusal);
    if (kappa !== 0 && kind !== 'diag') throw new UnsupportedError(`the κ filter runs on the 'diag' trace rule, not on '${kind}'`);
    if (kappa !== 0 && network.modules.some((m) => m instanceof LruLayer)) {
      throw new UnsupportedError(
        "the κ filter (kappa > 0) is not implemented for LRU layers: their traces run in one fused complex kernel with no filtered form; use kappa 0 (online-lru's exact traces) or a unit model",
      );
    }
    this.engines = network.modules.map((m): LayerEngine | null => {
      if (!m.recurrent) return null;
      if (m instanceof RecurrentLayer && kind === 'pp-prop') return new PpPropEngine(new PpPropTraces(m, be, B, traceDecay));
      if (m instanceof RecurrentLayer) {
        const traces = new DiagTraces(m, be, B, kind === 'snap1' ? 'snap1' : 'diag');
        return kappa === 0 ? new UnitLayerEngine(traces) : new KappaEngine(traces, new KappaFilter(traces, be, kappa));
      }
      if (m instanceof LruLayer)
        return new LruEngine(new LruLayerTraces(m, be, B, kind === 'spatial' || kind === 'truncated1' ? kind : 'online'));
      return new PassEngine(m, be, B);
    });
    this.advancesInAccumulate = this.engines.some((e) => e?.fused === true);
  }

  get bytes(): number {
    return this.engines.reduce((s, e) => s + (e ? e.bytes : 0), 0);
  }

  buffers(): Buf[] {
    return this.engines.flatMap((e) => (e ? e.buffers() : []));
  }

  reset(): void {
    for (const e of this.engines) e?.reset();
  }

  advance(caches: readonly ModuleCache[], i: number | null): void {
    if (i !== null) {
      this.engines[i]?.advance(caches[i]!);
      return;
    }
    for (const [k, e] of this.engines.entries()) e?.advance(caches[k]!);
  }

  accumulate(caches: readonly ModuleCache[], i: number | null, signal: Buf, dx: Buf | null): void {
    if (i === null) throw new UnsupportedError('a layer-local trace rule takes a signal per layer, not the output error');
    this.engines[i]!.accumulate(caches[i]!, signal, dx);
  }
}
