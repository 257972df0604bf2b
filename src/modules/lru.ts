/**
 * `lru` — the linear recurrent unit (Orvieto et al. 2023) as Zucchet et al. use it ("Online learning of long-range
 * dependencies", 2023): N complex units with a diagonal recurrence, read out to H real outputs.
 *
 *   λ = exp(−exp(ν_log) + i·exp(θ_log)),  γ = exp(γ_log)
 *   h_t = λ ⊙ h_{t−1} + γ ⊙ (B x_t),      B = B_re + i·B_im   (N×H)
 *   y_t = Re(C h_t) + D ⊙ x_t,             C = C_re + i·C_im   (H×N), D ∈ R^H
 *
 * Complex numbers are kept as separate real and imaginary parts and differentiated as pairs of reals, so
 * every derivative is an ordinary real one: dL/dB_im is the derivative with respect to the imaginary part
 * (in the complex convention δ = ∂L/∂Re h − i·∂L/∂Im h it is −Im(δ·∂h/∂B), see research/ §1.5).
 * The state of a batch is laid out [Re h: B×N][Im h: B×N], so each part is a contiguous matrix for gemm.
 *
 * Initialisation (paper code, rec_init.py): |λ| uniform on the annulus [r_min, r_max] by area, phase
 * uniform in [0, max_phase), γ = √(1 − |λ|²), B ~ N(0, 1/(2H)), C ~ N(0, 1/N), D ~ N(0, 1).
 *
 * The layer provides its VJP (backward, with a carry through λ; and at one step without the carry, split
 * into the output path, the input path and the recurrence's parameters), and for rules that carry
 * sensitivities of their own (learners/traces/) its one-step partials: λ, γ and their factors, the step's
 * h_{t−1}, B·x_t and x_t in the cache, and its parameter and gradient views.
 * Its preactivations (the points where its parameters act, for rules that perturb or record them): Re h_t and
 * Im h_t before the state is stored, and y_t before it is handed on; accumulateFromPreactivations turns
 * gradients at them into ν, θ, γ, B (from dh, with h_{t−1} held fixed) and C, D (from dy) — the same products as
 * backward's, reading only λ and γ.
 */
import type { Backend, Buf } from '../backend/backend.js';
import { ConfigError } from '../core/errors.js';
import type { ParamSpec, ParamStore } from '../core/params.js';
import type { Rng } from '../core/rng.js';
import type { ExposesPreactivations, ModuleCache, RecurrentCarry, RecurrentModule, RecurrentState, StepContext } from './module.js';

export interface LruInit {
  rMin: number;
  rMax: number;
  maxPhase: number;
}

export interface LruCache extends ModuleCache {
  x: Buf;
  /** h_{t−1} and h_t, each [re B×N][im B×N] */
  hPrev: Buf;
  h: Buf;
  /** B·x_t, [re B×N][im B×N] */
  bx: Buf;
  /** the real and imaginary halves of h and bx */
  hRe: Buf;
  hIm: Buf;
  bxRe: Buf;
  bxIm: Buf;
  rows: LruSampleViews[] | null;
  /** [Re h_t, Im h_t]: the first two blocks handed to the preactivation hook */
  hBlocks: Buf[];
  /** accumulateFromPreactivations' scratch (γ ⊙ dh and dy ⊙ x), made on first use */
  local: { dbxRe: Buf; dbxIm: Buf; tmp: Buf } | null;
}

/** one sample's rows of a step's cache */
export interface LruSampleViews {
  x: Buf;
  hRe: Buf;
  hIm: Buf;
}

interface LruState extends RecurrentState {
  scratch: Buf;
  /** [y_t]: the third block handed to the preactivation hook */
  yBlock: Buf[];
}

export interface LruCarry extends RecurrentCarry {
  dh: Buf;
  dbx: Buf;
  tmp: Buf;
  dhRe: Buf;
  dhIm: Buf;
  dbxRe: Buf;
  dbxIm: Buf;
}

export class LruLayer implements RecurrentModule<LruCache>, ExposesPreactivations {
  readonly kind = 'lru';
  readonly recurrent = true as const;
  readonly outSize: number;
  readonly stateSize: number;
  /**
   * the preactivation blocks: Re h_t and Im h_t (N each: the linear recurrence λ·h_{t−1} + γ·B·x_t, where
   * ν, θ, γ and B act) and y_t (H: Re(C·h_t) + D ⊙ x_t, where C and D act)
   */
  readonly preSizes: readonly number[];
  /** λ (re, im), γ, and the factors of their derivatives, recomputed from the parameters at each use */
  readonly lamRe: Float64Array;
  readonly lamIm: Float64Array;
  readonly gamma: Float64Array;
  /** the parameter and gradient views (read by rules that build on the layer's partials) */
  p!: Record<'nu' | 'theta' | 'gamma' | 'Bre' | 'Bim' | 'Cre' | 'Cim' | 'D', Buf>;
  g!: Record<'nu' | 'theta' | 'gamma' | 'Bre' | 'Bim' | 'Cre' | 'Cim' | 'D', Buf>;
  /** λ (re, im) and γ as backend buffers, current after refreshLambda */
  lamReBuf!: Buf;
  lamImBuf!: Buf;
  gammaBuf!: Buf;
  /** −Im λ, for the real form of a complex product by λ */
  negLamImBuf!: Buf;

  constructor(
    readonly inSize: number,
    readonly N: number,
    readonly init_: LruInit = { rMin: 0, rMax: 1, maxPhase: 6.28 },
  ) {
    const { rMin, rMax, maxPhase } = init_;
    if (!(rMin >= 0 && rMax <= 1 && rMin <= rMax))
      throw new ConfigError(`lru: need 0 ≤ r_min ≤ r_max ≤ 1, got r_min ${rMin}, r_max ${rMax}`);
    if (!(maxPhase > 0)) throw new ConfigError(`lru: max_phase must be > 0, got ${maxPhase}`);
    this.outSize = inSize;
    this.stateSize = 2 * N;
    this.preSizes = [N, N, inSize];
    this.lamRe = new Float64Array(N);
    this.lamIm = new Float64Array(N);
    this.gamma = new Float64Array(N);
  }

  paramSpecs(): ParamSpec[] {
    const { N, inSize: H } = this;
    return [
      { name: 'nu_log', shape: [N] },
      { name: 'theta_log', shape: [N] },
      { name: 'gamma_log', shape: [N] },
      { name: 'B_re', shape: [N, H] },
      { name: 'B_im', shape: [N, H] },
      { name: 'C_re', shape: [H, N] },
      { name: 'C_im', shape: [H, N] },
      { name: 'D', shape: [H] },
    ];
  }

  init(params: ParamStore, prefix: string, rng: Rng): void {
    const { N, inSize: H } = this,
      { rMin, rMax, maxPhase } = this.init_;
    const nu = new Float64Array(N),
      theta = new Float64Array(N),
      gam = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      const u1 = rng.uniform(),
        u2 = rng.uniform();
      const nuI = -0.5 * Math.log(u1 * (rMax * rMax - rMin * rMin) + rMin * rMin);
      nu[i] = Math.log(nuI);
      theta[i] = Math.log(maxPhase * Math.max(u2, 1e-12)); // a phase of exactly 0 has no logarithm
      const mod = Math.exp(-nuI);
      gam[i] = Math.log(Math.sqrt(Math.max(1 - mod * mod, 1e-30)));
    }
    params.set(prefix + 'nu_log', nu);
    params.set(prefix + 'theta_log', theta);
    params.set(prefix + 'gamma_log', gam);
    const normal = (n: number, std: number): Float64Array => {
      const v = new Float64Array(n);
      rng.fillNormal(v, 0, std);
      return v;
    };
    params.set(prefix + 'B_re', normal(N * H, 1 / Math.sqrt(2 * H)));
    params.set(prefix + 'B_im', normal(N * H, 1 / Math.sqrt(2 * H)));
    params.set(prefix + 'C_re', normal(H * N, 1 / Math.sqrt(N)));
    params.set(prefix + 'C_im', normal(H * N, 1 / Math.sqrt(N)));
    params.set(prefix + 'D', normal(H, 1));
  }

  bind(params: ParamStore, grads: ParamStore, prefix: string): void {
    const names = {
      nu: 'nu_log',
      theta: 'theta_log',
      gamma: 'gamma_log',
      Bre: 'B_re',
      Bim: 'B_im',
      Cre: 'C_re',
      Cim: 'C_im',
      D: 'D',
    } as const;
    const p = {} as typeof this.p,
      g = {} as typeof this.g;
    for (const [k, v] of Object.entries(names) as [keyof typeof names, string][]) {
      p[k] = params.buf(prefix + v);
      g[k] = grads.buf(prefix + v);
    }
    this.p = p;
    this.g = g;
    const be = params.backend;
    this.lamReBuf = be.alloc(this.N);
    this.lamImBuf = be.alloc(this.N);
    this.gammaBuf = be.alloc(this.N);
    this.negLamImBuf = be.alloc(this.N);
  }

  /** λ and γ from the current parameters (into the Float64 arrays and the backend buffers) */
  refreshLambda(): void {
    const nu = this.p.nu.data,
      th = this.p.theta.data,
      ga = this.p.gamma.data;
    const lr = this.lamReBuf.data,
      li = this.lamImBuf.data,
      gb = this.gammaBuf.data,
      nli = this.negLamImBuf.data;
    for (let i = 0; i < this.N; i++) {
      const mod = Math.exp(-Math.exp(nu[i]!)),
        phase = Math.exp(th[i]!);
      const re = mod * Math.cos(phase),
        im = mod * Math.sin(phase),
        g = Math.exp(ga[i]!);
      this.lamRe[i] = re;
      this.lamIm[i] = im;
      this.gamma[i] = g;
      lr[i] = re;
      li[i] = im;
      nli[i] = -im;
      gb[i] = g;
    }
  }

  createCache(be: Backend, B: number): LruCache {
    const N2 = 2 * this.N;
    const h = be.alloc(B * N2),
      bx = be.alloc(B * N2);
    const [hRe, hIm] = this.halves(h, B),
      [bxRe, bxIm] = this.halves(bx, B);
    return {
      B,
      x: be.alloc(B * this.inSize),
      hPrev: be.alloc(B * N2),
      h,
      bx,
      hRe,
      hIm,
      bxRe,
      bxIm,
      rows: null,
      hBlocks: [hRe, hIm],
      local: null,
    };
  }

  createState(be: Backend, B: number): LruState {
    return { B, s: be.alloc(B * 2 * this.N), y: be.alloc(B * this.inSize), scratch: be.alloc(B * this.N), yBlock: [] };
  }

  createCarry(be: Backend, B: number): LruCarry {
    const dh = be.alloc(B * 2 * this.N),
      dbx = be.alloc(B * 2 * this.N);
    const [dhRe, dhIm] = this.halves(dh, B),
      [dbxRe, dbxIm] = this.halves(dbx, B);
    return {
      dS: be.alloc(B * 2 * this.N),
      dY: be.alloc(B * this.inSize),
      dh,
      dbx,
      tmp: be.alloc(B * this.inSize),
      dhRe,
      dhIm,
      dbxRe,
      dbxIm,
    };
  }

  private halves(buf: Buf, B: number): [Buf, Buf] {
    return [buf.view(0, B * this.N), buf.view(B * this.N, B * this.N)];
  }

  forward(x: Buf, y: Buf, cache: LruCache, ctx: StepContext, state: RecurrentState): void {
    const be = x.backend,
      B = cache.B,
      N = this.N,
      H = this.inSize;
    this.refreshLambda();
    be.copy(x, cache.x);
    be.copy(state.s, cache.hPrev);
    be.gemm(false, true, B, N, H, 1, x, this.p.Bre, 0, cache.bxRe);
    be.gemm(false, true, B, N, H, 1, x, this.p.Bim, 0, cache.bxIm);
    // h_t = λ h_{t−1} + γ Bx, elementwise in complex arithmetic
    const hp = cache.hPrev.data,
      h = cache.h.data,
      bx = cache.bx.data;
    const off = B * N;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < N; i++) {
        const r = b * N + i;
        const pr = hp[r]!,
          pi = hp[off + r]!,
          lr = this.lamRe[i]!,
          li = this.lamIm[i]!,
          g = this.gamma[i]!;
        h[r] = lr * pr - li * pi + g * bx[r]!;
        h[off + r] = lr * pi + li * pr + g * bx[off + r]!;
      }
    }
    const hook = ctx.preactivationHook;
    if (hook) hook(this, 0, cache.hBlocks);
    be.copy(cache.h, state.s);
    // y = Re(C h) + D ⊙ x = h_re·C_reᵀ − h_im·C_imᵀ + D ⊙ x
    be.gemm(false, true, B, H, N, 1, cache.hRe, this.p.Cre, 0, y);
    be.gemm(false, true, B, H, N, -1, cache.hIm, this.p.Cim, 1, y);
    be.scaleColumns(B, H, x, this.p.D, 1, y);
    if (hook) {
      const yBlock = (state as LruState).yBlock;
      yBlock[0] = y;
      hook(this, 2, yBlock);
    }
    be.copy(y, state.y);
  }

  /**
   * The gradient with respect to h_t of this step's output (dy·∂y/∂h), plus the carry, into carry.dh;
   * the output-side parameter gradients (C, D) and D's part of dx.
   */
  private outputBackward(cache: LruCache, dy: Buf, dx: Buf | null, c: LruCarry, withCarry: boolean): void {
    const be = dy.backend,
      B = cache.B,
      N = this.N,
      H = this.inSize;
    if (withCarry) be.copy(c.dS, c.dh);
    else be.fill(c.dh, 0);
    be.gemm(false, false, B, N, H, 1, dy, this.p.Cre, 1, c.dhRe);
    be.gemm(false, false, B, N, H, -1, dy, this.p.Cim, 1, c.dhIm);
    this.outputParamGradients(cache, dy, c.tmp);
    if (dx) be.scaleColumns(B, H, dy, this.p.D, 0, dx);
  }

  /** C and D's gradients from dy at y_t: dC_re += dyᵀ·Re h, dC_im −= dyᵀ·Im h, dD += Σ_b dy ⊙ x (tmp: B×H scratch) */
  private outputParamGradients(cache: LruCache, dy: Buf, tmp: Buf): void {
    const be = dy.backend,
      B = cache.B,
      N = this.N,
      H = this.inSize;
    be.gemm(true, false, H, N, B, 1, dy, cache.hRe, 1, this.g.Cre);
    be.gemm(true, false, H, N, B, -1, dy, cache.hIm, 1, this.g.Cim);
    be.mul(dy, cache.x, tmp);
    be.colSum(B, H, tmp, 1, this.g.D);
  }

  /** dbx = γ ⊙ dh; dB += dbxᵀ·x; dx += dbx·B (the input path of this step; dh as its real and imaginary halves) */
  private inputBackward(cache: LruCache, dx: Buf | null, dhRe: Buf, dhIm: Buf, dbxRe: Buf, dbxIm: Buf): void {
    const be = dhRe.backend,
      B = cache.B,
      N = this.N,
      H = this.inSize;
    be.scaleColumns(B, N, dhRe, this.gammaBuf, 0, dbxRe);
    be.scaleColumns(B, N, dhIm, this.gammaBuf, 0, dbxIm);
    be.gemm(true, false, N, H, B, 1, dbxRe, cache.x, 1, this.g.Bre);
    be.gemm(true, false, N, H, B, 1, dbxIm, cache.x, 1, this.g.Bim);
    if (dx) {
      be.gemm(false, false, B, H, N, 1, dbxRe, this.p.Bre, 1, dx);
      be.gemm(false, false, B, H, N, 1, dbxIm, this.p.Bim, 1, dx);
    }
  }

  /**
   * λ, γ gradients of this step from dh (the total gradient at h_t): dλ = Σ_b conj-free real pairs with
   * h_{t−1}, dγ with B x_t, then through λ(ν_log, θ_log) and γ(γ_log). `lambdaFactor` 0 drops λ's share.
   */
  private recurrenceGradients(cache: LruCache, dhRe: Buf, dhIm: Buf, lambdaFactor: number): void {
    const B = cache.B,
      N = this.N,
      off = B * N;
    const dRe = dhRe.data,
      dIm = dhIm.data,
      hp = cache.hPrev.data,
      bx = cache.bx.data;
    const nu = this.p.nu.data,
      th = this.p.theta.data;
    const gnu = this.g.nu.data,
      gth = this.g.theta.data,
      gga = this.g.gamma.data;
    for (let i = 0; i < N; i++) {
      let dlr = 0,
        dli = 0,
        dg = 0;
      for (let b = 0; b < B; b++) {
        const r = b * N + i;
        const gr = dRe[r]!,
          gi = dIm[r]!;
        dlr += gr * hp[r]! + gi * hp[off + r]!;
        dli += -gr * hp[off + r]! + gi * hp[r]!;
        dg += gr * bx[r]! + gi * bx[off + r]!;
      }
      this.accumulateLambda(i, lambdaFactor * dlr, lambdaFactor * dli, nu, th, gnu, gth);
      gga[i] = gga[i]! + this.gamma[i]! * dg;
    }
  }

  /** dL/dν_log += Re-pair of dλ with ∂λ/∂ν_log = −λ·e^ν;  dL/dθ_log += with ∂λ/∂θ_log = i·λ·e^θ */
  accumulateLambda(
    i: number,
    dlr: number,
    dli: number,
    nu: ArrayLike<number>,
    th: ArrayLike<number>,
    gnu: { [k: number]: number },
    gth: { [k: number]: number },
  ): void {
    const lr = this.lamRe[i]!,
      li = this.lamIm[i]!,
      en = Math.exp(nu[i]!),
      et = Math.exp(th[i]!);
    gnu[i] = gnu[i]! - en * (dlr * lr + dli * li);
    gth[i] = gth[i]! + et * (-dlr * li + dli * lr);
  }

  backward(cache: LruCache, dy: Buf, dx: Buf | null, carry: RecurrentCarry): void {
    const c = carry as LruCarry;
    const B = cache.B,
      N = this.N,
      off = B * N;
    this.refreshLambda();
    this.outputBackward(cache, dy, dx, c, true);
    this.recurrenceGradients(cache, c.dhRe, c.dhIm, 1);
    this.inputBackward(cache, dx, c.dhRe, c.dhIm, c.dbxRe, c.dbxIm);
    // carry to t−1: ∂L/∂h_{t−1} = conj(λ)·dh in the real view
    const dh = c.dh.data,
      dS = c.dS.data;
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < N; i++) {
        const r = b * N + i,
          gr = dh[r]!,
          gi = dh[off + r]!,
          lr = this.lamRe[i]!,
          li = this.lamIm[i]!;
        dS[r] = lr * gr + li * gi;
        dS[off + r] = -li * gr + lr * gi;
      }
    }
  }

  /** the VJP at this step only: dh from dy alone (no carry from the future), C and D's gradients, D's part of dx */
  backwardAtStep(cache: LruCache, dy: Buf, dx: Buf | null, carry: RecurrentCarry): Buf {
    const c = carry as LruCarry;
    this.refreshLambda();
    this.outputBackward(cache, dy, dx, c, false);
    return c.dh;
  }

  /** after backwardAtStep: the input path at this step (B, γ, and λ scaled by lambdaFactor; dx through B) */
  backwardInputAtStep(cache: LruCache, dx: Buf | null, carry: RecurrentCarry, lambdaFactor: number): void {
    const c = carry as LruCarry;
    this.recurrenceGradients(cache, c.dhRe, c.dhIm, lambdaFactor);
    this.inputBackward(cache, dx, c.dhRe, c.dhIm, c.dbxRe, c.dbxIm);
  }

  /** after backwardAtStep: dx through B only (for rules that take B's, γ's and λ's gradients elsewhere) */
  backwardInputOnly(cache: LruCache, dx: Buf, carry: RecurrentCarry): void {
    const c = carry as LruCarry;
    const be = dx.backend,
      B = cache.B,
      N = this.N,
      H = this.inSize;
    be.scaleColumns(B, N, c.dhRe, this.gammaBuf, 0, c.dbxRe);
    be.scaleColumns(B, N, c.dhIm, this.gammaBuf, 0, c.dbxIm);
    be.gemm(false, false, B, H, N, 1, c.dbxRe, this.p.Bre, 1, dx);
    be.gemm(false, false, B, H, N, 1, c.dbxIm, this.p.Bim, 1, dx);
  }

  /**
   * The parameter half of one step's VJP from gradients at the preactivation blocks (dPre: dRe h_t, dIm h_t,
   * dy_t), h_{t−1} held fixed: ν, θ, γ, B from dh (λ's pairs with h_{t−1}, γ's with B·x, B's with γ ⊙ dh and x),
   * C and D from dy. Reads no weight matrix: only λ and γ, this unit's own.
   */
  accumulateFromPreactivations(c: ModuleCache, dPre: readonly Buf[]): void {
    const cache = c as LruCache,
      be = dPre[0]!.backend,
      B = cache.B;
    if (!cache.local) cache.local = { dbxRe: be.alloc(B * this.N), dbxIm: be.alloc(B * this.N), tmp: be.alloc(B * this.inSize) };
    const l = cache.local;
    this.refreshLambda();
    this.recurrenceGradients(cache, dPre[0]!, dPre[1]!, 1);
    this.inputBackward(cache, null, dPre[0]!, dPre[1]!, l.dbxRe, l.dbxIm);
    this.outputParamGradients(cache, dPre[2]!, l.tmp);
  }

  decorrelators(): { D: Buf; input: Buf }[] {
    return [];
  }

  /** own parameter count: ν, θ, γ (N each), B_re, B_im (N×H each), C_re, C_im (H×N each), D (H) */
  get ownRows(): number {
    const { N, inSize: H } = this;
    return 3 * N + 4 * N * H + H;
  }

  /** per-sample views of a step's input x_t and state h_t (made on first use, then kept with the cache) */
  sampleViews(cache: LruCache): LruSampleViews[] {
    if (cache.rows) return cache.rows;
    const N = this.N,
      H = this.inSize,
      B = cache.B;
    cache.rows = Array.from({ length: B }, (_, b) => ({
      x: cache.x.view(b * H, H),
      hRe: cache.h.view(b * N, N),
      hIm: cache.h.view(B * N + b * N, N),
    }));
    return cache.rows;
  }
}
