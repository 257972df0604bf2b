/**
 * The unit-model abstraction (docs/design.md §4). A recurrent layer has n units; unit i has a state s_i ∈ R^S,
 * receives K preactivation channels a_i ∈ R^K and emits one output y_i:
 *
 *   a_t     = W_ih·x_t + b_ih + W_hh·y_{t−1} + b_hh      (gate block g of W_ih feeds channel ihChannel[g],
 *                                                         gate block g of W_hh feeds channel hhChannel[g])
 *   s_{t,i} = f(s_{t−1,i}, a_{t,i})                       elementwise: unit i sees only its own state and channels
 *   y_{t,i} = h(s_{t,i})
 *
 * A unit model supplies f and h and their local partial derivatives; every learner is built from these.
 *
 * Layouts (per sample, component-major so that each component is a contiguous n-vector):
 *   state s:   [S][n]          s[c·n + i]
 *   preIh/Hh:  [G][n]          the gate blocks of W_ih·x + b_ih and W_hh·y + b_hh, in PyTorch's row order
 *   dfds:      [S][S][n]       ∂s_t[c] / ∂s_{t−1}[c']  at (c·S + c')·n + i
 *   dfda:      [S][K][n]       ∂s_t[c] / ∂a[k]          at (c·K + k)·n + i
 *   dhds:      [S][n]          ∂y / ∂s[c]
 *   dfdphi:    [S][Φ][n]       ∂s_t[c] / ∂φ_p            (Φ per-unit parameters, e.g. the EGRU's thresholds)
 *   dhdphi:    [Φ][n]          ∂y / ∂φ_p
 */
import type { FloatArray } from '../backend/backend.js';
import type { Rng } from '../core/rng.js';

/** A per-unit parameter φ (one number per unit), e.g. a threshold. */
export interface UnitParam {
  readonly name: string;
  init(n: number, rng: Rng): Float64Array;
}

/**
 * The arrays of one step, for B samples. The caller keeps one of these and refreshes its fields before each
 * call (typed-array views can be replaced when wasm memory grows), so a step allocates nothing.
 * Reads sPrev (B×S·n), preIh and preHh (B×G·n), phi (Φ arrays of n); writes sNext (B×S·n) and y (B×n);
 * when dfds is set also writes the local derivatives (dfds B×S·S·n, dfda B×S·K·n, dhds B×S·n, and for Φ > 0
 * dfdphi B×S·Φ·n, dhdphi B×Φ·n).
 */
export interface UnitIO {
  sPrev: FloatArray;
  preIh: FloatArray;
  preHh: FloatArray;
  phi: FloatArray[];
  sNext: FloatArray;
  y: FloatArray;
  dfds: FloatArray | null;
  dfda: FloatArray | null;
  dhds: FloatArray | null;
  dfdphi: FloatArray | null;
  dhdphi: FloatArray | null;
}

export interface UnitModel {
  readonly name: string;
  readonly description: string;
  /** state components per unit */
  readonly S: number;
  /** preactivation channels per unit */
  readonly K: number;
  /** gate blocks in weight_ih / weight_hh (rows = G·n) */
  readonly G: number;
  /** channel fed by each gate block of W_ih and of W_hh */
  readonly ihChannel: readonly number[];
  readonly hhChannel: readonly number[];
  /** per-unit parameters φ (none for rnn, gru, lstm) */
  readonly unitParams: readonly UnitParam[];
  /** one step for B samples (see UnitIO) */
  step(B: number, n: number, io: UnitIO): void;
  /** the backend kernel that computes the same step on backends with fused cells (Backend.fusedCells): 'gru' → gruStep */
  readonly kernel?: 'gru';
}

export function sigmoid(v: number): number {
  const t = Math.exp(-Math.abs(v));
  return v >= 0 ? 1 / (1 + t) : t / (1 + t);
}
