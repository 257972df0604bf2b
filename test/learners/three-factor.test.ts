/**
 * three-factor (learners/three-factor.ts): a modulator equal to e-prop's output error — in a one-output network,
 * (ŷ − y*)·mask/B, computed outside from a twin e-prop learner's prediction — gives e-prop's gradient; without a
 * modulator it is eprop (also a claim of the table); the modulator's shapes (a number, one per sample, one per
 * sample and output) broadcast alike; bad modulators get typed errors; and a reward-modulated toy learns: the
 * learner never sees the target, only a reward for an exploratory action (REINFORCE as the third factor).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig } from '../../src/model/network.js';
import { createLearner, hasModulator, type ModulatedLearner } from '../../src/learners/index.js';
import { ConfigError, NonFiniteError, ShapeError } from '../../src/core/errors.js';
import { f64Network, randomSequence, relativeError } from '../../src/check/oracle.js';
import { Rng } from '../../src/core/rng.js';

const config = (model: string, extra: Partial<ModelConfig> = {}): ModelConfig => ({
  model,
  inputSize: 3,
  hidden: 4,
  layers: 2,
  outputSize: 1,
  loss: { kind: 'mse' },
  ...extra,
});

function modulated(net: ReturnType<typeof f64Network>, B: number): ModulatedLearner {
  const l = createLearner('three-factor', net, { batchSize: B });
  assert.ok(hasModulator(l));
  return l;
}

describe('three-factor', () => {
  for (const model of ['gru', 'lstm', 'leaky']) {
    test(`${model}: the modulator (ŷ − y*)·mask/B of a one-output network gives eprop's gradient`, () => {
      const B = 2,
        T = 6;
      const netE = f64Network(config(model), 3),
        netM = f64Network(config(model), 3);
      const seq = randomSequence(netE, T, B, 4);
      const eprop = createLearner('eprop', netE, { batchSize: B }),
        three = modulated(netM, B);
      eprop.startSequence();
      three.startSequence();
      netE.zeroGrads();
      netM.zeroGrads();
      for (let t = 0; t < T; t++) {
        eprop.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
        three.step(seq.x[t]!, null, null);
        const y = three.output.data,
          m = new Float64Array(B);
        for (let b = 0; b < B; b++) m[b] = (seq.mask[t]![b]! / B) * (y[b]! - seq.target[t]![b]!);
        three.modulate(m);
      }
      const g = Array.from(netM.grads.flat.data),
        ref = Array.from(netE.grads.flat.data);
      assert.ok(ref.some((v) => v !== 0));
      assert.ok(relativeError(g, ref) <= 1e-14, `relative error ${relativeError(g, ref)}`);
    });
  }

  test('a number, one per sample, one per sample and output: the same broadcast', () => {
    const B = 3;
    const run = (m: number | number[]): number[] => {
      const net = f64Network({ ...config('gru'), outputSize: 2 }, 5);
      const seq = randomSequence(net, 3, B, 6);
      const l = modulated(net, B);
      l.startSequence();
      net.zeroGrads();
      for (let t = 0; t < 3; t++) {
        l.step(seq.x[t]!, null, null);
        l.modulate(m);
      }
      return Array.from(net.grads.flat.data);
    };
    const a = run(0.25);
    assert.ok(a.some((v) => v !== 0));
    assert.deepEqual(run([0.25, 0.25, 0.25]), a);
    assert.deepEqual(run(new Array(6).fill(0.25)), a);
    assert.notDeepEqual(run([0.25, 0, 0.25]), a);
  });

  test('typed errors: before any step, a wrong length, a non-finite value; other learners have no modulator', () => {
    const net = f64Network(config('gru'), 1);
    const l = modulated(net, 2);
    l.startSequence();
    assert.throws(() => l.modulate(1), ConfigError);
    l.step(new Float64Array(6), null, null);
    assert.throws(() => l.modulate([1, 2, 3]), ShapeError);
    assert.throws(() => l.modulate(Number.NaN), NonFiniteError);
    assert.throws(() => l.modulate([0, Number.POSITIVE_INFINITY]), NonFiniteError);
    assert.ok(!hasModulator(createLearner('eprop', net, { batchSize: 2 })));
  });

  test('a reward-modulated toy learns: only a reward for an exploratory action reaches the learner', () => {
    // target y* = 0.8·x0 − 0.5·x1 is never shown; each step the policy acts a = ŷ + σξ and gets r = −(a − y*)²;
    // the third factor is REINFORCE's −(r − r̄)·ξ/σ per sample (r̄ the batch's mean reward), averaged over the batch
    const B = 16,
      T = 8,
      sigma = 0.3,
      lr = 0.05;
    const net = f64Network({ ...config('rnn'), inputSize: 2, hidden: 8, layers: 1 }, 7);
    const l = modulated(net, B);
    const rng = new Rng(8);
    const batch = (r: Rng): { x: Float64Array[]; y: Float64Array[] } => {
      const x: Float64Array[] = [],
        y: Float64Array[] = [];
      for (let t = 0; t < T; t++) {
        const xt = new Float64Array(B * 2);
        r.fillNormal(xt);
        x.push(xt);
        y.push(Float64Array.from({ length: B }, (_, b) => 0.8 * xt[2 * b]! - 0.5 * xt[2 * b + 1]!));
      }
      return { x, y };
    };
    const held = batch(new Rng(99));
    const mse = (): number => {
      l.startSequence();
      let s = 0;
      for (let t = 0; t < T; t++) {
        l.step(held.x[t]!, null, null);
        for (let b = 0; b < B; b++) s += (l.output.data[b]! - held.y[t]![b]!) ** 2 / (B * T);
      }
      return s;
    };
    const before = mse();
    const p = net.params.flat.data,
      g = net.grads.flat.data;
    for (let episode = 0; episode < 150; episode++) {
      const { x, y } = batch(rng);
      l.startSequence();
      net.zeroGrads();
      for (let t = 0; t < T; t++) {
        l.step(x[t]!, null, null);
        const xi = Float64Array.from({ length: B }, () => rng.normal(0, 1));
        const reward = Float64Array.from({ length: B }, (_, b) => -((l.output.data[b]! + sigma * xi[b]! - y[t]![b]!) ** 2));
        const mean = reward.reduce((a, v) => a + v, 0) / B;
        l.modulate(Float64Array.from({ length: B }, (_, b) => (-(reward[b]! - mean) * xi[b]!) / sigma / B));
      }
      for (let k = 0; k < p.length; k++) p[k] = p[k]! - lr * g[k]!;
    }
    const after = mse();
    assert.ok(after < 0.5 * before, `held-out squared error ${before.toFixed(4)} → ${after.toFixed(4)}`);
  });
});
