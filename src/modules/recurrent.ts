/**
 * A recurrent layer: n units of one unit model (rnn, gru, lstm, ...) and two synapse groups, from below
 * (weight_ih, bias_ih: G·n × in) and recurrent from the layer's own previous output (weight_hh, bias_hh:
 * G·n × n), named and initialised as PyTorch does (uniform in ±1/√n).
 *
 *   preIh = W_ih·x_t + b_ih,  preHh = W_hh·y_{t−1} + b_hh,  s_t = f(s_{t−1}, a_t),  y_t = h(s_t)
 *
 * Its derivatives are all assembled from the unit's local partials (see units/unit.ts):
 * - backward (VJP, with the carry from t+1): ds_t = dS_{t+1→t} + ∂h/∂s ⊙ (dy_t + dY_{t+1→t});  da_k = Σ_c ∂f_c/∂a_k ⊙ ds_c;
 *   dW_ih += da_ihᵀ·x,  dW_hh += da_hhᵀ·y_{t−1};  dx = da_ih·W_ih;  carry dY = da_hh·W_hh, dS = (∂f/∂s)ᵀ ds.
 * - the partials themselves, kept in the cache for rules that carry sensitivities forward (∂f/∂s, ∂f/∂a, ∂h/∂s,
 *   ∂f/∂φ, ∂h/∂φ, with the step's inputs x and y_{t−1}; per-sample views by sampleViews) and the gate blocks of W.
 * - accumulateFromPreactivations: from a gradient at preIh and preHh, the outer products with the layer's own
 *   inputs only (the parameter half of the backward; reads no weight).
 *
 * With `decorrelate` both synapse groups see decorrelated inputs: x̂ = D_ih·x, ŷ_{t−1} = D_hh·y_{t−1}
 * (parameters decor_ih, decor_hh, identity at the start, never trained by gradient); the caches hold x̂ and
 * ŷ, and the backward maps the input deltas back through D (forward-mode rules refuse such models).
 */
import type { Backend, Buf } from '../backend/backend.js';
import type { ParamSpec, ParamStore } from '../core/params.js';
import type { Rng } from '../core/rng.js';
import type { UnitIO, UnitModel } from '../units/unit.js';
import { identity } from './dense.js';
import type { ExposesPreactivations, ModuleCache, RecurrentCarry, RecurrentModule, RecurrentState, StepContext } from './module.js';

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
  /** per-sample views of the inputs and partials, made on first use (sampleViews) */
  rows: SampleViews[] | null;
}

/** one sample's rows of a step's cache: its inputs and its units' partials */
export interface SampleViews {
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
  /** [preIh, preHh], made once, for the preactivation hook */
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

export class RecurrentLayer implements RecurrentModule<RecCache>, ExposesPreactivations {
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
  /** the blocks handed to the preactivation hook: preIh and preHh (G·n each) */
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

  /** the rows of W_ih and W_hh that feed gate block g (n × in and n × n each), one view per gate */
  get weightIhGates(): readonly Buf[] {
    return this.WihGate;
  }

  get weightHhGates(): readonly Buf[] {
    return this.WhhGate;
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
    if (ctx.preactivationHook) ctx.preactivationHook(this, 0, st.pre);
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

  accumulateFromPreactivations(c: ModuleCache, dPre: readonly Buf[]): void {
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

  /** per-sample views of a step's inputs and partials (made on first use, then kept with the cache) */
  sampleViews(cache: RecCache): SampleViews[] {
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
}
