/**
 * `glu` — the gated linear unit of the LRU blocks of Zucchet et al. 2023 ("full_glu"): y = (W1 x + b1) ⊙ σ(W2 x + b2),
 * both maps H×H with bias, PyTorch nn.Linear layout and initialisation (uniform ±1/√H).
 *
 * VJP: with a = W1x+b1, s = σ(W2x+b2): da = dy ⊙ s, dz = dy ⊙ a ⊙ s(1−s); dx = da·W1 + dz·W2; dW1 += daᵀx, …
 * JVP: ty = (tx·W1ᵀ) ⊙ s + (tx·W2ᵀ) ⊙ a ⊙ s(1−s); own rows: those of each map, scaled the same way.
 * Preactivations: a = W1x+b1 and z = W2x+b2 (before the sigmoid); from gradients da, dz at them dW1 += daᵀx,
 * db1 += Σ_b da, dW2 += dzᵀx, db2 += Σ_b dz (the parameter half of the VJP).
 */
import type { Backend, Buf } from '../backend/backend.js';
import type { ParamSpec, ParamStore } from '../core/params.js';
import type { Rng } from '../core/rng.js';
import type { ExposesPreactivations, Module, ModuleCache, StepContext } from './module.js';

interface GluCache extends ModuleCache {
  x: Buf;
  a: Buf;
  s: Buf;
  /** a ⊙ s(1 − s): the factor of the gate's preactivation */
  ga: Buf;
  ones: Buf;
  da: Buf;
  dz: Buf;
  /** per-sample rows of x, s and ga */
  rows: { x: Buf; s: Buf; ga: Buf }[];
  /** [a, z]: the blocks handed to the preactivation hook (z = W2x+b2 is in `s` before its sigmoid) */
  pre: Buf[];
  /** tangent scratch, sized for `tangentRows` rows (made on first use) */
  t1: Buf | null;
  t2: Buf | null;
}

export class Glu implements Module<GluCache>, ExposesPreactivations {
  readonly kind = 'glu';
  readonly recurrent = false as const;
  readonly inSize: number;
  readonly outSize: number;
  readonly preSizes: readonly number[];
  private W1!: Buf;
  private b1!: Buf;
  private W2!: Buf;
  private b2!: Buf;
  private dW1!: Buf;
  private db1!: Buf;
  private dW2!: Buf;
  private db2!: Buf;

  constructor(readonly size: number) {
    this.inSize = size;
    this.outSize = size;
    this.preSizes = [size, size];
  }

  paramSpecs(): ParamSpec[] {
    const H = this.size;
    return [
      { name: 'dense1.weight', shape: [H, H] },
      { name: 'dense1.bias', shape: [H] },
      { name: 'dense2.weight', shape: [H, H] },
      { name: 'dense2.bias', shape: [H] },
    ];
  }

  init(params: ParamStore, prefix: string, rng: Rng): void {
    const k = 1 / Math.sqrt(this.size);
    for (const s of this.paramSpecs()) {
      const v = new Float64Array(s.shape.reduce((a, d) => a * d, 1));
      rng.fillUniform(v, -k, k);
      params.set(prefix + s.name, v);
    }
  }

  bind(params: ParamStore, grads: ParamStore, prefix: string): void {
    this.W1 = params.buf(prefix + 'dense1.weight');
    this.b1 = params.buf(prefix + 'dense1.bias');
    this.W2 = params.buf(prefix + 'dense2.weight');
    this.b2 = params.buf(prefix + 'dense2.bias');
    this.dW1 = grads.buf(prefix + 'dense1.weight');
    this.db1 = grads.buf(prefix + 'dense1.bias');
    this.dW2 = grads.buf(prefix + 'dense2.weight');
    this.db2 = grads.buf(prefix + 'dense2.bias');
  }

  createCache(be: Backend, B: number): GluCache {
    const H = this.size;
    const x = be.alloc(B * H),
      s = be.alloc(B * H),
      ga = be.alloc(B * H);
    const ones = be.alloc(B);
    be.fill(ones, 1);
    const a = be.alloc(B * H);
    return {
      B,
      x,
      a,
      pre: [a, s],
      s,
      ga,
      ones,
      da: be.alloc(B * H),
      dz: be.alloc(B * H),
      rows: Array.from({ length: B }, (_, b) => ({ x: x.view(b * H, H), s: s.view(b * H, H), ga: ga.view(b * H, H) })),
      t1: null,
      t2: null,
    };
  }

  forward(x: Buf, y: Buf, cache: GluCache, ctx: StepContext): void {
    const be = x.backend,
      B = cache.B,
      H = this.size;
    be.copy(x, cache.x);
    be.gemm(false, true, B, H, H, 1, x, this.W1, 0, cache.a);
    be.ger(B, H, 1, cache.ones, this.b1, cache.a);
    be.gemm(false, true, B, H, H, 1, x, this.W2, 0, cache.s);
    be.ger(B, H, 1, cache.ones, this.b2, cache.s);
    if (ctx.preactivationHook) ctx.preactivationHook(this, 0, cache.pre);
    be.sigmoid(cache.s, cache.s);
    be.mul(cache.a, cache.s, y);
    be.sigmoidDeriv(cache.s, cache.ga);
    be.mul(cache.ga, cache.a, cache.ga);
  }

  backward(cache: GluCache, dy: Buf, dx: Buf | null): void {
    const be = dy.backend,
      B = cache.B,
      H = this.size;
    be.mul(dy, cache.s, cache.da);
    be.mul(dy, cache.ga, cache.dz);
    this.accumulate(cache, cache.da, cache.dz);
    if (dx) {
      be.gemm(false, false, B, H, H, 1, cache.da, this.W1, 0, dx);
      be.gemm(false, false, B, H, H, 1, cache.dz, this.W2, 1, dx);
    }
  }

  accumulateFromPreactivations(c: ModuleCache, dPre: readonly Buf[]): void {
    this.accumulate(c as GluCache, dPre[0]!, dPre[1]!);
  }

  decorrelators(): { D: Buf; input: Buf }[] {
    return [];
  }

  private accumulate(cache: GluCache, da: Buf, dz: Buf): void {
    const be = da.backend,
      B = cache.B,
      H = this.size;
    be.gemm(true, false, H, H, B, 1, da, cache.x, 1, this.dW1);
    be.colSum(B, H, da, 1, this.db1);
    be.gemm(true, false, H, H, B, 1, dz, cache.x, 1, this.dW2);
    be.colSum(B, H, dz, 1, this.db2);
  }

  tangent(b: number, cache: GluCache, tx: Buf | null, tyIn: Buf | null, tyOwn: Buf): void {
    const be = tyOwn.backend,
      H = this.size;
    const row = cache.rows[b]!;
    if (tx && tyIn) {
      const R = tx.length / H;
      if (!cache.t1 || cache.t1.length < R * H) {
        cache.t1 = be.alloc(R * H);
        cache.t2 = be.alloc(R * H);
      }
      const t1 = cache.t1.length === R * H ? cache.t1 : cache.t1.view(0, R * H);
      const t2 = cache.t2!.length === R * H ? cache.t2! : cache.t2!.view(0, R * H);
      be.gemm(false, true, R, H, H, 1, tx, this.W1, 0, t1);
      be.gemm(false, true, R, H, H, 1, tx, this.W2, 0, t2);
      be.scaleColumns(R, H, t1, row.s, 0, tyIn);
      be.scaleColumns(R, H, t2, row.ga, 1, tyIn);
    }
    // own rows: W1[i,j] → x_j·s_i in column i; b1_i → s_i; W2[i,j] → x_j·ga_i; b2_i → ga_i
    be.fill(tyOwn, 0);
    const t = tyOwn.data,
      x = row.x.data,
      s = row.s.data,
      ga = row.ga.data;
    const oB1 = H * H,
      oW2 = oB1 + H,
      oB2 = oW2 + H * H;
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < H; j++) {
        t[(i * H + j) * H + i] = x[j]! * s[i]!;
        t[(oW2 + i * H + j) * H + i] = x[j]! * ga[i]!;
      }
      t[(oB1 + i) * H + i] = s[i]!;
      t[(oB2 + i) * H + i] = ga[i]!;
    }
  }
}
