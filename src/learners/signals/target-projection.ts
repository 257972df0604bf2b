/**
 * The `target-projection` signal rule (DRTP: Frenkel, Lefebvre & Bol, Frontiers in Neuroscience 2021; the
 * hidden-layer signal of OSTTP, Ortner et al. 2023, Eq. 11): each hidden layer l receives a fixed random
 * projection of the *target*, not of the error:
 *
 *   L^l_t = B^l · ŷ*_t · mask_t / B        B^l: n_l × outputSize, entries N(0, 1/outputSize), drawn once from `seed`
 *
 * ŷ*_t is the target as an output-sized vector: one-hot per group of classes for `ce`, the target values
 * for `mse`; samples whose mask is 0 get no signal; 1/B is the batch average of the loss convention.
 * Centered (the default): each row of B^l has zero mean over the outputs, i.e. B^l projects the target's
 * deviation from its mean (ŷ* − 1/C for one-hot). The raw DRTP signal B^l·ŷ* (centered = false) gives every
 * unit a class-independent drive (the row mean) that never vanishes; on spiking units it saturates them —
 * measured on the `spikes` task, lif: half the units fire at every step, the other half never, accuracy at
 * chance — while the centered projection keeps only the class-dependent part and trains.
 * The signal needs neither the network's output nor any weight of another layer, so a layer can learn as
 * soon as its own forward step is done (no weight transport, no update locking). The matrices never
 * change; they are part of the learner's checkpoint state (buffers()).
 *
 * API: const tp = new TargetProjection(network, seed);
 *      tp.encode(B, target, mask)   once per step: ŷ*_t·mask/B into an internal buffer (checked like a loss target)
 *      tp.signal(i, out)            L^i_t (B × n_i) for recurrent module i
 *      tp.buffers(), tp.bytes
 */
import type { Buf } from '../../backend/backend.js';
import { NonFiniteError, ShapeError } from '../../core/errors.js';
import { drawFeedbackMatrices } from './random-feedback.js';
import type { Network } from '../../model/network.js';
import type { SignalRule } from '../rules.js';

export class TargetProjection {
  /** by module index: the projection matrix of each recurrent module (null for feed-forward ones) */
  readonly matrices: (Buf | null)[];
  /** ŷ*_t·mask/B for the current step (B × outputSize) */
  private readonly encoded: Buf;

  constructor(
    readonly network: Network,
    readonly B: number,
    seed: number,
    readonly centered = true,
  ) {
    const be = network.backend,
      out = network.outputSize;
    this.matrices = drawFeedbackMatrices(network, seed).map((v, i) => {
      if (!v) return null;
      const m = network.modules[i]!;
      if (centered) {
        for (let i = 0; i < m.outSize; i++) {
          let mean = 0;
          for (let c = 0; c < out; c++) mean += v[i * out + c]! / out;
          for (let c = 0; c < out; c++) v[i * out + c] = v[i * out + c]! - mean;
        }
      }
      return be.from(v);
    });
    this.encoded = be.alloc(B * out);
  }

  /** write ŷ*_t·mask_b/B (one-hot per class group for ce) for the step's B samples */
  encode(target: ArrayLike<number>, mask: ArrayLike<number> | null): void {
    const loss = this.network.loss,
      o = this.network.outputSize,
      B = this.B,
      w = loss.targetWidth;
    if (target.length !== B * w) throw new ShapeError(`target projection: target has ${target.length} numbers, expected B×${w} = ${B * w}`);
    if (mask && mask.length !== B) throw new ShapeError(`target projection: mask has ${mask.length} numbers, expected B = ${B}`);
    const e = this.encoded.data;
    for (let b = 0; b < B; b++) {
      const scale = (mask ? mask[b]! : 1) / B;
      if (loss.spec.kind === 'mse') {
        for (let j = 0; j < o; j++) {
          const t = target[b * o + j]!;
          if (scale !== 0 && !Number.isFinite(t)) throw new NonFiniteError(`target (sample ${b}, output ${j}) is ${t}`);
          e[b * o + j] = scale === 0 ? 0 : scale * t;
        }
      } else {
        const C = loss.spec.classes;
        for (let j = 0; j < o; j++) e[b * o + j] = 0;
        if (scale === 0) continue;
        for (let g = 0; g < loss.groups; g++) {
          const cls = target[b * loss.groups + g]!;
          if (!Number.isInteger(cls) || cls < 0 || cls >= C)
            throw new ShapeError(`ce target (sample ${b}, group ${g}) is ${cls}; class ids are integers 0..${C - 1}`);
          e[b * o + g * C + cls] = scale;
        }
      }
    }
  }

  /** out (B × n_i) = encoded target (B × outputSize) · B^iᵀ */
  signal(i: number, out: Buf): void {
    const Bm = this.matrices[i]!,
      o = this.network.outputSize,
      n = this.network.modules[i]!.outSize;
    out.backend.gemm(false, true, this.B, n, o, 1, this.encoded, Bm, 0, out);
  }

  buffers(): Buf[] {
    return this.matrices.filter((m): m is Buf => m !== null);
  }

  get bytes(): number {
    return this.buffers().reduce((s, b) => s + b.length * (b.backend.dtype === 'float64' ? 8 : 4), 0);
  }
}

/**
 * The signal rule (frees each layer before the next runs): begin() encodes the step's target — at the scored
 * steps only, or with `everyStep` at every step (a label known for the whole sequence) — and layerSignal(i)
 * projects it for recurrent module i. The output layer learns from its own error (the step loop).
 */
export class TargetProjectionSignal implements SignalRule {
  readonly freesLayers = true;
  readonly projection: TargetProjection;

  constructor(
    network: Network,
    B: number,
    seed: number,
    centered: boolean,
    readonly everyStep: boolean,
  ) {
    this.projection = new TargetProjection(network, B, seed, centered);
  }

  get bytes(): number {
    return this.projection.bytes;
  }

  buffers(): Buf[] {
    return this.projection.buffers();
  }

  begin(target: ArrayLike<number>, mask: ArrayLike<number> | null): void {
    this.projection.encode(target, this.everyStep ? null : mask);
  }

  layerSignal(i: number, out: Buf): void {
    this.projection.signal(i, out);
  }
}
