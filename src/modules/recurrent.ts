/**
 * A recurrent layer: n units of one unit model (rnn, gru, lstm, ...) and two synapse groups, from below
 * (weight_ih, bias_ih: G·n × in) and recurrent from the layer's own previous output (weight_hh, bias_hh:
 * G·n × n), named and initialised as PyTorch does (uniform in ±1/√n).
 *
 *   preIh = W_ih·x_t + b_ih,  preHh = W_hh·y_{t−1} + b_hh,  s_t = f(s_{t−1}, a_t),  y_t = h(s_t)
 *
 * Its three derivatives are all assembled from the unit's local partials (see units/unit.ts):
 * - backward (VJP, with the carry from t+1): ds_t = dS_{t+1→t} + ∂h/∂s ⊙ (dy_t + dY_{t+1→t});  da_k = Σ_c ∂f_c/∂a_k ⊙ ds_c;
 *   dW_ih += da_ihᵀ·x,  dW_hh += da_hhᵀ·y_{t−1};  dx = da_ih·W_ih;  carry dY = da_hh·W_hh, dS = (∂f/∂s)ᵀ ds.
 * - tangent (JVP, one sample, rows = parameters): with Y = dy_{t−1}/dθ and X = dx_t/dθ,
 *   D_ih,g = X·W_ih,gᵀ + immediate,  D_hh,g = Y·W_hh,gᵀ + immediate,
 *   M_t,c = Σ_c' M_{t−1},c' ⊙ ∂f_c/∂s_c' + Σ_g D_ih,g ⊙ ∂f_c/∂a_{ih(g)} + Σ_g D_hh,g ⊙ ∂f_c/∂a_{hh(g)},
 *   dy_t/dθ = Σ_c M_t,c ⊙ ∂h/∂s_c.   Cost per sample: G·n·(n + in)·R multiply-adds in gemm, O(R·n) more.
 * - accumulateLocal (rules that perturb preactivations): from an estimate of ∂L/∂preIh and ∂L/∂preHh, the outer
 *   products with the layer's own inputs only (reads no weight).
 *
 * With `decorrelate` both synapse groups see decorrelated inputs: x̂ = D_ih·x, ŷ_{t−1} = D_hh·y_{t−1}
 * (parameters decor_ih, decor_hh, identity at the start, never trained by gradient); the caches hold x̂ and
 * ŷ, and the backward maps the input deltas back through D. No tangent then (forward-mode rules refuse such models).
 */
import type { Backend, Buf } from '../backend/backend.js';
import type { ParamSpec, ParamStore } from '../core/params.js';
import type { Rng } from '../core/rng.js';
import type { UnitIO, UnitModel } from '../units/unit.js';
import { UnsupportedError } from '../core/errors.js';
import { identity } from './dense.js';
import type { Influence, ModuleCache, Perturbable, RecurrentCarry, RecurrentModule, RecurrentState, StepContext } from './module.js';

/** what a recurrent layer remembers of one step: its inputs and the local partials of every unit (read by rules that build on the unit's partials) */
export interface RecCache extends ModuleCache {
  x: Buf;
  yPrev: Buf;
  dfds: Buf;
  dfda: Buf;
  dhds: Buf;
  /** derivatives with respect to the unit parameters φ (empty when the unit has none) */
  dfdphi: Buf;
  dhdphi: Buf;
  /** per-sample views for the tangent, made on first use */
  rows: SampleViews[] | null;
}

interface SampleViews {
  x: Buf;
  yPrev: Buf;
  dfds: Buf[]; // [c·S + c']
  dfda: Buf[]; // [c·K + k]
  dhds: Buf[]; // [c]
}

/** the one UnitIO object of a layer, refreshed before each unit step */
function emptyIO(): UnitIO {
  const none = new Float64Array(0);
  return {
    sPrev: none,
    preIh: none,
    preHh: none,
    phi: [],
    sNext: none,
    y: none,
    dfds: null,
    dfda: null,
    dhds: null,
    dfdphi: null,
    dhdphi: null,
  };
}

interface RecState extends RecurrentState {
  preIh: Buf;
  preHh: Buf;
  /** [preIh, preHh], made once, for a perturbation hook */
  pre: Buf[];
  sNext: Buf;
  ones: Buf;
}

interface RecCarry extends RecurrentCarry {
  ds: Buf;
  dpreIh: Buf;
  dpreHh: Buf;
  /** decorrelate: the input deltas before they pass D_ih, D_hh */
  dxHat: Buf | null;
  dyHat: Buf | null;
}

export interface RecInfluence extends Influence {
  Rin: number;
  /** M_c = ds_c/dθ (rows × n), one per state component, and the buffers of the next step */
  M: Buf[];
  Mnext: Buf[];
  /** dy_{t−1}/dθ (rows × n) */
  yT: Buf;
  Dih: Buf[];
  Dhh: Buf[];
  /** the first Rin rows of Dih[g] (propagated from below) and the rest (this layer's own parameters) */
  DihIn: (Buf | null)[];
  DihOwn: Buf[];
}

export class RecurrentLayer implements RecurrentModule<RecCache, RecInfluence>, Perturbable {
  readonly kind: string;
  readonly recurrent = true as const;
  readonly outSize: number;
  readonly stateSize: number;
  private Wih!: Buf;
  private Whh!: Buf;
  private bih!: Buf;
  private bhh!: Buf;
  private WihGate!: Buf[];
  private WhhGate!: Buf[];
  private dWih!: Buf;
  private dWhh!: Buf;
  private dbih!: Buf;
  private dbhh!: Buf;
  /** the unit parameters φ and their gradients */
  private phi: Buf[] = [];
  private dphi: Buf[] = [];
  private readonly io: UnitIO = emptyIO();
  /** the gradient accumulator of all of this layer's own parameters, in paramSpecs order (one contiguous view) */
  private ownGradView!: Buf;
  private Dih: Buf | null = null;
  private Dhh: Buf | null = null;
  /** the blocks handed to a perturbation hook: preIh and preHh (G·n each) */
  readonly preSizes: readonly number[];

  constructor(
    readonly unit: UnitModel,
    readonly inSize: number,
    readonly n: number,
    readonly decorrelate = false,
  ) {
    this.kind = unit.name;
    this.outSize = n;
    this.stateSize = unit.S * n;
    this.preSizes = [unit.G * n, unit.G * n];
  }

  paramSpecs(): ParamSpec[] {
    const Gn = this.unit.G * this.n;
    return [
      { name: 'weight_ih', shape: [Gn, this.inSize] },
      { name: 'weight_hh', shape: [Gn, this.n] },
      { name: 'bias_ih', shape: [Gn] },
      { name: 'bias_hh', shape: [Gn] },
      ...this.unit.unitParams.map((p) => ({ name: p.name, shape: [this.n] })),
      ...(this.decorrelate
        ? [
            { name: 'decor_ih', shape: [this.inSize, this.inSize] },
            { name: 'decor_hh', shape: [this.n, this.n] },
          ]
        : []),
    ];
  }

  /** own parameter count */
  get ownRows(): number {
    const Gn = this.unit.G * this.n;
    return Gn * (this.inSize + this.n + 2) + this.unit.unitParams.length * this.n;
  }

  init(params: ParamStore, prefix: string, rng: Rng): void {
    const k = 1 / Math.sqrt(this.n);
    for (const s of this.paramSpecs().slice(0, 4)) {
      const v = new Float64Array(s.shape.reduce((a, d) => a * d, 1));
      rng.fillUniform(v, -k, k);
      params.set(prefix + s.name, v);
    }
    for (const p of this.unit.unitParams) params.set(prefix + p.name, p.init(this.n, rng));
    if (this.decorrelate) {
      params.set(prefix + 'decor_ih', identity(this.inSize));
      params.set(prefix + 'decor_hh', identity(this.n));
    }
  }

  bind(params: ParamStore, grads: ParamStore, prefix: string): void {
    const n = this.n,
      G = this.unit.G;
    this.Wih = params.buf(prefix + 'weight_ih');
    this.Whh = params.buf(prefix + 'weight_hh');
    this.bih = params.buf(prefix + 'bias_ih');
    this.bhh = params.buf(prefix + 'bias_hh');
    this.WihGate = Array.from({ length: G }, (_, g) => this.Wih.view(g * n * this.inSize, n * this.inSize));
    this.WhhGate = Array.from({ length: G }, (_, g) => this.Whh.view(g * n * n, n * n));
    this.dWih = grads.buf(prefix + 'weight_ih');
    this.dWhh = grads.buf(prefix + 'weight_hh');
    this.dbih = grads.buf(prefix + 'bias_ih');
    this.dbhh = grads.buf(prefix + 'bias_hh');
    this.phi = this.unit.unitParams.map((p) => params.buf(prefix + p.name));
    this.dphi = this.unit.unitParams.map((p) => grads.buf(prefix + p.name));
    this.ownGradView = grads.flat.view(grads.entry(prefix + 'weight_ih').offset, this.ownRows);
    this.Dih = this.decorrelate ? params.buf(prefix + 'decor_ih') : null;
    this.Dhh = this.decorrelate ? params.buf(prefix + 'decor_hh') : null;
  }

  /** W_ih (G·n × in) and W_hh (G·n × n), for rules built from the unit's partials */
  get weightIh(): Buf {
    return this.Wih;
  }

  get weightHh(): Buf {
    return this.Whh;
  }

  /** the gradient of the layer's own parameters as one view: weight_ih, weight_hh, bias_ih, bias_hh, φ… */
  get ownGrad(): Buf {
    return this.ownGradView;
  }

  createCache(be: Backend, B: number): RecCache {
    const { S, K } = this.unit,
      n = this.n;
    return {
      B,
      x: be.alloc(B * this.inSize),
      yPrev: be.alloc(B * n),
      dfds: be.alloc(B * S * S * n),
      dfda: be.alloc(B * S * K * n),
      dhds: be.alloc(B * S * n),
      dfdphi: be.alloc(B * S * this.unit.unitParams.length * n),
      dhdphi: be.alloc(B * this.unit.unitParams.length * n),
      rows: null,
    };
  }

  createState(be: Backend, B: number): RecState {
    const Gn = this.unit.G * this.n;
    const ones = be.alloc(B);
    be.fill(ones, 1);
    const preIh = be.alloc(B * Gn),
      preHh = be.alloc(B * Gn);
    return {
      B,
      s: be.alloc(B * this.stateSize),
      y: be.alloc(B * this.n),
      preIh,
      preHh,
      pre: [preIh, preHh],
      sNext: be.alloc(B * this.stateSize),
      ones,
    };
  }

  createCarry(be: Backend, B: number): RecCarry {
    const Gn = this.unit.G * this.n;
    return {
      dS: be.alloc(B * this.stateSize),
      dY: be.alloc(B * this.n),
      ds: be.alloc(B * this.stateSize),
      dpreIh: be.alloc(B * Gn),
      dpreHh: be.alloc(B * Gn),
      dxHat: this.decorrelate ? be.alloc(B * this.inSize) : null,
      dyHat: this.decorrelate ? be.alloc(B * this.n) : null,
    };
  }

  forward(x: Buf, y: Buf, cache: RecCache, ctx: StepContext, state: RecurrentState): void {
    const st = state as RecState;
    const be = x.backend,
      B = cache.B,
      n = this.n,
      Gn = this.unit.G * n;
    if (this.Dih) be.gemm(false, true, B, this.inSize, this.inSize, 1, x, this.Dih, 0, cache.x);
    else be.copy(x, cache.x);
    if (this.Dhh) be.gemm(false, true, B, n, n, 1, st.y, this.Dhh, 0, cache.yPrev);
    else be.copy(st.y, cache.yPrev);
    be.gemm(false, true, B, Gn, this.inSize, 1, cache.x, this.Wih, 0, st.preIh);
    be.ger(B, Gn, 1, st.ones, this.bih, st.preIh);
    be.gemm(false, true, B, Gn, n, 1, cache.yPrev, this.Whh, 0, st.preHh);
    be.ger(B, Gn, 1, st.ones, this.bhh, st.preHh);
    if (ctx.perturb) ctx.perturb(this, st.pre);
    if (this.unit.kernel === 'gru' && be.fusedCells)
      be.gruStep(B, n, st.s, st.preIh, st.preHh, st.sNext, y, cache.dfds, cache.dfda, cache.dhds);
    else this.unitStep(B, y, cache, st);
    be.copy(st.sNext, st.s);
    be.copy(y, st.y);
  }

  /** the unit's TypeScript step on the arrays of this step */
  private unitStep(B: number, y: Buf, cache: RecCache, st: RecState): void {
    const io = this.io;
    io.sPrev = st.s.data;
    io.preIh = st.preIh.data;
    io.preHh = st.preHh.data;
    for (let p = 0; p < this.phi.length; p++) io.phi[p] = this.phi[p]!.data;
    io.sNext = st.sNext.data;
    io.y = y.data;
    io.dfds = cache.dfds.data;
    io.dfda = cache.dfda.data;
    io.dhds = cache.dhds.data;
    io.dfdphi = cache.dfdphi.data;
    io.dhdphi = cache.dhdphi.data;
    this.unit.step(B, this.n, io);
  }

  backward(cache: RecCache, dy: Buf, dx: Buf | null, carry: RecurrentCarry): void {
    const c = carry as RecCarry;
    const be = dy.backend,
      B = cache.B,
      n = this.n;
    const { S, K, G, ihChannel, hhChannel } = this.unit;
    const Gn = G * n;
    const dS = c.dS.data,
      dY = c.dY.data,
      ds = c.ds.data,
      dIh = c.dpreIh.data,
      dHh = c.dpreHh.data;
    const dfds = cache.dfds.data,
      dfda = cache.dfda.data,
      dhds = cache.dhds.data,
      dyd = dy.data;
    const Phi = this.phi.length,
      dfdphi = cache.dfdphi.data,
      dhdphi = cache.dhdphi.data;
    for (let b = 0; b < B; b++) {
      const sb = b * S * n,
        yb = b * n,
        gb = b * Gn,
        fb = b * S * S * n,
        ab = b * S * K * n;
      // total gradient on s_t: from s_{t+1} directly, and through y_t (used above now and recurrently next step)
      for (let cc = 0; cc < S; cc++) {
        for (let i = 0; i < n; i++) ds[sb + cc * n + i] = dS[sb + cc * n + i]! + dhds[sb + cc * n + i]! * (dyd[yb + i]! + dY[yb + i]!);
      }
      // onto the preactivation gate blocks of each synapse group
      for (let g = 0; g < G; g++) {
        const kIh = ihChannel[g]!,
          kHh = hhChannel[g]!;
        for (let i = 0; i < n; i++) {
          let sIh = 0,
            sHh = 0;
          for (let cc = 0; cc < S; cc++) {
            const d = ds[sb + cc * n + i]!;
            sIh += dfda[ab + (cc * K + kIh) * n + i]! * d;
            sHh += dfda[ab + (cc * K + kHh) * n + i]! * d;
          }
          dIh[gb + g * n + i] = sIh;
          dHh[gb + g * n + i] = sHh;
        }
      }
      // unit parameters: through f at this step (ds) and through y_t directly (dy + dY)
      for (let p = 0; p < Phi; p++) {
        const g = this.dphi[p]!.data;
        for (let i = 0; i < n; i++) {
          let s = dhdphi[(b * Phi + p) * n + i]! * (dyd[yb + i]! + dY[yb + i]!);
          for (let cc = 0; cc < S; cc++) s += dfdphi[((b * S + cc) * Phi + p) * n + i]! * ds[sb + cc * n + i]!;
          g[i] = g[i]! + s;
        }
      }
      // state-to-state carry: dS_{t−1}[c'] = Σ_c ∂f_c/∂s_c' · ds_c
      for (let c2 = 0; c2 < S; c2++) {
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let cc = 0; cc < S; cc++) s += dfds[fb + (cc * S + c2) * n + i]! * ds[sb + cc * n + i]!;
          dS[sb + c2 * n + i] = s;
        }
      }
    }
    this.accumulate(cache, c.dpreIh, c.dpreHh);
    if (this.Dih && this.Dhh) {
      if (dx) {
        be.gemm(false, false, B, this.inSize, Gn, 1, c.dpreIh, this.Wih, 0, c.dxHat!);
        be.gemm(false, false, B, this.inSize, this.inSize, 1, c.dxHat!, this.Dih, 0, dx);
      }
      be.gemm(false, false, B, n, Gn, 1, c.dpreHh, this.Whh, 0, c.dyHat!);
      be.gemm(false, false, B, n, n, 1, c.dyHat!, this.Dhh, 0, c.dY);
    } else {
      if (dx) be.gemm(false, false, B, this.inSize, Gn, 1, c.dpreIh, this.Wih, 0, dx);
      be.gemm(false, false, B, n, Gn, 1, c.dpreHh, this.Whh, 0, c.dY);
    }
  }

  accumulateLocal(c: ModuleCache, dPre: readonly Buf[]): void {
    this.accumulate(c as RecCache, dPre[0]!, dPre[1]!);
  }

  private accumulate(cache: RecCache, dIh: Buf, dHh: Buf): void {
    const be = dIh.backend,
      B = cache.B,
      Gn = this.unit.G * this.n;
    be.gemm(true, false, Gn, this.inSize, B, 1, dIh, cache.x, 1, this.dWih);
    be.colSum(B, Gn, dIh, 1, this.dbih);
    be.gemm(true, false, Gn, this.n, B, 1, dHh, cache.yPrev, 1, this.dWhh);
    be.colSum(B, Gn, dHh, 1, this.dbhh);
  }

  decorrelators(c: ModuleCache): { D: Buf; input: Buf }[] {
    const cache = c as RecCache;
    return this.Dih && this.Dhh
      ? [
          { D: this.Dih, input: cache.x },
          { D: this.Dhh, input: cache.yPrev },
        ]
      : [];
  }

  createInfluence(be: Backend, Rin: number): RecInfluence {
    const { S, G } = this.unit,
      n = this.n;
    const rows = Rin + this.ownRows;
    const mk = (count: number): Buf[] => Array.from({ length: count }, () => be.alloc(rows * n));
    const Dih = mk(G);
    return {
      rows,
      Rin,
      // carried from step to step: M (S components) and, through the recurrent synapses, dy/dθ
      bytes: (S + 1) * rows * n * (be.dtype === 'float64' ? 8 : 4),
      M: mk(S),
      Mnext: mk(S),
      yT: be.alloc(rows * n),
      Dih,
      Dhh: mk(G),
      DihIn: Dih.map((d) => (Rin > 0 ? d.view(0, Rin * n) : null)),
      DihOwn: Dih.map((d) => d.view(Rin * n, this.ownRows * n)),
    };
  }

  influenceBuffers(inf: RecInfluence): Buf[] {
    return [...inf.M, inf.yT];
  }

  resetInfluence(inf: RecInfluence): void {
    const be = inf.yT.backend;
    for (const m of inf.M) be.fill(m, 0);
    be.fill(inf.yT, 0);
  }

  private sampleViews(cache: RecCache): SampleViews[] {
    if (cache.rows) return cache.rows;
    const { S, K } = this.unit,
      n = this.n;
    cache.rows = Array.from({ length: cache.B }, (_, b) => ({
      x: cache.x.view(b * this.inSize, this.inSize),
      yPrev: cache.yPrev.view(b * n, n),
      dfds: Array.from({ length: S * S }, (_, j) => cache.dfds.view((b * S * S + j) * n, n)),
      dfda: Array.from({ length: S * K }, (_, j) => cache.dfda.view((b * S * K + j) * n, n)),
      dhds: Array.from({ length: S }, (_, j) => cache.dhds.view((b * S + j) * n, n)),
    }));
    return cache.rows;
  }

  tangent(b: number, cache: RecCache, tx: Buf | null, ty: Buf, inf: RecInfluence): void {
    if (this.decorrelate)
      throw new UnsupportedError(
        `${this.kind} layer: no forward-mode derivative with input decorrelation (forward-mode rules do not support decorrelated models)`,
      );
    const be = ty.backend,
      n = this.n,
      inp = this.inSize;
    const { S, K, G, ihChannel, hhChannel } = this.unit;
    const R = inf.rows,
      Rin = inf.Rin;
    const v = this.sampleViews(cache)[b]!;
    // propagated rows: through the recurrent synapses (all rows) and the synapses from below (first Rin)
    for (let g = 0; g < G; g++) {
      be.gemm(false, true, R, n, n, 1, inf.yT, this.WhhGate[g]!, 0, inf.Dhh[g]!);
      if (tx && Rin > 0) be.gemm(false, true, Rin, n, inp, 1, tx, this.WihGate[g]!, 0, inf.DihIn[g]!);
      be.fill(inf.DihOwn[g]!, 0);
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
      const dih = inf.Dih[g]!.data,
        dhh = inf.Dhh[g]!.data;
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
      const out = inf.Mnext[c]!;
      for (let c2 = 0; c2 < S; c2++) be.scaleColumns(R, n, inf.M[c2]!, v.dfds[c * S + c2]!, c2 === 0 ? 0 : 1, out);
      for (let g = 0; g < G; g++) {
        be.scaleColumns(R, n, inf.Dih[g]!, v.dfda[c * K + ihChannel[g]!]!, 1, out);
        be.scaleColumns(R, n, inf.Dhh[g]!, v.dfda[c * K + hhChannel[g]!]!, 1, out);
      }
    }
    // unit parameters φ: their immediate rows, into the state and (below) into the output
    const Phi = this.phi.length,
      oPhi = oBhh + Gn,
      dfdphi = cache.dfdphi.data,
      dhdphi = cache.dhdphi.data;
    for (let c = 0; c < S; c++) {
      const m = inf.Mnext[c]!.data;
      for (let p = 0; p < Phi; p++) {
        for (let i = 0; i < n; i++) {
          const k = (oPhi + p * n + i) * n + i;
          m[k] = m[k]! + dfdphi[((b * S + c) * Phi + p) * n + i]!;
        }
      }
    }
    for (let c = 0; c < S; c++) {
      const t = inf.M[c]!;
      inf.M[c] = inf.Mnext[c]!;
      inf.Mnext[c] = t;
    }
    for (let c = 0; c < S; c++) be.scaleColumns(R, n, inf.M[c]!, v.dhds[c]!, c === 0 ? 0 : 1, ty);
    if (Phi > 0) {
      const t = ty.data;
      for (let p = 0; p < Phi; p++) {
        for (let i = 0; i < n; i++) {
          const k = (oPhi + p * n + i) * n + i;
          t[k] = t[k]! + dhdphi[(b * Phi + p) * n + i]!;
        }
      }
    }
    be.copy(ty, inf.yT);
  }
}
