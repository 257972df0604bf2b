/**
 * `sparse-rtrl` — exact RTRL that never multiplies by a zero it can know about (Subramoney, "Efficient
 * real time recurrent learning through combined activity and parameter sparsity", 2023).
 *
 * Each recurrent layer l keeps its influence M^l_t = ds^l_t/dθ per unit (row i: the influence of every stored
 * parameter of layers ≤ l on unit i's state) and updates it exactly as `rtrl` does:
 *   M_t[i] = Σ_c' ∂f/∂s_c'[i]·M_{t−1}[i] + Σ_g ∂f/∂a_ih(g)[i]·(Σ_j W_ih[g,i,j]·Y^{l−1}_t[j] + immediate)
 *                                        + Σ_g ∂f/∂a_hh(g)[i]·(Σ_k W_hh[g,i,k]·Y^l_{t−1}[k] + immediate),
 *   Y^l_t[i] = ∂h/∂s[i]·M_t[i] (+ ∂h/∂φ),      ∂L_t/∂θ = Σ_o ∂L_t/∂ŷ_o · Σ_i W_out[o,i]·Y^top_t[i],
 * where Y = dy/dθ. Three kinds of work are skipped, each a product with an exact zero, so nothing is
 * approximated:
 * - units (rows of Y): an EGRU unit that is silent and farther than the pseudo-derivative's width from its
 *   threshold has ∂y/∂c = 0, so its row of Y is zero; the sums over j and k, and the readout, visit only
 *   units with a non-zero row (the "backward-active" units);
 * - masked parameters: a pruned weight is a constant zero — it has no column in M and no term in the sums;
 * - columns still zero: the influence on W_hh[·,·,k] is zero until unit k first emits a non-zero y, so the
 *   columns of W_hh are grouped by presynaptic unit k and a group is appended to the stored columns only
 *   when k first fires (a column block is all zeros until then, so appending it moves no data).
 * Columns are numbered once for the whole stack (layer 0's, then layer 1's, ...), so the rows of Y^{l−1} and
 * of M^l line up on the columns they share.
 * Exactness: in float64 on the `ts` backend every skipped term is a ±0 added to a sum that `rtrl` adds in the
 * same order, so the gradient equals `rtrl`'s bit for bit (up to the sign of an exact zero); see
 * test/learners/sparse-rtrl.test.ts. Any unit model; stacks of recurrent layers under a dense readout.
 * Cost per step and sample, one layer: with α the backward-active fraction, δ the weight density and C ≤ δ·p
 * the stored columns, about α·δ·G·n²·C + S(S+G)·n·C multiply-adds instead of G·n²·p (dense RTRL, p = the
 * layer's parameters); the learner counts both (`stats()`), with the forward activity, the backward-active
 * fraction, the density of the influence dy/dθ it had to compute and the share of stored columns in use.
 * Memory: (S + 1)·n_l·C_{≤l} numbers per layer and sample.
 * As a row of the learner table it is the `sparse` trace rule (SparseInfluence) × the output error, run by the
 * one step loop (composed.ts); its checkpoint adds the liveness of the column blocks and rows.
 * Reference: A. Subramoney, arXiv:2303.05641 (2023); R. J. Williams, D. Zipser, Neural Computation 1(2), 1989.
 */
import type { Backend, Buf } from '../backend/backend.js';
import { ensureMemory } from '../backend/memory.js';
import { ShapeError, UnsupportedError } from '../core/errors.js';
import type { Network } from '../model/network.js';
import type { ModuleCache } from '../modules/module.js';
import { RecurrentLayer, type RecCache } from '../modules/recurrent.js';
import { ComposedLearner } from './composed.js';
import type { LearnerOptions } from './learner.js';
import type { TraceRule } from './rules.js';
import { OutputError } from './signals/output.js';
import { ColumnLayout } from './sparse-layout.js';

/** one layer's influence in one sample, and which of the layer's own column blocks are live */
interface LayerInfluence {
  M: Buf[];
  Mnext: Buf[];
  /** dy_t/dθ, valid in the rows of `active` units */
  Y: Buf;
  /** start column (within the layer's own columns) of each presynaptic unit's W_hh block, −1 while zero */
  blockPos: Int32Array;
  /** the live blocks in the order they became live */
  liveOrder: Int32Array;
  liveBlocks: number;
  /** own columns in use: the fixed ones and the live blocks */
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
  units: number;
  computed: number;
  dense: number;
  live: number;
  stored: number;
}

const zeroCounters = (): Counters => ({
  steps: 0,
  macs: 0,
  denseMacs: 0,
  fired: 0,
  active: 0,
  units: 0,
  computed: 0,
  dense: 0,
  live: 0,
  stored: 0,
});

/** the `sparse` trace rule: rtrl's influence with every exact zero skipped (takes the output error) */
export class SparseInfluence implements TraceRule {
  readonly takes = 'output';
  readonly advancesInAccumulate = false;
  readonly batchSize: number;
  /** the layers' outputs of the step (the forward pass's activations), bound by the learner */
  acts: Buf[] = [];
  private readonly be: Backend;
  private caches: readonly ModuleCache[] = [];
  private readonly layers: RecurrentLayer[];
  private readonly layouts: ColumnLayout[];
  /** first column of each layer's own columns, and each layer's influence width (its columns and all below) */
  private readonly colOffset: number[];
  private readonly width: number[];
  private samples: LayerInfluence[][] = [];
  private capacity: number[] = [];
  /** (start, end) column pairs of the stored columns in use, rebuilt per layer as the step walks up */
  private readonly segments: Int32Array;
  private segmentCount = 0;
  /** scratch rows: a contraction D, and the readout's tangent and gradient rows */
  private D!: Buf;
  private readoutRow!: Buf;
  private gradRow!: Buf;
  private dOut!: Buf;
  private macs = 0;
  private count: Counters = zeroCounters();

  constructor(
    readonly network: Network,
    B: number,
  ) {
    if (network.config.decorrelate)
      throw new UnsupportedError(
        'sparse-rtrl does not support decorrelated models (decorrelate: true); use bptt or a perturbation learner',
      );
    const mods = network.modules;
    const L = mods.length - 1;
    const layers = mods.slice(0, L);
    if (
      L < 1 ||
      !layers.every((m): m is RecurrentLayer => m instanceof RecurrentLayer) ||
      network.skipFrom.some((j) => j !== null && j !== undefined)
    ) {
      throw new UnsupportedError(
        `sparse-rtrl supports stacks of recurrent layers under a readout; the ${network.config.model} network is not one — use rtrl`,
      );
    }
    this.be = network.backend;
    this.batchSize = B;
    this.layers = layers;
    this.layouts = layers.map((layer, l) => new ColumnLayout(layer, network.params, network.prefixes[l]!));
    this.colOffset = layers.map(() => 0);
    this.width = layers.map(() => 0);
    this.segments = new Int32Array(2 * L);
    this.rebuild();
  }

  /** lay the columns out for the current masks; (re)allocate the influence when their number changed */
  rebuild(): void {
    const net = this.network,
      be = this.be;
    const caps = this.layouts.map((layout, l) => {
      const p = net.prefixes[l]!;
      layout.build(net.masks.get(p + 'weight_ih') ?? null, net.masks.get(p + 'weight_hh') ?? null);
      return layout.maxColumns;
    });
    if (caps.length === this.capacity.length && caps.every((c, l) => c === this.capacity[l])) return;
    this.capacity = caps;
    let offset = 0;
    caps.forEach((c, l) => {
      this.colOffset[l] = offset;
      offset += c;
      this.width[l] = offset;
    });
    // M, Mnext and Y of every layer and sample: refuse up front what cannot fit (backend/memory.ts)
    const eb = be.dtype === 'float64' ? 8 : 4;
    ensureMemory(
      be,
      `sparse-rtrl's influence columns (${this.batchSize} samples)`,
      eb * (3 * offset + this.batchSize * this.layers.reduce((s, layer, l) => s + (2 * layer.unit.S + 1) * layer.n * this.width[l]!, 0)),
    );
    this.D = be.alloc(offset);
    this.readoutRow = be.alloc(offset);
    this.gradRow = be.alloc(offset);
    this.samples = Array.from({ length: this.batchSize }, () =>
      this.layers.map((layer, l) => ({
        M: Array.from({ length: layer.unit.S }, () => be.alloc(layer.n * this.width[l]!)),
        Mnext: Array.from({ length: layer.unit.S }, () => be.alloc(layer.n * this.width[l]!)),
        Y: be.alloc(layer.n * this.width[l]!),
        blockPos: new Int32Array(layer.n),
        liveOrder: new Int32Array(layer.n),
        liveBlocks: 0,
        liveEnd: 0,
        active: new Uint8Array(layer.n),
      })),
    );
  }

  reset(): void {
    // masks change only between sequences as far as the stored columns are concerned: a weight pruned in the
    // middle of a sequence keeps its column (its gradient is masked) until the next one starts
    this.rebuild();
    for (const sample of this.samples) {
      sample.forEach((s, l) => {
        // both halves of M: a column block that joins later is assumed zero in whichever half holds M then
        for (const m of s.M) this.be.fill(m, 0);
        for (const m of s.Mnext) this.be.fill(m, 0);
        this.be.fill(s.Y, 0);
        s.blockPos.fill(-1);
        s.liveBlocks = 0;
        s.liveEnd = this.layouts[l]!.fixedColumns;
        s.active.fill(0);
      });
    }
  }

  /** every sample's influence one step forward (the gradient follows in accumulate) */
  advance(caches: readonly ModuleCache[]): void {
    this.caches = caches;
    this.macs = 0;
    for (let b = 0; b < this.batchSize; b++) {
      for (let l = 0; l < this.layers.length; l++) this.influenceStep(b, l);
    }
    const c = this.count;
    c.steps++;
    c.macs += this.macs;
    c.denseMacs += this.batchSize * this.denseMacsPerSample();
  }

  /** ∂L_t/∂θ from the output error, sample by sample */
  accumulate(_caches: readonly ModuleCache[], _i: number | null, dOut: Buf): void {
    this.dOut = dOut;
    this.macs = 0;
    for (let b = 0; b < this.batchSize; b++) this.gradientStep(b);
    this.count.macs += this.macs;
  }

  /** the column ranges in use for layer l's influence: every layer's own columns up to its live end */
  private setSegments(sample: LayerInfluence[], l: number): void {
    for (let j = 0; j <= l; j++) {
      this.segments[2 * j] = this.colOffset[j]!;
      this.segments[2 * j + 1] = this.colOffset[j]! + sample[j]!.liveEnd;
    }
    this.segmentCount = l + 1;
  }

  /** y[yRow + cols] ← α·x[xRow + cols] + β·y[yRow + cols] over the first `upTo` segments */
  private rows(alpha: number, x: Buf, xRow: number, beta: number, y: Buf, yRow: number, upTo = this.segmentCount): void {
    const seg = this.segments;
    for (let q = 0; q < upTo; q++) {
      const a = seg[2 * q]!,
        len = seg[2 * q + 1]! - a;
      this.be.axpbyAt(len, alpha, x, xRow + a, beta, y, yRow + a);
      this.macs += len;
    }
  }

  /** M^l_t and Y^l_t of sample b from M^l_{t−1}, Y^l_{t−1}, Y^{l−1}_t and this step's local partials */
  private influenceStep(b: number, l: number): void {
    const layer = this.layers[l]!,
      Lay = this.layouts[l]!,
      sample = this.samples[b]!,
      s = sample[l]!;
    const cache = this.caches[l] as RecCache,
      net = this.network;
    const { S, K, G, ihChannel, hhChannel } = layer.unit;
    const n = layer.n,
      inp = layer.inSize,
      Phi = layer.unit.unitParams.length,
      w = this.width[l]!,
      own = this.colOffset[l]!;
    const x = cache.x.data,
      yPrev = cache.yPrev.data,
      dfds = cache.dfds.data,
      dfda = cache.dfda.data;
    const dhds = cache.dhds.data,
      dfdphi = cache.dfdphi.data,
      dhdphi = cache.dhdphi.data;
    const Wih = net.params.buf(net.prefixes[l] + 'weight_ih').data,
      Whh = net.params.buf(net.prefixes[l] + 'weight_hh').data;
    const below = l > 0 ? sample[l - 1]! : null,
      wBelow = l > 0 ? this.width[l - 1]! : 0;
    const xb = b * inp,
      yb = b * n,
      fb = b * S * S * n,
      ab = b * S * K * n,
      hb = b * S * n;
    // the W_hh blocks of units that fired at t−1 join the stored columns; their influence is zero so far
    for (let k = 0; k < n; k++) {
      if (yPrev[yb + k] !== 0 && s.blockPos[k]! < 0) {
        s.blockPos[k] = s.liveEnd;
        s.liveOrder[s.liveBlocks++] = k;
        s.liveEnd += Lay.blockLength(k);
      }
    }
    this.setSegments(sample, l);
    const D = this.D,
      active = s.active;
    for (let i = 0; i < n; i++) {
      const row = i * w;
      // the unit's own recurrence: Mnext_c = Σ_c' ∂f_c/∂s_c' · M_c'
      for (let c = 0; c < S; c++) {
        for (let c2 = 0; c2 < S; c2++) this.rows(dfds[fb + (c * S + c2) * n + i]!, s.M[c2]!, row, c2 === 0 ? 0 : 1, s.Mnext[c]!, row);
      }
      for (let g = 0; g < G; g++) {
        const r = g * n + i;
        // from below: D = Σ_j W_ih[r,j]·Y^{l−1}[j] over the layer below's active units, on the columns below
        if (below) {
          let terms = 0;
          for (let e = Lay.ihStart[r]!; e < Lay.ihStart[r + 1]!; e++) {
            const j = Lay.ihInput[e]!;
            if (below.active[j]) this.rows(Wih[r * inp + j]!, below.Y, j * wBelow, terms++ === 0 ? 0 : 1, D, 0, l);
          }
          if (terms > 0) for (let c = 0; c < S; c++) this.rows(dfda[ab + (c * K + ihChannel[g]!) * n + i]!, D, 0, 1, s.Mnext[c]!, row, l);
        }
        // and the immediate terms: x_j at W_ih[r, j], 1 at b_ih[r]
        for (let c = 0; c < S; c++) {
          const a = dfda[ab + (c * K + ihChannel[g]!) * n + i]!,
            m = s.Mnext[c]!.data;
          for (let col = Lay.ihStart[r]!; col < Lay.ihStart[r + 1]!; col++)
            m[row + own + col] = m[row + own + col]! + x[xb + Lay.ihInput[col]!]! * a;
          const cb = row + own + Lay.biasIhColumn + r;
          m[cb] = m[cb]! + a;
        }
        this.macs += S * (Lay.ihStart[r + 1]! - Lay.ihStart[r]! + 1);
        // recurrent: D = Σ_k W_hh[r,k]·Y_{t−1}[k] over the active k, then the immediate terms
        let terms = 0;
        for (let e = Lay.hhStart[r]!; e < Lay.hhStart[r + 1]!; e++) {
          const k = Lay.hhPresyn[e]!;
          if (active[k]) this.rows(Whh[r * n + k]!, s.Y, k * w, terms++ === 0 ? 0 : 1, D, 0);
        }
        if (terms > 0) {
          const d = D.data;
          for (let e = Lay.hhStart[r]!; e < Lay.hhStart[r + 1]!; e++) {
            const k = Lay.hhPresyn[e]!,
              yk = yPrev[yb + k]!;
            if (yk !== 0) {
              const col = own + s.blockPos[k]! + Lay.hhEntry[e]!;
              d[col] = d[col]! + yk;
            }
          }
          const cb = own + Lay.biasHhColumn + r;
          d[cb] = d[cb]! + 1;
          for (let c = 0; c < S; c++) this.rows(dfda[ab + (c * K + hhChannel[g]!) * n + i]!, D, 0, 1, s.Mnext[c]!, row);
        } else {
          // no active presynaptic unit: D holds only the immediate terms, added where they are
          for (let c = 0; c < S; c++) {
            const a = dfda[ab + (c * K + hhChannel[g]!) * n + i]!,
              m = s.Mnext[c]!.data;
            for (let e = Lay.hhStart[r]!; e < Lay.hhStart[r + 1]!; e++) {
              const k = Lay.hhPresyn[e]!,
                yk = yPrev[yb + k]!;
              if (yk !== 0) {
                const col = row + own + s.blockPos[k]! + Lay.hhEntry[e]!;
                m[col] = m[col]! + yk * a;
                this.macs++;
              }
            }
            const cb = row + own + Lay.biasHhColumn + r;
            m[cb] = m[cb]! + a;
          }
        }
      }
      // unit parameters φ: their immediate terms
      for (let c = 0; c < S; c++) {
        const m = s.Mnext[c]!.data;
        for (let p = 0; p < Phi; p++) {
          const col = row + own + Lay.phiColumn + p * n + i;
          m[col] = m[col]! + dfdphi[((b * S + c) * Phi + p) * n + i]!;
        }
      }
    }
    const t = s.M;
    s.M = s.Mnext;
    s.Mnext = t;
    // Y_t = ∂h/∂s · M_t (+ ∂h/∂φ), only for units where that is not exactly zero
    let nActive = 0,
      nFired = 0;
    const y = this.acts[l]!.data;
    for (let i = 0; i < n; i++) {
      if (y[yb + i] !== 0) nFired++;
      let on = false;
      for (let c = 0; c < S && !on; c++) on = dhds[hb + c * n + i] !== 0;
      for (let p = 0; p < Phi && !on; p++) on = dhdphi[(b * Phi + p) * n + i] !== 0;
      active[i] = on ? 1 : 0;
      if (!on) continue;
      nActive++;
      const row = i * w;
      for (let c = 0; c < S; c++) this.rows(dhds[hb + c * n + i]!, s.M[c]!, row, c === 0 ? 0 : 1, s.Y, row);
      const Yd = s.Y.data;
      for (let p = 0; p < Phi; p++) {
        const col = row + own + Lay.phiColumn + p * n + i;
        Yd[col] = Yd[col]! + dhdphi[(b * Phi + p) * n + i]!;
      }
    }
    let inUse = 0;
    for (let q = 0; q < this.segmentCount; q++) inUse += this.segments[2 * q + 1]! - this.segments[2 * q]!;
    const cnt = this.count;
    cnt.fired += nFired;
    cnt.active += nActive;
    cnt.units += n;
    cnt.computed += nActive * inUse;
    cnt.dense += n * (net.rowsBefore[l]! + net.ownRows[l]!);
    cnt.live += inUse;
    cnt.stored += w;
  }

  /** ∂L_t/∂θ for sample b: through the readout from the active rows of the top Y, and the readout's own */
  private gradientStep(b: number): void {
    const net = this.network,
      top = this.layers.length - 1,
      sample = this.samples[b]!,
      s = sample[top]!;
    const n = this.layers[top]!.n,
      out = net.outputSize,
      w = this.width[top]!;
    const readout = net.prefixes[top + 1]!;
    const Wout = net.params.buf(readout + 'weight').data,
      dOut = this.dOut.data,
      ob = b * out;
    this.setSegments(sample, top);
    let rowsDone = 0;
    for (let o = 0; o < out; o++) {
      // the readout's tangent row o: Σ_i W_out[o,i]·Y[i] over the active units, then its share of the gradient
      let terms = 0;
      for (let i = 0; i < n; i++) {
        if (s.active[i]) this.rows(Wout[o * n + i]!, s.Y, i * w, terms++ === 0 ? 0 : 1, this.readoutRow, 0);
      }
      if (terms > 0) this.rows(dOut[ob + o]!, this.readoutRow, 0, rowsDone++ === 0 ? 0 : 1, this.gradRow, 0);
    }
    const grads = net.grads.flat.data;
    if (rowsDone > 0) {
      const g = this.gradRow.data;
      this.layouts.forEach((Lay, l) => {
        const own = this.colOffset[l]!,
          lay = sample[l]!,
          colParam = Lay.columnParam,
          nl = this.layers[l]!.n;
        for (let col = 0; col < Lay.fixedColumns; col++) grads[colParam[col]!] = g[own + col]! + grads[colParam[col]!]!;
        for (let q = 0; q < lay.liveBlocks; q++) {
          const k = lay.liveOrder[q]!;
          for (let e = Lay.blockStart[k]!, col = own + lay.blockPos[k]!; e < Lay.blockStart[k + 1]!; e++, col++) {
            const p = Lay.whhOffset + Lay.blockRow[e]! * nl + k;
            grads[p] = g[col]! + grads[p]!;
          }
        }
      });
    }
    // the readout's own parameters: ∂ŷ_o/∂W_out[o,i] = y_i, ∂ŷ_o/∂b_o = 1
    const y = this.acts[top]!.data,
      wOff = net.params.entry(readout + 'weight').offset;
    const bOff = net.params.has(readout + 'bias') ? net.params.entry(readout + 'bias').offset : -1;
    for (let o = 0; o < out; o++) {
      const d = dOut[ob + o]!;
      for (let i = 0; i < n; i++) grads[wOff + o * n + i] = y[b * n + i]! * d + grads[wOff + o * n + i]!;
      if (bOff >= 0) grads[bOff + o] = d + grads[bOff + o]!;
    }
    this.macs += out * n;
  }

  /**
   * The multiply-adds dense `rtrl` performs for one sample and step on this network: per layer (R rows of
   * parameters up to it, R_in of them below it) G·R·n² for W_hh·Y, G·R_in·n·d for W_ih·Y^{l−1} and
   * S(S + 2G + 1)·R·n for the column scalings; then the readout's tangent (R_top·o·n) and the gradient (P·o)
   */
  denseMacsPerSample(): number {
    const net = this.network,
      out = net.outputSize;
    let macs = 0;
    this.layers.forEach((layer, l) => {
      const { S, G } = layer.unit,
        n = layer.n,
        Rin = net.rowsBefore[l]!,
        R = Rin + net.ownRows[l]!;
      macs += G * R * n * n + G * Rin * n * layer.inSize + S * (S + 2 * G + 1) * R * n;
    });
    const top = this.layers.length;
    return macs + net.rowsBefore[top]! * out * this.layers[top - 1]!.n + net.size * out;
  }

  /**
   * Statistics since the last call, over all layers: forward activity (fraction of units with y ≠ 0), the
   * backward-active fraction (units with ∂y/∂s ≠ 0), the density of dy/dθ actually computed (rows of active
   * units × columns in use, over all of dy/dθ), the share of stored columns in use (the rest are still zero),
   * and multiply-adds per step and sample: done, and the ones dense RTRL would do
   */
  stats(): Record<string, number> {
    const c = this.count,
      perStep = Math.max(1, c.steps * this.batchSize);
    const r = {
      forwardActivity: c.units ? c.fired / c.units : 0,
      backwardActive: c.units ? c.active / c.units : 0,
      influenceDensity: c.dense ? c.computed / c.dense : 0,
      liveColumns: c.stored ? c.live / c.stored : 0,
      macsPerStep: c.macs / perStep,
      denseMacsPerStep: c.denseMacs / perStep,
      macRatio: c.denseMacs ? c.macs / c.denseMacs : 0,
    };
    this.count = zeroCounters();
    return r;
  }

  get bytes(): number {
    const bytes = this.be.dtype === 'float64' ? 8 : 4;
    let numbers = 0;
    for (const [l, layer] of this.layers.entries()) numbers += (layer.unit.S + 1) * layer.n * this.width[l]!;
    return this.batchSize * numbers * bytes;
  }

  buffers(): Buf[] {
    return this.samples.flatMap((sample) => sample.flatMap((s) => [...s.M, s.Y]));
  }

  bindActivations(acts: Buf[]): void {
    this.acts = acts;
  }

  /** per sample and layer the liveness of its blocks and rows, as numbers (the checkpoint's tail) */
  extraState(): number[][] {
    const out: number[][] = [];
    for (const sample of this.samples) {
      for (const s of sample) out.push([s.liveBlocks, ...s.liveOrder.subarray(0, s.liveBlocks), ...s.active]);
    }
    return out;
  }

  get extraRecords(): number {
    return this.batchSize * this.layers.length;
  }

  /** restore what extraState() wrote, after the carried buffers were loaded */
  loadExtraState(meta: readonly number[][]): void {
    for (const [b, sample] of this.samples.entries()) {
      for (const [l, s] of sample.entries()) {
        const n = this.layers[l]!.n,
          rec = meta[b * this.layers.length + l]!,
          live = rec[0]!;
        if (!(Number.isInteger(live) && live >= 0 && live <= n && rec.length === 1 + live + n)) {
          throw new ShapeError(`sparse-rtrl state: the liveness record of sample ${b}, layer ${l} is malformed`);
        }
        for (const m of s.Mnext) this.be.fill(m, 0);
        s.blockPos.fill(-1);
        s.liveBlocks = live;
        s.liveEnd = this.layouts[l]!.fixedColumns;
        for (let q = 0; q < live; q++) {
          const k = rec[1 + q]!;
          if (!(Number.isInteger(k) && k >= 0 && k < n) || s.blockPos[k]! >= 0) {
            throw new ShapeError(`sparse-rtrl state: the liveness record of sample ${b}, layer ${l} is malformed`);
          }
          s.liveOrder[q] = k;
          s.blockPos[k] = s.liveEnd;
          s.liveEnd += this.layouts[l]!.blockLength(k);
        }
        for (let i = 0; i < n; i++) s.active[i] = rec[1 + live + i] ? 1 : 0;
      }
    }
  }
}

/** sparse-rtrl: the sparse influence × the output error (its checkpoint also holds the liveness records) */
export class SparseRtrlLearner extends ComposedLearner {
  constructor(network: Network, options: LearnerOptions) {
    super(network, options, 'sparse-rtrl', new SparseInfluence(network, options.batchSize), new OutputError());
  }

  /** the multiply-adds dense rtrl performs per sample and step on this network */
  denseMacsPerSample(): number {
    return (this.trace as SparseInfluence).denseMacsPerSample();
  }
}
