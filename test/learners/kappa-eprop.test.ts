/**
 * e-prop's κ filter (option `kappa` of eprop and ostl, learners/traces/kappa.ts): κ = 0 is e-prop bit for
 * bit (also a claim of the ostl row); on a one-step sequence the filter path (κ > 0) reproduces e-prop's
 * eligibility e_t = ∂y/∂s·ε (+ ∂y/∂φ) to rounding — on S = 1 and S = 2 units, with and without unit
 * parameters; over longer sequences κ > 0 changes the update, and it is the filtered sum Σ_t L_t·ē_t (checked
 * against an independent reconstruction on a layer whose signal is known); it trains (through the run config's
 * `kappa`), resumes from a checkpoint exactly, and LRU layers refuse it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig } from '../../src/model/network.js';
import { createLearner } from '../../src/learners/index.js';
import { UnsupportedError } from '../../src/core/errors.js';
import { f64Network, learnerGradient, randomSequence, relativeError } from '../../src/check/oracle.js';
import { applyOverrides, defaultConfig } from '../../src/train/config.js';
import { Trainer } from '../../src/train/trainer.js';

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

describe('eprop with the κ filter', () => {
  for (const model of ['rnn', 'gru', 'lstm', 'leaky', 'alif-sigmoid']) {
    test(`${model}: kappa 0 is eprop bit for bit; one step with kappa 0.6 equals eprop to rounding; six steps differ`, () => {
      const net = f64Network(config(model), 3);
      const seq = randomSequence(net, 6, B, 4, 1);
      const eprop = learnerGradient('eprop', net, seq, B);
      assert.deepEqual(Array.from(learnerGradient('eprop', net, seq, B, { options: { kappa: 0 } })), Array.from(eprop));
      const one = learnerGradient('eprop', net, seq, B, { stop: 1 }),
        oneK = learnerGradient('eprop', net, seq, B, { stop: 1, options: { kappa: 0.6 } });
      assert.ok(relativeError(oneK, one) < 1e-13, `one step: ${relativeError(oneK, one)}`);
      const filtered = learnerGradient('eprop', net, seq, B, { options: { kappa: 0.6 } });
      assert.ok(relativeError(filtered, eprop) > 1e-3, `six steps: ${relativeError(filtered, eprop)}`);
      assert.ok(relativeError(learnerGradient('ostl', net, seq, B, { options: { kappa: 0.6 } }), filtered) === 0, 'ostl is its alias');
    });
  }

  test('the filtered gradient is Σ_t L_t·ē_t: a loss at the last step only, rebuilt by hand on a one-layer rnn without recurrent synapses', () => {
    // rnn without recurrent synapses, one layer: e-prop's trace is the immediate e_τ = ∂y_τ/∂θ (∂f/∂s = 0), so
    // with a loss at step t only the filtered gradient is L_t·Σ_τ κ^{t−τ} e_τ. On the layer's weight_ih rows
    // that is Σ_τ κ^{t−τ} (L_t ⊙ f'_τ)ᵀ x_τ — rebuilt here from the forward activations and the readout.
    const net = f64Network(config('rnn', { layers: 1, recurrent: false, loss: { kind: 'mse' } }), 5);
    const T = 4,
      kappa = 0.5,
      n = 4,
      d = 3;
    const seq = randomSequence(net, T, B, 6, 1);
    seq.mask = seq.mask.map((m, t) => m.map(() => (t === T - 1 ? 1 : 0)));
    const g = learnerGradient('eprop', net, seq, B, { options: { kappa } });
    // the reference: forward with bptt (no learning) to read y_τ, then L = W_outᵀ·(ŷ − y*)/B at the last step
    const fwd = createLearner('bptt', net, { batchSize: B });
    fwd.startSequence();
    const ys: Float64Array[] = [];
    let out = new Float64Array(0);
    for (let t = 0; t < T; t++) {
      fwd.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
      out = Float64Array.from(fwd.output.data);
    }
    // recompute the layer's outputs directly (tanh(W_ih x + b_ih + b_hh); weight_hh is held at zero)
    const W = net.params.entry('layers.0.weight_ih'),
      bih = net.params.entry('layers.0.bias_ih'),
      bhh = net.params.entry('layers.0.bias_hh'),
      Wout = net.params.entry('readout.weight');
    const p = net.params.flat.data;
    for (let t = 0; t < T; t++) {
      const y = new Float64Array(B * n);
      for (let b = 0; b < B; b++)
        for (let i = 0; i < n; i++) {
          let a = p[bih.offset + i]! + p[bhh.offset + i]!;
          for (let j = 0; j < d; j++) a += p[W.offset + i * d + j]! * seq.x[t]![b * d + j]!;
          y[b * n + i] = Math.tanh(a);
        }
      ys.push(y);
    }
    const ref = new Float64Array(n * d);
    for (let b = 0; b < B; b++) {
      const L = new Float64Array(n);
      for (let k = 0; k < 3; k++) {
        const err = (out[b * 3 + k]! - seq.target[T - 1]![b * 3 + k]!) / B;
        for (let i = 0; i < n; i++) L[i] = L[i]! + p[Wout.offset + k * n + i]! * err;
      }
      for (let tau = 0; tau < T; tau++) {
        const w = kappa ** (T - 1 - tau);
        for (let i = 0; i < n; i++) {
          const fp = 1 - ys[tau]![b * n + i]! ** 2;
          for (let j = 0; j < d; j++) ref[i * d + j] = ref[i * d + j]! + w * L[i]! * fp * seq.x[tau]![b * d + j]!;
        }
      }
    }
    const got = Array.from(g.subarray(W.offset, W.offset + n * d));
    assert.ok(relativeError(got, ref) < 1e-12, `weight_ih: ${relativeError(got, ref)}`);
  });

  test('checkpoints: save → load → continue gives the same gradient (the filtered traces are carried)', () => {
    const net = f64Network(config('lstm'), 7);
    const seq = randomSequence(net, 8, B, 8);
    const run = (resumeAt: number | null): number[] => {
      net.zeroGrads();
      let l = createLearner('eprop', net, { batchSize: B, kappa: 0.7 });
      l.startSequence();
      for (let t = 0; t < 8; t++) {
        if (t === resumeAt) {
          const st = l.saveState();
          l = createLearner('eprop', net, { batchSize: B, kappa: 0.7 });
          l.loadState(st);
        }
        l.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
      }
      return Array.from(net.grads.flat.data);
    };
    assert.deepEqual(run(4), run(null));
  });

  test('κ = 0.5 trains: the loss falls on the adding problem (the contract suite runs the default κ = 0)', () => {
    const trainer = new Trainer(
      applyOverrides(defaultConfig('adding', 'ci'), {
        learner: 'eprop',
        kappa: 0.5,
        model: 'gru',
        hidden: 8,
        batch: 8,
        steps: 150,
        evalEvery: 0,
        evalBatches: 2,
      }),
    );
    assert.equal(trainer.config.learner.kappa, 0.5);
    const before = trainer.evaluate().loss;
    while (trainer.step < trainer.config.train.steps) trainer.trainStep();
    const after = trainer.evaluate().loss;
    assert.ok(after < 0.85 * before, `eval loss ${before.toFixed(3)} → ${after.toFixed(3)}`);
  });

  test('LRU layers refuse a κ filter (kappa 0 runs)', () => {
    const lru = f64Network({ ...config('lru'), stateSize: 3 }, 1);
    assert.throws(() => createLearner('eprop', lru, { batchSize: B, kappa: 0.5 }), UnsupportedError);
    assert.doesNotThrow(() => createLearner('eprop', lru, { batchSize: B, kappa: 0 }));
  });
});
