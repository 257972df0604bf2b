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
import type { BackwardWorkspace, Network, RecurrentBackward } from '../../model/network.js';
import type { SignalRule, SignalStep } from '../rules.js';

/**
 * One fixed random matrix per recurrent module (n_l × outputSize, entries N(0, 1/outputSize), drawn in module
 * order from `seed`), null for feed-forward modules — shared by random feedback and target projection
 */
export function drawFeedbackMatrices(network: Network, seed: number): (Float64Array | null)[] {
  const out = network.outputSize,
    rng = new Rng(seed),
    std = 1 / Math.sqrt(out);
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

  constructor(
    readonly network: Network,
    seed: number,
  ) {
    this.matrices = drawFeedbackMatrices(network, seed).map((v) => (v ? network.backend.from(v) : null));
  }

  /** out (B × n_i) = dOut (B × outputSize) · B^iᵀ */
  signal(i: number, dOut: Buf, out: Buf): void {
    const Bm = this.matrices[i]!,
      o = this.network.outputSize,
      n = this.network.modules[i]!.outSize;
    out.backend.gemm(false, true, dOut.length / o, n, o, 1, dOut, Bm, 0, out);
  }

  buffers(): Buf[] {
    return this.matrices.filter((m): m is Buf => m !== null);
  }

  get bytes(): number {
    return this.buffers().reduce((s, b) => s + b.length * (b.backend.dtype === 'float64' ? 8 : 4), 0);
  }
}

/**
 * The signal rule: every recurrent module's trace engine gets its random projection of the output error,
 * and nothing passes below a recurrent module (dx = 0); the feed-forward modules above the top recurrent
 * layer (the readout) still get their exact gradient from the walk at time t.
 */
export class RandomFeedbackSignal implements SignalRule {
  readonly freesLayers = false;
  readonly feedback: RandomFeedback;
  private readonly signals: (Buf | null)[];
  private readonly workspace: BackwardWorkspace;
  private current: SignalStep | null = null;
  private readonly atTimeT: RecurrentBackward;

  constructor(
    readonly network: Network,
    B: number,
    seed: number,
  ) {
    const be = network.backend;
    this.feedback = new RandomFeedback(network, seed);
    this.signals = network.modules.map((m) => (m.recurrent ? be.alloc(B * m.outSize) : null));
    this.workspace = network.createBackwardWorkspace(B);
    this.atTimeT = (i, _m, _cache, _dy, dx) => {
      const s = this.current!,
        sig = this.signals[i]!;
      // the layer's signal is its random projection of the output error; nothing passes down
      this.feedback.signal(i, s.dOut, sig);
      s.trace.accumulate(s.caches, i, sig, null);
      if (dx) dx.backend.fill(dx, 0);
    };
  }

  get bytes(): number {
    return this.feedback.bytes;
  }

  buffers(): Buf[] {
    return this.feedback.buffers();
  }

  deliver(step: SignalStep): void {
    this.current = step;
    this.network.backwardStep(step.caches, step.dOut, this.workspace, this.atTimeT);
  }
}
