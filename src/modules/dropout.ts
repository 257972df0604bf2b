/**
 * `dropout`: PyTorch's nn.Dropout(p), inverted: in training each element is kept with probability 1 − p
 * and scaled by 1/(1 − p), so y = x ⊙ m with m ∈ {0, 1/(1 − p)}; in evaluation (or with p = 0) y = x.
 * The mask is drawn from the step's one seeded Rng, element i dropped when the i-th uniform (row-major
 * over B×size) is < p, and kept in the cache. No parameters.
 *
 * VJP: dx = dy ⊙ m.  JVP: ty = tx with every row scaled by sample b's mask row; no own rows.
 */
import type { Backend, Buf } from '../backend/backend.js';
import { ConfigError } from '../core/errors.js';
import type { ParamSpec, ParamStore } from '../core/params.js';
import type { Rng } from '../core/rng.js';
import type { Module, ModuleCache, StepContext } from './module.js';

interface DropoutCache extends ModuleCache {
  mask: Buf;
  /** the uniforms behind the mask, in float64 so that u < p is decided exactly */
  u: Float64Array;
  /** per-sample views of the mask, made once */
  maskRow: Buf[];
  /** whether the last forward applied the mask (false: it was the identity) */
  active: boolean;
}

export class Dropout implements Module<DropoutCache> {
  readonly kind = 'dropout';
  readonly recurrent = false as const;
  readonly inSize: number;
  readonly outSize: number;

  constructor(
    readonly size: number,
    readonly p: number,
  ) {
    if (!(p >= 0 && p < 1)) throw new ConfigError(`dropout: p must be in [0, 1), got ${p}`);
    this.inSize = this.outSize = size;
  }

  paramSpecs(): ParamSpec[] {
    return [];
  }

  init(_params: ParamStore, _prefix: string, _rng: Rng): void {}

  bind(_params: ParamStore, _grads: ParamStore, _prefix: string): void {}

  createCache(be: Backend, B: number): DropoutCache {
    const n = this.size,
      mask = be.alloc(B * n);
    const maskRow = Array.from({ length: B }, (_, b) => mask.view(b * n, n));
    return { B, mask, maskRow, u: new Float64Array(B * n), active: false };
  }

  forward(x: Buf, y: Buf, cache: DropoutCache, ctx: StepContext): void {
    const be = x.backend,
      p = this.p;
    cache.active = ctx.training && p > 0;
    if (!cache.active) {
      be.copy(x, y);
      return;
    }
    // fillUniform(u) gives exactly the numbers of B·size rng.uniform() calls, in one call: a per-element
    // rng.uniform() returns a boxed number whenever V8 does not inline it
    const u = cache.u,
      m = cache.mask.data,
      keep = 1 / (1 - p);
    ctx.rng.fillUniform(u);
    for (let i = 0; i < m.length; i++) m[i] = u[i]! < p ? 0 : keep;
    be.mul(x, cache.mask, y);
  }

  backward(cache: DropoutCache, dy: Buf, dx: Buf | null): void {
    if (!dx) return;
    if (cache.active) dy.backend.mul(dy, cache.mask, dx);
    else dy.backend.copy(dy, dx);
  }

  tangent(b: number, cache: DropoutCache, tx: Buf | null, tyIn: Buf | null, _tyOwn: Buf): void {
    if (!tx || !tyIn) return;
    if (cache.active) tx.backend.scaleColumns(tx.length / this.size, this.size, tx, cache.maskRow[b]!, 0, tyIn);
    else tx.backend.copy(tx, tyIn);
  }
}
