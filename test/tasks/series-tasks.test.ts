/**
 * The regression tasks of the perturbation paper: Mackey-Glass and the synthetic weather series are seeded
 * (same seed, same numbers), shaped as declared, shift the target by the horizon, mask the warm-up; NRMSE
 * is 0 for a perfect prediction and 1 for predicting the mean.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { MetricAccumulator } from '../../src/train/metrics.js';
import { createTask } from '../../src/tasks/index.js';
import { mackeyGlassSeries } from '../../src/tasks/mackey-glass.js';

describe('mackey-glass', () => {
  test('seeded, mean-removed, bounded, chaotic (not periodic at short lags)', () => {
    const a = mackeyGlassSeries(500, 17, 100, new Rng(1));
    assert.deepEqual(a, mackeyGlassSeries(500, 17, 100, new Rng(1)));
    assert.notDeepEqual(a, mackeyGlassSeries(500, 17, 100, new Rng(2)));
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    assert.ok(Math.abs(mean) < 1e-12);
    assert.ok(a.every((v) => Math.abs(v) < 2));
    const sd = Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    assert.ok(sd > 0.05, `the series varies (sd ${sd})`);
  });

  test('batches: target is the input `horizon` steps later, first steps unmasked only after warm-up', () => {
    const task = createTask('mackey-glass', 'ci', { length: 50, horizon: 3, warmup: 5 });
    const b = task.batch(2, new Rng(4));
    assert.equal(b.x.length, 50);
    assert.equal(task.metric, 'nrmse');
    for (let t = 0; t + 3 < 50; t++) for (let i = 0; i < 2; i++) assert.equal(b.target[t]![i], b.x[t + 3]![i]);
    assert.deepEqual(Array.from(b.mask[4]!), [0, 0]);
    assert.deepEqual(Array.from(b.mask[5]!), [1, 1]);
  });
});

describe('weather', () => {
  test('9 normalised inputs, target = next hour dry bulb, seeded', () => {
    const task = createTask('weather', 'ci', { length: 100 });
    const b = task.batch(3, new Rng(7));
    assert.deepEqual(
      b.x.map((r) => Array.from(r)),
      task.batch(3, new Rng(7)).x.map((r) => Array.from(r)),
    );
    assert.equal(b.x[0]!.length, 27);
    for (let t = 0; t + 1 < 100; t++) for (let i = 0; i < 3; i++) assert.equal(b.target[t]![i], b.x[t + 1]![i * 9 + 1]);
    const all = b.x.flatMap((r) => Array.from(r));
    assert.ok(
      all.every((v) => v > -0.5 && v < 1.5),
      'inputs are roughly in [0, 1]',
    );
    // wet bulb lies between dew point and dry bulb (in °F, before normalisation the order is kept up to scale)
    const dry = b.x[50]![1]! * 130 - 20,
      wet = b.x[50]![2]! * 120 - 20,
      dew = b.x[50]![3]! * 130 - 40;
    assert.ok(dew <= wet + 1e-9 && wet <= dry + 1e-9, `dew ${dew} ≤ wet ${wet} ≤ dry ${dry}`);
  });
});

test('nrmse: 0 for a perfect prediction, 1 for the mean, and mse is unchanged for other tasks', () => {
  const target = [1, 2, 3, 4];
  const perfect = new MetricAccumulator({ kind: 'mse' }, 1, 'nrmse');
  const meanOnly = new MetricAccumulator({ kind: 'mse' }, 1, 'nrmse');
  const mse = new MetricAccumulator({ kind: 'mse' }, 1);
  for (const y of target) {
    perfect.add(1, [y], [y], [1]);
    meanOnly.add(1, [2.5], [y], [1]);
    mse.add(1, [2.5], [y], [1]);
  }
  assert.equal(perfect.value(), 0);
  assert.ok(Math.abs(meanOnly.value() - 1) < 1e-12);
  assert.equal(mse.value(), 1.25);
});

describe('token-copy', () => {
  test('tokens, blanks, markers; target blanks then the tokens; one fixed sequence shared by training and evaluation', () => {
    const task = createTask('token-copy', 'ci', { length: 4, blanks: 2, symbols: 3 });
    const C = 5;
    const a = task.batch(2, new Rng(1)),
      b = task.batch(1, new Rng(99));
    assert.equal(a.x.length, 10);
    const hot = (row: Float64Array, s: number): number => Array.from(row.subarray(s * C, (s + 1) * C)).indexOf(1);
    const tokens = [0, 1, 2, 3].map((t) => hot(a.x[t]!, 0));
    assert.ok(tokens.every((k) => k >= 1 && k <= 3));
    assert.deepEqual(
      [4, 5].map((t) => hot(a.x[t]!, 0)),
      [0, 0],
    );
    assert.deepEqual(
      [6, 7, 8, 9].map((t) => hot(a.x[t]!, 0)),
      [4, 4, 4, 4],
    );
    assert.deepEqual(
      Array.from({ length: 6 }, (_, t) => hot(a.target[t]!, 0)),
      [0, 0, 0, 0, 0, 0],
    );
    assert.deepEqual(
      [6, 7, 8, 9].map((t) => hot(a.target[t]!, 0)),
      tokens,
    );
    assert.deepEqual(
      [0, 1, 2, 3].map((t) => hot(a.x[t]!, 1)),
      tokens,
      'the pool of one: every sample is the same sequence',
    );
    assert.deepEqual(
      [0, 1, 2, 3].map((t) => hot(b.x[t]!, 0)),
      tokens,
      'whatever the batch generator',
    );
  });

  test('a larger pool: samples are drawn from it, so batches differ across seeds but stay inside the pool', () => {
    const task = createTask('token-copy', 'ci', { pool: 5 });
    const a = task.batch(4, new Rng(1)),
      c = task.batch(4, new Rng(2));
    assert.notDeepEqual(a.x, c.x);
    const again = createTask('token-copy', 'ci', { pool: 5 }).batch(4, new Rng(1));
    assert.deepEqual(a.x, again.x, 'the pool comes from poolSeed, not from the batch generator');
  });

  test('bit accuracy of a regression onto one-hot targets: outputs thresholded at 0.5', () => {
    const m = new MetricAccumulator({ kind: 'mse' }, 4, 'bit_accuracy');
    m.add(1, [0.6, 0.2, 0.4, 0.1], [1, 0, 1, 0], [1]);
    assert.equal(m.value(), 0.75);
  });
});
