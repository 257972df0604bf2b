/**
 * The `random-feedback` signal rule: each recurrent layer l receives the output error through its own fixed
 * random matrix instead of the transposed weights above it (broadcast alignment; e-prop's "random e-prop",
 * Bellec et al. 2020; Nøkland 2016):
 *
 *   L^l_t = B^l · ∂L_t/∂ŷ_t        B^l: n_l × outputSize, entries N(0, 1/outputSize), drawn once from `seed`
 *
 * No weight transport and no backward pass through the layers above. The matrices never change; they are
 * part of the learner's checkpoint state (buffers()), so a resumed run uses the very same feedback.
 *
 * API: const rf = new RandomFeedback(network, seed);  rf.signal(i, dOut, out)  for module index i;
 *      rf.buffers() for checkpoints; rf.bytes.
 */
import type { Buf } from '../../backend/backend.js';
import { Rng } from '../../core/rng.js';
import type { Network } from '../../model/network.js';

/**
 * One fixed random matrix per recurrent module (n_l × outputSize, entries N(0, 1/outputSize), drawn in module
 * order from `seed`), null for feed-forward modules — shared by random feedback and target projection
 */
export function drawFeedbackMatrices(network: Network, seed: number): (Float64Array | null)[] {
  const out = network.outputSize, rng = new Rng(seed), std = 1 / Math.sqrt(out);
  return network.modules.map((m) => {
    if (!m.recurrent) return null;
    const v = new Float64Array(m.outSize * out);
    for (let k = 0; k < v.length; k++) v[k] = rng.normal(0, std);
    return v;
  });
}

export class RandomFeedback {
  /** by module index: the feedback matrix of each recurrent module (null for feed-forward ones) */
  readonly matrices: (Buf | null)[];

  constructor(readonly network: Network, seed: number) {
    this.matrices = drawFeedbackMatrices(network, seed).map((v) => (v ? network.backend.from(v) : null));
  }

  /** out (B × n_i) = dOut (B × outputSize) · B^iᵀ */
  signal(i: number, dOut: Buf, out: Buf): void {
    const Bm = this.matrices[i]!, o = this.network.outputSize, n = this.network.modules[i]!.outSize;
    out.backend.gemm(false, true, dOut.length / o, n, o, 1, dOut, Bm, 0, out);
  }

  buffers(): Buf[] {
    return this.matrices.filter((m): m is Buf => m !== null);
  }

  get bytes(): number {
    return this.buffers().reduce((s, b) => s + b.length * (b.backend.dtype === 'float64' ? 8 : 4), 0);
  }
}
