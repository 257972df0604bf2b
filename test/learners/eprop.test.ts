/**
 * The diag / snap1 trace rules and the learners built on them (eprop, eprop-random, snap1), against BPTT in
 * float64, where theory says they are exact — over whole sequences, prefixes and windows in the middle of a
 * sequence — and, as negative controls, where it says they are not.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig } from '../../src/model/network.js';
import { createLearner } from '../../src/learners/index.js';
import { expectAllClose, expectChecksPass } from '../helpers.js';
import {
  f64Network,
  finiteDifferenceGradient,
  learnerGradient,
  oracleChecks,
  randomSequence,
  relativeError,
  type Sequence,
} from '../../src/check/oracle.js';
import type { Network } from '../../src/model/network.js';

const B = 2,
  T = 6;
const units = ['rnn', 'gru', 'lstm', 'egru', 'leaky'];

function config(model: string, extra: Partial<ModelConfig> = {}): ModelConfig {
  return { model, inputSize: 3, hidden: 4, layers: 1, outputSize: 4, loss: { kind: 'ce', classes: 2 }, ...extra };
}

/** the learner's gradient equals BPTT's (≤ 1e-9) over the whole sequence, prefixes, and a middle window */
function expectBptt(learner: string, net: Network, seq: Sequence, what: string): void {
  expectChecksPass(oracleChecks(learner, net, seq, B, { tolerance: 1e-9, stops: [1, 3, T], windows: [[3, 5]] }), `${learner}, ${what}`);
}

function differs(learner: string, net: Network, seq: Sequence, index?: (name: string) => boolean): number {
  const bptt = learnerGradient('bptt', net, seq, B);
  const g = learnerGradient(learner, net, seq, B);
  if (!index) return relativeError(g, bptt);
  const idx: number[] = [];
  for (const name of net.params.names())
    if (index(name)) {
      const e = net.params.entry(name);
      for (let i = 0; i < e.size; i++) idx.push(e.offset + i);
    }
  return relativeError(
    idx.map((i) => g[i]!),
    idx.map((i) => bptt[i]!),
  );
}

describe('the leaky unit', () => {
  for (const recurrent of [true, false]) {
    test(`BPTT matches central finite differences (${recurrent ? 'with' : 'without'} recurrent synapses, 2 layers)`, () => {
      const net = f64Network(config('leaky', { layers: 2, recurrent }), 19);
      const seq = randomSequence(net, T, B, 20);
      const g = learnerGradient('bptt', net, seq, B);
      const fd = finiteDifferenceGradient(net, seq, B);
      expectAllClose(g, fd, { rtol: 1e-6, atol: 1e-8 }, 'bptt vs finite differences');
      const leak = net.params.entry('layers.0.leak');
      assert.ok(
        g.slice(leak.offset, leak.offset + leak.size).some((v) => Math.abs(v) > 1e-4),
        'the leak gets a gradient',
      );
    });
  }

  test('recurrent: false holds weight_hh at zero through an all-zero mask; lru refuses it', () => {
    const net = f64Network(config('gru', { layers: 2, recurrent: false }), 18);
    for (const name of ['layers.0.weight_hh', 'layers.1.weight_hh']) assert.ok(net.masks.get(name)!.data.every((v) => v === 0));
    assert.throws(() => f64Network({ ...config('lru'), recurrent: false }), /recurrent/);
  });
});

for (const model of units) {
  describe(`${model}: diag and snap1 traces`, () => {
    test('one layer without recurrent synapses: eprop and snap1 equal BPTT', () => {
      const net = f64Network(config(model, { recurrent: false }), 21);
      const seq = randomSequence(net, T, B, 22, 1);
      assert.ok(
        net.params.get('layers.0.weight_hh').every((v) => v === 0),
        'weight_hh is held at zero',
      );
      expectBptt('eprop', net, seq, 'eprop');
      expectBptt('snap1', net, seq, 'snap1');
    });

    test('one layer of one unit: snap1 (the whole Jacobian is its diagonal) equals BPTT; eprop does not', () => {
      const net = f64Network(config(model, { hidden: 1 }), 23);
      const seq = randomSequence(net, T, B, 24, 1);
      expectBptt('snap1', net, seq, 'snap1, n = 1');
      assert.ok(differs('eprop', net, seq) > 1e-4, 'eprop drops the self-connection through W_hh');
    });

    test('with recurrent synapses eprop and snap1 are approximate (negative control)', () => {
      const net = f64Network(config(model), 25);
      const seq = randomSequence(net, T, B, 26, 1);
      assert.ok(differs('eprop', net, seq) > 1e-4);
      assert.ok(differs('snap1', net, seq) > 1e-4);
      // the readout's gradient is exact for both: its input y_t is what the forward computed
      assert.ok(differs('eprop', net, seq, (n) => n.startsWith('readout.')) <= 1e-9);
    });

    test('no recurrent self-connection (zero diagonal of W_hh): snap1 coincides with eprop', () => {
      const net = f64Network(config(model, { layers: 2 }), 27);
      const { n } = { n: 4 };
      for (const name of ['layers.0.weight_hh', 'layers.1.weight_hh']) {
        const w = net.params.buf(name).data,
          G = w.length / (n * n);
        for (let g = 0; g < G; g++) for (let i = 0; i < n; i++) w[(g * n + i) * n + i] = 0;
      }
      const seq = randomSequence(net, T, B, 28);
      const e = learnerGradient('eprop', net, seq, B),
        s = learnerGradient('snap1', net, seq, B);
      expectAllClose(s, e, { rtol: 1e-12, atol: 1e-14 }, 'snap1 vs eprop');
      assert.ok(relativeError(e, learnerGradient('bptt', net, seq, B)) > 1e-4, 'and both differ from BPTT');
    });
  });
}

describe('eprop on stacks', () => {
  test('two layers without recurrent synapses: the top layer and the readout are exact, the lower layer is not', () => {
    const net = f64Network(config('leaky', { layers: 2, recurrent: false }), 31);
    const seq = randomSequence(net, T, B, 32, 1);
    assert.ok(differs('eprop', net, seq, (n) => !n.startsWith('layers.0.')) <= 1e-9);
    assert.ok(differs('eprop', net, seq, (n) => n.startsWith('layers.0.')) > 1e-4, "the path through the upper layer's memory is dropped");
  });
});

describe('eprop-random', () => {
  test("with the feedback set to the readout's transposed weights it is eprop (one layer)", () => {
    const net = f64Network(config('leaky', { recurrent: false, hidden: 3 }), 41);
    const seq = randomSequence(net, T, B, 42);
    const learner = createLearner('eprop-random', net, { batchSize: B });
    const state = learner.saveState();
    // the feedback matrix (n × out) is the last carried array; B = W_readoutᵀ makes the signal ∂L/∂y exactly
    const W = net.params.get('readout.weight'),
      out = 4,
      n = 3;
    const Bm = state.traces[state.traces.length - 1]!;
    assert.equal(Bm.length, n * out);
    for (let i = 0; i < n; i++) for (let k = 0; k < out; k++) Bm[i * out + k] = W[k * n + i]!;
    learner.loadState(state);
    learner.startSequence();
    net.zeroGrads();
    for (let t = 0; t < T; t++) learner.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
    const g = Float64Array.from(net.grads.flat.data);
    expectAllClose(g, learnerGradient('bptt', net, seq, B), { rtol: 1e-9, atol: 1e-12 }, 'aligned feedback');
  });

  test('random feedback is seeded: the same seed gives the same gradient, another seed another one', () => {
    const net = f64Network(config('gru', { layers: 2 }), 43);
    const seq = randomSequence(net, T, B, 44);
    const a = learnerGradient('eprop-random', net, seq, B, { options: { seed: 1 } });
    const b = learnerGradient('eprop-random', net, seq, B, { options: { seed: 1 } });
    const c = learnerGradient('eprop-random', net, seq, B, { options: { seed: 2 } });
    assert.deepEqual(a, b);
    assert.ok(relativeError(c, a) > 1e-3);
    // and the readout's gradient does not depend on the feedback
    const r = net.params.entry('readout.weight');
    assert.deepEqual(a.slice(r.offset, r.offset + r.size), c.slice(r.offset, r.offset + r.size));
  });
});

describe('diag traces: memory', () => {
  test('stateBytes is S × (the recurrent parameters) per sample, independent of the sequence length', () => {
    const net = f64Network(config('lstm', { layers: 2 }), 51);
    const learner = createLearner('eprop', net, { batchSize: B });
    const P = net.params.size - net.params.entry('readout.weight').size - net.params.entry('readout.bias').size;
    assert.equal(learner.stateBytes(), 2 * P * B * 8);
  });
});

describe('diag traces on the wasm backend (float32, the fused trace kernel for S = 1)', () => {
  for (const [learner, model] of [
    ['eprop', 'leaky'],
    ['snap1', 'gru'],
    ['eprop', 'lstm'],
    ['eprop-random', 'egru'],
  ] as const) {
    test(`${learner} on ${model}: the float32 gradient matches float64`, async () => {
      const { WasmBackend } = await import('../../src/backend/wasm.js');
      const cfg = config(model, { layers: 2 });
      const net64 = f64Network(cfg, 81);
      const net32 = f64Network(cfg, 81, new WasmBackend());
      net32.params.flat.data.set(net64.params.flat.data); // float32 rounding of the same weights
      net64.params.flat.data.set(net32.params.flat.data);
      const seq = randomSequence(net64, T, B, 82);
      const g64 = learnerGradient(learner, net64, seq, B),
        g32 = learnerGradient(learner, net32, seq, B);
      assert.ok(relativeError(g32, g64) < 1e-4, `relative error ${relativeError(g32, g64)}`);
    });
  }
});
