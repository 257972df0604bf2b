/**
 * The gradient oracles, shared by the tests and `onward gradcheck`: random sequences for a network,
 * the gradient any learner accumulates over a window of steps, central finite differences of the loss,
 * and the two numbers every comparison reports (relative error and cosine).
 */
import type { Backend } from '../backend/backend.js';
import { TsBackend } from '../backend/ts.js';
import { Rng } from '../core/rng.js';
import { Network, type ModelConfig } from '../model/network.js';
import { createLearner, type LearnerOptions } from '../learners/index.js';

export interface Sequence {
  x: Float64Array[];
  target: Float64Array[];
  mask: Float64Array[];
}

export function randomSequence(net: Network, T: number, B: number, seed: number, maskProbability = 0.7): Sequence {
  const rng = new Rng(seed);
  const { inputSize: d } = net;
  const loss = net.loss;
  const seq: Sequence = { x: [], target: [], mask: [] };
  for (let t = 0; t < T; t++) {
    const x = new Float64Array(B * d);
    rng.fillNormal(x);
    const target = new Float64Array(B * loss.targetWidth);
    if (loss.spec.kind === 'ce') for (let i = 0; i < target.length; i++) target[i] = rng.int(loss.spec.classes);
    else rng.fillNormal(target);
    const mask = new Float64Array(B);
    for (let b = 0; b < B; b++) mask[b] = rng.bernoulli(maskProbability) ? 1 : 0;
    seq.x.push(x);
    seq.target.push(target);
    seq.mask.push(mask);
  }
  return seq;
}

export function f64Network(config: ModelConfig, seed = 1, be: Backend = new TsBackend('float64')): Network {
  return new Network(config, be, seed);
}

/** total loss L of the sequence under the current parameters */
export function sequenceLoss(net: Network, seq: Sequence, B: number): number {
  const learner = createLearner('bptt', net, { batchSize: B });
  learner.startSequence();
  let L = 0;
  for (let t = 0; t < seq.x.length; t++) L += learner.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
  return L;
}

/**
 * The gradient a learner accumulates over steps [0, stop) of the sequence, counting only steps ≥ from
 * (the gradient store is zeroed at `from`, after the learner has been stepped through the earlier steps).
 */
export function learnerGradient(name: string, net: Network, seq: Sequence, B: number,
  { from = 0, stop = seq.x.length, options = {} }: { from?: number; stop?: number; options?: Partial<LearnerOptions> } = {}): Float64Array {
  const learner = createLearner(name, net, { batchSize: B, ...options });
  learner.startSequence();
  net.zeroGrads();
  for (let t = 0; t < stop; t++) {
    if (t === from) {
      learner.flush();
      net.zeroGrads();
    }
    learner.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
  }
  learner.flush();
  return Float64Array.from(net.grads.flat.data);
}

/** central finite differences of the sequence loss with respect to every parameter */
export function finiteDifferenceGradient(net: Network, seq: Sequence, B: number, eps = 1e-6): Float64Array {
  const p = net.params.flat.data;
  const g = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) {
    const keep = p[i]!;
    p[i] = keep + eps;
    const up = sequenceLoss(net, seq, B);
    p[i] = keep - eps;
    const down = sequenceLoss(net, seq, B);
    p[i] = keep;
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}

/** ‖a − b‖ / ‖b‖ */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < b.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! ** 2;
    bb += b[i]! ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}
