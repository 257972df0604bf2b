/**
 * The trace engine's deferred, fused step (traces/diag.ts): a step without a learning signal is applied later
 * with that step's own inputs, so e-prop stays exact where it is exact (no recurrent synapses) when some steps
 * have no loss; and the wasm engine agrees with the float64 oracle.
 */
import { test } from 'node:test';
import { createBackend } from '../../src/backend/index.js';
import { Rng } from '../../src/core/rng.js';
import { createLearner } from '../../src/learners/index.js';
import { Network, type ModelConfig } from '../../src/model/network.js';
import { expectAllClose } from '../helpers.js';

const T = 6,
  B = 2;
function gradient(name: string, config: ModelConfig, backend: 'ts' | 'wasm'): Float64Array {
  const net = new Network(config, createBackend({ backend, dtype: backend === 'ts' ? 'float64' : 'float32' }), 4);
  const learner = createLearner(name, net, { batchSize: B });
  const rng = new Rng(9);
  learner.startSequence();
  for (let t = 0; t < T; t++) {
    const x = new Float64Array(B * config.inputSize),
      y = new Float64Array(B * config.outputSize);
    rng.fillNormal(x);
    rng.fillNormal(y);
    // steps 1 and 2 carry no loss: their trace steps wait and are applied alone
    learner.step(x, t === 1 || t === 2 ? null : y, null);
  }
  learner.flush();
  return Float64Array.from(net.grads.flat.data);
}

for (const model of ['gru', 'lif', 'leaky'] as const) {
  test(`eprop equals bptt without recurrent synapses when some steps have no loss (${model}, float64)`, () => {
    const config: ModelConfig = { model, inputSize: 3, hidden: 5, layers: 1, outputSize: 2, loss: { kind: 'mse' }, recurrent: false };
    expectAllClose(gradient('eprop', config, 'ts'), gradient('bptt', config, 'ts'), { rtol: 1e-9, atol: 1e-12 }, `${model} gradient`);
  });
}

test('the wasm trace kernels give the float64 gradient of eprop and snap1 within float32 tolerance', () => {
  const config: ModelConfig = { model: 'gru', inputSize: 3, hidden: 5, layers: 1, outputSize: 2, loss: { kind: 'mse' } };
  for (const name of ['eprop', 'snap1', 'osttp']) {
    expectAllClose(gradient(name, config, 'wasm'), gradient(name, config, 'ts'), { rtol: 1e-4, atol: 1e-5 }, `${name} gradient`);
  }
});
