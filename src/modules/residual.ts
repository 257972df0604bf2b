/**
 * `residual`: y = x + f(x), with f = inner_k ∘ … ∘ inner_1 a chain of feed-forward modules whose sizes chain
 * and whose last output has the input's size. Parameters are the inner modules' own, named `inner.<j>.<name>`.
 *
 * VJP: dx = dy + (the chain's VJP of dy); the inner modules accumulate their parameter gradients.
 * JVP (sample b), rows in network order (Rin rows from below, then inner.0's, inner.1's, …):
 *   tyIn = tx + tx·Jᵀ, with J = ∂f/∂x at x_b;  the rows of inner j's own parameters are its tyOwn propagated
 *   through inner j+1..k (the skip path does not depend on them).
 * Jᵀ is obtained by propagating the size×size identity through the chain together with the inner modules'
 * own rows, so the scratch has a fixed number of rows (size + own) whatever Rin is, and the Rin rows cost one
 * gemm (Rin·size²) instead of a pass through every inner module.
 */
import type { Backend, Buf } from '../backend/backend.js';
import { ConfigError, ShapeError, UnsupportedError } from '../core/errors.js';
import type { ParamSpec, ParamStore } from '../core/params.js';
import type { Rng } from '../core/rng.js';
import { type AnyModule, type Module, type ModuleCache, type StepContext, countParams } from './module.js';

/** Scratch for the tangent: holds nothing between calls, so all caches of one module share it. */
interface TangentScratch {
  readonly be: Backend;
  /** per inner module j: its tx, tyIn and tyOwn views (rows: identity, then own rows of inner 0..j) */
  tx: Buf[];
  tyIn: Buf[];
  tyOwn: Buf[];
  /** rows of the last inner module's output: Jᵀ (size×size) and the residual's own rows (own×size) */
  jt: Buf;
  own: Buf;
}

interface ResidualCache extends ModuleCache {
  inner: ModuleCache[];
  /**
   * output of inner j (j < k−1) in forward; backward reuses them for the gradients there, since nothing reads
   * them after forward (modules copy what they need from their input, as Dense does)
   */
  h: Buf[];
  tan: TangentScratch;
}

export class Residual implements Module<ResidualCache> {
  readonly kind = 'residual';
  readonly recurrent = false as const;
  readonly inSize: number;
  readonly outSize: number;
  /** own parameter count of each inner module */
  private readonly ownRows: number[];
  private tan: TangentScratch | null = null;

  constructor(readonly inner: Module[]) {
    if (inner.length === 0) throw new ConfigError('residual: needs at least one inner module');
    inner.forEach((m, j) => {
      if ((m as AnyModule).recurrent)
        throw new UnsupportedError(`residual: inner module ${j} ('${m.kind}') is recurrent; only feed-forward modules are supported`);
      const want = j === 0 ? m.inSize : inner[j - 1]!.outSize;
      if (m.inSize !== want)
        throw new ShapeError(`residual: inner module ${j} ('${m.kind}') takes ${m.inSize} inputs, but module ${j - 1} gives ${want}`);
    });
    const first = inner[0]!,
      last = inner[inner.length - 1]!;
    if (last.outSize !== first.inSize) {
      throw new ShapeError(
        `residual: the inner chain maps ${first.inSize} to ${last.outSize} features; it must end where it started (${first.inSize})`,
      );
    }
    this.inSize = this.outSize = first.inSize;
    this.ownRows = inner.map((m) => countParams(m.paramSpecs()));
  }

  paramSpecs(): ParamSpec[] {
    return this.inner.flatMap((m, j) => m.paramSpecs().map((s) => ({ name: `inner.${j}.${s.name}`, shape: s.shape })));
  }

  init(params: ParamStore, prefix: string, rng: Rng): void {
    for (const [j, m] of this.inner.entries()) m.init(params, `${prefix}inner.${j}.`, rng);
  }

  bind(params: ParamStore, grads: ParamStore, prefix: string): void {
    for (const [j, m] of this.inner.entries()) m.bind(params, grads, `${prefix}inner.${j}.`);
  }

  createCache(be: Backend, B: number): ResidualCache {
    if (this.tan?.be !== be) this.tan = this.tangentScratch(be);
    const k = this.inner.length;
    return {
      B,
      inner: this.inner.map((m) => m.createCache(be, B)),
      h: this.inner.slice(0, k - 1).map((m) => be.alloc(B * m.outSize)),
      tan: this.tan,
    };
  }

  private tangentScratch(be: Backend): TangentScratch {
    const n = this.inSize;
    const eye = be.alloc(n * n);
    for (let i = 0; i < n; i++) eye.data[i * n + i] = 1;
    const s: TangentScratch = { be, tx: [], tyIn: [], tyOwn: [], jt: eye, own: eye };
    let rowsIn = n; // identity rows, then the own rows of the modules before j
    let prev = eye;
    this.inner.forEach((m, j) => {
      const own = this.ownRows[j]!,
        out = m.outSize;
      const T = be.alloc((rowsIn + own) * out);
      s.tx.push(prev);
      s.tyIn.push(T.view(0, rowsIn * out));
      s.tyOwn.push(T.view(rowsIn * out, own * out));
      rowsIn += own;
      prev = T;
    });
    s.jt = prev.view(0, n * n);
    s.own = prev.view(n * n, (rowsIn - n) * n);
    return s;
  }

  forward(x: Buf, y: Buf, cache: ResidualCache, ctx: StepContext): void {
    const k = this.inner.length;
    let src = x;
    for (let j = 0; j < k; j++) {
      const dst = j === k - 1 ? y : cache.h[j]!;
      this.inner[j]!.forward(src, dst, cache.inner[j]!, ctx);
      src = dst;
    }
    x.backend.axpy(1, x, y); // y must not alias x: x is still read here
  }

  backward(cache: ResidualCache, dy: Buf, dx: Buf | null): void {
    const k = this.inner.length;
    for (let j = k - 1; j >= 0; j--) {
      const gOut = j === k - 1 ? dy : cache.h[j]!;
      const gIn = j === 0 ? dx : cache.h[j - 1]!;
      this.inner[j]!.backward(cache.inner[j]!, gOut, gIn);
    }
    if (dx) dy.backend.axpy(1, dy, dx); // the skip path
  }

  tangent(b: number, cache: ResidualCache, tx: Buf | null, tyIn: Buf | null, tyOwn: Buf): void {
    const s = cache.tan,
      n = this.inSize;
    for (let j = 0; j < this.inner.length; j++) this.inner[j]!.tangent(b, cache.inner[j]!, s.tx[j]!, s.tyIn[j]!, s.tyOwn[j]!);
    if (tx && tyIn) {
      const be = tx.backend;
      be.copy(tx, tyIn);
      be.gemm(false, false, tx.length / n, n, n, 1, tx, s.jt, 1, tyIn);
    }
    tyOwn.backend.copy(s.own, tyOwn);
  }
}
