/**
 * The unit-model abstraction (DESIGN §4). A recurrent layer has n units; unit i has a state s_i ∈ R^S,
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
 */
import type { FloatArray } from '../backend/backend.js';

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
  /**
   * One step for B samples. Reads sPrev (B×S·n), preIh and preHh (B×G·n); writes sNext (B×S·n) and y (B×n);
   * when dfds is given also writes the local derivatives at this step into dfds (B×S·S·n), dfda (B×S·K·n)
   * and dhds (B×S·n).
   */
  step(B: number, n: number, sPrev: FloatArray, preIh: FloatArray, preHh: FloatArray,
    sNext: FloatArray, y: FloatArray, dfds: FloatArray | null, dfda: FloatArray | null, dhds: FloatArray | null): void;
}

export function sigmoid(v: number): number {
  const t = Math.exp(-Math.abs(v));
  return v >= 0 ? 1 / (1 + t) : t / (1 + t);
}
