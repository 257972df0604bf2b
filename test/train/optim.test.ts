/** Optimizers and schedules: the formulas of PyTorch's SGD / Adam / AdamW, clipping, readable learning rate. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TsBackend } from '../../src/backend/ts.js';
import { createOptimizer, clipByGlobalNorm, constant, warmupCosine } from '../../src/optim/index.js';
import { ConfigError, UnknownNameError } from '../../src/core/errors.js';
import { expectAllClose } from '../helpers.js';

const be = new TsBackend('float64');

test('adam follows the bias-corrected formula; adamw decays the weights directly, adam adds l2 to the gradient', () => {
  for (const name of ['adam', 'adamw'] as const) {
    const opt = createOptimizer({ name, lr: 0.1, weightDecay: 0.5 });
    const p = be.from([1, -2]),
      g = be.from([0.3, 0.4]);
    const s = opt.init(be, 2);
    opt.update(g, s, p);
    // first step: m̂ = g', v̂ = g'² → step = lr·sign(g') (up to ε)
    const want =
      name === 'adam' ? [1 - 0.1 * Math.sign(0.3 + 0.5), -2 - 0.1 * Math.sign(0.4 - 1)] : [1 * (1 - 0.05) - 0.1, -2 * (1 - 0.05) - 0.1];
    expectAllClose(p.data, want, { rtol: 1e-7, atol: 1e-7 }, name);
    assert.equal(s.count, 1);
  }
});

test('sgd with momentum accumulates velocity', () => {
  const opt = createOptimizer({ name: 'sgd', lr: 0.5, momentum: 0.9 });
  const p = be.from([0]),
    g = be.from([1]);
  const s = opt.init(be, 1);
  opt.update(g, s, p);
  opt.update(g, s, p);
  // v1 = 1, p1 = -0.5; v2 = 1.9, p2 = -0.5 - 0.95
  expectAllClose(p.data, [-1.45], { rtol: 1e-12, atol: 0 });
  assert.deepEqual(Object.keys(s.buffers), ['velocity']);
});

test('clipping by global norm rescales only gradients above the bound', () => {
  const g = be.from([3, 4]);
  assert.equal(clipByGlobalNorm(g, 10), 5);
  assert.deepEqual(Array.from(g.data), [3, 4]);
  assert.equal(clipByGlobalNorm(g, 1), 5);
  expectAllClose(g.data, [0.6, 0.8], { rtol: 1e-12, atol: 0 });
  const opt = createOptimizer({ name: 'sgd', lr: 1, clip: 1 });
  const p = be.from([0, 0]);
  opt.update(be.from([30, 40]), opt.init(be, 2), p);
  expectAllClose(p.data, [-0.6, -0.8], { rtol: 1e-12, atol: 0 });
});

test('schedules: constant, and linear warm-up then cosine decay; the current rate is readable', () => {
  assert.equal(constant(0.3)(1000), 0.3);
  const s = warmupCosine({ peak: 1, warmup: 4, total: 14, min: 0.1 });
  expectAllClose([s(0), s(3), s(4), s(9), s(14), s(99)], [0.25, 1, 1, 0.55, 0.1, 0.1], { rtol: 1e-12, atol: 1e-12 });
  const opt = createOptimizer({ name: 'adam', lr: s });
  const st = opt.init(be, 1);
  assert.equal(opt.learningRate(st), 0.25);
  opt.update(be.from([1]), st, be.from([0]));
  assert.equal(opt.learningRate(st), 0.5);
});

test('bad optimizer settings are refused', () => {
  assert.throws(() => createOptimizer({ name: 'lion' as never, lr: 1 }), UnknownNameError);
  assert.throws(() => createOptimizer({ name: 'sgd', lr: -1 }), ConfigError);
  assert.throws(() => createOptimizer({ name: 'sgd', lr: 1, momentum: 1.5 }), ConfigError);
  assert.throws(() => warmupCosine({ peak: 1, warmup: 5, total: 3 }), ConfigError);
});
