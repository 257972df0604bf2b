/**
 * `sparse-rtrl` — exact RTRL that never multiplies by a zero it can know about (Subramoney, "Efficient
 * real time recurrent learning through combined activity and parameter sparsity", 2023).
 *
 * The influence M_t = ds_t/dθ of one recurrent layer is kept per unit (row i: the influence of every stored
 * parameter on unit i's state) and updated exactly as in `rtrl`:
 *   M_t[i] = Σ_c' ∂f/∂s_c'[i]·M_{t−1}[i]  +  Σ_g ∂f/∂a_g[i]·(Σ_k W_hh[g,i,k]·Y_{t−1}[k] + immediate_g[i]),
 *   Y_t[i] = ∂h/∂s[i]·M_t[i] (+ ∂h/∂φ),       ∂L_t/∂θ = Σ_o ∂L_t/∂ŷ_o · Σ_i W_out[o,i]·Y_t[i],
 * where Y = dy/dθ. Three kinds of work are skipped, each a product with an exact zero, so nothing is
 * approximated:
 * - units (rows of Y): an EGRU unit that is silent and farther than the pseudo-derivative's width from its
 *   threshold has ∂y/∂c = 0, so its row of Y is zero; the contraction over k visits only units with a
 *   non-zero row (the "backward-active" units), and so does the readout;
 * - masked parameters: a pruned weight is a constant zero — it has no column in M and no term in the sum
 *   over k;
 * - columns still zero: the influence on W_hh[·,·,k] is zero until unit k first emits a non-zero y, so the
 *   columns of W_hh are grouped by presynaptic unit k and a group is appended to the stored columns only
 *   when k first fires (a column block is all zeros until then, so appending it moves no data).
 * Exactness: in float64 on the `ts` backend every skipped term is a ±0 added to a sum that `rtrl` adds in the
 * same order, so the gradient equals `rtrl`'s bit for bit (up to the sign of an exact zero); see
 * test/sparse-rtrl.test.ts. It supports one recurrent layer (any unit model) under a dense readout.
 * Cost per step and sample: with α the backward-active fraction, δ the weight density and C ≤ δ·p the
 * stored columns, about α·δ·G·n²·C + S(S+G)·n·C multiply-adds instead of G·n²·p (dense RTRL, p = all
 * parameters of the layer); the learner counts both (`stats()`), together with the forward activity, the
 * backward-active fraction and the density of the influence dy/dθ it had to compute.
 * Memory: (S + 1)·n·C numbers per sample.
 * Reference: A. Subramoney, arXiv:2303.05641 (2023); R. J. Williams, D. Zipser, Neural Computation 1(2), 1989.
 */
import type { Buf } from '../backend/backend.js';
import { UnsupportedError } from '../core/errors.js';
import type { Network } from '../model/network.js';
import type { ModuleCache } from '../modules/module.js';
import { RecurrentLayer, type RecCache } from '../modules/recurrent.js';
import { ForwardPass } from './forward.js';
import type { Learner, LearnerOptions, LearnerState } from './learner.js';
import { ColumnLayout } from './sparse-layout.js';

/** one sample's influence and which of its column blocks are live */
interface SampleInfluence {
  M: Buf[];
  Mnext: Buf[];
  /** dy_t/dθ, valid in the rows of `active` units */
  Y: Buf;
  /** start column of each presynaptic unit's W_hh block, −1 while the block is still zero */
  blockPos: Int32Array;
  /** the live blocks in the order they became live */
  liveOrder: Int32Array;
  liveBlocks: number;
  /** stored columns in use: the fixed ones and the live blocks */
  liveEnd: number;
  /** units whose ∂y/∂s (or ∂y/∂φ) was non-zero at the last step: their row of Y is valid */
  active: Uint8Array;
}

/** running sums behind `stats()` */
interface Counters {
  steps: number;
  macs: number;
  denseMacs: number;
  fired: number;
  active: number;
  influence: number;
  live: number;
  units: number;
}

export class SparseRtrlLearner implements Learner {
  readonly name = 'sparse-rtrl';
  readonly batchSize: number;
  private readonly fwd: ForwardPass;
  private readonly caches: ModuleCache[];
  private readonly layer: RecurrentLayer;
  private readonly prefix: string;
  private readonly layout: ColumnLayout;
  private samples: SampleInfluence[] = [];
  private capacity = -1;
  /** scratch rows: the recurrent contraction D, and the readout's tangent and gradient rows */
  private D!: Buf;
  private readoutRow!: Buf;
  private gradRow!: Buf;
  private readonly dOut: Buf;
  private readonly count: Counters = { steps: 0, macs: 0, denseMacs: 0, fired: 0, active: 0, influence: 0, live: 0, units: 0 };

  constructor(readonly network: Network, options: LearnerOptions) {
    const mods = network.modules;
    const layer = mods[0];
    if (mods.length !== 2 || !(layer instanceof RecurrentLayer)) {
      throw new UnsupportedError(`sparse-rtrl supports one recurrent layer under a readout (layers = 1); ` +
        `this ${network.config.model} network has ${network.config.layers} layers — use rtrl for stacks`);
    }
    const be = network.backend, B = (this.batchSize = options.batchSize);
    this.layer = layer;
    this.prefix = 'layers.0.';
    this.fwd = new ForwardPass(network, B, options.seed ?? 0);
    this.caches = mods.map((m) => m.createCache(be, B));
    this.dOut = be.alloc(B * network.outputSize);
    this.layout = new ColumnLayout(layer, network.params, this.prefix);
    this.rebuild();
  }

  get output(): Buf {
    return this.fwd.output;
  }

  /** lay the columns out for the current masks; (re)allocate the influence when their number changed */
  private rebuild(): void {
    const net = this.network, be = net.backend, { S } = this.layer.unit, n = this.layer.n;
    this.layout.build(net.masks.get(this.prefix + 'weight_ih') ?? null, net.masks.get(this.prefix + 'weight_hh') ?? null);
    const C = this.layout.maxColumns;
    if (C === this.capacity) return;
    this.capacity = C;
    this.D = be.alloc(C);
    this.readoutRow = be.alloc(C);
    this.gradRow = be.alloc(C);
    this.samples = Array.from({ length: this.batchSize }, () => ({
      M: Array.from({ length: S }, () => be.alloc(n * C)),
      Mnext: Array.from({ length: S }, () => be.alloc(n * C)),
      Y: be.alloc(n * C),
      blockPos: new Int32Array(n),
      liveOrder: new Int32Array(n),
      liveBlocks: 0,
      liveEnd: 0,
      active: new Uint8Array(n),
    }));
  }

  startSequence(): void {
    this.fwd.resetStates();
    // masks change only between sequences as far as the stored columns are concerned: a weight pruned in the
    // middle of a sequence keeps its column (its gradient is masked) until the next one starts
    this.rebuild();
    const be = this.network.backend;
    for (const s of this.samples) {
      // both halves of M: a column block that joins later is assumed zero in whichever half holds M then
      for (const m of s.M) be.fill(m, 0);
      for (const m of s.Mnext) be.fill(m, 0);
      be.fill(s.Y, 0);
      s.blockPos.fill(-1);
      s.liveBlocks = 0;
      s.liveEnd = this.layout.fixedColumns;
      s.active.fill(0);
    }
  }

  step(x: ArrayLike<number>, target: ArrayLike<number> | null, mask: ArrayLike<number> | null): number {
    const net = this.network;
    this.fwd.load(x);
    const out = this.fwd.run(this.caches);
    const loss = target ? net.loss.evaluate(this.batchSize, out, target, mask, this.dOut) : 0;
    for (let b = 0; b < this.batchSize; b++) {
      this.influenceStep(b);
      if (target) this.gradientStep(b);
    }
    this.count.steps++;
    return loss;
  }

  /** M_t and Y_t of sample b from M_{t−1}, Y_{t−1} and this step's local partials */
  private influenceStep(b: number): void {
    const be = this.network.backend, L = this.layout, s = this.samples[b]!, cache = this.caches[0] as RecCache;
    const { S, K, G, ihChannel, hhChannel } = this.layer.unit;
    const n = this.layer.n, inp = this.layer.inSize, Phi = this.layer.unit.unitParams.length, Cmax = this.capacity;
    const x = cache.x.data, yPrev = cache.yPrev.data, dfds = cache.dfds.data, dfda = cache.dfda.data;
    const dhds = cache.dhds.data, dfdphi = cache.dfdphi.data, dhdphi = cache.dhdphi.data;
    const W = this.network.params.buf(this.prefix + 'weight_hh').data;
    const xb = b * inp, yb = b * n, fb = b * S * S * n, ab = b * S * K * n, hb = b * S * n;
    // the W_hh blocks of units that fired at t−1 join the stored columns; their influence is zero so far
    for (let k = 0; k < n; k++) {
      if (yPrev[yb + k] !== 0 && s.blockPos[k]! < 0) {
        s.blockPos[k] = s.liveEnd;
        s.liveOrder[s.liveBlocks++] = k;
        s.liveEnd += L.blockLength(k);
      }
    }
    const C = s.liveEnd, D = this.D, active = s.active;
    let macs = 0;
    for (let i = 0; i < n; i++) {
      const row = i * Cmax;
      // the unit's own recurrence: Mnext_c = Σ_c' ∂f_c/∂s_c' · M_c'
      for (let c = 0; c < S; c++) {
        for (let c2 = 0; c2 < S; c2++) be.axpbyAt(C, dfds[fb + (c * S + c2) * n + i]!, s.M[c2]!, row, c2 === 0 ? 0 : 1, s.Mnext[c]!, row);
      }
      macs += S * S * C;
      for (let g = 0; g < G; g++) {
        const r = g * n + i;
        // from below: only immediate terms (the input does not depend on θ): x_j at W_ih[r, j], 1 at b_ih[r]
        for (let c = 0; c < S; c++) {
          const a = dfda[ab + (c * K + ihChannel[g]!) * n + i]!, m = s.Mnext[c]!.data;
          for (let col = L.ihStart[r]!; col < L.ihStart[r + 1]!; col++) m[row + col] = m[row + col]! + x[xb + L.ihInput[col]!]! * a;
          const cb = row + L.biasIhColumn + r;
          m[cb] = m[cb]! + a;
        }
        macs += S * (L.ihStart[r + 1]! - L.ihStart[r]! + 1);
        // recurrent: D = Σ_k W_hh[r,k]·Y_{t−1}[k] over the backward-active k, then the immediate terms
        let terms = 0;
        for (let e = L.hhStart[r]!; e < L.hhStart[r + 1]!; e++) {
          const k = L.hhPresyn[e]!;
          if (active[k]) be.axpbyAt(C, W[r * n + k]!, s.Y, k * Cmax, terms++ === 0 ? 0 : 1, D, 0);
        }
        macs += terms * C;
        const d = D.data;
        if (terms > 0) {
          for (let e = L.hhStart[r]!; e < L.hhStart[r + 1]!; e++) {
            const k = L.hhPresyn[e]!, yk = yPrev[yb + k]!;
            if (yk !== 0) {
              const col = s.blockPos[k]! + L.hhEntry[e]!;
              d[col] = d[col]! + yk;
            }
          }
          d[L.biasHhColumn + r] = d[L.biasHhColumn + r]! + 1;
          for (let c = 0; c < S; c++) be.axpbyAt(C, dfda[ab + (c * K + hhChannel[g]!) * n + i]!, D, 0, 1, s.Mnext[c]!, row);
          macs += S * C;
        } else {
          // no active presynaptic unit: D holds only the immediate terms, added where they are
          for (let c = 0; c < S; c++) {
            const a = dfda[ab + (c * K + hhChannel[g]!) * n + i]!, m = s.Mnext[c]!.data;
            for (let e = L.hhStart[r]!; e < L.hhStart[r + 1]!; e++) {
              const k = L.hhPresyn[e]!, yk = yPrev[yb + k]!;
              if (yk !== 0) {
                const col = row + s.blockPos[k]! + L.hhEntry[e]!;
                m[col] = m[col]! + yk * a;
                macs++;
              }
            }
            const cb = row + L.biasHhColumn + r;
            m[cb] = m[cb]! + a;
          }
        }
      }
      // unit parameters φ: their immediate terms
      for (let c = 0; c < S; c++) {
        const m = s.Mnext[c]!.data;
        for (let p = 0; p < Phi; p++) {
          const col = row + L.phiColumn + p * n + i;
          m[col] = m[col]! + dfdphi[((b * S + c) * Phi + p) * n + i]!;
        }
      }
    }
    const t = s.M;
    s.M = s.Mnext;
    s.Mnext = t;
    // Y_t = ∂h/∂s · M_t (+ ∂h/∂φ), only for units where that is not exactly zero
    let nActive = 0, nFired = 0;
    const y = this.fwd.acts[0]!.data;
    for (let i = 0; i < n; i++) {
      if (y[yb + i] !== 0) nFired++;
      let on = false;
      for (let c = 0; c < S && !on; c++) on = dhds[hb + c * n + i] !== 0;
      for (let p = 0; p < Phi && !on; p++) on = dhdphi[(b * Phi + p) * n + i] !== 0;
      active[i] = on ? 1 : 0;
      if (!on) continue;
      nActive++;
      const row = i * Cmax;
      for (let c = 0; c < S; c++) be.axpbyAt(C, dhds[hb + c * n + i]!, s.M[c]!, row, c === 0 ? 0 : 1, s.Y, row);
      macs += S * C;
      const Yd = s.Y.data;
      for (let p = 0; p < Phi; p++) {
        const col = row + L.phiColumn + p * n + i;
        Yd[col] = Yd[col]! + dhdphi[(b * Phi + p) * n + i]!;
      }
    }
    const cnt = this.count;
    cnt.macs += macs;
    cnt.denseMacs += this.denseMacsPerSample();
    cnt.fired += nFired;
    cnt.active += nActive;
    cnt.units += n;
    cnt.influence += (nActive * C) / (n * this.layer.ownRows);
    cnt.live += C / this.capacity;
  }

  /** ∂L_t/∂θ for sample b: through the readout from the active rows of Y, and the readout's own parameters */
  private gradientStep(b: number): void {
    const net = this.network, be = net.backend, L = this.layout, s = this.samples[b]!;
    const n = this.layer.n, out = net.outputSize, Cmax = this.capacity, C = s.liveEnd;
    const Wout = net.params.buf('readout.weight').data, dOut = this.dOut.data, ob = b * out;
    const tRow = this.readoutRow, gRow = this.gradRow;
    let macs = 0, rows = 0;
    for (let o = 0; o < out; o++) {
      // the readout's tangent row o: Σ_i W_out[o,i]·Y[i] over the active units, then its share of the gradient
      let terms = 0;
      for (let i = 0; i < n; i++) {
        if (s.active[i]) be.axpbyAt(C, Wout[o * n + i]!, s.Y, i * Cmax, terms++ === 0 ? 0 : 1, tRow, 0);
      }
      if (terms === 0) continue;
      be.axpbyAt(C, dOut[ob + o]!, tRow, 0, rows++ === 0 ? 0 : 1, gRow, 0);
      macs += (terms + 1) * C;
    }
    const grads = net.grads.flat.data;
    if (rows > 0) {
      const g = gRow.data;
      const colParam = L.columnParam;
      for (let col = 0; col < L.fixedColumns; col++) grads[colParam[col]!] = g[col]! + grads[colParam[col]!]!;
      for (let q = 0; q < s.liveBlocks; q++) {
        const k = s.liveOrder[q]!, pos = s.blockPos[k]!;
        for (let e = L.blockStart[k]!, col = pos; e < L.blockStart[k + 1]!; e++, col++) {
          const p = L.whhOffset + L.blockRow[e]! * n + k;
          grads[p] = g[col]! + grads[p]!;
        }
      }
    }
    // the readout's own parameters: ∂ŷ_o/∂W_out[o,i] = y_i, ∂ŷ_o/∂b_o = 1
    const y = this.fwd.acts[0]!.data, wOff = net.params.entry('readout.weight').offset;
    const bOff = net.params.has('readout.bias') ? net.params.entry('readout.bias').offset : -1;
    for (let o = 0; o < out; o++) {
      const d = dOut[ob + o]!;
      for (let i = 0; i < n; i++) grads[wOff + o * n + i] = y[b * n + i]! * d + grads[wOff + o * n + i]!;
      if (bOff >= 0) grads[bOff + o] = d + grads[bOff + o]!;
    }
    this.count.macs += macs + out * n;
  }

  /**
   * The multiply-adds dense `rtrl` performs for one sample and step on this network (the kernels of its
   * tangent and gradient: G·R·n² for W_hh·Y, S(S + 2G + 1)·R·n for the column scalings, R·o·n for the readout
   * tangent, P·o for the gradient), R the layer's parameters and P all parameters
   */
  denseMacsPerSample(): number {
    const { S, G } = this.layer.unit, n = this.layer.n, R = this.layer.ownRows, out = this.network.outputSize;
    return G * R * n * n + S * (S + 2 * G + 1) * R * n + R * out * n + this.network.size * out;
  }

  /**
   * Statistics since the last call: forward activity (fraction of units with y ≠ 0), the backward-active
   * fraction (units with ∂y/∂s ≠ 0), the density of dy/dθ actually computed (its rows of active units ×
   * columns in use, over all of dy/dθ), the fraction of stored columns in use (the rest are still zero), and
   * multiply-adds per step and sample done and the ones dense RTRL would do
   */
  stats(): Record<string, number> {
    const c = this.count, perStep = Math.max(1, c.steps * this.batchSize);
    const r = {
      forwardActivity: c.units ? c.fired / c.units : 0,
      backwardActive: c.units ? c.active / c.units : 0,
      influenceDensity: c.influence / perStep,
      liveColumns: c.live / perStep,
      macsPerStep: c.macs / perStep,
      denseMacsPerStep: c.denseMacs / perStep,
      macRatio: c.denseMacs ? c.macs / c.denseMacs : 0,
    };
    Object.assign(c, { steps: 0, macs: 0, denseMacs: 0, fired: 0, active: 0, influence: 0, live: 0, units: 0 });
    return r;
  }

  flush(): void {
    // every step's gradient was added when the step ran
  }

  stateBytes(): number {
    const bytes = this.network.backend.dtype === 'float64' ? 8 : 4;
    return this.batchSize * (this.layer.unit.S + 1) * this.layer.n * this.capacity * bytes;
  }

  /** the carried buffers, and the liveness of each sample's blocks and rows as numbers */
  saveState(): LearnerState {
    const st = this.fwd.saveState(this.samples.flatMap((s) => [...s.M, s.Y]));
    for (const s of this.samples) st.traces.push([s.liveBlocks, ...s.liveOrder.subarray(0, s.liveBlocks), ...s.active]);
    return st;
  }

  loadState(state: LearnerState): void {
    this.rebuild();
    const n = this.layer.n, B = this.batchSize;
    const bufs = state.traces.slice(0, state.traces.length - B);
    this.fwd.loadState({ ...state, traces: bufs }, this.samples.flatMap((s) => [...s.M, s.Y]), this.name);
    this.samples.forEach((s, b) => {
      for (const m of s.Mnext) this.network.backend.fill(m, 0);
      const meta = state.traces[state.traces.length - B + b]!;
      const live = meta[0]!;
      if (!(Number.isInteger(live) && live >= 0 && live <= n && meta.length === 1 + live + n)) {
        throw new UnsupportedError(`sparse-rtrl state: sample ${b}'s liveness record is malformed`);
      }
      s.blockPos.fill(-1);
      s.liveBlocks = live;
      s.liveEnd = this.layout.fixedColumns;
      for (let q = 0; q < live; q++) {
        const k = meta[1 + q]!;
        s.liveOrder[q] = k;
        s.blockPos[k] = s.liveEnd;
        s.liveEnd += this.layout.blockLength(k);
      }
      for (let i = 0; i < n; i++) s.active[i] = meta[1 + live + i] ? 1 : 0;
    });
  }
}
