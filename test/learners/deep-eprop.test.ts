/**
 * The `deep` trace rule (traces carried up the stack through the inter-layer Jacobians): `deep-rtrl`
 * (within-layer Jacobian full) is exact on stacks of every unit model; `deep-eprop` (within-layer Jacobian =
 * each unit's own ∂f/∂s) is exact on stacks of diagonal layers and approximate otherwise. Float64, whole
 * sequences, prefixes and windows in the middle of a sequence.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig } from '../../src/model/network.js';
import { createLearner } from '../../src/learners/index.js';
import { f64Network, learnerGradient, oracleChecks, randomSequence, relativeError, type Sequence } from '../../src/check/oracle.js';
import { expectChecksPass } from '../helpers.js';
import type { Network } from '../../src/model/network.js';

const B = 2,
  T = 6;

function config(model: string, extra: Partial<ModelConfig> = {}): ModelConfig {
  return {
    model,
    inputSize: 3,
    hidden: 4,
    layers: 2,
    outputSize: 4,
    loss: { kind: 'ce', classes: 2 },
    ...(model === 'lru' ? { stateSize: 3, rMin: 0.4, rMax: 0.95 } : {}),
    ...extra,
  };
}

function expectBptt(learner: string, net: Network, seq: Sequence, what: string): void {
  expectChecksPass(oracleChecks(learner, net, seq, B, { tolerance: 1e-9, stops: [2, T], windows: [[3, 5]] }), `${learner}, ${what}`);
}

function layerError(learner: string, net: Network, seq: Sequence, prefix: string): number {
  const g = learnerGradient(learner, net, seq, B),
    bptt = learnerGradient('bptt', net, seq, B);
  const idx: number[] = [];
  for (const name of net.params.names()) {
    if (!name.startsWith(prefix)) continue;
    const e = net.params.entry(name);
    for (let i = 0; i < e.size; i++) idx.push(e.offset + i);
  }
  return relativeError(
    idx.map((i) => g[i]!),
    idx.map((i) => bptt[i]!),
  );
}

for (const model of ['rnn', 'gru', 'lstm', 'egru', 'leaky', 'lru']) {
  describe(`deep traces on ${model} stacks`, () => {
    test('deep-rtrl equals BPTT (2 and 3 layers)', () => {
      for (const layers of [2, 3]) {
        const net = f64Network(config(model, { layers }), 61 + layers);
        expectBptt('deep-rtrl', net, randomSequence(net, T, B, 62, 1), `${layers} layers`);
      }
    });

    if (model === 'lru') {
      test('deep-eprop equals BPTT on the LRU stack (its recurrence is diagonal)', () => {
        const net = f64Network(config(model), 63);
        expectBptt('deep-eprop', net, randomSequence(net, T, B, 64, 1), 'lru stack');
      });
      return;
    }

    test('deep-eprop equals BPTT on stacks without recurrent synapses (2 and 3 layers); layer-local eprop does not', () => {
      for (const layers of [2, 3]) {
        const net = f64Network(config(model, { layers, recurrent: false }), 65 + layers);
        const seq = randomSequence(net, T, B, 66, 1);
        expectBptt('deep-eprop', net, seq, `${layers} layers, no recurrent synapses`);
        // an Elman layer without recurrent synapses has no memory (∂f/∂s = 0): nothing for eprop to drop
        if (model === 'rnn') assert.ok(relativeError(learnerGradient('eprop', net, seq, B), learnerGradient('bptt', net, seq, B)) <= 1e-9);
        else
          assert.ok(
            layerError('eprop', net, seq, 'layers.0.') > 1e-4,
            "eprop drops the lower layer's path through the upper layer's memory",
          );
      }
    });

    test('one layer: deep-eprop is eprop (the signal at the top is the signal at the layer)', () => {
      const net = f64Network(config(model, { layers: 1 }), 67);
      const seq = randomSequence(net, T, B, 68);
      const err = relativeError(learnerGradient('deep-eprop', net, seq, B), learnerGradient('eprop', net, seq, B));
      assert.ok(err <= 1e-9, `relative error ${err}`);
    });

    test("with recurrent synapses, the top layer's and the readout's gradients are eprop's (the same own traces and signal); the layers below are not", () => {
      for (const layers of [2, 3]) {
        const net = f64Network(config(model, { layers }), 75 + layers);
        const seq = randomSequence(net, T, B, 76);
        const deep = learnerGradient('deep-eprop', net, seq, B),
          eprop = learnerGradient('eprop', net, seq, B);
        const top = net.rowsBefore[layers - 1]!;
        const err = relativeError(deep.slice(top), eprop.slice(top));
        assert.ok(err <= 1e-12, `${layers} layers, top layer and readout: relative error ${err}`);
        // an Elman unit has no memory of its own (∂f/∂s = 0): there is nothing to carry up the stack
        if (model !== 'rnn')
          assert.ok(relativeError(deep.slice(0, top), eprop.slice(0, top)) > 1e-6, 'the lower layers get the traces carried up the stack');
      }
    });

    test('with recurrent synapses deep-eprop is approximate, in every layer (negative control)', () => {
      const net = f64Network(config(model), 69);
      const seq = randomSequence(net, T, B, 70, 1);
      for (const layer of ['layers.0.', 'layers.1.']) assert.ok(layerError('deep-eprop', net, seq, layer) > 1e-4, layer);
      assert.ok(layerError('deep-eprop', net, seq, 'readout.') <= 1e-9, 'the readout is exact');
    });
  });
}

describe('deep traces: memory', () => {
  test('deep-eprop keeps S·P_k per own layer and S·N_l·P_k per layer pair l > k per sample; deep-rtrl S + 1 rows of N_l·P_k for every l ≥ k', () => {
    const P0 = 4 * 3 * (3 + 3 + 2),
      P1 = 4 * 3 * (3 + 3 + 2),
      n = 3,
      S = 2;
    const two = f64Network(config('lstm', { hidden: 3 }), 71);
    assert.equal(createLearner('deep-eprop', two, { batchSize: B }).stateBytes(), (S * P0 + S * P1 + S * n * P0) * B * 8);
    assert.equal(createLearner('deep-rtrl', two, { batchSize: B }).stateBytes(), (S + 1) * (n * P0 + n * (P0 + P1)) * B * 8);
    // a third layer adds its own traces and one pair for each layer below
    const three = f64Network(config('lstm', { hidden: 3, layers: 3 }), 72);
    assert.equal(createLearner('deep-eprop', three, { batchSize: B }).stateBytes(), (3 * S * P1 + S * n * (P0 + P0 + P1)) * B * 8);
  });

  test('on LRU stacks deep-eprop runs on the full influence engine (diagonal layers: the same numbers as rtrl)', () => {
    const net = f64Network(config('lru'), 73);
    assert.equal(
      createLearner('deep-eprop', net, { batchSize: B }).stateBytes(),
      createLearner('rtrl', net, { batchSize: B }).stateBytes(),
    );
  });
});
