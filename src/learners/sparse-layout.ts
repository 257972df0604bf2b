/**
 * Which parameters of a recurrent layer sparse RTRL stores a column of influence for, and where.
 *
 * Columns, in order:
 *   W_ih[r, j] for every kept (unmasked) entry, row r = g·n + i after row r    — the fixed part, always stored
 *   b_ih[r], b_hh[r], then the unit parameters φ_p[i]
 *   W_hh[r, k] for every kept entry, grouped by the presynaptic unit k          — one block per k, stored only
 *                                                                                  once unit k has fired
 * A W_hh block is zero until its presynaptic unit first emits a non-zero output, so each sample appends
 * blocks in the order its units fire; the block's position is per sample, its contents (which rows r) are
 * shared. Masked entries get no column at all. Built again when masks change (between sequences).
 */
import type { Buf } from '../backend/backend.js';
import type { ParamStore } from '../core/params.js';
import type { RecurrentLayer } from '../modules/recurrent.js';

export class ColumnLayout {
  /** kept W_ih entries of row r are the columns ihStart[r] .. ihStart[r+1]−1; ihInput[col] is their j */
  readonly ihStart: Int32Array;
  readonly ihInput: Int32Array;
  biasIhColumn = 0;
  biasHhColumn = 0;
  phiColumn = 0;
  fixedColumns = 0;
  maxColumns = 0;
  /** the flat parameter index of each fixed column */
  readonly columnParam: Int32Array;
  /** kept W_hh entries of row r: hhPresyn[e] = k for e in hhStart[r] .. hhStart[r+1]−1, hhEntry[e] = its index in block k */
  readonly hhStart: Int32Array;
  readonly hhPresyn: Int32Array;
  readonly hhEntry: Int32Array;
  /** block k holds the rows blockRow[blockStart[k] .. blockStart[k+1]−1] of column k of W_hh */
  readonly blockStart: Int32Array;
  readonly blockRow: Int32Array;
  readonly whhOffset: number;
  private readonly wihOffset: number;
  private readonly bihOffset: number;
  private readonly bhhOffset: number;
  private readonly phiOffsets: number[];

  constructor(
    private readonly layer: RecurrentLayer,
    params: ParamStore,
    prefix: string,
  ) {
    const n = layer.n,
      Gn = layer.unit.G * n,
      inp = layer.inSize;
    this.ihStart = new Int32Array(Gn + 1);
    this.ihInput = new Int32Array(Gn * inp);
    this.columnParam = new Int32Array(Gn * inp + 2 * Gn + layer.unit.unitParams.length * n);
    this.hhStart = new Int32Array(Gn + 1);
    this.hhPresyn = new Int32Array(Gn * n);
    this.hhEntry = new Int32Array(Gn * n);
    this.blockStart = new Int32Array(n + 1);
    this.blockRow = new Int32Array(Gn * n);
    this.wihOffset = params.entry(prefix + 'weight_ih').offset;
    this.whhOffset = params.entry(prefix + 'weight_hh').offset;
    this.bihOffset = params.entry(prefix + 'bias_ih').offset;
    this.bhhOffset = params.entry(prefix + 'bias_hh').offset;
    this.phiOffsets = layer.unit.unitParams.map((p) => params.entry(prefix + p.name).offset);
  }

  blockLength(k: number): number {
    return this.blockStart[k + 1]! - this.blockStart[k]!;
  }

  /** lay out the columns for these masks (null: nothing masked) */
  build(maskIh: Buf | null, maskHh: Buf | null): void {
    const n = this.layer.n,
      Gn = this.layer.unit.G * n,
      inp = this.layer.inSize,
      Phi = this.phiOffsets.length;
    const mIh = maskIh?.data ?? null,
      mHh = maskHh?.data ?? null;
    let col = 0;
    for (let r = 0; r < Gn; r++) {
      this.ihStart[r] = col;
      for (let j = 0; j < inp; j++) {
        if (mIh && mIh[r * inp + j] === 0) continue;
        this.ihInput[col] = j;
        this.columnParam[col] = this.wihOffset + r * inp + j;
        col++;
      }
    }
    this.ihStart[Gn] = col;
    this.biasIhColumn = col;
    for (let r = 0; r < Gn; r++) this.columnParam[col++] = this.bihOffset + r;
    this.biasHhColumn = col;
    for (let r = 0; r < Gn; r++) this.columnParam[col++] = this.bhhOffset + r;
    this.phiColumn = col;
    for (let p = 0; p < Phi; p++) for (let i = 0; i < n; i++) this.columnParam[col++] = this.phiOffsets[p]! + i;
    this.fixedColumns = col;
    // W_hh blocks by presynaptic unit k (rows in ascending order), then the row-wise index into them
    let e = 0;
    for (let k = 0; k < n; k++) {
      this.blockStart[k] = e;
      for (let r = 0; r < Gn; r++) if (mHh?.[r * n + k] !== 0) this.blockRow[e++] = r;
    }
    this.blockStart[n] = e;
    this.maxColumns = col + e;
    const seen = new Int32Array(n); // entries of block k already met while walking rows in order
    let q = 0;
    for (let r = 0; r < Gn; r++) {
      this.hhStart[r] = q;
      for (let k = 0; k < n; k++) {
        if (mHh && mHh[r * n + k] === 0) continue;
        this.hhPresyn[q] = k;
        this.hhEntry[q] = seen[k]!++;
        q++;
      }
    }
    this.hhStart[Gn] = q;
  }
}
