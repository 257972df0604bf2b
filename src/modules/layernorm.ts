/**
 * `layernorm`: PyTorch's nn.LayerNorm(size, eps) over the feature dimension, with elementwise affine
 * (weight init 1, bias init 0, both [size]). Per sample, with μ and the biased variance v of its row:
 *
 *   x̂ = (x − μ)/σ,  σ = √(v + eps),  y = x̂ ⊙ w + b
 *
 * VJP: with g = dy ⊙ w, dx = (g − mean(g) − x̂·mean(g ⊙ x̂))/σ;  dw += Σ_b dy ⊙ x̂;  db += Σ_b dy.
 * JVP (sample b): a tangent row t maps to w ⊙ (t − mean(t) − x̂·mean(x̂ ⊙ t))/σ; own rows:
 *   ∂y_i/∂w_i = x̂_i, ∂y_i/∂b_i = 1 (weight rows, then bias rows).
 * Preactivation: y itself (w and b act on x̂ elementwise); from a gradient dy at it, dw += Σ_b dy ⊙ x̂ and
 * db += Σ_b dy (the parameter half of the VJP).
 *
 * The per-row statistics are plain loops over `.data`: O(rows·size), less than the gemm of any Dense next to
 * it, and they need no scratch sized by the number of tangent rows.
 */
import type { Backend, Buf } from '../backend/backend.js';
import { ConfigError } from '../core/errors.js';
import type { ParamSpec, ParamStore } from '../core/params.js';
import type { Rng } from '../core/rng.js';
import type { ExposesPreactivations, Module, ModuleCache, StepContext } from './module.js';

interface LayerNormCache extends ModuleCache {
  xhat: Buf;
  /** 1/σ per sample */
  rstd: Buf;
  /** per-sample views of x̂, made once */
  xhatRow: Buf[];
  /** [y]: the block handed to the preactivation hook */
  out: Buf[];
}

export class LayerNorm implements Module<LayerNormCache>, ExposesPreactivations {
  readonly kind = 'layernorm';
  readonly recurrent = false as const;
  readonly inSize: number;
  readonly outSize: number;
  readonly preSizes: readonly number[];
  private w!: Buf;
  private b!: Buf;
  private dw!: Buf;
  private db!: Buf;

  constructor(
    readonly size: number,
    readonly eps = 1e-5,
  ) {
    if (!(eps >= 0 && Number.isFinite(eps))) throw new ConfigError(`layernorm: eps must be finite and ≥ 0, got ${eps}`);
    this.inSize = this.outSize = size;
    this.preSizes = [size];
  }

  paramSpecs(): ParamSpec[] {
    return [
      { name: 'weight', shape: [this.size] },
      { name: 'bias', shape: [this.size] },
    ];
  }

  init(params: ParamStore, prefix: string, _rng: Rng): void {
    params.set(prefix + 'weight', new Float64Array(this.size).fill(1));
    params.set(prefix + 'bias', new Float64Array(this.size));
  }

  bind(params: ParamStore, grads: ParamStore, prefix: string): void {
    this.w = params.buf(prefix + 'weight');
    this.b = params.buf(prefix + 'bias');
    this.dw = grads.buf(prefix + 'weight');
    this.db = grads.buf(prefix + 'bias');
  }

  createCache(be: Backend, B: number): LayerNormCache {
    const n = this.size,
      xhat = be.alloc(B * n);
    return { B, xhat, rstd: be.alloc(B), xhatRow: Array.from({ length: B }, (_, b) => xhat.view(b * n, n)), out: [] };
  }

  forward(x: Buf, y: Buf, cache: LayerNormCache, ctx: StepContext): void {
    const n = this.size,
      xd = x.data,
      yd = y.data,
      h = cache.xhat.data,
      rstd = cache.rstd.data;
    const w = this.w.data,
      bias = this.b.data;
    for (let s = 0; s < cache.B; s++) {
      const o = s * n;
      let mean = 0;
      for (let j = 0; j < n; j++) mean += xd[o + j]!;
      mean /= n;
      let v = 0; // two passes: no cancellation when |μ| ≫ σ
      for (let j = 0; j < n; j++) v += (xd[o + j]! - mean) ** 2;
      const r = 1 / Math.sqrt(v / n + this.eps);
      rstd[s] = r;
      for (let j = 0; j < n; j++) {
        const xh = (xd[o + j]! - mean) * r;
        h[o + j] = xh;
        yd[o + j] = xh * w[j]! + bias[j]!;
      }
    }
    if (ctx.preactivationHook) {
      cache.out[0] = y;
      ctx.preactivationHook(this, 0, cache.out);
    }
  }

  backward(cache: LayerNormCache, dy: Buf, dx: Buf | null): void {
    const n = this.size,
      B = cache.B;
    dy.backend.colSum(B, n, dy, 1, this.db);
    const g = dy.data,
      h = cache.xhat.data,
      rstd = cache.rstd.data,
      w = this.w.data,
      dw = this.dw.data;
    const dxd = dx ? dx.data : null;
    for (let s = 0; s < B; s++) {
      const o = s * n;
      let sg = 0,
        sgh = 0;
      for (let j = 0; j < n; j++) {
        const gj = g[o + j]! * w[j]!;
        sg += gj;
        sgh += gj * h[o + j]!;
        dw[j] = dw[j]! + g[o + j]! * h[o + j]!;
      }
      if (!dxd) continue;
      const mg = sg / n,
        mgh = sgh / n,
        r = rstd[s]!;
      for (let j = 0; j < n; j++) dxd[o + j] = r * (g[o + j]! * w[j]! - mg - h[o + j]! * mgh);
    }
  }

  accumulateFromPreactivations(c: ModuleCache, dPre: readonly Buf[]): void {
    const cache = c as LayerNormCache,
      dy = dPre[0]!,
      n = this.size,
      B = cache.B;
    dy.backend.colSum(B, n, dy, 1, this.db);
    const g = dy.data,
      h = cache.xhat.data,
      dw = this.dw.data;
    for (let s = 0; s < B; s++) for (let j = 0; j < n; j++) dw[j] = dw[j]! + g[s * n + j]! * h[s * n + j]!;
  }

  decorrelators(): { D: Buf; input: Buf }[] {
    return [];
  }

  tangent(b: number, cache: LayerNormCache, tx: Buf | null, tyIn: Buf | null, tyOwn: Buf): void {
    const n = this.size,
      h = cache.xhatRow[b]!.data,
      w = this.w.data;
    if (tx && tyIn) {
      const t = tx.data,
        o = tyIn.data,
        r = cache.rstd.data[b]!,
        R = tx.length / n;
      for (let row = 0; row < R; row++) {
        const k = row * n;
        let st = 0,
          sht = 0;
        for (let j = 0; j < n; j++) {
          st += t[k + j]!;
          sht += h[j]! * t[k + j]!;
        }
        const mt = st / n,
          mht = sht / n;
        for (let j = 0; j < n; j++) o[k + j] = w[j]! * r * (t[k + j]! - mt - h[j]! * mht);
      }
    }
    // own rows: weight row i has x̂_i in column i, bias row i has 1 in column i
    tyOwn.backend.fill(tyOwn, 0);
    const t = tyOwn.data;
    for (let i = 0; i < n; i++) {
      t[i * n + i] = h[i]!;
      t[(n + i) * n + i] = 1;
    }
  }
}
