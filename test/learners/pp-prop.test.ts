/**
 * pp-prop (learners/traces/pp-prop.ts): the factorised trace of one step is (1 − α) times e-prop's immediate
 * trace (ε_f = (1 − α)·∂f/∂a, ε_p = p_0); the unit parameters keep their exact per-unit traces; its state is
 * O(B(I + O)) — the formula of its header, and far below e-prop's per-synapse traces; α = 0 on rnn equals
 * eprop (also a claim of the table) and α > 0 differs; LRU stacks are refused with the reason.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig } from '../../src/model/network.js';
import { createLearner } from '../../src/learners/index.js';
import { UnsupportedError } from '../../src/core/errors.js';
import { f64Network, learnerGradient, randomSequence, relativeError } from '../../src/check/oracle.js';

const B = 2;
const config = (model: string, extra: Partial<ModelConfig> = {}): ModelConfig => ({
  model,
  inputSize: 3,
  hidden: 4,
  layers: 2,
  outputSize: 3,
  loss: { kind: 'ce', classes: 3 },
  ...extra,
});

describe('pp-prop', () => {
  for (const model of ['gru', 'lstm', 'leaky']) {
    test(`${model}: one step is (1 − α) × eprop on the synapses, eprop itself on the unit parameters and the readout`, () => {
      const net = f64Network(config(model), 3);
      const seq = randomSequence(net, 4, B, 4, 1);
      const alpha = 0.3;
      const pp = learnerGradient('pp-prop', net, seq, B, { stop: 1, options: { traceDecay: alpha } }),
        ep = learnerGradient('eprop', net, seq, B, { stop: 1 });
      for (const name of net.params.names()) {
        const e = net.params.entry(name),
          synapse = /weight_(ih|hh)|bias_(ih|hh)/.test(name) && name.startsWith('layers.');
        const a = Array.from(pp.subarray(e.offset, e.offset + e.size)),
          b = Array.from(ep.subarray(e.offset, e.offset + e.size)).map((v) => (synapse ? (1 - alpha) * v : v));
        if (b.every((v) => v === 0)) continue;
        assert.ok(relativeError(a, b) < 1e-12, `${name}: ${relativeError(a, b)}`);
      }
      const longer = learnerGradient('pp-prop', net, seq, B, { options: { traceDecay: alpha } });
      assert.ok(relativeError(longer, learnerGradient('eprop', net, seq, B)) > 1e-3, 'four steps: not e-prop');
    });
  }

  test('rnn: α = 0 equals eprop, α = 0.5 does not', () => {
    const net = f64Network(config('rnn'), 5);
    const seq = randomSequence(net, 6, B, 6);
    const ep = learnerGradient('eprop', net, seq, B);
    assert.ok(relativeError(learnerGradient('pp-prop', net, seq, B, { options: { traceDecay: 0 } }), ep) < 1e-13);
    assert.ok(relativeError(learnerGradient('pp-prop', net, seq, B, { options: { traceDecay: 0.5 } }), ep) > 1e-3);
  });

  test('its state is B·(in + n + 1 + 2·S·G·n) per layer: O(B(I + O)), not the per-synapse O(B·I·O)', () => {
    const n = 32,
      d = 24,
      Bb = 4;
    for (const model of ['gru', 'lstm']) {
      const net = f64Network({ ...config(model), inputSize: d, hidden: n, layers: 1 }, 1);
      const pp = createLearner('pp-prop', net, { batchSize: Bb }),
        ep = createLearner('eprop', net, { batchSize: Bb });
      const { S, G } = model === 'gru' ? { S: 1, G: 3 } : { S: 2, G: 4 };
      assert.equal(pp.stateBytes(), 8 * Bb * (d + n + 1 + 2 * S * G * n));
      assert.ok(pp.stateBytes() * 10 < ep.stateBytes(), `${pp.stateBytes()} vs eprop ${ep.stateBytes()}`);
    }
  });

  test('LRU stacks are refused, naming online-lru', () => {
    const lru = f64Network({ ...config('lru'), stateSize: 3 }, 1);
    assert.throws(
      () => createLearner('pp-prop', lru, { batchSize: B }),
      (e: unknown) => e instanceof UnsupportedError && /online-lru/.test(String(e)),
    );
  });
});
