/**
 * `gru`: the gated recurrent unit exactly as PyTorch's nn.GRU computes it (gate rows r, z, n).
 *
 *   r = σ(a_r),  z = σ(a_z)                 a_r = W_ir x + b_ir + W_hr h + b_hr  (same for z)
 *   n = tanh(a_nx + r ⊙ a_nh)               a_nx = W_in x + b_in,  a_nh = W_hn h + b_hn
 *   h' = (1 − z) ⊙ n + z ⊙ h
 *
 * S = 1, K = 4 channels (r, z, n_x, n_h), G = 3 gate blocks; W_ih blocks feed (r, z, n_x), W_hh blocks
 * feed (r, z, n_h): the reset gate multiplies only the recurrent part of the candidate.
 * Local partials: ∂f/∂s = z; ∂f/∂a_r = (1−z)(1−n²)·a_nh·r(1−r); ∂f/∂a_z = (h − n)·z(1−z);
 * ∂f/∂a_nx = (1−z)(1−n²); ∂f/∂a_nh = (1−z)(1−n²)·r; ∂h/∂s = 1.
 */
import { sigmoid, type UnitModel } from './unit.js';

export const gruUnit: UnitModel = {
  name: 'gru',
  description: 'gated recurrent unit, gates r, z, n as PyTorch nn.GRU',
  S: 1,
  K: 4,
  G: 3,
  ihChannel: [0, 1, 2],
  unitParams: [],
  hhChannel: [0, 1, 3],
  kernel: 'gru', // the native backend's fused cell (Backend.gruStep): the same step in float32 SIMD
  step(B, n, io) {
    const { sPrev, preIh, preHh, sNext, y, dfds, dfda, dhds } = io;
    for (let b = 0; b < B; b++) {
      const g = b * 3 * n; // gate blocks of this sample
      const s = b * n;
      for (let i = 0; i < n; i++) {
        const r = sigmoid(preIh[g + i]! + preHh[g + i]!);
        const z = sigmoid(preIh[g + n + i]! + preHh[g + n + i]!);
        const anh = preHh[g + 2 * n + i]!;
        const c = Math.tanh(preIh[g + 2 * n + i]! + r * anh);
        const h = sPrev[s + i]!;
        const hNew = (1 - z) * c + z * h;
        sNext[s + i] = hNew;
        y[s + i] = hNew;
        if (dfds && dfda && dhds) {
          const dc = (1 - z) * (1 - c * c); // ∂h'/∂(candidate preactivation)
          dfds[s + i] = z;
          const a = b * 4 * n;
          dfda[a + i] = dc * anh * r * (1 - r);
          dfda[a + n + i] = (h - c) * z * (1 - z);
          dfda[a + 2 * n + i] = dc;
          dfda[a + 3 * n + i] = dc * r;
          dhds[s + i] = 1;
        }
      }
    }
  },
};
