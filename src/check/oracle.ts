/**
 * The gradient oracles, shared by the tests and `onward gradcheck`: random sequences for a network,
 * the gradient any learner accumulates over a window of steps, central finite differences of the loss,
 * the two numbers every comparison reports (relative error and cosine), and checkClaim — the one oracle
 * that tests an exactness claim of a learner row (learners/claims.ts) on prefixes of a sequence and on a
 * window in its middle, comparing the gradients an update applies (masked weights excluded).
 */
import type { Backend } from '../backend/backend.js';
import { TsBackend } from '../backend/ts.js';
import { Rng } from '../core/rng.js';
import { Network, type ModelConfig } from '../model/network.js';
import { createLearner, learnerInfo, type LearnerInfo, type LearnerOptions } from '../learners/index.js';
import { scopeIndices, type ExactnessClaim } from '../learners/claims.js';

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
export function learnerGradient(
  learnerRow: string | LearnerInfo,
  net: Network,
  seq: Sequence,
  B: number,
  { from = 0, stop = seq.x.length, options = {} }: { from?: number; stop?: number; options?: Partial<LearnerOptions> } = {},
): Float64Array {
  const o = { batchSize: B, ...options };
  const learner = typeof learnerRow === 'string' ? createLearner(learnerRow, net, o) : learnerRow.create(net, o);
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
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += b[i]! ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < b.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! ** 2;
    bb += b[i]! ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** one comparison of a claim: the steps compared, the relative error against the reference, pass or fail */
export interface ClaimCheck {
  /** e.g. 'steps [0, 3)' or 'window [3, 5)' */
  span: string;
  relErr: number;
  tolerance: number;
  pass: boolean;
}

export interface ClaimSetup {
  T?: number;
  B?: number;
  seed?: number;
  /** layers and units when the claim does not fix them */
  layers?: number;
  hidden?: number;
}

/** the small float64 model a claim is checked on: the claim's conditions, defaults elsewhere */
export function claimModel(claim: ExactnessClaim, model: string, { layers = 2, hidden = 4 }: ClaimSetup = {}): ModelConfig {
  const w = claim.when;
  return {
    model,
    inputSize: 3,
    hidden: w.hidden ?? hidden,
    layers: w.layers ?? layers,
    outputSize: 4,
    loss: { kind: 'ce', classes: 2 },
    ...(w.recurrent === false && model !== 'lru' ? { recurrent: false } : {}),
    ...(w.sparse === true && model !== 'lru' ? { density: 0.5 } : {}),
    ...(model === 'lru' ? { stateSize: 3, rMin: 0.4, rMax: 0.95 } : {}),
  };
}

/** the loss of steps [from, stop) only: the mask zeroed elsewhere (the window oracle's sequence) */
export function windowed(seq: Sequence, from: number, stop: number): Sequence {
  return { ...seq, mask: seq.mask.map((m, t) => (t >= from && t < stop ? m : m.map(() => 0))) };
}

/**
 * The one oracle loop: a learner's gradient against a reference on the given parameters, over the prefixes
 * [0, stop) of a sequence and over windows [from, stop) in its middle (the learner stepped through the steps
 * before the window, the reference BPTT's gradient of the window's loss only — credit from before the window
 * must arrive). Exact to `tolerance`: relative error ≤ tolerance and every entry within
 * tolerance·|reference| + tolerance·1e-3; tolerance 0 is bit for bit.
 */
export function oracleChecks(
  learnerRow: string | LearnerInfo,
  net: Network,
  seq: Sequence,
  B: number,
  spec: {
    tolerance: number;
    stops?: readonly number[];
    windows?: readonly (readonly [number, number])[];
    /** the flat parameter indices compared (default: every parameter an update applies) */
    indices?: readonly number[];
    options?: Partial<LearnerOptions>;
    /** the reference learner (default 'bptt') */
    against?: string;
  },
): ClaimCheck[] {
  const T = seq.x.length,
    tol = spec.tolerance,
    against = spec.against ?? 'bptt',
    options = spec.options ?? {};
  // the reference runs with the claim's options it reads itself (tbptt's window), none of the others
  const declared = new Set((against === 'bptt' ? [] : (learnerInfo(against).options ?? [])).map((o) => o.name));
  const refOptions = Object.fromEntries(Object.entries(options).filter(([k]) => declared.has(k as keyof LearnerOptions)));
  const idx = spec.indices ?? scopeIndices(net, 'all');
  const judge = (span: string, g: Float64Array, ref: Float64Array): ClaimCheck => {
    const a = idx.map((k) => g[k]!),
      b = idx.map((k) => ref[k]!);
    const relErr = relativeError(a, b);
    const pass =
      tol === 0
        ? a.every((v, k) => v === b[k])
        : relErr <= tol && a.every((v, k) => Math.abs(v - b[k]!) <= tol * Math.abs(b[k]!) + tol * 1e-3);
    return { span, relErr, tolerance: tol, pass };
  };
  const checks: ClaimCheck[] = [];
  for (const stop of spec.stops ?? [T]) {
    checks.push(
      judge(
        `steps [0, ${stop})`,
        learnerGradient(learnerRow, net, seq, B, { stop, options }),
        learnerGradient(against, net, seq, B, { stop, options: refOptions }),
      ),
    );
  }
  for (const [from, stop] of spec.windows ?? []) {
    const ref =
      against === 'bptt'
        ? learnerGradient('bptt', net, windowed(seq, from, stop), B, { stop })
        : learnerGradient(against, net, seq, B, { from, stop, options: refOptions });
    checks.push(judge(`window [${from}, ${stop})`, learnerGradient(learnerRow, net, seq, B, { from, stop, options }), ref));
  }
  return checks;
}

/**
 * Check one claim of a learner row on one unit model: the learner's gradient on the claimed parameters
 * against the reference over the prefixes [0, 1), [0, T/2), [0, T) and — for learners that add each step's
 * gradient as it runs — the window [T/2, T−1) in the middle (credit from before the window must arrive).
 * BPTT's own claim is against central finite differences of the whole sequence.
 */
export function checkClaim(info: LearnerInfo, claim: ExactnessClaim, model: string, setup: ClaimSetup = {}): ClaimCheck[] {
  const { T = 6, B = 2, seed = 0 } = setup;
  const net = f64Network(claimModel(claim, model, setup), seed + 1);
  const seq = randomSequence(net, T, B, seed + 2);
  const indices = scopeIndices(net, claim.params);
  if (claim.against === 'finite-differences') {
    const g = learnerGradient(info, net, seq, B, { options: claim.options ?? {} }),
      fd = finiteDifferenceGradient(net, seq, B);
    const a = indices.map((k) => g[k]!),
      b = indices.map((k) => fd[k]!),
      relErr = relativeError(a, b);
    return [{ span: `steps [0, ${T}) vs finite differences`, relErr, tolerance: claim.tolerance, pass: relErr <= claim.tolerance }];
  }
  const half = Math.max(1, Math.floor(T / 2));
  return oracleChecks(info, net, seq, B, {
    tolerance: claim.tolerance,
    indices,
    options: claim.options ?? {},
    against: claim.against ?? 'bptt',
    stops: [...new Set([1, half, T])],
    windows: !info.reverse && T >= 4 ? [[half, T - 1]] : [],
  });
}
