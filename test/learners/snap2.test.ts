/**
 * snap2 on sparse recurrent weights, where its pattern is not full (the claims suite covers dense weights,
 * where it is rtrl bit for bit, and layers without recurrent synapses): the pattern is the unit a parameter
 * writes into and the units that read it through a kept synapse — nothing more, nothing less.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cosine, f64Network, learnerGradient, randomSequence, relativeError } from '../../src/check/oracle.js';
import type { Network } from '../../src/model/network.js';

/** a 1- or 2-layer gru whose weight_hh masks keep W_hh,g[j, i] exactly where keep(j, i) (every gate block) */
function masked(keep: (j: number, i: number) => boolean, layers = 1, n = 5): Network {
  const net = f64Network(
    { model: 'gru', inputSize: 3, hidden: n, layers, outputSize: 2, loss: { kind: 'mse' }, density: 1, maskMethod: 'magnitude' },
    4,
  );
  for (const [name, mask] of net.masks) {
    if (!name.endsWith('weight_hh')) continue;
    const d = mask.data;
    for (let r = 0; r < d.length / n; r++) for (let i = 0; i < n; i++) d[r * n + i] = keep(r % n, i) ? 1 : 0;
  }
  net.applyMasks();
  return net;
}

const same = (a: Float64Array, b: Float64Array): boolean => a.every((v, k) => v === b[k]);

test('snap2 is rtrl, bit for bit, when the two-step pattern is full although the weights are sparse (self-synapses pruned)', () => {
  const net = masked((j, i) => j !== i);
  const seq = randomSequence(net, 6, 2, 5);
  assert.ok(same(learnerGradient('snap2', net, seq, 2), learnerGradient('rtrl', net, seq, 2)));
});

test('on a ring (unit i feeds unit i + 1 only) snap2 is rtrl for two steps, not for three, and sits between snap1 and rtrl', () => {
  for (const layers of [1, 2]) {
    const net = masked((j, i) => j === (i + 1) % 5, layers);
    const seq = randomSequence(net, 8, 2, 5, 1);
    // within two steps a parameter reaches its own unit and the next one: exactly the pattern
    assert.ok(same(learnerGradient('snap2', net, seq, 2, { stop: 2 }), learnerGradient('rtrl', net, seq, 2, { stop: 2 })));
    const three = relativeError(learnerGradient('snap2', net, seq, 2, { stop: 3 }), learnerGradient('rtrl', net, seq, 2, { stop: 3 }));
    assert.ok(three > 1e-6, `three steps: relative error ${three}`);
    const bptt = learnerGradient('bptt', net, seq, 2),
      snap2 = learnerGradient('snap2', net, seq, 2),
      snap1 = learnerGradient('snap1', net, seq, 2);
    assert.ok(relativeError(snap2, bptt) < relativeError(snap1, bptt), `${layers} layers: snap2 is closer to BPTT than snap1`);
    assert.ok(cosine(snap2, bptt) > cosine(snap1, bptt));
  }
});

test('snap2 reads the mask at every step: pruning more of it changes the gradient', () => {
  const net = masked((j, i) => j !== i);
  const seq = randomSequence(net, 6, 2, 5);
  const full = learnerGradient('snap2', net, seq, 2);
  net.pruneByMagnitude(0.3);
  const pruned = learnerGradient('snap2', net, seq, 2),
    rtrl = learnerGradient('rtrl', net, seq, 2);
  assert.ok(!same(full, pruned));
  assert.ok(relativeError(pruned, rtrl) > 1e-9, 'with 30 % of the recurrent synapses kept the pattern is no longer full');
});
