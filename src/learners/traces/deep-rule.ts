/**
 * The `deep` trace rule as a TraceRule (takes the output error): traces carried up the stack through the
 * exact inter-layer Jacobians, each layer's own past through its units' own ∂f/∂s (Millidge 2025).
 * On stacks of unit-model layers under a readout it runs the compact engine of traces/deep.ts: the readout's
 * VJP at t gives the readout its exact gradient and the signal at the top layer, which the engine multiplies
 * with its traces. On other stacks (LRU blocks with feed-forward modules between the layers) it is the full
 * influence (traces/full.ts): on diagonal layers each unit's own ∂f/∂s is the whole within-layer Jacobian,
 * so the deep rule and full RTRL coincide there.
 */
import type { Backend, Buf } from '../../backend/backend.js';
import { UnsupportedError } from '../../core/errors.js';
import type { Network } from '../../model/network.js';
import type { Module, ModuleCache } from '../../modules/module.js';
import { RecurrentLayer, type RecCache } from '../../modules/recurrent.js';
import type { TraceRule } from '../rules.js';
import { DeepDiagTraces } from './deep.js';
import { FullInfluence } from './full.js';

export class DeepTraceRule implements TraceRule {
  readonly takes = 'output';
  readonly advancesInAccumulate = false;
  private readonly deep: DeepDiagTraces;
  private readonly readout: Module;
  private readonly dyTop: Buf;
  private readonly top: number;
  /** the recurrent layers' caches, sliced once from the step loop's cache array */
  private recCaches: RecCache[] = [];
  private boundTo: readonly ModuleCache[] | null = null;

  constructor(network: Network, be: Backend, B: number) {
    const mods = network.modules,
      layers = mods.slice(0, -1);
    const readout = mods[mods.length - 1]!;
    if (!layers.every((m) => m instanceof RecurrentLayer) || readout.recurrent) {
      throw new UnsupportedError('the compact deep engine runs on stacks of recurrent unit-model layers under a readout');
    }
    this.readout = readout;
    this.top = mods.length - 1;
    this.deep = new DeepDiagTraces(layers as RecurrentLayer[], be, B);
    this.dyTop = be.alloc(B * layers[layers.length - 1]!.outSize);
  }

  get bytes(): number {
    return this.deep.bytes;
  }

  buffers(): Buf[] {
    return this.deep.buffers();
  }

  reset(): void {
    this.deep.reset();
  }

  private layerCaches(caches: readonly ModuleCache[]): RecCache[] {
    if (this.boundTo !== caches) {
      this.recCaches = caches.slice(0, this.top) as RecCache[];
      this.boundTo = caches;
    }
    return this.recCaches;
  }

  advance(caches: readonly ModuleCache[]): void {
    this.deep.step(this.layerCaches(caches));
  }

  accumulate(caches: readonly ModuleCache[], _i: number | null, dOut: Buf): void {
    // the readout: its exact gradient, and the signal at the top recurrent layer
    this.readout.backward(caches[this.top]!, dOut, this.dyTop);
    this.deep.accumulate(this.layerCaches(caches), this.dyTop);
  }
}

/** the deep rule on any network: the compact engine on unit-model stacks, the full influence on stacks of diagonal (LRU) layers */
export function createDeepTraces(network: Network, be: Backend, B: number): TraceRule {
  const mods = network.modules;
  const unitStack = mods.slice(0, -1).every((m) => m instanceof RecurrentLayer) && !mods[mods.length - 1]!.recurrent;
  if (unitStack) return new DeepTraceRule(network, be, B);
  if (mods.some((m) => m instanceof RecurrentLayer))
    throw new UnsupportedError(
      'the deep trace rule runs on stacks of unit-model layers under a readout, or on stacks of diagonal (LRU) layers',
    );
  return new FullInfluence(network, B);
}
