/**
 * `dense`: y = x·Wᵀ + b with PyTorch's nn.Linear layout (weight out×in, bias out) and initialisation
 * (uniform in ±1/√in for both).
 *
 * VJP: dx = dy·W, dW += dyᵀ·x, db += Σ_b dy.  JVP: ty = tx·Wᵀ; own rows: ∂y_i/∂W[i,j] = x_j, ∂y_i/∂b_i = 1.
 *
 * With `decorrelate`, the input first passes a decorrelating matrix D (in×in, parameter `decor`, starts at
 * the identity, never trained by gradient — a rule of the learner may move it): x̂ = D·x, y = W·x̂ + b; then
 * dW += dyᵀ·x̂ and dx = (dy·W)·D. (The JVP is not provided then: forward-mode rules refuse decorrelated models.)
 */
import type { Backend, Buf } from '../backend/backend.js';
import type { ParamSpec, ParamStore } from '../core/params.js';
import type { Rng } from '../core/rng.js';
import { UnsupportedError } from '../core/errors.js';
import type { ExposesPreactivations, Module, ModuleCache, StepContext } from './module.js';

interface DenseCache extends ModuleCache {
  x: Buf;
  ones: Buf;
  /** per-sample views of x, made once */
  xRow: Buf[];
  /** decorrelate: dy·W before it passes D */
  dxHat: Buf | null;
  /** the one-element block list handed to the preactivation hook (its output buffer) */
  pre: Buf[];
}

export class Dense implements Module<DenseCache>, ExposesPreactivations {
  readonly kind = 'dense';
  readonly recurrent = false as const;
  private W!: Buf;
  private b!: Buf | null;
  private dW!: Buf;
  private db!: Buf | null;
  private D: Buf | null = null;
  readonly preSizes: readonly number[];

  constructor(
    readonly inSize: number,
    readonly outSize: number,
    readonly bias = true,
    readonly decorrelate = false,
  ) {
    this.preSizes = [outSize];
  }

  paramSpecs(): ParamSpec[] {
    const specs: ParamSpec[] = [{ name: 'weight', shape: [this.outSize, this.inSize] }];
    if (this.bias) specs.push({ name: 'bias', shape: [this.outSize] });
    if (this.decorrelate) specs.push({ name: 'decor', shape: [this.inSize, this.inSize] });
    return specs;
  }

  init(params: ParamStore, prefix: string, rng: Rng): void {
    const k = 1 / Math.sqrt(this.inSize);
    if (this.decorrelate) params.set(prefix + 'decor', identity(this.inSize));
    for (const s of this.paramSpecs()) {
      if (s.name === 'decor') continue;
      const v = new Float64Array(this.outSize * (s.name === 'weight' ? this.inSize : 1));
      rng.fillUniform(v, -k, k);
      params.set(prefix + s.name, v);
    }
  }

  bind(params: ParamStore, grads: ParamStore, prefix: string): void {
    this.W = params.buf(prefix + 'weight');
    this.dW = grads.buf(prefix + 'weight');
    this.b = this.bias ? params.buf(prefix + 'bias') : null;
    this.db = this.bias ? grads.buf(prefix + 'bias') : null;
    this.D = this.decorrelate ? params.buf(prefix + 'decor') : null;
  }

  createCache(be: Backend, B: number): DenseCache {
    const x = be.alloc(B * this.inSize);
    const ones = be.alloc(B);
    be.fill(ones, 1);
    const dxHat = this.decorrelate ? be.alloc(B * this.inSize) : null;
    return { B, x, ones, xRow: Array.from({ length: B }, (_, b) => x.view(b * this.inSize, this.inSize)), dxHat, pre: [] };
  }

  forward(x: Buf, y: Buf, cache: DenseCache, ctx: StepContext): void {
    const be = x.backend,
      B = cache.B;
    if (this.D) be.gemm(false, true, B, this.inSize, this.inSize, 1, x, this.D, 0, cache.x);
    else be.copy(x, cache.x);
    be.gemm(false, true, B, this.outSize, this.inSize, 1, cache.x, this.W, 0, y);
    if (this.b) be.ger(B, this.outSize, 1, cache.ones, this.b, y);
    if (ctx.preactivationHook) {
      cache.pre[0] = y;
      ctx.preactivationHook(this, 0, cache.pre);
    }
  }

  backward(cache: DenseCache, dy: Buf, dx: Buf | null): void {
    const be = dy.backend,
      B = cache.B;
    this.accumulate(cache, dy);
    if (!dx) return;
    if (this.D) {
      be.gemm(false, false, B, this.inSize, this.outSize, 1, dy, this.W, 0, cache.dxHat!);
      be.gemm(false, false, B, this.inSize, this.inSize, 1, cache.dxHat!, this.D, 0, dx);
    } else {
      be.gemm(false, false, B, this.inSize, this.outSize, 1, dy, this.W, 0, dx);
    }
  }

  accumulateFromPreactivations(c: ModuleCache, dPre: readonly Buf[]): void {
    this.accumulate(c as DenseCache, dPre[0]!);
  }

  private accumulate(cache: DenseCache, dy: Buf): void {
    const be = dy.backend,
      B = cache.B;
    be.gemm(true, false, this.outSize, this.inSize, B, 1, dy, cache.x, 1, this.dW);
    if (this.db) be.colSum(B, this.outSize, dy, 1, this.db);
  }

  decorrelators(c: ModuleCache): { D: Buf; input: Buf }[] {
    return this.D ? [{ D: this.D, input: (c as DenseCache).x }] : [];
  }

  tangent(b: number, cache: DenseCache, tx: Buf | null, tyIn: Buf | null, tyOwn: Buf): void {
    if (this.D)
      throw new UnsupportedError(
        'dense: no forward-mode derivative with input decorrelation (forward-mode rules do not support decorrelated models)',
      );
    const be = tyOwn.backend,
      out = this.outSize,
      inp = this.inSize;
    if (tx && tyIn) be.gemm(false, true, tx.length / inp, out, inp, 1, tx, this.W, 0, tyIn);
    // own rows: weight rows first (row i·in + j has x_j in column i), then bias rows (1 in column i)
    be.fill(tyOwn, 0);
    const t = tyOwn.data,
      x = cache.xRow[b]!.data;
    for (let i = 0; i < out; i++) {
      for (let j = 0; j < inp; j++) t[(i * inp + j) * out + i] = x[j]!;
      if (this.bias) t[(out * inp + i) * out + i] = 1;
    }
  }
}

/** the n×n identity, as the starting decorrelating matrix */
export function identity(n: number): Float64Array {
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  return v;
}
