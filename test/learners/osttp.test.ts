/**
 * OSTL and OSTTP on the spiking units (and their sigmoid variants), in float64:
 * - ostl equals BPTT (≤ 1e-9) for one layer without recurrent synapses — whole sequence, prefixes and a
 *   window in the middle — and for the top layer of a stack; it does not with recurrent synapses (control);
 * - osttp's output-layer gradient equals BPTT's; its hidden update is exactly the target projection times
 *   the layer's exact sensitivities dy_t/dθ (checked against finite differences of Σ_t ⟨L_t, y_t(θ)⟩);
 * - no weight transport: poisoning every weight above a layer (NaN) leaves that layer's update bit-identical
 *   (ostl, which backpropagates, is poisoned — the control that shows the test can fail);
 * - no update locking: a layer's update at step t is complete before the next layer runs its forward at t;
 * - targetTiming 'every-step' projects the target at unscored steps too, the readout still learns from scored ones;
 * - memory does not grow with the sequence length.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig, Network } from '../../src/model/network.js';
import type { RecurrentLayer } from '../../src/modules/recurrent.js';
import { createLearner } from '../../src/learners/index.js';
import { ForwardPass } from '../../src/model/forward.js';
import type { OsttpLearner } from '../../src/learners/osttp.js';
import { f64Network, learnerGradient, oracleChecks, randomSequence, relativeError, type Sequence } from '../../src/check/oracle.js';
import { expectAllClose, expectChecksPass, paramIndices } from '../helpers.js';

const B = 2,
  T = 7;
const spiking = ['snu', 'lif', 'snu-sigmoid', 'lif-sigmoid'];

function config(model: string, extra: Partial<ModelConfig> = {}): ModelConfig {
  // a surrogate of height 0.5 and width 0.7 makes the spiking units' gradients non-trivial
  return {
    model,
    inputSize: 3,
    hidden: 4,
    layers: 1,
    outputSize: 4,
    loss: { kind: 'ce', classes: 2 },
    dampening: 0.5,
    width: 0.7,
    ...extra,
  };
}

/** the entries of a gradient vector that belong to parameters whose name passes `keep` */
function pick(net: Network, g: ArrayLike<number>, keep: (name: string) => boolean): number[] {
  const out: number[] = [];
  for (const name of net.params.names()) {
    if (!keep(name)) continue;
    const e = net.params.entry(name);
    for (let i = 0; i < e.size; i++) out.push(g[e.offset + i]!);
  }
  return out;
}

function expectEqualsBptt(learner: string, net: Network, seq: Sequence, keep: (name: string) => boolean, what: string): void {
  const indices = paramIndices(net.params.names(), (n) => net.params.entry(n), keep);
  expectChecksPass(
    oracleChecks(learner, net, seq, B, { tolerance: 1e-9, stops: [1, 4, T], windows: [[3, 6]], indices }),
    `${learner}, ${what}`,
  );
}

const all = (): boolean => true;

describe('ostl', () => {
  for (const model of spiking) {
    test(`${model}: one layer without recurrent synapses — ostl equals BPTT (thresholds and decays included)`, () => {
      const net = f64Network(config(model, { recurrent: false }), 51);
      const seq = randomSequence(net, T, B, 52, 1);
      expectEqualsBptt('ostl', net, seq, all, model);
      const g = learnerGradient('ostl', net, seq, B);
      assert.ok(
        pick(net, g, (n) => n === 'layers.0.threshold').some((v) => v !== 0),
        'thresholds learn',
      );
      assert.ok(
        pick(net, g, (n) => n === 'layers.0.decay').some((v) => v !== 0),
        'decays learn',
      );
    });

    test(`${model}: a stack of two layers without recurrent synapses — the top layer and the readout are exact, the lower layer is not`, () => {
      const net = f64Network(config(model, { recurrent: false, layers: 2 }), 53);
      const seq = randomSequence(net, T, B, 54, 1);
      expectEqualsBptt('ostl', net, seq, (n) => !n.startsWith('layers.0.'), `${model} top layer and readout`);
      const lower = (n: string): boolean => n.startsWith('layers.0.') && !n.includes('_hh');
      const err = relativeError(
        pick(net, learnerGradient('ostl', net, seq, B), lower),
        pick(net, learnerGradient('bptt', net, seq, B), lower),
      );
      assert.ok(err > 1e-6, `the lower layer drops its paths through the upper layer's later steps (relative error ${err})`);
    });

    test(`${model}: with recurrent synapses ostl is approximate (negative control)`, () => {
      const net = f64Network(config(model), 55);
      const seq = randomSequence(net, T, B, 56, 1);
      const err = relativeError(learnerGradient('ostl', net, seq, B), learnerGradient('bptt', net, seq, B));
      assert.ok(err > 1e-4, `relative error ${err}`);
    });
  }
});

/** Σ_t ⟨L_t, y_t(θ)⟩ with L_t the osttp learner's fixed target projection: its gradient in θ is osttp's hidden update */
function projectedOutput(net: Network, seq: Sequence, learner: OsttpLearner): number {
  const fwd = new ForwardPass(net, B);
  const caches = net.modules.map((m) => m.createCache(net.backend, B));
  const L = net.backend.alloc(B * net.modules[0]!.outSize);
  let total = 0;
  for (let t = 0; t < seq.x.length; t++) {
    fwd.load(seq.x[t]!);
    fwd.run(caches);
    learner.projection.encode(seq.target[t]!, seq.mask[t]!);
    learner.projection.signal(0, L);
    const y = fwd.acts[0]!.data;
    for (let k = 0; k < L.length; k++) total += L.data[k]! * y[k]!;
  }
  return total;
}

describe('osttp', () => {
  for (const model of spiking) {
    test(`${model}: the output layer's update equals BPTT's; the hidden layers' differ`, () => {
      for (const recurrent of [true, false]) {
        const net = f64Network(config(model, { layers: 2, recurrent }), 61);
        const seq = randomSequence(net, T, B, 62, 1);
        expectEqualsBptt('osttp', net, seq, (n) => n.startsWith('readout.'), `${model} readout, recurrent ${recurrent}`);
        const hidden = (n: string): boolean => n.startsWith('layers.') && !n.includes('_hh');
        const err = relativeError(
          pick(net, learnerGradient('osttp', net, seq, B), hidden),
          pick(net, learnerGradient('bptt', net, seq, B), hidden),
        );
        assert.ok(err > 0.1, `hidden layers learn from the projected target, not the gradient (relative error ${err})`);
      }
    });
  }

  test('the hidden update is the target projection times the exact sensitivities: finite differences of Σ_t ⟨B·ŷ*_t, y_t(θ)⟩', () => {
    for (const model of ['snu-sigmoid', 'lif-sigmoid']) {
      const net = f64Network(config(model, { recurrent: false }), 63);
      const seq = randomSequence(net, T, B, 64, 0.7);
      const learner = createLearner('osttp', net, { batchSize: B }) as OsttpLearner;
      learner.startSequence();
      net.zeroGrads();
      for (let t = 0; t < T; t++) learner.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
      const g = Float64Array.from(net.grads.flat.data);
      const p = net.params.flat.data,
        eps = 1e-6;
      const hidden = net.params.entry('readout.weight').offset;
      const fd = new Float64Array(hidden);
      for (let i = 0; i < hidden; i++) {
        const keep = p[i]!;
        p[i] = keep + eps;
        const up = projectedOutput(net, seq, learner);
        p[i] = keep - eps;
        const down = projectedOutput(net, seq, learner);
        p[i] = keep;
        fd[i] = (up - down) / (2 * eps);
      }
      expectAllClose(g.subarray(0, hidden), fd, { rtol: 1e-6, atol: 1e-9 }, `${model}: osttp hidden update vs finite differences`);
      assert.ok(
        fd.some((v) => Math.abs(v) > 1e-3),
        'the projected signal is not trivially zero',
      );
    }
  });

  test('no weight transport: NaN in every weight above a layer leaves its update bit-identical (ostl is poisoned: the control)', () => {
    const net = f64Network(config('lif', { layers: 3, hidden: 5 }), 65);
    const seq = randomSequence(net, T, B, 66, 1);
    const clean = { osttp: learnerGradient('osttp', net, seq, B), ostl: learnerGradient('ostl', net, seq, B) };
    const saved = Float64Array.from(net.params.flat.data);
    for (const above of [1, 2, 3]) {
      // module `above` and everything after it (layers.k for k ≥ above, and the readout) read NaN
      const poisoned = (n: string): boolean => n.startsWith('readout.') || Number(n.split('.')[1]) >= above;
      net.params.flat.data.set(saved);
      for (const name of net.params.names())
        if (name.startsWith('layers.') || name.startsWith('readout.')) {
          if (poisoned(name)) net.params.buf(name).data.fill(NaN);
        }
      const below = (n: string): boolean => !poisoned(n);
      const g = learnerGradient('osttp', net, seq, B);
      assert.deepEqual(
        pick(net, g, below),
        pick(net, clean.osttp, below),
        `osttp: layers below ${above} learn exactly as with clean weights above`,
      );
      assert.ok(pick(net, g, below).some((v) => v !== 0));
      const o = learnerGradient('ostl', net, seq, B);
      assert.ok(
        pick(net, o, below).some((v) => Number.isNaN(v)),
        `ostl reads the weights above layer ${above} (it backpropagates through them)`,
      );
    }
    net.params.flat.data.set(saved);
  });

  test("no update locking: at every step, a layer's update is complete before the next layer runs (ostl's is not: the control)", () => {
    for (const name of ['osttp', 'ostl']) {
      const net = f64Network(config('snu', { layers: 3, hidden: 5 }), 67);
      const seq = randomSequence(net, T, B, 68, 1);
      const learner = createLearner(name, net, { batchSize: B });
      learner.startSequence();
      net.zeroGrads();
      const grads = (l: number): number[] => pick(net, net.grads.flat.data, (n) => n.startsWith(`layers.${l}.`));
      // when module k+1 starts its forward at step t, record layer k's gradient so far
      const atNext: number[][] = net.modules.map(() => []);
      net.modules.forEach((m, k) => {
        if (k === 0) return;
        const forward = m.forward.bind(m) as (...a: unknown[]) => void;
        (m as unknown as { forward: (...a: unknown[]) => void }).forward = (...a: unknown[]) => {
          atNext[k - 1] = grads(k - 1);
          forward(...a);
        };
      });
      let locked = 0;
      for (let t = 0; t < T; t++) {
        learner.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
        for (let k = 0; k < 3; k++) {
          const done = grads(k);
          if (name === 'osttp') assert.deepEqual(atNext[k], done, `step ${t}: layer ${k}'s update was complete when layer ${k + 1} ran`);
          else if (done.some((v, i) => v !== atNext[k]![i])) locked++;
        }
      }
      if (name === 'ostl') assert.ok(locked > 0, 'ostl adds layer updates after the layers above have run (update locking)');
    }
  });

  test("the projection is drawn from the learner's seed; the readout's update does not depend on it", () => {
    const net = f64Network(config('lif', { layers: 2 }), 69);
    const seq = randomSequence(net, T, B, 70, 1);
    const a = learnerGradient('osttp', net, seq, B),
      b = learnerGradient('osttp', net, seq, B, { options: { seed: 5 } });
    const hidden = (n: string): boolean => n.startsWith('layers.');
    assert.ok(relativeError(pick(net, b, hidden), pick(net, a, hidden)) > 0.1, 'the seed draws the projection matrices');
    assert.deepEqual(
      pick(net, b, (n) => n.startsWith('readout.')),
      pick(net, a, (n) => n.startsWith('readout.')),
      'the readout learns from its error alone',
    );
  });

  test('the centered projection (default) has rows of zero mean; the raw one (DRTP as published) does not', () => {
    const net = f64Network(config('lif', { layers: 2 }), 73);
    for (const projection of ['centered', 'raw'] as const) {
      const learner = createLearner('osttp', net, { batchSize: B, projection }) as OsttpLearner;
      const rowMeans = learner.projection.buffers().flatMap((m) => {
        const o = net.outputSize,
          d = m.data,
          means: number[] = [];
        for (let i = 0; i < d.length / o; i++) means.push(Array.from(d.subarray(i * o, (i + 1) * o)).reduce((a, v) => a + v, 0) / o);
        return means;
      });
      if (projection === 'centered')
        assert.ok(
          rowMeans.every((v) => Math.abs(v) < 1e-15),
          'centered rows',
        );
      else
        assert.ok(
          rowMeans.some((v) => Math.abs(v) > 1e-3),
          'raw rows keep their mean',
        );
    }
  });

  test('targetTiming every-step projects the target at unscored steps too; the readout still learns from scored steps only', () => {
    const net = f64Network(config('lif', { layers: 2 }), 75);
    const full = randomSequence(net, T, B, 76, 1);
    // the same targets, scored only at the last two steps
    const late = { ...full, mask: full.mask.map((m, t) => (t >= T - 2 ? m : m.map(() => 0))) };
    const hidden = (n: string): boolean => n.startsWith('layers.'),
      readout = (n: string): boolean => n.startsWith('readout.');
    const every = learnerGradient('osttp', net, late, B, { options: { targetTiming: 'every-step' } });
    const scored = learnerGradient('osttp', net, late, B, { options: { targetTiming: 'scored' } });
    const fullScored = learnerGradient('osttp', net, full, B);
    expectAllClose(
      pick(net, every, hidden),
      pick(net, fullScored, hidden),
      { rtol: 1e-12, atol: 1e-15 },
      "every-step: the hidden layers see every step's target",
    );
    assert.ok(
      relativeError(pick(net, scored, hidden), pick(net, fullScored, hidden)) > 0.1,
      'scored: the unscored steps teach nothing (the control)',
    );
    assert.deepEqual(pick(net, every, readout), pick(net, scored, readout), 'the readout learns from its scored error alone');
    assert.ok(relativeError(pick(net, every, readout), pick(net, fullScored, readout)) > 0.1, 'the mask does reach the readout');
  });

  test('memory does not grow with the sequence length', () => {
    const net = f64Network(config('lif', { layers: 2 }), 71);
    const learner = createLearner('osttp', net, { batchSize: B });
    const long = randomSequence(net, 60, B, 72, 1);
    learner.startSequence();
    learner.step(long.x[0]!, long.target[0]!, long.mask[0]!);
    const early = learner.stateBytes();
    for (let t = 1; t < 60; t++) learner.step(long.x[t]!, long.target[t]!, long.mask[t]!);
    assert.equal(learner.stateBytes(), early);
    const layers = net.modules.filter((m) => m.recurrent) as unknown as RecurrentLayer[];
    const params = layers.reduce((s, l) => s + l.ownRows, 0);
    assert.equal(early, B * params * 8, 'one trace per parameter and sample (S = 1)');
  });
});
