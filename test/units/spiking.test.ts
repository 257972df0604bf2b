/**
 * The spiking units (snu, lif) and their sigmoid variants. Finite differences see the true derivative of the
 * step (zero), not the surrogate, so BPTT is checked against them with the surrogate off (γ = 0) and no
 * membrane near its threshold; the sigmoid variants are smooth
 * and are checked with their thresholds and decays learning. RTRL == BPTT with the surrogate on. Every
 * check runs with and without recurrent synapses, on one layer and on a stack.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TsBackend } from '../../src/backend/ts.js';
import { Network, type ModelConfig } from '../../src/model/network.js';
import { createSpikingUnit } from '../../src/units/spiking.js';
import { ForwardPass } from '../../src/model/forward.js';
import {
  finiteDifferenceGradient,
  learnerGradient,
  oracleChecks,
  randomSequence,
  relativeError,
  type Sequence,
} from '../../src/check/oracle.js';
import { expectAllClose, expectChecksPass } from '../helpers.js';

const B = 2,
  T = 8;

function net(model: string, layers: number, extra: Partial<ModelConfig> = {}, seed = 41): Network {
  return new Network(
    { model, inputSize: 3, hidden: 5, layers, outputSize: 2, loss: { kind: 'mse' }, ...extra },
    new TsBackend('float64'),
    seed,
  );
}

/** how close any membrane comes to its threshold, and the spike count */
function margins(network: Network, seq: Sequence): { margin: number; spikes: number } {
  const fwd = new ForwardPass(network, B);
  const caches = network.modules.map((m) => m.createCache(network.backend, B));
  let margin = Infinity,
    spikes = 0;
  for (let t = 0; t < seq.x.length; t++) {
    fwd.load(seq.x[t]!);
    fwd.run(caches);
    network.modules.forEach((m, i) => {
      const st = fwd.states[i];
      if (!m.recurrent || !st) return;
      const th = network.params.get(`${network.prefixes[i]}threshold`);
      const s = st.s.data,
        n = th.length;
      for (let j = 0; j < s.length; j++) {
        const k = j % n;
        margin = Math.min(margin, Math.abs(s[j]! - th[k]!));
        if (s[j]! > th[k]!) spikes++;
      }
    });
  }
  return { margin, spikes };
}

describe('spiking units', () => {
  for (const model of ['snu', 'lif']) {
    for (const recurrent of [true, false]) {
      for (const layers of [1, 2]) {
        const label = `${model}, ${layers} layer(s), ${recurrent ? 'with' : 'without'} recurrent synapses`;
        test(`${label}: BPTT matches finite differences with the surrogate off, away from thresholds`, () => {
          const network = net(model, layers, { dampening: 0, recurrent });
          const seq = randomSequence(network, T, B, 7);
          const { margin, spikes } = margins(network, seq);
          assert.ok(margin > 1e-4, `precondition: every membrane stays ${margin} from its threshold / kink`);
          assert.ok(spikes > 0, 'precondition: some units spike, so resets are exercised');
          const fd = finiteDifferenceGradient(network, seq, B);
          const g = learnerGradient('bptt', network, seq, B);
          expectAllClose(g, fd, { rtol: 1e-6, atol: 1e-8 }, 'bptt vs finite differences');
          // the true derivative of a spike train is zero: only the readout learns without a surrogate
          const readout = network.params.entry('readout.weight').offset;
          assert.ok(
            g.subarray(0, readout).every((v) => v === 0),
            'no gradient reaches the spiking layers',
          );
          assert.ok(
            g.subarray(readout).some((v) => v !== 0),
            'the readout learns',
          );
        });

        test(`${label}: RTRL equals BPTT with the surrogate on, over the sequence and a window`, () => {
          const network = net(model, layers, { dampening: 0.5, width: 0.7, recurrent });
          const seq = randomSequence(network, T, B, 8);
          expectChecksPass(oracleChecks('rtrl', network, seq, B, { tolerance: 1e-9, stops: [T], windows: [[3, 6]] }), 'rtrl');
          const bptt = learnerGradient('bptt', network, seq, B);
          const th = network.params.entry('layers.0.threshold');
          assert.ok(
            bptt.subarray(th.offset, th.offset + th.size).some((v) => v !== 0),
            'the thresholds learn through the surrogate',
          );
        });
      }
    }
    test(`${model}-sigmoid (non-spiking): BPTT matches finite differences, RTRL equals BPTT, with and without recurrent synapses`, () => {
      for (const recurrent of [true, false]) {
        for (const layers of [1, 2]) {
          const network = net(`${model}-sigmoid`, layers, { recurrent });
          const seq = randomSequence(network, T, B, 9);
          const g = learnerGradient('bptt', network, seq, B);
          expectAllClose(
            g,
            finiteDifferenceGradient(network, seq, B),
            { rtol: 1e-6, atol: 1e-8 },
            `bptt vs finite differences (${layers} layers, recurrent ${recurrent})`,
          );
          assert.ok(relativeError(learnerGradient('rtrl', network, seq, B), g) <= 1e-9);
          for (const p of ['threshold', 'decay']) {
            const e = network.params.entry(`layers.0.${p}`);
            assert.ok(
              g.subarray(e.offset, e.offset + e.size).some((v) => Math.abs(v) > 1e-6),
              `the ${p}s learn`,
            );
          }
        }
      }
    });
  }

  test('the local partials follow their formulas (snu reset to zero, lif reset by subtraction)', () => {
    const n = 3,
      th = 0.6,
      l = 0.8,
      gamma = 0.5,
      w = 0.7;
    const psi = (v: number): number => gamma * (1 - Math.tanh(v / w) ** 2);
    for (const kind of ['snu', 'lif'] as const) {
      const unit = createSpikingUnit(kind, { dampening: gamma, width: w });
      // unit 0 spiked at t−1 (s = 0.9 > θ), unit 1 silent, unit 2 silent with a negative input
      const io = {
        sPrev: Float64Array.from([0.9, 0.3, 0.1]),
        preIh: Float64Array.from([0.2, 0.5, -1]),
        preHh: Float64Array.from([0.1, -0.05, 0]),
        phi: [new Float64Array(n).fill(th), new Float64Array(n).fill(l)],
        sNext: new Float64Array(n),
        y: new Float64Array(n),
        dfds: new Float64Array(n),
        dfda: new Float64Array(n),
        dhds: new Float64Array(n),
        dfdphi: new Float64Array(2 * n),
        dhdphi: new Float64Array(2 * n),
      };
      unit.step(1, n, io);
      for (let i = 0; i < n; i++) {
        const sp = io.sPrev[i]!,
          a = io.preIh[i]! + io.preHh[i]!,
          yp = sp > th ? 1 : 0;
        let s: number, dfds: number, dfda: number, dth: number, dl: number;
        if (kind === 'snu') {
          // no ReLU, and the reset gate is not differentiated through the surrogate (detached reset)
          s = a + l * sp * (1 - yp);
          dfds = l * (1 - yp);
          dfda = 1;
          dth = 0;
          dl = sp * (1 - yp);
        } else {
          s = l * sp + a - th * yp;
          dfds = l - th * psi(sp - th);
          dfda = 1;
          dth = -yp + th * psi(sp - th);
          dl = sp;
        }
        expectAllClose([io.sNext[i]!, io.y[i]!], [s, s > th ? 1 : 0], { rtol: 1e-14, atol: 0 }, `${kind} unit ${i} state and spike`);
        expectAllClose(
          [io.dfds[i]!, io.dfda[i]!, io.dfdphi[i]!, io.dfdphi[n + i]!, io.dhds[i]!, io.dhdphi[i]!, io.dhdphi[n + i]!],
          [dfds, dfda, dth, dl, psi(s - th), -psi(s - th), 0],
          { rtol: 1e-14, atol: 1e-15 },
          `${kind} unit ${i} partials`,
        );
      }
      if (kind === 'snu')
        assert.ok(Math.abs(io.sNext[0]! - 0.3) < 1e-15, 'the snu that spiked restarts from its input alone (reset to zero)');
      else assert.ok(Math.abs(io.sNext[0]! - (0.8 * 0.9 + 0.3 - 0.6)) < 1e-15, 'the lif that spiked loses θ (reset by subtraction)');
    }
  });
});
