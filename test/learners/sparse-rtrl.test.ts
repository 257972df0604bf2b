/**
 * sparse-rtrl: the same gradient as rtrl (float64: bit for bit, over whole sequences, prefixes and windows),
 * both equal to BPTT; with and without synapse masks; while actually skipping work (the preconditions check
 * that units were silent, columns were still zero and masks were there to skip). Its operation count for
 * dense RTRL is checked against the backend's own counter running `rtrl`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TsBackend } from '../../src/backend/ts.js';
import { WasmBackend } from '../../src/backend/wasm.js';
import type { Backend } from '../../src/backend/backend.js';
import { Network, type ModelConfig } from '../../src/model/network.js';
import { createLearner } from '../../src/learners/index.js';
import { SparseRtrlLearner } from '../../src/learners/sparse-rtrl.js';
import { ForwardPass } from '../../src/model/forward.js';
import { learnerGradient, randomSequence, relativeError, type Sequence } from '../../src/check/oracle.js';
import { applyOverrides, defaultConfig } from '../../src/train/config.js';
import { Trainer } from '../../src/train/trainer.js';
import { expectAllClose } from '../helpers.js';

const B = 2,
  T = 12;

function net(extra: Partial<ModelConfig> = {}, be: Backend = new TsBackend('float64'), seed = 5): Network {
  return new Network(
    { model: 'egru', inputSize: 3, hidden: 10, layers: 1, outputSize: 2, loss: { kind: 'mse' }, dampening: 0.7, width: 0.25, ...extra },
    be,
    seed,
  );
}

/** equal as numbers (−0 and +0 alike): what "the same gradient" means */
function assertSame(a: Float64Array, b: Float64Array, what: string): void {
  for (let i = 0; i < a.length; i++) {
    if (!(a[i] === b[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i])))) assert.fail(`${what}: entry ${i}: ${a[i]} ≠ ${b[i]}`);
  }
}

/** a gradient with the masked weights' entries zeroed, as the trainer does before every update */
function masked(n: Network, g: Float64Array): Float64Array {
  n.grads.flat.data.set(g);
  n.applyMasks();
  const out = Float64Array.from(n.grads.flat.data);
  n.zeroGrads();
  return out;
}

/** BPTT's gradient of the loss of the steps [from, stop) only: the window oracle */
function windowBptt(n: Network, seq: Sequence, from: number, stop: number): Float64Array {
  const m = { ...seq, mask: seq.mask.map((row, t) => (t >= from && t < stop ? row : row.map(() => 0))) };
  return learnerGradient('bptt', n, m, B, { stop });
}

/** run sparse-rtrl over the sequence and return what it skipped */
function skipped(n: Network, seq: Sequence): Record<string, number> {
  const l = new SparseRtrlLearner(n, { batchSize: B });
  l.startSequence();
  for (let t = 0; t < seq.x.length; t++) l.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
  n.zeroGrads();
  return l.stats!();
}

const cases: [string, Partial<ModelConfig>][] = [
  ['egru, dense weights', {}],
  ['egru, weight_hh masked (density 0.3)', { density: 0.3, maskMethod: 'static' }],
  ['egru, weight_hh and weight_ih masked', { density: 0.4, maskMethod: 'static', maskInput: true }],
  ['egru, ce loss', { outputSize: 3, loss: { kind: 'ce', classes: 3 } }],
  ['gru', { model: 'gru' }],
  ['lstm (two state components)', { model: 'lstm' }],
  ['egru stack, 2 layers, masked', { layers: 2, density: 0.4, maskMethod: 'static' }],
  ['egru stack, 3 layers, inputs masked too', { layers: 3, hidden: 6, density: 0.5, maskMethod: 'static', maskInput: true }],
  ['lstm stack, 2 layers', { model: 'lstm', layers: 2, hidden: 5 }],
  ['leaky stack without recurrent synapses', { model: 'leaky', layers: 2, recurrent: false }],
];

describe('sparse-rtrl equals rtrl, and both equal bptt (float64)', () => {
  for (const [name, extra] of cases) {
    test(name, () => {
      const n = net(extra);
      const seq = randomSequence(n, T, B, 17);
      // over the whole sequence, prefixes and windows in the middle (the influence carries credit from before)
      for (const [from, stop] of [
        [0, T],
        [0, 1],
        [0, 5],
        [4, 9],
        [7, T],
      ] as const) {
        const w = { from, stop };
        const sparse = learnerGradient('sparse-rtrl', n, seq, B, w);
        assert.ok(
          sparse.some((v) => Math.abs(v) > 1e-4),
          'the gradient is not trivially zero',
        );
        assertSame(sparse, masked(n, learnerGradient('rtrl', n, seq, B, w)), `sparse-rtrl vs rtrl, steps [${from}, ${stop})`);
        const e = relativeError(sparse, masked(n, windowBptt(n, seq, from, stop)));
        assert.ok(e <= 1e-9, `steps [${from}, ${stop}) vs bptt: ${e}`);
      }
      if (n.config.model === 'egru') {
        const s = skipped(n, seq);
        assert.ok(s.forwardActivity! > 0, 'precondition: some units fire');
        assert.ok(s.backwardActive! < 0.9, `precondition: some units are backward-silent (active ${s.backwardActive})`);
        assert.ok(s.macRatio! < 0.5, `work was skipped (ratio ${s.macRatio})`);
      }
    });
  }

  test('columns still zero are skipped: a block joins when its presynaptic unit first fires', () => {
    // a quiet network: high thresholds, so units fire late and W_hh's blocks join one by one
    const n = net({ hidden: 8 });
    const th = n.params.buf('layers.0.threshold').data;
    for (let i = 0; i < th.length; i++) th[i] = 0.25 + 0.05 * i;
    const seq = randomSequence(n, T, B, 3);
    const l = new SparseRtrlLearner(n, { batchSize: B });
    l.startSequence();
    const firstSteps: number[] = [];
    for (let t = 0; t < T; t++) {
      l.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
      firstSteps.push(l.stats!().liveColumns!);
    }
    assert.ok(firstSteps[0]! < 0.5, `columns in use at the first step ${firstSteps[0]}`);
    n.zeroGrads();
    assertSame(learnerGradient('sparse-rtrl', n, seq, B), learnerGradient('rtrl', n, seq, B), 'quiet network');
    assert.ok(
      firstSteps.some((d, t) => t > 0 && d > firstSteps[0]!),
      'blocks joined as units fired',
    );
  });

  test('a second sequence starts from a clean influence (nothing of the first leaks into columns joining later)', () => {
    for (const extra of [{}, { model: 'lstm' }, { density: 0.4, maskMethod: 'static' as const }, { layers: 2 }]) {
      const n = net(extra);
      const first = randomSequence(n, T, B, 21),
        second = randomSequence(n, T, B, 22);
      const l = new SparseRtrlLearner(n, { batchSize: B });
      for (const seq of [first, second]) {
        n.zeroGrads();
        l.startSequence();
        for (let t = 0; t < T; t++) l.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
      }
      const g = Float64Array.from(n.grads.flat.data);
      assertSame(g, masked(n, learnerGradient('rtrl', n, second, B)), `second sequence, ${JSON.stringify(extra)}`);
    }
  });

  test('on the wasm backend (float32) it agrees with rtrl to float32 rounding', () => {
    const n = net({ density: 0.3, maskMethod: 'static' }, new WasmBackend());
    const seq = randomSequence(n, T, B, 17);
    const rtrl = masked(n, learnerGradient('rtrl', n, seq, B)),
      sparse = learnerGradient('sparse-rtrl', n, seq, B);
    expectAllClose(sparse, rtrl, { rtol: 1e-4, atol: 1e-6 }, 'wasm sparse-rtrl vs rtrl');
  });
});

describe('sparse-rtrl bookkeeping', () => {
  test('its count of dense RTRL work equals the backend counter running rtrl', () => {
    for (const extra of [{}, { model: 'lstm' }, { density: 0.3, maskMethod: 'static' as const }, { layers: 3, hidden: 6 }]) {
      const n = net(extra);
      const seq = randomSequence(n, 3, B, 2);
      const be = n.backend as TsBackend;
      const fwd = new ForwardPass(n, B);
      const caches = n.modules.map((m) => m.createCache(be, B));
      let m0 = be.macs;
      fwd.load(seq.x[0]!);
      fwd.run(caches);
      const forward = be.macs - m0;
      const rtrl = createLearner('rtrl', n, { batchSize: B });
      rtrl.startSequence();
      m0 = be.macs;
      rtrl.step(seq.x[0]!, seq.target[0]!, seq.mask[0]!);
      const measured = be.macs - m0 - forward;
      const sparse = new SparseRtrlLearner(n, { batchSize: B });
      assert.equal(B * sparse.denseMacsPerSample(), measured, JSON.stringify(extra));
    }
  });

  test('masked weights get no column: memory shrinks with the density', () => {
    const dense = new SparseRtrlLearner(net({ hidden: 16 }), { batchSize: 1 }).stateBytes();
    const sparse = new SparseRtrlLearner(net({ hidden: 16, density: 0.1, maskMethod: 'static' }), { batchSize: 1 }).stateBytes();
    assert.ok(sparse < 0.45 * dense, `${sparse} vs ${dense} bytes`);
  });

  test('resumes mid-sequence exactly: influence, live blocks and active rows are its state', () => {
    const config = { density: 0.5, maskMethod: 'static' as const, layers: 2 };
    const a = net(config),
      seq = randomSequence(a, T, B, 9);
    const la = new SparseRtrlLearner(a, { batchSize: B });
    la.startSequence();
    for (let t = 0; t < 6; t++) la.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
    const saved = JSON.parse(JSON.stringify(la.saveState()));
    a.zeroGrads();
    for (let t = 6; t < T; t++) la.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
    const b = net(config);
    const lb = new SparseRtrlLearner(b, { batchSize: B });
    lb.startSequence();
    lb.loadState(saved);
    for (let t = 6; t < T; t++) lb.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
    assertSame(Float64Array.from(b.grads.flat.data), Float64Array.from(a.grads.flat.data), 'resumed');
    saved.traces[saved.traces.length - 1] = [99];
    assert.throws(() => lb.loadState(saved), /liveness record of sample 1, layer 1 is malformed/);
  });

  test('masks pruned between sequences: the layout follows and the gradient still equals rtrl', () => {
    const n = net({ density: 1, maskMethod: 'magnitude' });
    const seq = randomSequence(n, T, B, 4);
    const l = new SparseRtrlLearner(n, { batchSize: B });
    const before = l.stateBytes();
    n.pruneByMagnitude(0.3);
    const g = learnerGradient('sparse-rtrl', n, seq, B);
    // rtrl computes the masked weights' gradients too; they are zeroed before every update
    assertSame(g, masked(n, learnerGradient('rtrl', n, seq, B)), 'after pruning');
    l.startSequence();
    assert.ok(l.stateBytes() < 0.6 * before, `${l.stateBytes()} vs ${before}`);
  });

  test('runs on the LRU (its diagonal own influence: test/learners/sparse-lru.test.ts); refuses decorrelated models, naming what works', () => {
    const lru = new Network(
      { model: 'lru', inputSize: 2, hidden: 4, layers: 1, outputSize: 2, loss: { kind: 'mse' } },
      new TsBackend('float64'),
      1,
    );
    assert.ok(createLearner('sparse-rtrl', lru, { batchSize: 1 }).stateBytes() > 0);
    assert.throws(() => createLearner('sparse-rtrl', net({ decorrelate: true }), { batchSize: 1 }), /does not support decorrelated models/);
  });

  test('masked weights stay exactly zero through training', () => {
    const t = new Trainer(
      applyOverrides(defaultConfig('spiral', 'ci'), { learner: 'sparse-rtrl', hidden: 8, batch: 4, steps: 5, evalEvery: 0, density: 0.25 }),
    );
    const mask = t.network.masks.get('layers.0.weight_hh')!.data;
    for (let i = 0; i < 5; i++) t.trainStep();
    const w = t.network.params.get('layers.0.weight_hh');
    let kept = 0;
    for (let i = 0; i < w.length; i++) {
      if (mask[i] === 0) assert.ok(w[i] === 0, `masked weight ${i} is ${w[i]}`);
      else kept += w[i] !== 0 ? 1 : 0;
    }
    assert.ok(kept > 0);
  });
});
