/**
 * The EGRU: finite differences see the true derivative of the step function (zero), not the pseudo-
 * derivative, so BPTT is checked against them with the pseudo-derivative switched off (γ = 0) and no state
 * near a threshold; the pseudo-derivative path is checked on its own (the local partials by their formulas)
 * and through RTRL == BPTT with it switched on.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TsBackend } from '../../src/backend/ts.js';
import { Network, type ModelConfig } from '../../src/model/network.js';
import { createEgruUnit } from '../../src/units/egru.js';
import { ForwardPass } from '../../src/model/forward.js';
import { finiteDifferenceGradient, learnerGradient, randomSequence, relativeError, type Sequence } from '../../src/check/oracle.js';
import { expectAllClose } from '../helpers.js';

const B = 2,
  T = 8;

function egru(layers: number, extra: Partial<ModelConfig> = {}, seed = 31): Network {
  return new Network(
    { model: 'egru', inputSize: 3, hidden: 5, layers, outputSize: 2, loss: { kind: 'mse' }, ...extra },
    new TsBackend('float64'),
    seed,
  );
}

/** the smallest |c − ϑ| over the sequence, every layer and unit (how close any state comes to a threshold) */
function closestToThreshold(net: Network, seq: Sequence): { margin: number; events: number } {
  const fwd = new ForwardPass(net, B);
  const caches = net.modules.map((m) => m.createCache(net.backend, B));
  let margin = Infinity,
    events = 0;
  for (let t = 0; t < seq.x.length; t++) {
    fwd.load(seq.x[t]!);
    fwd.run(caches);
    net.modules.forEach((m, i) => {
      if (!m.recurrent) return;
      const th = net.params.get(`${net.prefixes[i]}threshold`),
        c = fwd.states[i]!.s.data;
      for (let j = 0; j < c.length; j++) {
        margin = Math.min(margin, Math.abs(c[j]! - th[j % th.length]!));
        if (c[j]! > th[j % th.length]!) events++;
      }
    });
  }
  return { margin, events };
}

describe('egru', () => {
  for (const layers of [1, 2]) {
    test(`BPTT matches finite differences with the pseudo-derivative off and no state near a threshold (${layers} layer(s))`, () => {
      const net = egru(layers, { dampening: 0 });
      const seq = randomSequence(net, T, B, 7);
      const { margin, events } = closestToThreshold(net, seq);
      assert.ok(margin > 1e-5, `precondition: every state stays ${margin} from its threshold (must exceed the finite-difference reach)`);
      assert.ok(events > 0, 'precondition: some units fire, so events and resets are exercised');
      const fd = finiteDifferenceGradient(net, seq, B);
      const g = learnerGradient('bptt', net, seq, B);
      expectAllClose(g, fd, { rtol: 1e-6, atol: 1e-8 }, 'bptt vs finite differences');
    });

    test(`RTRL equals BPTT with the pseudo-derivative on (${layers} layer(s)), thresholds included`, () => {
      const net = egru(layers, { dampening: 0.7, width: 0.5 });
      const seq = randomSequence(net, T, B, 8);
      const bptt = learnerGradient('bptt', net, seq, B),
        rtrl = learnerGradient('rtrl', net, seq, B);
      assert.ok(relativeError(rtrl, bptt) <= 1e-9, `relative error ${relativeError(rtrl, bptt)}`);
      const th = net.params.entry('layers.0.threshold');
      assert.ok(
        bptt.subarray(th.offset, th.offset + th.size).some((v) => v !== 0),
        'the thresholds learn through the pseudo-derivative',
      );
    });
  }

  test('the local partials follow their formulas, and vanish exactly outside the pseudo-derivative support', () => {
    const unit = createEgruUnit({ dampening: 0.7, width: 0.5 });
    const n = 3;
    // unit 0 fires (c = 0.9 > ϑ = 0.3), unit 1 is silent but within the window, unit 2 silent and far away
    const io = {
      sPrev: Float64Array.from([0.9, 0.1, -2]),
      preIh: new Float64Array(3 * n),
      preHh: new Float64Array(3 * n),
      phi: [Float64Array.from([0.3, 0.3, 0.3])],
      sNext: new Float64Array(n),
      y: new Float64Array(n),
      dfds: new Float64Array(n),
      dfda: new Float64Array(4 * n),
      dhds: new Float64Array(n),
      dfdphi: new Float64Array(n),
      dhdphi: new Float64Array(n),
    };
    io.preIh.set([0.2, -0.1, 0.4, 1.5, 2.0, 3.0, 0.3, 0.1, -0.2]); // z large → c stays near the reset state
    unit.step(1, n, io);
    const psi = (v: number): number => Math.max(0, 0.7 * (1 - Math.abs(v) / 0.5));
    const sig = (v: number): number => 1 / (1 + Math.exp(-v));
    for (let i = 0; i < n; i++) {
      const cPrev = io.sPrev[i]!,
        th = 0.3,
        oPrev = cPrev > th ? 1 : 0,
        sp = cPrev - oPrev * th;
      const z = sig(io.preIh[n + i]!),
        g = Math.tanh(io.preIh[2 * n + i]!); // preHh = 0, so r does not enter g
      const c = z * sp + (1 - z) * g,
        o = c > th ? 1 : 0;
      expectAllClose([io.sNext[i]!, io.y[i]!], [c, o * c], { rtol: 1e-14, atol: 0 }, `unit ${i} state and output`);
      expectAllClose(
        [io.dfds[i]!, io.dhds[i]!, io.dfdphi[i]!, io.dhdphi[i]!],
        [z * (1 - th * psi(cPrev - th)), o + c * psi(c - th), z * (-oPrev + th * psi(cPrev - th)), -c * psi(c - th)],
        { rtol: 1e-14, atol: 1e-15 },
        `unit ${i} partials`,
      );
    }
    assert.ok(io.y[2] === 0, 'a silent unit sends nothing');
    assert.ok(io.dhds[2] === 0, 'a silent unit outside the window has ∂y/∂c exactly 0');
    assert.ok(io.dhdphi[2] === 0);
  });
});
