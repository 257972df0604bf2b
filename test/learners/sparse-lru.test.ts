/**
 * sparse-rtrl on LRU stacks: the full influence engine with the sparse layout (learners/traces/influence.ts),
 * which keeps one entry of each of the LRU's own ν, θ, γ, B rows (their influence on h is diagonal) and none for
 * C, D. It gives rtrl's gradient bit for bit — with pooling and dropout too — and keeps less state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLearner } from '../../src/learners/index.js';
import type { ModelConfig } from '../../src/model/network.js';
import { f64Network, learnerGradient, randomSequence } from '../../src/check/oracle.js';

const stack: ModelConfig = {
  model: 'lru',
  inputSize: 3,
  hidden: 4,
  stateSize: 3,
  layers: 2,
  outputSize: 2,
  loss: { kind: 'ce', classes: 2 },
  rMin: 0.4,
  rMax: 0.95,
};

for (const [label, config] of [
  ['two blocks', stack],
  ['one block, pooling and dropout', { ...stack, layers: 1, pooling: 'pool_st', dropout: 0.2 }],
] as [string, ModelConfig][]) {
  test(`lru stack (${label}): sparse-rtrl's gradient is rtrl's, bit for bit, at every prefix`, () => {
    const net = f64Network(config, 3);
    const B = 2,
      seq = randomSequence(net, 7, B, 4);
    for (const stop of [1, 4, 7]) {
      const dense = learnerGradient('rtrl', net, seq, B, { stop });
      const sparse = learnerGradient('sparse-rtrl', net, seq, B, { stop });
      assert.ok(dense.some((v) => v !== 0));
      const diff = dense.findIndex((v, i) => v !== sparse[i]);
      assert.equal(diff, -1, `first difference at parameter ${diff} after ${stop} steps`);
    }
  });
}

test("lru stack: sparse-rtrl keeps one entry per own ν, θ, γ, B row and none for C, D — less than rtrl's influence", () => {
  const net = f64Network(stack, 3);
  const B = 2;
  const dense = createLearner('rtrl', net, { batchSize: B }).stateBytes();
  const sparse = createLearner('sparse-rtrl', net, { batchSize: B }).stateBytes();
  // layer 0's own rows: dense 2·(3N + 4NH + H)·N numbers, sparse 2·(3N + 2NH): N = 3, H = 4
  const N = 3,
    H = 4;
  assert.ok(sparse < dense, `${sparse} < ${dense}`);
  const rowsBelow = net.rowsBefore[2]!; // the encoder and the first norm feed layer 0's LRU
  assert.equal(net.modules[2]!.kind, 'lru');
  const layer0 = 2 * (rowsBelow * N + 3 * N + 2 * N * H) * 8 * B;
  const layer0Dense = 2 * (rowsBelow + 3 * N + 4 * N * H + H) * N * 8 * B;
  assert.ok(dense - sparse >= layer0Dense - layer0, 'at least layer 0 saves its own rows');
});
