/** --threads: a batch split over worker threads gives one thread's loss, outputs and gradient. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackend } from '../../src/backend/index.js';
import { Rng } from '../../src/core/rng.js';
import { createLearner } from '../../src/learners/index.js';
import { Network, type ModelConfig } from '../../src/model/network.js';
import { ParallelLearner, splitBatch } from '../../src/train/parallel.js';
import { expectAllClose } from '../helpers.js';

function sequence(T: number, B: number, d: number, o: number): { x: Float64Array[]; y: Float64Array[]; mask: Float64Array } {
  const rng = new Rng(3);
  const draw = (n: number): Float64Array => {
    const v = new Float64Array(n);
    rng.fillNormal(v);
    return v;
  };
  return {
    x: Array.from({ length: T }, () => draw(B * d)),
    y: Array.from({ length: T }, () => draw(B * o)),
    mask: Float64Array.from({ length: B }, (_, b) => (b % 3 === 2 ? 0 : 1)),
  };
}

test('splitBatch covers the batch in order, shares differing by at most one', () => {
  assert.deepEqual(splitBatch(5, 2), [
    { start: 0, B: 2 },
    { start: 2, B: 3 },
  ]);
  assert.deepEqual(splitBatch(16, 2), [
    { start: 0, B: 8 },
    { start: 8, B: 8 },
  ]);
});

const cases: [string, ModelConfig, 'ts' | 'wasm', number][] = [
  ['bptt', { model: 'gru', inputSize: 3, hidden: 6, layers: 1, outputSize: 2, loss: { kind: 'mse' } }, 'ts', 1e-12],
  ['online-lru', { model: 'lru', inputSize: 3, hidden: 8, layers: 2, stateSize: 4, outputSize: 2, loss: { kind: 'mse' } }, 'ts', 1e-12],
  ['eprop', { model: 'gru', inputSize: 3, hidden: 6, layers: 1, outputSize: 2, loss: { kind: 'mse' } }, 'wasm', 1e-5],
];

for (const [name, config, backend, tol] of cases) {
  test(`${name} on 2 threads equals 1 thread (${backend}: loss, outputs, gradient after two sequences with an update between)`, () => {
    const B = 5,
      T = 7;
    const run = (threads: number): { loss: number[]; out: number[]; grad: Float64Array; params: Float64Array } => {
      const net = new Network(config, createBackend({ backend, dtype: backend === 'ts' ? 'float64' : 'float32' }), 1);
      const learner = threads > 1 ? new ParallelLearner(net, name, { batchSize: B }, threads) : createLearner(name, net, { batchSize: B });
      const seq = sequence(T, B, config.inputSize, config.outputSize);
      const loss: number[] = [],
        out: number[] = [];
      let grad = new Float64Array(0);
      for (let round = 0; round < 2; round++) {
        learner.startSequence();
        for (let t = 0; t < T; t++) {
          loss.push(learner.step(seq.x[t]!, t === 3 ? null : seq.y[t]!, seq.mask));
          out.push(...learner.output.data);
        }
        learner.flush();
        grad = Float64Array.from(net.grads.flat.data);
        // an optimizer step between the sequences: the workers must see the new parameters
        net.backend.axpy(-0.1, net.grads.flat, net.params.flat);
        net.zeroGrads();
      }
      if (learner instanceof ParallelLearner) learner.close();
      return { loss, out, grad, params: Float64Array.from(net.params.flat.data) };
    };
    const one = run(1),
      two = run(2);
    expectAllClose(two.loss, one.loss, { rtol: tol, atol: tol }, 'loss per step');
    expectAllClose(two.out, one.out, { rtol: tol, atol: tol }, 'outputs');
    expectAllClose(two.grad, one.grad, { rtol: tol, atol: tol }, 'gradient');
    expectAllClose(two.params, one.params, { rtol: tol, atol: tol }, 'parameters after two updates');
    assert.ok(one.grad.some((g) => g !== 0));
  });
}

test('threads need a batch of at least as many samples', () => {
  const net = new Network(cases[0]![1], createBackend({ backend: 'ts' }), 1);
  assert.throws(() => new ParallelLearner(net, 'bptt', { batchSize: 1 }, 2), /needs a batch of at least 2 samples/);
});
