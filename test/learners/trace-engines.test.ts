/**
 * The reusable engines on their own, as another learner would use them: DiagTraces (reset, step, accumulate,
 * backwardInput, buffers, bytes) and RandomFeedback (seeded matrices, the signal product); and the model option
 * that removes recurrent synapses, through training, checkpoints and resumption.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForwardPass } from '../../src/model/forward.js';
import { RandomFeedback } from '../../src/learners/signals/random-feedback.js';
import { DiagTraces } from '../../src/learners/traces/diag.js';
import type { RecurrentCarry } from '../../src/modules/module.js';
import type { RecurrentLayer, RecCache } from '../../src/modules/recurrent.js';
import { f64Network, randomSequence } from '../../src/check/oracle.js';
import { applyOverrides, defaultConfig } from '../../src/train/config.js';
import { Trainer } from '../../src/train/trainer.js';
import { resumeTrainer, saveCheckpoint } from '../../src/train/files.js';
import { createTask } from '../../src/tasks/index.js';
import { expectAllClose } from '../helpers.js';

const B = 3;

function stack(model: string) {
  const net = f64Network({ model, inputSize: 3, hidden: 4, layers: 2, outputSize: 2, loss: { kind: 'mse' } }, 91);
  const fwd = new ForwardPass(net, B);
  const caches = net.modules.map((m) => m.createCache(net.backend, B));
  return { net, fwd, caches };
}

describe('DiagTraces', () => {
  for (const model of ['gru', 'lstm']) {
    test(`${model}: backwardInput is the layer's VJP onto its input at time t with no carry from the future`, () => {
      const { net, fwd, caches } = stack(model);
      const seq = randomSequence(net, 3, B, 92);
      for (let t = 0; t < 3; t++) {
        fwd.load(seq.x[t]!);
        fwd.run(caches);
      }
      const layer = net.modules[1] as RecurrentLayer;
      const be = net.backend,
        tr = new DiagTraces(layer, be, B, 'diag');
      const dy = be.from(Float64Array.from({ length: B * 4 }, (_, i) => Math.sin(i + 1)));
      const dx = be.alloc(B * 4),
        ref = be.alloc(B * 4);
      tr.backwardInput(caches[1] as RecCache, dy, dx);
      const carry: RecurrentCarry = layer.createCarry(be, B); // zero: nothing from t+1
      layer.backward(caches[1] as RecCache, dy, ref, carry);
      expectAllClose(dx.data, ref.data, { rtol: 1e-12, atol: 1e-14 }, 'dx');
    });
  }

  test('reset zeroes every carried buffer; bytes counts them; snap1 also carries the previous ∂h/∂s', () => {
    const { net, fwd, caches } = stack('egru');
    const layer = net.modules[0] as RecurrentLayer,
      be = net.backend;
    const diag = new DiagTraces(layer, be, B, 'diag'),
      snap = new DiagTraces(layer, be, B, 'snap1');
    assert.equal(diag.buffers().length, 1);
    assert.equal(snap.buffers().length, 3);
    assert.equal(diag.bytes, layer.ownRows * B * 8);
    assert.equal(snap.bytes, (layer.ownRows + 4 + 1 * 4) * B * 8);
    const seq = randomSequence(net, 2, B, 93);
    for (let t = 0; t < 2; t++) {
      fwd.load(seq.x[t]!);
      fwd.run(caches);
      diag.step(caches[0] as RecCache);
      snap.step(caches[0] as RecCache);
    }
    assert.ok(diag.eligibility[0]!.data.some((v) => v !== 0));
    diag.reset();
    snap.reset();
    for (const b of [...diag.buffers(), ...snap.buffers()]) assert.ok(b.data.every((v) => v === 0));
  });

  test("accumulate adds into the layer's own gradient only, linearly in the signal", () => {
    const { net, fwd, caches } = stack('leaky');
    const layer = net.modules[1] as RecurrentLayer,
      be = net.backend,
      tr = new DiagTraces(layer, be, B, 'diag');
    const seq = randomSequence(net, 2, B, 94);
    for (let t = 0; t < 2; t++) {
      fwd.load(seq.x[t]!);
      fwd.run(caches);
      tr.step(caches[1] as RecCache);
    }
    const sig = be.from(Float64Array.from({ length: B * 4 }, (_, i) => Math.cos(i)));
    net.zeroGrads();
    tr.accumulate(caches[1] as RecCache, sig);
    const once = Float64Array.from(net.grads.flat.data);
    tr.accumulate(caches[1] as RecCache, sig);
    expectAllClose(
      net.grads.flat.data,
      once.map((v) => 2 * v),
      { rtol: 1e-14, atol: 0 },
      'twice the signal',
    );
    const own = net.grads.entry('layers.1.weight_ih').offset;
    once.forEach((v, i) => {
      if (i < own || i >= own + layer.ownRows) assert.equal(v, 0, `parameter ${i} outside layer 1`);
    });
  });
});

describe('RandomFeedback', () => {
  test('one fixed matrix per recurrent module, seeded; signal = dOut·Bᵀ', () => {
    const { net } = stack('gru');
    const a = new RandomFeedback(net, 5),
      b = new RandomFeedback(net, 5),
      c = new RandomFeedback(net, 6);
    assert.deepEqual(
      a.matrices.map((m) => m === null),
      [false, false, true],
    );
    assert.deepEqual(
      a.buffers().map((m) => Array.from(m.data)),
      b.buffers().map((m) => Array.from(m.data)),
    );
    assert.notDeepEqual(
      a.buffers().map((m) => Array.from(m.data)),
      c.buffers().map((m) => Array.from(m.data)),
    );
    assert.equal(a.bytes, 2 * 4 * 2 * 8);
    const be = net.backend,
      dOut = be.from([1, 2, -1, 0.5, 3, -2]),
      out = be.alloc(B * 4);
    a.signal(1, dOut, out);
    const Bm = a.matrices[1]!.data;
    for (let s = 0; s < B; s++) {
      for (let i = 0; i < 4; i++) {
        const want = Bm[i * 2]! * dOut.data[s * 2]! + Bm[i * 2 + 1]! * dOut.data[s * 2 + 1]!;
        assert.ok(Math.abs(out.data[s * 4 + i]! - want) < 1e-14);
      }
    }
  });
});

describe('recurrent: off through training', () => {
  test('weight_hh stays exactly zero through updates, the model file carries the zero masks, a resumed run continues identically', () => {
    const dir = mkdtempSync(join(tmpdir(), 'onward-norec-'));
    const config = applyOverrides(defaultConfig('cue-accumulation', 'ci'), {
      learner: 'eprop',
      recurrent: 'off',
      hidden: 5,
      batch: 4,
      steps: 6,
      evalEvery: 0,
      evalBatches: 1,
    });
    const a = new Trainer(config);
    for (let i = 0; i < 3; i++) a.trainStep();
    saveCheckpoint(a, join(dir, 'ck.json'));
    for (let i = 0; i < 3; i++) a.trainStep();
    for (const name of ['layers.0.weight_hh', 'layers.1.weight_hh'])
      assert.ok(
        a.network.params.get(name).every((v) => v === 0),
        name,
      );
    assert.ok(a.network.params.get('layers.0.weight_ih').some((v) => v !== 0));
    const file = JSON.parse(readFileSync(join(dir, 'ck.json'), 'utf8')) as {
      config: { recurrent?: boolean };
      masks?: Record<string, unknown>;
    };
    assert.equal(file.config.recurrent, false);
    assert.deepEqual(Object.keys(file.masks ?? {}).sort(), ['layers.0.weight_hh', 'layers.1.weight_hh']);
    const b = resumeTrainer(join(dir, 'ck.json'));
    for (let i = 0; i < 3; i++) b.trainStep();
    assert.deepEqual(Array.from(b.network.params.flat.data), Array.from(a.network.params.flat.data));
  });

  test('config: recurrent off with magnitude pruning is refused; the e-prop tasks refuse unknown settings', () => {
    assert.throws(
      () =>
        new Trainer(applyOverrides(defaultConfig('cue-accumulation', 'ci'), { recurrent: 'off', maskMethod: 'magnitude', density: 0.5 })),
      /magnitude/,
    );
    assert.throws(
      () => applyOverrides(defaultConfig('cue-accumulation', 'ci'), { recurrent: 'sometimes' }),
      /recurrent must be one of on, off/,
    );
    assert.throws(() => createTask('cue-accumulation', 'ci', { cuez: 3 }), /unknown setting 'cuez'/);
    assert.throws(() => createTask('store-recall', 'ci', { minGap: 0 }), /positive integer/);
  });
});
