/**
 * The random estimators (uoro, kf-rtrl) are unbiased: over many seeded draws on one fixed sequence, in float64
 * on the ts backend, the mean gradient equals rtrl's (= BPTT's) on every parameter within 4 standard errors
 * of the mean (the standard error measured from the draws), while the standard error is small against the
 * gradient (the test is not vacuous) and a single draw is far from it. The same statistic against a biased
 * reference (e-prop's gradient on the same sequence) fails: the test can tell.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLearner } from '../../src/learners/index.js';
import { f64Network, learnerGradient, randomSequence, relativeError } from '../../src/check/oracle.js';

/** draws per case: T = 4 steps of a 3-unit layer each, about 0.2 s per case */
const DRAWS = 4000;

interface Stats {
  mean: Float64Array;
  se: Float64Array;
  first: Float64Array;
}

function draw(learner: string, model: string): { stats: Stats; rtrl: Float64Array; eprop: Float64Array } {
  const net = f64Network({ model, inputSize: 2, hidden: 3, layers: 1, outputSize: 2, loss: { kind: 'mse' } }, 3);
  const seq = randomSequence(net, 4, 1, 7, 1);
  const rtrl = learnerGradient('rtrl', net, seq, 1),
    eprop = learnerGradient('eprop', net, seq, 1);
  const l = createLearner(learner, net, { batchSize: 1, seed: 1 });
  const P = rtrl.length,
    sum = new Float64Array(P),
    sq = new Float64Array(P);
  let first: Float64Array | null = null;
  // each sequence draws fresh signs: the generator runs on across sequences
  for (let d = 0; d < DRAWS; d++) {
    l.startSequence();
    net.zeroGrads();
    for (let t = 0; t < seq.x.length; t++) l.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
    const g = net.grads.flat.data;
    first ??= Float64Array.from(g);
    for (let k = 0; k < P; k++) {
      sum[k] = sum[k]! + g[k]!;
      sq[k] = sq[k]! + g[k]! * g[k]!;
    }
  }
  const mean = sum.map((s) => s / DRAWS);
  const se = sq.map((s, k) => Math.sqrt(Math.max(s / DRAWS - mean[k]! ** 2, 0) / (DRAWS - 1)));
  return { stats: { mean, se, first: first! }, rtrl, eprop };
}

/** the largest |mean − ref| / SE over the parameters (rounding-level deviations of exact entries count as 0) */
function worstZ(s: Stats, ref: Float64Array): number {
  let z = 0;
  for (let k = 0; k < ref.length; k++) {
    const dev = Math.abs(s.mean[k]! - ref[k]!) - 1e-9 * Math.abs(ref[k]!) - 1e-12;
    if (dev > 0) z = Math.max(z, s.se[k]! > 0 ? dev / s.se[k]! : Infinity);
  }
  return z;
}

const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

for (const learner of ['uoro', 'kf-rtrl']) {
  for (const model of ['rnn', 'gru', 'lstm', 'alif-sigmoid']) {
    test(`${learner} on ${model}: the mean of ${DRAWS} draws is rtrl's gradient, a single draw is not`, (t) => {
      const { stats, rtrl, eprop } = draw(learner, model);
      const z = worstZ(stats, rtrl),
        seRel = norm(stats.se) / norm(rtrl),
        single = relativeError(stats.first, rtrl),
        meanErr = relativeError(stats.mean, rtrl),
        zBiased = worstZ(stats, eprop);
      t.diagnostic(
        `max |mean − rtrl|/SE ${z.toFixed(2)}; ‖mean − rtrl‖/‖rtrl‖ ${meanErr.toExponential(2)}; ‖SE‖/‖rtrl‖ ${seRel.toExponential(2)}; ` +
          `one draw ‖g − rtrl‖/‖rtrl‖ ${single.toExponential(2)}; vs eprop max z ${zBiased.toFixed(1)}`,
      );
      assert.ok(z <= 4, `mean deviates from rtrl by ${z.toFixed(2)} standard errors`);
      assert.ok(seRel <= 0.1, `the standard error is ${seRel} of the gradient: too few draws to tell`);
      assert.ok(single > 0.1, `a single draw is within ${single} of rtrl: no estimate to test`);
      assert.ok(zBiased > 4, `a biased reference (eprop) passes too (${zBiased.toFixed(2)} standard errors): the test cannot tell`);
    });
  }
}

test('uoro and kf-rtrl: the same seed draws the same signs, another seed others', () => {
  const net = f64Network({ model: 'gru', inputSize: 2, hidden: 3, layers: 2, outputSize: 2, loss: { kind: 'mse' } }, 3);
  const seq = randomSequence(net, 5, 2, 7);
  for (const learner of ['uoro', 'kf-rtrl']) {
    const a = learnerGradient(learner, net, seq, 2, { options: { seed: 4 } }),
      b = learnerGradient(learner, net, seq, 2, { options: { seed: 4 } }),
      c = learnerGradient(learner, net, seq, 2, { options: { seed: 5 } });
    assert.deepEqual(Array.from(a), Array.from(b));
    assert.notDeepEqual(Array.from(a), Array.from(c));
  }
});
