/**
 * The `deep` trace rule with a diagonal within-layer Jacobian (Millidge, "Generalising E-prop to Deep Networks",
 * 2025, Eq. 10), for a stack of recurrent layers of any unit model, B samples. For the parameters θ_k of
 * layer k the engine carries, to every layer l ≥ k, the sensitivity of layer l's state:
 *
 *   l = k:  ε^{k,k}_t = (∂f^k/∂s) ε^{k,k}_{t−1} + ∂s^k_t/∂θ_k        the layer's own per-synapse traces (DiagTraces,
 *                                                                   compact: S numbers per parameter)
 *   l > k:  T^{l,k}_t = (∂f^l/∂s) T^{l,k}_{t−1} + A^l_t · Y^{l−1,k}_t   dense, S_l·n_l numbers per parameter of layer k
 *           Y^{l,k}_t = (∂h^l/∂s) T^{l,k}_t  (= dy^l_t/dθ_k under the rule),   A^l_t = ∂s^l_t/∂y^{l−1}_t
 *             = Σ_g (∂f^l/∂a_ih(g)) ⊙ W^l_ih,g    (the inter-layer Jacobian, exact)
 *
 * and the learning signal is taken at the top layer: ∂L_t/∂θ_k = (Y^{top,k}_t)ᵀ · ∂L_t/∂y^{top}_t. The
 * recurrent synapses' path within every layer (W_hh · dy_{t−1}/dθ) is dropped — e-prop's approximation — so the
 * rule equals BPTT exactly on stacks whose layers have no recurrent synapses, and is approximate otherwise.
 * The own-layer block Y^{k,k} is diagonal (a parameter of unit i moves only y_i), so A^{k+1}·Y^{k,k} costs
 * n_{k+1} per parameter; higher pairs are dense products.
 * Cost per step and sample: O(S_l·n_l·(n_{l−1} + S_l)·P_k) for each pair l > k (O(S·P_k) for l = k).
 * Memory per sample: S_k·P_k for the own traces plus S_l·n_l·P_k for each pair l > k — the N_l × P_k per layer
 * pair of the note, which grows with depth and width as RTRL's does (see `bytes`).
 *
 * API: const deep = new DeepDiagTraces(layers, backend, B);  deep.reset();  deep.step(caches) after each
 * forward (caches of the layers, bottom first);  deep.accumulate(caches, dyTop) with ∂L_t/∂y^top (B × n_top);
 * deep.buffers(), deep.bytes.
 */
import type { Backend, Buf } from '../../backend/backend.js';
import { ensureMemory } from '../../backend/memory.js';
import type { RecCache, RecurrentLayer } from '../../modules/recurrent.js';
import { DiagTraces } from './diag.js';

interface Pair {
  /** T[b][c] (P_k × n_l), and the next step's buffers (swapped in after each step) */
  T: Buf[][];
  Tnext: Buf[][];
  /** Y[b] (P_k × n_l): dy^l/dθ_k of this step */
  Y: Buf[];
}

interface ColumnViews {
  dfds: Buf[][]; // [b][c·S + c'] (n)
  dhds: Buf[][]; // [b][c] (n)
}

export class DeepDiagTraces {
  /** own[k]: the per-synapse traces of layer k */
  readonly own: DiagTraces[];
  /** pairs[l][k] for k < l */
  private readonly pairs: Pair[][];
  /** A^l_c (n_{l−1} × n_l, row i = input unit i) per layer and state component, one sample at a time */
  private readonly A: Buf[][];
  /** y^{k,k}_θ for one sample: Σ_c ∂h/∂s_c·ε_c (+ ∂h/∂φ) per own parameter of layer k */
  private readonly yOwn: Buf[];
  /** the parameter blocks (weight_ih, weight_hh, bias_ih, bias_hh, φ) of layer k as (rows R, row length J) */
  private readonly blockShapes: { R: number; J: number; offset: number }[][];
  /** views of y and of every pair trace T by parameter block, made once per buffer */
  private readonly blockViews = new WeakMap<Buf, Buf[]>();
  /** the unit each own parameter of layer k feeds */
  private readonly unitOf: Int32Array[];
  /** the top signal, whole and per sample */
  private readonly dyTop: Buf;
  private readonly dyTopRow: Buf[];
  private readonly views = new WeakMap<RecCache, ColumnViews>();

  constructor(
    readonly layers: RecurrentLayer[],
    be: Backend,
    readonly B: number,
  ) {
    const eb = be.dtype === 'float64' ? 8 : 4;
    ensureMemory(
      be,
      `deep-eprop's cross-layer traces (${B} samples)`,
      eb *
        B *
        layers.reduce(
          (s, layer, l) => s + layers.slice(0, l).reduce((t, below) => t + (2 * layer.unit.S + 1) * below.ownRows * layer.n, 0),
          0,
        ),
    );
    this.own = layers.map((layer) => new DiagTraces(layer, be, B, 'diag'));
    this.pairs = layers.map((layer, l) =>
      layers.slice(0, l).map((below) => {
        const P = below.ownRows,
          n = layer.n,
          S = layer.unit.S;
        const mk = (): Buf[][] => Array.from({ length: B }, () => Array.from({ length: S }, () => be.alloc(P * n)));
        return { T: mk(), Tnext: mk(), Y: Array.from({ length: B }, () => be.alloc(P * n)) };
      }),
    );
    this.A = layers.map((layer, l) => (l === 0 ? [] : Array.from({ length: layer.unit.S }, () => be.alloc(layers[l - 1]!.n * layer.n))));
    this.yOwn = layers.map((layer) => be.alloc(layer.ownRows));
    this.blockShapes = layers.map((layer) => {
      const Gn = layer.unit.G * layer.n,
        m = layer.n,
        shapes: { R: number; J: number; offset: number }[] = [];
      let offset = 0;
      for (const [R, J] of [
        [Gn, layer.inSize],
        [Gn, m],
        [Gn, 1],
        [Gn, 1],
        [layer.unit.unitParams.length * m, 1],
      ] as const) {
        shapes.push({ R, J, offset });
        offset += R * J;
      }
      return shapes;
    });
    this.unitOf = layers.map((layer) => unitIndex(layer));
    const top = layers[layers.length - 1]!;
    this.dyTopRow = [];
    this.dyTop = be.alloc(B * top.n);
    for (let b = 0; b < B; b++) this.dyTopRow.push(this.dyTop.view(b * top.n, top.n));
  }

  /** bytes carried from step to step: the own traces and every pair's T */
  get bytes(): number {
    return this.buffers().reduce((s, b) => s + b.length * (b.backend.dtype === 'float64' ? 8 : 4), 0);
  }

  buffers(): Buf[] {
    const out: Buf[] = this.own.flatMap((t) => t.buffers());
    for (const row of this.pairs) for (const p of row) for (const perSample of p.T) out.push(...perSample);
    return out;
  }

  reset(): void {
    for (const b of this.buffers()) b.backend.fill(b, 0);
  }

  private columns(layer: RecurrentLayer, cache: RecCache): ColumnViews {
    let v = this.views.get(cache);
    if (!v) {
      const { S } = layer.unit,
        n = layer.n;
      v = {
        dfds: Array.from({ length: this.B }, (_, b) => Array.from({ length: S * S }, (_, j) => cache.dfds.view((b * S * S + j) * n, n))),
        dhds: Array.from({ length: this.B }, (_, b) => Array.from({ length: S }, (_, c) => cache.dhds.view((b * S + c) * n, n))),
      };
      this.views.set(cache, v);
    }
    return v;
  }

  /** advance every trace by one step (caches: this step's, bottom layer first) */
  step(caches: RecCache[]): void {
    for (let k = 0; k < this.layers.length; k++) this.own[k]!.step(caches[k]!);
    for (let b = 0; b < this.B; b++) {
      for (let l = 1; l < this.layers.length; l++) {
        this.interLayerJacobian(l, caches[l]!, b);
        this.ownOutputs(l - 1, caches[l - 1]!, b);
        for (let k = 0; k < l; k++) this.advancePair(l, k, caches[l]!, b);
      }
    }
  }

  /** A^l_c[i][u] = Σ_g ∂f^l_c/∂a_ih(g)[u] · W^l_ih[g·n_l + u, i] for sample b */
  private interLayerJacobian(l: number, cache: RecCache, b: number): void {
    const layer = this.layers[l]!,
      { S, K, G, ihChannel } = layer.unit,
      n = layer.n,
      m = layer.inSize;
    const W = layer.weightIh.data,
      dfda = cache.dfda.data;
    for (let c = 0; c < S; c++) {
      const A = this.A[l]![c]!.data;
      for (let u = 0; u < n; u++) {
        for (let i = 0; i < m; i++) {
          let s = 0;
          for (let g = 0; g < G; g++) s += dfda[(b * S * K + c * K + ihChannel[g]!) * n + u]! * W[(g * n + u) * m + i]!;
          A[i * n + u] = s;
        }
      }
    }
  }

  /** y^{k,k}_θ = Σ_c ∂h/∂s_c[i(θ)]·ε_c[θ] (+ ∂h/∂φ for unit parameters) for sample b */
  private ownOutputs(k: number, cache: RecCache, b: number): void {
    const layer = this.layers[k]!,
      { S, unitParams } = layer.unit,
      n = layer.n,
      P = layer.ownRows,
      Phi = unitParams.length;
    const y = this.yOwn[k]!.data,
      unit = this.unitOf[k]!,
      dhds = cache.dhds.data,
      dhdphi = cache.dhdphi.data;
    const e = this.own[k]!.eligibility;
    y.fill(0);
    for (let c = 0; c < S; c++) {
      const ec = e[c]!.data;
      for (let t = 0; t < P; t++) y[t] = y[t]! + dhds[(b * S + c) * n + unit[t]!]! * ec[b * P + t]!;
    }
    const phi0 = P - Phi * n;
    for (let p = 0; p < Phi; p++) for (let i = 0; i < n; i++) y[phi0 + p * n + i] = y[phi0 + p * n + i]! + dhdphi[(b * Phi + p) * n + i]!;
  }

  /** views of a buffer laid out by parameter block (width numbers per parameter), cached per buffer */
  private blocksOf(buf: Buf, shapes: { R: number; J: number; offset: number }[], width: number): Buf[] {
    let v = this.blockViews.get(buf);
    if (!v) {
      v = shapes.map((sh) => buf.view(sh.offset * width, sh.R * sh.J * width));
      this.blockViews.set(buf, v);
    }
    return v;
  }

  /** T^{l,k} ← (∂f^l/∂s)·T^{l,k} + A^l·Y^{l−1,k};  Y^{l,k} = (∂h^l/∂s)·T^{l,k}  for sample b */
  private advancePair(l: number, k: number, cache: RecCache, b: number): void {
    const layer = this.layers[l]!,
      S = layer.unit.S,
      n = layer.n,
      be = this.A[l]![0]!.backend;
    const P = this.layers[k]!.ownRows,
      nBelow = this.layers[l - 1]!.n;
    const pair = this.pairs[l]![k]!,
      cols = this.columns(layer, cache);
    const T = pair.T[b]!,
      Tn = pair.Tnext[b]!;
    for (let c = 0; c < S; c++) {
      for (let c2 = 0; c2 < S; c2++) be.scaleColumns(P, n, T[c2]!, cols.dfds[b]![c * S + c2]!, c2 === 0 ? 0 : 1, Tn[c]!);
      const A = this.A[l]![c]!;
      if (k === l - 1) {
        // the layer below's own block is diagonal: parameter θ moves only y_{i(θ)}, by yOwn[θ] — one kernel per block
        const shapes = this.blockShapes[k]!,
          ys = this.blocksOf(this.yOwn[k]!, shapes, 1),
          ts = this.blocksOf(Tn[c]!, shapes, n);
        for (let q = 0; q < shapes.length; q++) {
          const sh = shapes[q]!;
          if (sh.R > 0) be.rowsScaledAdd(sh.R, sh.J, nBelow, n, ys[q]!, A, ts[q]!);
        }
      } else {
        be.gemm(false, false, P, n, nBelow, 1, this.pairs[l - 1]![k]!.Y[b]!, A, 1, Tn[c]!);
      }
    }
    pair.T[b] = Tn;
    pair.Tnext[b] = T;
    for (let c = 0; c < S; c++) be.scaleColumns(P, n, Tn[c]!, cols.dhds[b]![c]!, c === 0 ? 0 : 1, pair.Y[b]!);
  }

  /** ∂L/∂θ_k += (Y^{top,k})ᵀ·dyTop for every layer k below the top; the top layer by its own traces */
  accumulate(caches: RecCache[], dyTop: Buf): void {
    const top = this.layers.length - 1,
      be = dyTop.backend;
    be.copy(dyTop, this.dyTop);
    this.own[top]!.accumulate(caches[top]!, dyTop);
    for (let k = 0; k < top; k++) {
      const P = this.layers[k]!.ownRows,
        grad = this.layers[k]!.ownGrad,
        pair = this.pairs[top]![k]!;
      for (let b = 0; b < this.B; b++) be.gemv(false, P, this.layers[top]!.n, 1, pair.Y[b]!, this.dyTopRow[b]!, 1, grad);
    }
  }
}

/** the unit fed by each own parameter of a layer: weight_ih, weight_hh, bias_ih, bias_hh rows g·n + i, then φ_p[i] */
function unitIndex(layer: RecurrentLayer): Int32Array {
  const { G, unitParams } = layer.unit,
    n = layer.n,
    Gn = G * n;
  const out = new Int32Array(layer.ownRows);
  let t = 0;
  for (let r = 0; r < Gn; r++) for (let j = 0; j < layer.inSize; j++) out[t++] = r % n;
  for (let r = 0; r < Gn; r++) for (let j = 0; j < n; j++) out[t++] = r % n;
  for (let r = 0; r < Gn; r++) out[t++] = r % n;
  for (let r = 0; r < Gn; r++) out[t++] = r % n;
  for (let p = 0; p < unitParams.length; p++) for (let i = 0; i < n; i++) out[t++] = i;
  return out;
}
