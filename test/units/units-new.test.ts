/**
 * The unit models of issue 22 — alif (+ alif-sigmoid), mgu, mingru, minlstm, ur-lstm: BPTT against central finite
 * differences for the smooth ones (1 and 2 layers, mse and ce); RTRL == BPTT to 1e-9 for all of them (the
 * spiking alif with its surrogate on); each unit's local partials against finite differences of its own step
 * (the spiking alif with the surrogate off, away from the threshold, where the step is locally constant);
 * e-prop and SnAp-1 == BPTT where the learner rows claim it (one layer without recurrent synapses); the
 * UR-LSTM's uniform gate initialisation.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig } from '../../src/model/network.js';
import { getUnit } from '../../src/units/index.js';
import { createAlifUnit } from '../../src/units/alif.js';
import type { UnitIO, UnitModel } from '../../src/units/unit.js';
import { Rng } from '../../src/core/rng.js';
import { f64Network, finiteDifferenceGradient, learnerGradient, randomSequence, relativeError } from '../../src/check/oracle.js';
import { expectAllClose } from '../helpers.js';

const smoothNew = ['alif-sigmoid', 'mgu', 'mingru', 'minlstm', 'ur-lstm'];
const allNew = ['alif', ...smoothNew];
const B = 2,
  T = 7;

const config = (model: string, layers: number, loss: ModelConfig['loss'], extra: Partial<ModelConfig> = {}): ModelConfig => ({
  model,
  inputSize: 3,
  hidden: 4,
  layers,
  outputSize: 3,
  loss,
  ...extra,
});
const losses: { label: string; loss: ModelConfig['loss'] }[] = [
  { label: 'mse', loss: { kind: 'mse' } },
  { label: 'ce', loss: { kind: 'ce', classes: 3 } },
];

describe('new units: BPTT matches central finite differences (float64)', () => {
  for (const model of smoothNew) {
    for (const layers of [1, 2]) {
      for (const { label, loss } of losses) {
        test(`${model}, ${layers} layer(s), ${label}`, () => {
          const net = f64Network(config(model, layers, loss), 11);
          const seq = randomSequence(net, T, B, 12);
          const g = learnerGradient('bptt', net, seq, B),
            fd = finiteDifferenceGradient(net, seq, B);
          assert.ok(g.some((v) => v !== 0));
          expectAllClose(g, fd, { rtol: 1e-6, atol: 1e-8 }, `${model} bptt vs finite differences`);
        });
      }
    }
  }
});

describe('new units: RTRL equals BPTT to 1e-9 (alif with the surrogate on)', () => {
  for (const model of allNew) {
    for (const layers of [1, 2]) {
      test(`${model}, ${layers} layer(s)`, () => {
        const net = f64Network(
          config(model, layers, { kind: 'ce', classes: 3 }, model === 'alif' ? { dampening: 0.8, width: 0.7 } : {}),
          21,
        );
        const seq = randomSequence(net, T, B, 22);
        const bptt = learnerGradient('bptt', net, seq, B),
          rtrl = learnerGradient('rtrl', net, seq, B);
        assert.ok(bptt.some((v) => v !== 0));
        assert.ok(relativeError(rtrl, bptt) <= 1e-9, `relative error ${relativeError(rtrl, bptt)}`);
      });
    }
  }

  test('alif: the spiking layer fires and its four unit parameters learn through the surrogate', () => {
    const net = f64Network(config('alif', 1, { kind: 'mse' }, { dampening: 1, width: 1 }), 5);
    // inputs large enough that the units cross threshold and adapt
    const seq = randomSequence(net, 12, B, 6);
    for (const x of seq.x) for (let i = 0; i < x.length; i++) x[i] = 3 * x[i]!;
    const bptt = learnerGradient('bptt', net, seq, B),
      rtrl = learnerGradient('rtrl', net, seq, B);
    assert.ok(relativeError(rtrl, bptt) <= 1e-9, `relative error ${relativeError(rtrl, bptt)}`);
    for (const p of ['threshold', 'decay', 'adaptation_decay', 'adaptation_strength']) {
      const e = net.params.entry(`layers.0.${p}`);
      assert.ok(
        bptt.subarray(e.offset, e.offset + e.size).some((v) => v !== 0),
        `${p} gets a gradient`,
      );
    }
  });
});

/** one step of a unit for B samples, n units: the arrays, with the local partials requested */
function unitIO(unit: UnitModel, Bs: number, n: number): UnitIO {
  const { S, K, G } = unit,
    P = unit.unitParams.length;
  return {
    sPrev: new Float64Array(Bs * S * n),
    preIh: new Float64Array(Bs * G * n),
    preHh: new Float64Array(Bs * G * n),
    phi: unit.unitParams.map(() => new Float64Array(n)),
    sNext: new Float64Array(Bs * S * n),
    y: new Float64Array(Bs * n),
    dfds: new Float64Array(Bs * S * S * n),
    dfda: new Float64Array(Bs * S * K * n),
    dhds: new Float64Array(Bs * S * n),
    dfdphi: P ? new Float64Array(Bs * S * P * n) : null,
    dhdphi: P ? new Float64Array(Bs * P * n) : null,
  };
}

/**
 * Every local partial of one step against central differences of the step: ∂s'/∂s, ∂s'/∂a (a channel
 * perturbed through the gate block that feeds it), ∂s'/∂φ; and ∂y/∂s through the chain ∂y/∂(s, a, φ) =
 * Σ_c ∂h/∂s_c · ∂s'_c/∂(s, a, φ) (+ ∂h/∂φ), which fixes ∂h/∂s whenever ∂s'/∂s is invertible.
 */
function checkLocalPartials(unit: UnitModel, setup: (io: UnitIO, rng: Rng) => void, tol = 1e-7): void {
  const Bs = 2,
    n = 3,
    { S, K, G } = unit,
    P = unit.unitParams.length,
    eps = 1e-6;
  const io = unitIO(unit, Bs, n);
  const rng = new Rng(3);
  setup(io, rng);
  unit.step(Bs, n, io);
  const base = { ...io, dfds: null, dfda: null, dhds: null, dfdphi: null, dhdphi: null };
  const probe = (perturb: (d: number) => () => void): { ds: Float64Array; dy: Float64Array } => {
    const run = (d: number): { s: Float64Array; y: Float64Array } => {
      const undo = perturb(d);
      const out = { ...base, sNext: new Float64Array(io.sNext.length), y: new Float64Array(io.y.length) };
      unit.step(Bs, n, out);
      undo();
      return { s: out.sNext, y: out.y };
    };
    const p = run(eps),
      m = run(-eps);
    return { ds: p.s.map((v, k) => (v - m.s[k]!) / (2 * eps)), dy: p.y.map((v, k) => (v - m.y[k]!) / (2 * eps)) };
  };
  const bump = (arr: Float64Array, k: number) => (d: number) => {
    const keep = arr[k]!;
    arr[k] = keep + d;
    return () => {
      arr[k] = keep;
    };
  };
  const close = (a: number, b: number, what: string): void =>
    assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${unit.name} ${what}: ${a} vs finite differences ${b}`);
  const dh = (b: number, c: number, i: number): number => io.dhds![(b * S + c) * n + i]!;
  for (let b = 0; b < Bs; b++) {
    for (let i = 0; i < n; i++) {
      for (let c2 = 0; c2 < S; c2++) {
        const { ds, dy } = probe(bump(io.sPrev as Float64Array, (b * S + c2) * n + i));
        let chain = 0;
        for (let c = 0; c < S; c++) {
          const dfds = io.dfds![((b * S + c) * S + c2) * n + i]!;
          close(dfds, ds[(b * S + c) * n + i]!, `∂s[${c}]/∂s_prev[${c2}] (sample ${b}, unit ${i})`);
          chain += dh(b, c, i) * dfds;
        }
        close(chain, dy[b * n + i]!, `∂y/∂s_prev[${c2}] (sample ${b}, unit ${i})`);
      }
      for (let k = 0; k < K; k++) {
        const gi = unit.ihChannel.indexOf(k),
          gh = unit.hhChannel.indexOf(k);
        const { ds, dy } =
          gi >= 0
            ? probe(bump(io.preIh as Float64Array, (b * G + gi) * n + i))
            : probe(bump(io.preHh as Float64Array, (b * G + gh) * n + i));
        let chain = 0;
        for (let c = 0; c < S; c++) {
          const dfda = io.dfda![((b * S + c) * K + k) * n + i]!;
          close(dfda, ds[(b * S + c) * n + i]!, `∂s[${c}]/∂a[${k}] (sample ${b}, unit ${i})`);
          chain += dh(b, c, i) * dfda;
        }
        close(chain, dy[b * n + i]!, `∂y/∂a[${k}] (sample ${b}, unit ${i})`);
      }
      for (let p = 0; p < P; p++) {
        const { ds, dy } = probe(bump(io.phi[p] as Float64Array, i));
        let chain = io.dhdphi![(b * P + p) * n + i]!;
        for (let c = 0; c < S; c++) {
          const dfdphi = io.dfdphi![((b * S + c) * P + p) * n + i]!;
          close(dfdphi, ds[(b * S + c) * n + i]!, `∂s[${c}]/∂${unit.unitParams[p]!.name} (sample ${b}, unit ${i})`);
          chain += dh(b, c, i) * dfdphi;
        }
        close(chain, dy[b * n + i]!, `∂y/∂${unit.unitParams[p]!.name} (sample ${b}, unit ${i})`);
      }
    }
  }
}

const randomInputs = (io: UnitIO, rng: Rng): void => {
  for (const a of [io.sPrev, io.preIh, io.preHh]) for (let k = 0; k < a.length; k++) a[k] = rng.normal(0, 1);
};

test("alif: the model config's dampening reaches the unit (γ = 0: no gradient below the readout, the step is flat)", () => {
  const net = f64Network(config('alif', 1, { kind: 'mse' }, { dampening: 0 }), 5);
  const g = learnerGradient('bptt', net, randomSequence(net, T, B, 6), B);
  const ih = net.params.entry('layers.0.weight_ih'),
    out = net.params.entry('readout.weight');
  assert.ok(g.subarray(ih.offset, ih.offset + ih.size).every((v) => v === 0));
  assert.ok(g.subarray(out.offset, out.offset + out.size).some((v) => v !== 0));
});

describe('new units: local partials match finite differences of the unit step', () => {
  for (const model of ['mgu', 'mingru', 'minlstm']) test(model, () => checkLocalPartials(getUnit(model), randomInputs));
  test('ur-lstm (with its forget bias φ)', () => {
    checkLocalPartials(getUnit('ur-lstm'), (io, rng) => {
      randomInputs(io, rng);
      for (let i = 0; i < io.phi[0]!.length; i++) io.phi[0]![i] = rng.normal(0, 1);
    });
  });

  test('alif-sigmoid (with θ, α, ρ, β)', () => {
    checkLocalPartials(getUnit('alif-sigmoid'), (io, rng) => {
      randomInputs(io, rng);
      const [th, al, rh, be] = io.phi as Float64Array[];
      for (let i = 0; i < th!.length; i++) {
        th![i] = 0.8 + 0.4 * rng.uniform();
        al![i] = 0.7 + 0.2 * rng.uniform();
        rh![i] = 0.85 + 0.1 * rng.uniform();
        be![i] = 0.1 + 0.3 * rng.uniform();
      }
    });
  });

  test('alif with the surrogate off (γ = 0), every state away from its threshold: the step is locally constant', () => {
    const unit = createAlifUnit({ dampening: 0 });
    let fired = 0;
    checkLocalPartials(unit, (io) => {
      // v_prev alternately far above and far below θ + β·b_prev; inputs keep v_t away from it too
      const n = 3;
      for (let b = 0; b < 2; b++) {
        for (let i = 0; i < n; i++) {
          const above = (b + i) % 2 === 0;
          io.sPrev[b * 2 * n + i] = above ? 2.5 : -0.5;
          io.sPrev[b * 2 * n + n + i] = 0.3 * (i + 1);
          io.preIh[b * n + i] = above ? 0.5 : 0.2;
          if (above) fired++;
        }
      }
      io.phi[0]!.fill(1);
      io.phi[1]!.fill(0.8);
      io.phi[2]!.fill(0.9);
      io.phi[3]!.fill(0.2);
    });
    assert.ok(fired > 0, 'precondition: some units spiked at t − 1, so reset and adaptation are exercised');
  });
});

describe('new units: e-prop and SnAp-1 where the rows claim exactness', () => {
  for (const model of allNew) {
    test(`${model}: eprop == bptt, one layer without recurrent synapses`, () => {
      const net = f64Network(config(model, 1, { kind: 'ce', classes: 3 }, { recurrent: false }), 31);
      const seq = randomSequence(net, T, B, 32);
      const bptt = learnerGradient('bptt', net, seq, B),
        eprop = learnerGradient('eprop', net, seq, B);
      assert.ok(relativeError(eprop, bptt) <= 1e-9, `relative error ${relativeError(eprop, bptt)}`);
    });
    test(`${model}: snap1 == bptt for a single unit with its recurrent synapse`, () => {
      const net = f64Network({ ...config(model, 1, { kind: 'mse' }), hidden: 1 }, 33);
      const seq = randomSequence(net, T, B, 34);
      const bptt = learnerGradient('bptt', net, seq, B),
        snap1 = learnerGradient('snap1', net, seq, B);
      assert.ok(relativeError(snap1, bptt) <= 1e-9, `relative error ${relativeError(snap1, bptt)}`);
    });
  }
  test('mingru with recurrent synapses: eprop is not bptt (the dropped W_hh path is real)', () => {
    const net = f64Network(config('mingru', 1, { kind: 'ce', classes: 3 }), 35);
    const seq = randomSequence(net, T, B, 36);
    assert.ok(relativeError(learnerGradient('eprop', net, seq, B), learnerGradient('bptt', net, seq, B)) > 1e-6);
  });
});

test('ur-lstm: uniform gate initialisation, σ(forget_bias) spread over [1/n, 1 − 1/n]', () => {
  const n = 16;
  const net = f64Network({ ...config('ur-lstm', 1, { kind: 'mse' }), hidden: n }, 3);
  const e = net.params.entry('layers.0.forget_bias');
  const f = Array.from(net.params.flat.data.subarray(e.offset, e.offset + n), (v) => 1 / (1 + Math.exp(-v)));
  assert.ok(f.every((v) => v >= 1 / n - 1e-12 && v <= 1 - 1 / n + 1e-12));
  assert.ok(Math.min(...f) < 0.3 && Math.max(...f) > 0.7, `spread: ${Math.min(...f)} … ${Math.max(...f)}`);
});
