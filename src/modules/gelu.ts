/**
 * `gelu`: y = GELU(x) elementwise, with PyTorch's tanh approximation (nn.GELU(approximate='tanh')):
 * GELU(x) = ½x(1 + tanh(√(2/π)(x + 0.044715x³))). No parameters.
 *
 * VJP: dx = dy ⊙ gelu'(x).  JVP: ty = tx with every row scaled by gelu'(x_b); no own rows.
 */
import type { Backend, Buf } from '../backend/backend.js';
import type { ParamSpec, ParamStore } from '../core/params.js';
import type { Rng } from '../core/rng.js';
import type { Module, ModuleCache, StepContext } from './module.js';

interface GeluCache extends ModuleCache {
  /** gelu'(x), the only thing the derivatives need */
  d: Buf;
  /** per-sample views of d, made once */
  dRow: Buf[];
}

export class Gelu implements Module<GeluCache> {
  readonly kind = 'gelu';
  readonly recurrent = false as const;
  readonly inSize: number;
  readonly outSize: number;

  constructor(readonly size: number) {
    this.inSize = this.outSize = size;
  }

  paramSpecs(): ParamSpec[] {
    return [];
  }

  init(_params: ParamStore, _prefix: string, _rng: Rng): void {}

  bind(_params: ParamStore, _grads: ParamStore, _prefix: string): void {}

  createCache(be: Backend, B: number): GeluCache {
    const d = be.alloc(B * this.size);
    return { B, d, dRow: Array.from({ length: B }, (_, b) => d.view(b * this.size, this.size)) };
  }

  forward(x: Buf, y: Buf, cache: GeluCache, _ctx: StepContext): void {
    const be = x.backend;
    be.geluDeriv(x, cache.d); // before gelu, so y may alias x
    be.gelu(x, y);
  }

  backward(cache: GeluCache, dy: Buf, dx: Buf | null): void {
    if (dx) dy.backend.mul(dy, cache.d, dx);
  }

  tangent(b: number, cache: GeluCache, tx: Buf | null, tyIn: Buf | null, _tyOwn: Buf): void {
    if (tx && tyIn) tx.backend.scaleColumns(tx.length / this.size, this.size, tx, cache.dRow[b]!, 0, tyIn);
  }
}
