/**
 * The influence engine of the `full` trace rule: one sample's influence of the parameters (rows) on a
 * recurrent module's state, carried from step to step, and its update from the module's one-step partials.
 * Rows are numbered in network order: the `Rin` parameters before the module (propagated from below
 * through ∂y/∂x) and then its own (immediate terms). Influences are stored rows × width, so a parameter
 * prefix is a contiguous row block.
 *
 * Unit-model layer (units/unit.ts partials; Y = dy_{t−1}/dθ, X = dx_t/dθ):
 *   D_ih,g = X·W_ih,gᵀ + immediate,  D_hh,g = Y·W_hh,gᵀ + immediate,
 *   M_t,c = Σ_c' M_{t−1},c' ⊙ ∂f_c/∂s_c' + Σ_g D_ih,g ⊙ ∂f_c/∂a_{ih(g)} + Σ_g D_hh,g ⊙ ∂f_c/∂a_{hh(g)},
 *   dy_t/dθ = Σ_c M_t,c ⊙ ∂h/∂s_c (+ ∂h/∂φ on φ's rows).   Cost per sample: G·n·(n + in)·R multiply-adds in gemm.
 * LRU layer (complex diagonal, kept as real pairs; see modules/lru.ts):
 *   M_t = λ ⊙ M_{t−1} + γ ⊙ B·(dx_t/dθ) + immediate (ν, θ, γ, B rows),
 *   dy_t/dθ = Re(C·M_t) + D ⊙ dx_t/dθ + immediate (C, D rows).   Cost per sample: O(R·N·(1 + H)).
 * Cumulative-mean pooling: straight through (its derivative is the identity by the module's convention).
 *
 * Layouts: `dense` stores every row × every column. `sparse` stores what can be non-zero: on an LRU layer the
 * influence of its own ν, θ, γ and B on h is diagonal (each acts on its own unit i only: ∂h_{i'}/∂θ_i = 0 for
 * i' ≠ i at every step, because λ is diagonal), so each of those 3N + 2NH rows keeps one complex number instead
 * of N, and C, D (which do not act on h) keep none; the rows from below stay dense. The skipped entries are
 * exact zeros that `dense` multiplies and adds in the same order around the kept ones, so both layouts give
 * the same numbers bit for bit (float64, up to the sign of an exact zero). Unit-model layers have their own
 * sparse layout (column blocks, sparse-rtrl.ts).
 *
 * This is learner state (it grows with the number of parameters); the modules only provide the partials.
 */
import type { Backend, Buf } from '../../backend/backend.js';
import { elementBytes } from '../../core/bytes.js';
import { UnsupportedError } from '../../core/errors.js';
import type { ModuleCache, RecurrentModule } from '../../modules/module.js';
import { LruLayer, type LruCache } from '../../modules/lru.js';
import { CumMeanPool } from '../../modules/pool.js';
import { RecurrentLayer, type RecCache } from '../../modules/recurrent.js';

/** one sample's influence on one recurrent module, and its update */
export interface ModuleInfluence {
  readonly rows: number;
  /** bytes this influence carries from step to step (for memory reports) */
  readonly bytes: number;
  /** the buffers carried from step to step (for checkpoints) */
  buffers(): Buf[];
  /** zero it: a new sequence starts from a state that does not depend on the parameters */
  reset(): void;
  /** one step for sample b: the influence from tx (Rin × in, null when Rin = 0); ty = dy_t/dθ (rows × out) */
  step(b: number, cache: ModuleCache, tx: Buf | null, ty: Buf): void;
}

export type InfluenceLayout = 'dense' | 'sparse';

/** the influence of `Rin` parameters before the module plus its own, allocated from `be` (or a memory plan) */
export function createInfluence(module: RecurrentModule, be: Backend, Rin: number, layout: InfluenceLayout = 'dense'): ModuleInfluence {
  if (module instanceof RecurrentLayer) {
    if (layout === 'sparse') throw new UnsupportedError('the sparse layout of unit-model layers is the column-block one of sparse-rtrl.ts');
    return new UnitLayerInfluence(module, be, Rin);
  }
  if (module instanceof LruLayer)
    return layout === 'sparse' ? new DiagonalLruInfluence(module, be, Rin) : new LruInfluence(module, be, Rin);
  if (module instanceof CumMeanPool) return new StraightThrough();
  throw new UnsupportedError(`the influence engine has no rule for the recurrent module '${module.kind}'`);
}

/** a unit-model layer's influence (exported for rules that restrict it, as snap2 does: they read M and yT) */
export class UnitLayerInfluence implements ModuleInfluence {
  readonly rows: number;
  readonly bytes: number;
  private readonly Rin: number;
  /** M_c = ds_c/dθ (rows × n), one per state component (after step: this step's), and the buffers of the next step */
  M: Buf[];
  private Mnext: Buf[];
  /** dy_{t−1}/dθ (rows × n): after step, this step's dy/dθ */
  readonly yT: Buf;
  private readonly Dih: Buf[];
  private readonly Dhh: Buf[];
  /** the first Rin rows of Dih[g] (propagated from below) and the rest (this layer's own parameters) */
  private readonly DihIn: (Buf | null)[];
  private readonly DihOwn: Buf[];

  constructor(
    private readonly layer: RecurrentLayer,
    be: Backend,
    Rin: number,
  ) {
    if (layer.decorrelate)
      throw new UnsupportedError(
        `${layer.kind} layer: no forward-mode influence with input decorrelation (forward-mode rules do not support decorrelated models)`,
      );
    const { S, G } = layer.unit,
      n = layer.n,
      own = layer.ownRows;
    const rows = Rin + own;
    const mk = (count: number): Buf[] => Array.from({ length: count }, () => be.alloc(rows * n));
    this.rows = rows;
    this.Rin = Rin;
    // carried from step to step: M (S components) and, through the recurrent synapses, dy/dθ
    this.bytes = (S + 1) * rows * n * elementBytes(be.dtype);
    this.M = mk(S);
    this.Mnext = mk(S);
    this.yT = be.alloc(rows * n);
    this.Dih = mk(G);
    this.Dhh = mk(G);
    this.DihIn = this.Dih.map((d) => (Rin > 0 ? d.view(0, Rin * n) : null));
    this.DihOwn = this.Dih.map((d) => d.view(Rin * n, own * n));
  }

  buffers(): Buf[] {
    return [...this.M, this.yT];
  }

  reset(): void {
    const be = this.yT.backend;
    for (const m of this.M) be.fill(m, 0);
    be.fill(this.yT, 0);
  }

  step(b: number, c: ModuleCache, tx: Buf | null, ty: Buf): void {
    const layer = this.layer,
      cache = c as RecCache;
    const be = ty.backend,
      n = layer.n,
      inp = layer.inSize;
    const { S, K, G, ihChannel, hhChannel } = layer.unit;
    const R = this.rows,
      Rin = this.Rin;
    const v = layer.sampleViews(cache)[b]!;
    const WihGate = layer.weightIhGates,
      WhhGate = layer.weightHhGates;
    // propagated rows: through the recurrent synapses (all rows) and the synapses from below (first Rin)
    for (let g = 0; g < G; g++) {
      be.gemm(false, true, R, n, n, 1, this.yT, WhhGate[g]!, 0, this.Dhh[g]!);
      if (tx && Rin > 0) be.gemm(false, true, Rin, n, inp, 1, tx, WihGate[g]!, 0, this.DihIn[g]!);
      be.fill(this.DihOwn[g]!, 0);
    }
    // immediate rows: ∂preIh[g·n+i]/∂W_ih[g·n+i, j] = x_j, ∂/∂b_ih = 1; the same for hh with y_{t−1}
    const Gn = G * n;
    const oIh = Rin,
      oHh = oIh + Gn * inp,
      oBih = oHh + Gn * n,
      oBhh = oBih + Gn;
    const x = v.x.data,
      yp = v.yPrev.data;
    for (let g = 0; g < G; g++) {
      const dih = this.Dih[g]!.data,
        dhh = this.Dhh[g]!.data;
      for (let i = 0; i < n; i++) {
        const r = g * n + i;
        for (let j = 0; j < inp; j++) dih[(oIh + r * inp + j) * n + i] = x[j]!;
        for (let j = 0; j < n; j++) {
          const k = (oHh + r * n + j) * n + i;
          dhh[k] = dhh[k]! + yp[j]!;
        }
        dih[(oBih + r) * n + i] = 1;
        const kb = (oBhh + r) * n + i;
        dhh[kb] = dhh[kb]! + 1;
      }
    }
    // M_t,c = Σ_c' M_{t−1},c' ⊙ ∂f_c/∂s_c' + Σ_g D_ih,g ⊙ ∂f_c/∂a_ih(g) + Σ_g D_hh,g ⊙ ∂f_c/∂a_hh(g)
    for (let c = 0; c < S; c++) {
      const out = this.Mnext[c]!;
      for (let c2 = 0; c2 < S; c2++) be.scaleColumns(R, n, this.M[c2]!, v.dfds[c * S + c2]!, c2 === 0 ? 0 : 1, out);
      for (let g = 0; g < G; g++) {
        be.scaleColumns(R, n, this.Dih[g]!, v.dfda[c * K + ihChannel[g]!]!, 1, out);
        be.scaleColumns(R, n, this.Dhh[g]!, v.dfda[c * K + hhChannel[g]!]!, 1, out);
      }
    }
    // unit parameters φ: their immediate rows, into the state and (below) into the output
    const Phi = layer.unit.unitParams.length,
      oPhi = oBhh + Gn,
      dfdphi = cache.dfdphi.data,
      dhdphi = cache.dhdphi.data;
    for (let c = 0; c < S; c++) {
      const m = this.Mnext[c]!.data;
      for (let p = 0; p < Phi; p++) {
        for (let i = 0; i < n; i++) {
          const k = (oPhi + p * n + i) * n + i;
          m[k] = m[k]! + dfdphi[((b * S + c) * Phi + p) * n + i]!;
        }
      }
    }
    const t = this.M;
    this.M = this.Mnext;
    this.Mnext = t;
    for (let c = 0; c < S; c++) be.scaleColumns(R, n, this.M[c]!, v.dhds[c]!, c === 0 ? 0 : 1, ty);
    if (Phi > 0) {
      const td = ty.data;
      for (let p = 0; p < Phi; p++) {
        for (let i = 0; i < n; i++) {
          const k = (oPhi + p * n + i) * n + i;
          td[k] = td[k]! + dhdphi[(b * Phi + p) * n + i]!;
        }
      }
    }
    be.copy(ty, this.yT);
  }
}

class LruInfluence implements ModuleInfluence {
  readonly rows: number;
  readonly bytes: number;
  private readonly Rin: number;
  private Mre: Buf;
  private Mim: Buf;
  private nextRe: Buf;
  private nextIm: Buf;
  /** d(Bx)/dθ for the rows from below */
  private readonly dbxRe: Buf | null;
  private readonly dbxIm: Buf | null;
  private MreIn: Buf | null;
  private MimIn: Buf | null;
  private nextReIn: Buf | null;
  private nextImIn: Buf | null;

  constructor(
    private readonly layer: LruLayer,
    be: Backend,
    Rin: number,
  ) {
    const N = layer.N,
      rows = Rin + layer.ownRows;
    this.rows = rows;
    this.Rin = Rin;
    this.bytes = 2 * rows * N * elementBytes(be.dtype);
    this.Mre = be.alloc(rows * N);
    this.Mim = be.alloc(rows * N);
    this.nextRe = be.alloc(rows * N);
    this.nextIm = be.alloc(rows * N);
    const inView = (b: Buf): Buf | null => (Rin > 0 ? b.view(0, Rin * N) : null);
    this.dbxRe = Rin > 0 ? be.alloc(Rin * N) : null;
    this.dbxIm = Rin > 0 ? be.alloc(Rin * N) : null;
    this.MreIn = inView(this.Mre);
    this.MimIn = inView(this.Mim);
    this.nextReIn = inView(this.nextRe);
    this.nextImIn = inView(this.nextIm);
  }

  buffers(): Buf[] {
    return [this.Mre, this.Mim];
  }

  reset(): void {
    this.Mre.backend.fill(this.Mre, 0);
    this.Mim.backend.fill(this.Mim, 0);
  }

  step(b: number, c: ModuleCache, tx: Buf | null, ty: Buf): void {
    const layer = this.layer,
      cache = c as LruCache,
      p = layer.p;
    const be = ty.backend,
      N = layer.N,
      H = layer.inSize,
      B = cache.B,
      off = B * N;
    const R = this.rows,
      Rin = this.Rin;
    const v = layer.sampleViews(cache)[b]!;
    // M' = λ ⊙ M (complex, per column) + γ ⊙ d(Bx)/dθ + immediate
    be.scaleColumns(R, N, this.Mre, layer.lamReBuf, 0, this.nextRe);
    be.scaleColumns(R, N, this.Mim, layer.negLamImBuf, 1, this.nextRe);
    be.scaleColumns(R, N, this.Mre, layer.lamImBuf, 0, this.nextIm);
    be.scaleColumns(R, N, this.Mim, layer.lamReBuf, 1, this.nextIm);
    if (tx && Rin > 0) {
      be.gemm(false, true, Rin, N, H, 1, tx, p.Bre, 0, this.dbxRe!);
      be.gemm(false, true, Rin, N, H, 1, tx, p.Bim, 0, this.dbxIm!);
      be.scaleColumns(Rin, N, this.dbxRe!, layer.gammaBuf, 1, this.nextReIn!);
      be.scaleColumns(Rin, N, this.dbxIm!, layer.gammaBuf, 1, this.nextImIn!);
    }
    // own rows (the previous step's own rows were propagated above; add this step's immediate part)
    const nr = this.nextRe.data,
      ni = this.nextIm.data;
    const hp = cache.hPrev.data,
      bx = cache.bx.data,
      x = v.x.data;
    const nu = p.nu.data,
      th = p.theta.data;
    const oNu = Rin,
      oTh = oNu + N,
      oGa = oTh + N,
      oBre = oGa + N,
      oBim = oBre + N * H;
    for (let i = 0; i < N; i++) {
      const r = b * N + i;
      const pr = hp[r]!,
        pi = hp[off + r]!,
        lr = layer.lamRe[i]!,
        li = layer.lamIm[i]!,
        g = layer.gamma[i]!;
      const en = Math.exp(nu[i]!),
        et = Math.exp(th[i]!);
      // ∂h_i/∂ν_log = −e^ν·λ·h_{t−1};  ∂h_i/∂θ_log = i·e^θ·λ·h_{t−1};  ∂h_i/∂γ_log = γ·(Bx)_i
      const lhr = lr * pr - li * pi,
        lhi = lr * pi + li * pr;
      nr[(oNu + i) * N + i] = nr[(oNu + i) * N + i]! - en * lhr;
      ni[(oNu + i) * N + i] = ni[(oNu + i) * N + i]! - en * lhi;
      nr[(oTh + i) * N + i] = nr[(oTh + i) * N + i]! - et * lhi;
      ni[(oTh + i) * N + i] = ni[(oTh + i) * N + i]! + et * lhr;
      nr[(oGa + i) * N + i] = nr[(oGa + i) * N + i]! + g * bx[r]!;
      ni[(oGa + i) * N + i] = ni[(oGa + i) * N + i]! + g * bx[off + r]!;
      for (let j = 0; j < H; j++) {
        const kRe = (oBre + i * H + j) * N + i,
          kIm = (oBim + i * H + j) * N + i;
        nr[kRe] = nr[kRe]! + g * x[j]!; // ∂h_i/∂B_re[i,j] = γ_i x_j
        ni[kIm] = ni[kIm]! + g * x[j]!; // ∂h_i/∂B_im[i,j] = i·γ_i x_j
      }
    }
    const tRe = this.Mre,
      tIm = this.Mim;
    this.Mre = this.nextRe;
    this.Mim = this.nextIm;
    this.nextRe = tRe;
    this.nextIm = tIm;
    const tmpIn = this.MreIn;
    this.MreIn = this.nextReIn;
    this.nextReIn = tmpIn;
    const tmpIm = this.MimIn;
    this.MimIn = this.nextImIn;
    this.nextImIn = tmpIm;
    // ty = M_re·C_reᵀ − M_im·C_imᵀ (+ D ⊙ tx on the rows from below) + own rows of C and D
    be.gemm(false, true, R, H, N, 1, this.Mre, p.Cre, 0, ty);
    be.gemm(false, true, R, H, N, -1, this.Mim, p.Cim, 1, ty);
    const t = ty.data;
    if (tx && Rin > 0) {
      const txd = tx.data,
        D = p.D.data;
      for (let r = 0; r < Rin; r++) for (let k = 0; k < H; k++) t[r * H + k] = t[r * H + k]! + D[k]! * txd[r * H + k]!;
    }
    const oCre = oBim + N * H,
      oCim = oCre + H * N,
      oD = oCim + H * N;
    const hRe = v.hRe.data,
      hIm = v.hIm.data;
    for (let k = 0; k < H; k++) {
      for (let i = 0; i < N; i++) {
        t[(oCre + k * N + i) * H + k] = t[(oCre + k * N + i) * H + k]! + hRe[i]!; // ∂y_k/∂C_re[k,i] = Re h_i
        t[(oCim + k * N + i) * H + k] = t[(oCim + k * N + i) * H + k]! - hIm[i]!; // ∂y_k/∂C_im[k,i] = −Im h_i
      }
      t[(oD + k) * H + k] = t[(oD + k) * H + k]! + x[k]!; // ∂y_k/∂D_k = x_k
    }
  }
}

/**
 * An LRU layer's influence with its own ν, θ, γ, B rows kept as their one non-zero entry (unit i of row q):
 * e_q ← λ_i·e_q + immediate, and dy/dθ_q = Re(C[:, i]·e_q). Every operation is the dense one's on the entries it
 * keeps, in the same order (the dense gemm's sums add exact zeros around them), so the numbers are the same.
 * Cost per sample: (3N + 2NH)·(4 + 2H) for the own rows instead of (3N + 4NH + H)·N·(4 + 2H).
 */
class DiagonalLruInfluence implements ModuleInfluence {
  readonly rows: number;
  readonly bytes: number;
  private readonly Rin: number;
  /** the own rows that act on h (ν, θ, γ: N each; B_re, B_im: N·H each) and the unit each acts on */
  private readonly diagRows: number;
  private readonly unitOf: Int32Array;
  private readonly eRe: Buf;
  private readonly eIm: Buf;
  /** the rows from below, dense (Rin × N), with the next step's buffers and d(Bx)/dθ */
  private MreIn: Buf | null;
  private MimIn: Buf | null;
  private nextReIn: Buf | null;
  private nextImIn: Buf | null;
  private readonly dbxRe: Buf | null;
  private readonly dbxIm: Buf | null;
  private tyIn: Buf | null = null;
  private boundTo: Buf | null = null;

  constructor(
    private readonly layer: LruLayer,
    be: Backend,
    Rin: number,
  ) {
    const N = layer.N,
      H = layer.inSize;
    this.rows = Rin + layer.ownRows;
    this.Rin = Rin;
    this.diagRows = 3 * N + 2 * N * H;
    this.unitOf = new Int32Array(this.diagRows);
    for (let q = 0; q < this.diagRows; q++) this.unitOf[q] = q < 3 * N ? q % N : Math.floor(((q - 3 * N) % (N * H)) / H);
    this.eRe = be.alloc(this.diagRows);
    this.eIm = be.alloc(this.diagRows);
    const dense = (): Buf | null => (Rin > 0 ? be.alloc(Rin * N) : null);
    this.MreIn = dense();
    this.MimIn = dense();
    this.nextReIn = dense();
    this.nextImIn = dense();
    this.dbxRe = dense();
    this.dbxIm = dense();
    this.bytes = 2 * (Rin * N + this.diagRows) * elementBytes(be.dtype);
  }

  buffers(): Buf[] {
    return this.MreIn && this.MimIn ? [this.MreIn, this.MimIn, this.eRe, this.eIm] : [this.eRe, this.eIm];
  }

  reset(): void {
    for (const b of this.buffers()) b.backend.fill(b, 0);
  }

  step(b: number, c: ModuleCache, tx: Buf | null, ty: Buf): void {
    const layer = this.layer,
      cache = c as LruCache,
      p = layer.p;
    const be = ty.backend,
      N = layer.N,
      H = layer.inSize,
      off = cache.B * N,
      Rin = this.Rin;
    const v = layer.sampleViews(cache)[b]!;
    // the rows from below: the dense rule on their block
    if (Rin > 0) {
      const Mre = this.MreIn!,
        Mim = this.MimIn!,
        nRe = this.nextReIn!,
        nIm = this.nextImIn!;
      be.scaleColumns(Rin, N, Mre, layer.lamReBuf, 0, nRe);
      be.scaleColumns(Rin, N, Mim, layer.negLamImBuf, 1, nRe);
      be.scaleColumns(Rin, N, Mre, layer.lamImBuf, 0, nIm);
      be.scaleColumns(Rin, N, Mim, layer.lamReBuf, 1, nIm);
      if (tx) {
        be.gemm(false, true, Rin, N, H, 1, tx, p.Bre, 0, this.dbxRe!);
        be.gemm(false, true, Rin, N, H, 1, tx, p.Bim, 0, this.dbxIm!);
        be.scaleColumns(Rin, N, this.dbxRe!, layer.gammaBuf, 1, nRe);
        be.scaleColumns(Rin, N, this.dbxIm!, layer.gammaBuf, 1, nIm);
      }
      this.MreIn = nRe;
      this.MimIn = nIm;
      this.nextReIn = Mre;
      this.nextImIn = Mim;
    }
    // the own diagonal rows: e ← λ·e (as the dense column scaling computes it), then the immediate part
    const er = this.eRe.data,
      ei = this.eIm.data,
      unitOf = this.unitOf;
    const lre = layer.lamReBuf.data,
      lim = layer.lamImBuf.data,
      nli = layer.negLamImBuf.data;
    for (let q = 0; q < this.diagRows; q++) {
      const i = unitOf[q]!,
        re = er[q]!,
        im = ei[q]!;
      er[q] = im * nli[i]! + (re * lre[i]! + 0);
      ei[q] = im * lre[i]! + (re * lim[i]! + 0);
    }
    const lamRe = layer.lamRe,
      lamIm = layer.lamIm;
    const hp = cache.hPrev.data,
      bx = cache.bx.data,
      x = v.x.data;
    const nu = p.nu.data,
      th = p.theta.data;
    const oTh = N,
      oGa = 2 * N,
      oBre = 3 * N,
      oBim = oBre + N * H;
    for (let i = 0; i < N; i++) {
      const r = b * N + i;
      const pr = hp[r]!,
        pi = hp[off + r]!,
        lr = lamRe[i]!,
        li = lamIm[i]!,
        g = layer.gamma[i]!;
      const en = Math.exp(nu[i]!),
        et = Math.exp(th[i]!);
      const lhr = lr * pr - li * pi,
        lhi = lr * pi + li * pr;
      er[i] = er[i]! - en * lhr;
      ei[i] = ei[i]! - en * lhi;
      er[oTh + i] = er[oTh + i]! - et * lhi;
      ei[oTh + i] = ei[oTh + i]! + et * lhr;
      er[oGa + i] = er[oGa + i]! + g * bx[r]!;
      ei[oGa + i] = ei[oGa + i]! + g * bx[off + r]!;
      for (let j = 0; j < H; j++) {
        const kRe = oBre + i * H + j,
          kIm = oBim + i * H + j;
        er[kRe] = er[kRe]! + g * x[j]!;
        ei[kIm] = ei[kIm]! + g * x[j]!;
      }
    }
    // ty: the rows from below through C (+ D ⊙ tx), the own rows from their one entry, C and D's immediate rows
    if (this.boundTo !== ty) {
      this.tyIn = Rin > 0 ? ty.view(0, Rin * H) : null;
      this.boundTo = ty;
    }
    const t = ty.data;
    if (Rin > 0) {
      be.gemm(false, true, Rin, H, N, 1, this.MreIn!, p.Cre, 0, this.tyIn!);
      be.gemm(false, true, Rin, H, N, -1, this.MimIn!, p.Cim, 1, this.tyIn!);
      if (tx) {
        const txd = tx.data,
          D = p.D.data;
        for (let r = 0; r < Rin; r++) for (let k = 0; k < H; k++) t[r * H + k] = t[r * H + k]! + D[k]! * txd[r * H + k]!;
      }
    }
    const cre = p.Cre.data,
      cim = p.Cim.data;
    for (let q = 0; q < this.diagRows; q++) {
      const i = unitOf[q]!,
        re = er[q]!,
        im = ei[q]!,
        o = (Rin + q) * H;
      for (let k = 0; k < H; k++) t[o + k] = -(im * cim[k * N + i]!) + (re * cre[k * N + i]! + 0);
    }
    const oCre = Rin + this.diagRows,
      oCim = oCre + H * N,
      oD = oCim + H * N;
    t.fill(0, oCre * H, (oD + H) * H);
    const hRe = v.hRe.data,
      hIm = v.hIm.data;
    for (let k = 0; k < H; k++) {
      for (let i = 0; i < N; i++) {
        t[(oCre + k * N + i) * H + k] = t[(oCre + k * N + i) * H + k]! + hRe[i]!;
        t[(oCim + k * N + i) * H + k] = t[(oCim + k * N + i) * H + k]! - hIm[i]!;
      }
      t[(oD + k) * H + k] = t[(oD + k) * H + k]! + x[k]!;
    }
  }
}

/** cumulative-mean pooling: no parameters, and (straight through) the identity's derivative */
class StraightThrough implements ModuleInfluence {
  readonly rows = 0;
  readonly bytes = 0;

  buffers(): Buf[] {
    return [];
  }

  reset(): void {}

  step(_b: number, _cache: ModuleCache, tx: Buf | null, ty: Buf): void {
    if (tx) ty.backend.copy(tx, ty);
    else ty.backend.fill(ty, 0);
  }
}
