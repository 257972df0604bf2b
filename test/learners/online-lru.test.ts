/**
 * online-lru against BPTT in float64 (Zucchet et al. 2023, research notes §1.3, §1.8): exact for the LRU
 * layer's own parameters and everything downstream of it in a one-layer network, and for the top LRU layer
 * and everything above it in a stack; approximate (and shown to differ) upstream; spatial gives λ exactly
 * zero gradient; the complex-gradient convention on the hand-computed single-unit example.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TsBackend } from '../../src/backend/ts.js';
import { Network, type ModelConfig } from '../../src/model/network.js';
import { learnerGradient, oracleChecks, randomSequence, relativeError } from '../../src/check/oracle.js';
import { createLearner } from '../../src/learners/index.js';
import { LruLayer } from '../../src/modules/lru.js';
import { LruLayerTraces } from '../../src/learners/traces/lru.js';
import { ParamStore } from '../../src/core/params.js';
import { Rng } from '../../src/core/rng.js';
import { expectAllClose, expectChecksPass, paramIndices } from '../helpers.js';

const B = 2,
  T = 7;

function lruNet(layers: number, extra: Partial<ModelConfig> = {}): Network {
  return new Network(
    {
      model: 'lru',
      inputSize: 3,
      hidden: 4,
      stateSize: 3,
      layers,
      outputSize: 4,
      loss: { kind: 'ce', classes: 2 },
      rMin: 0.5,
      rMax: 0.95,
      ...extra,
    },
    new TsBackend('float64'),
    21,
  );
}

/** the gradient entries of the parameters whose names start with one of the prefixes */
function pick(net: Network, g: Float64Array, prefixes: string[]): { name: string; values: number[] }[] {
  return net.params
    .names()
    .filter((n) => prefixes.some((p) => n.startsWith(p)))
    .map((name) => {
      const e = net.params.entry(name);
      return { name, values: Array.from(g.subarray(e.offset, e.offset + e.size)) };
    });
}

describe('online-lru equals BPTT where the rule is exact', () => {
  for (const [label, extra] of [
    ['', {}],
    [', pool_st', { pooling: 'pool_st' as const }],
    [', dropout 0.3', { dropout: 0.3 }],
  ] as const) {
    test(`one layer${label}: the LRU parameters and everything downstream are exact; upstream differs`, () => {
      const net = lruNet(1, extra);
      const seq = randomSequence(net, T, B, 3);
      const bptt = learnerGradient('bptt', net, seq, B);
      const online = learnerGradient('online-lru', net, seq, B);
      const exact = ['layers.0.lru.', 'layers.0.glu.', 'decoder.'];
      for (const { name, values } of pick(net, online, exact)) {
        const want = pick(net, bptt, [name])[0]!.values;
        assert.ok(relativeError(values, want) <= 1e-9, `${name}: relative error ${relativeError(values, want)}`);
      }
      for (const name of ['encoder.weight', 'layers.0.norm.weight']) {
        const [a, b] = [pick(net, online, [name])[0]!.values, pick(net, bptt, [name])[0]!.values];
        assert.ok(
          relativeError(a, b) > 1e-4,
          `${name} upstream of the LRU must get the approximate gradient (relative error ${relativeError(a, b)})`,
        );
      }
    });
  }

  test('three layers: the top LRU layer and everything above are exact; lower layers differ', () => {
    const net = lruNet(3);
    const seq = randomSequence(net, T, B, 4);
    const bptt = learnerGradient('bptt', net, seq, B);
    const online = learnerGradient('online-lru', net, seq, B);
    for (const { name, values } of pick(net, online, ['layers.2.lru.', 'layers.2.glu.', 'decoder.'])) {
      const want = pick(net, bptt, [name])[0]!.values;
      assert.ok(relativeError(values, want) <= 1e-9, `${name}: relative error ${relativeError(values, want)}`);
    }
    for (const name of ['layers.0.lru.B_re', 'layers.1.lru.nu_log', 'layers.1.glu.dense1.weight']) {
      const [a, b] = [pick(net, online, [name])[0]!.values, pick(net, bptt, [name])[0]!.values];
      assert.ok(relativeError(a, b) > 1e-4, `${name} below the top LRU layer must differ (relative error ${relativeError(a, b)})`);
    }
  });

  test('over a window in the middle of the sequence as well (traces carry credit from before the window)', () => {
    const net = lruNet(1);
    const seq = randomSequence(net, T, B, 5, 1);
    const indices = paramIndices(
      net.params.names(),
      (n) => net.params.entry(n),
      (n) => n.startsWith('layers.0.lru.') || n.startsWith('decoder.'),
    );
    expectChecksPass(
      oracleChecks('online-lru', net, seq, B, { tolerance: 1e-9, stops: [], windows: [[3, 6]], indices }),
      'online-lru, the LRU layer and the decoder',
    );
  });
});

describe('the baselines', () => {
  test('spatial gives exactly zero λ gradient; truncated1 does not; both differ from online-lru on B', () => {
    const net = lruNet(2);
    const seq = randomSequence(net, T, B, 6);
    const spatial = learnerGradient('spatial', net, seq, B);
    const trunc = learnerGradient('truncated1', net, seq, B);
    const online = learnerGradient('online-lru', net, seq, B);
    for (const l of [0, 1]) {
      for (const p of ['nu_log', 'theta_log']) {
        assert.ok(
          pick(net, spatial, [`layers.${l}.lru.${p}`])[0]!.values.every((v) => v === 0),
          `spatial ${p}`,
        );
        assert.ok(
          pick(net, trunc, [`layers.${l}.lru.${p}`])[0]!.values.some((v) => v !== 0),
          `truncated1 ${p}`,
        );
      }
    }
    const B1 = (g: Float64Array): number[] => pick(net, g, ['layers.1.lru.B_re'])[0]!.values;
    assert.ok(relativeError(B1(spatial), B1(online)) > 1e-3);
    assert.ok(relativeError(B1(trunc), B1(online)) > 1e-3);
    // everything above the top LRU layer gets the same spatial gradient in all three
    expectAllClose(pick(net, spatial, ['decoder.'])[0]!.values, pick(net, online, ['decoder.'])[0]!.values, { rtol: 1e-12, atol: 1e-15 });
  });

  test('online-lru refuses networks without LRU layers', () => {
    const gru = new Network({ model: 'gru', inputSize: 2, hidden: 3, layers: 1, outputSize: 1, loss: { kind: 'mse' } }, new TsBackend());
    assert.throws(
      () => createLearner('online-lru', gru, { batchSize: 1 }),
      /does not support model 'gru': the online-LRU paper's name for diag traces × backprop at t on LRU stacks, exact there because the recurrence λ is diagonal; .* the row 'eprop'; it supports: lru/,
    );
  });
});

test('the complex-gradient convention on the single-unit example (research notes §1.8)', () => {
  // λ = 0.5 (θ_log → −∞: phase ≈ 0), γ = 1, B = 2+2i, C = 2+i, D = 0, x = 1, 2, 3, L = ½ Σ_t (Re(C h_t) − 1)²
  const be = new TsBackend('float64');
  const lru = new LruLayer(1, 1);
  const params = new ParamStore(be, lru.paramSpecs()),
    grads = params.like();
  lru.bind(params, grads, '');
  const thetaLog = -30,
    nuLog = Math.log(-Math.log(0.5));
  params.set('nu_log', [nuLog]);
  params.set('theta_log', [thetaLog]);
  params.set('gamma_log', [0]);
  params.set('B_re', [2]);
  params.set('B_im', [2]);
  params.set('C_re', [2]);
  params.set('C_im', [1]);
  params.set('D', [0]);
  const cache = lru.createCache(be, 1),
    state = lru.createState(be, 1);
  const traces = new LruLayerTraces(lru, be, 1, 'online');
  const y = be.alloc(1),
    dy = be.alloc(1),
    ctx = { training: false, rng: new Rng(0) };
  let L = 0;
  for (const xt of [1, 2, 3]) {
    lru.forward(be.from([xt]), y, cache, ctx, state);
    const e = y.data[0]! - 1;
    L += 0.5 * e * e;
    dy.data[0] = e;
    traces.accumulate(cache, dy, null);
  }
  expectAllClose([L], [36.625], { rtol: 1e-12, atol: 0 }, 'L');
  // dL/dRe λ = 53 and dL/dIm λ = −159 reach ν_log and θ_log through ∂λ/∂ν_log = −λ·e^ν and ∂λ/∂θ_log = i·λ·e^θ
  const lam = 0.5 * Math.cos(Math.exp(thetaLog)),
    lamIm = 0.5 * Math.sin(Math.exp(thetaLog));
  const en = Math.exp(nuLog),
    et = Math.exp(thetaLog);
  const gNu = grads.get('nu_log')[0]!,
    gTh = grads.get('theta_log')[0]!;
  // solve the 2×2 system for (dL/dRe λ, dL/dIm λ)
  const a11 = -en * lam,
    a12 = -en * lamIm,
    a21 = -et * lamIm,
    a22 = et * lam;
  const det = a11 * a22 - a12 * a21;
  const dRe = (gNu * a22 - a12 * gTh) / det,
    dIm = (a11 * gTh - a21 * gNu) / det;
  expectAllClose([dRe, dIm], [53, -159], { rtol: 1e-9, atol: 1e-9 }, 'dL/dλ');
  expectAllClose(grads.get('gamma_log'), [85.75], { rtol: 1e-9, atol: 1e-9 }, 'dL/dγ_log = γ·dL/dγ with γ = 1');
  expectAllClose(grads.get('B_re'), [85.75], { rtol: 1e-9, atol: 1e-9 }, 'dL/dB_re');
  expectAllClose(grads.get('B_im'), [-42.875], { rtol: 1e-9, atol: 1e-9 }, 'dL/dB_im');
});

describe('online-lru is the eprop row on an LRU stack', () => {
  for (const layers of [1, 2]) {
    test(`${layers} layer(s): eprop gives online-lru's gradient bit for bit, snap1 too (the recurrence is diagonal), over a sequence and a window`, () => {
      const net = lruNet(layers);
      const seq = randomSequence(net, T, B, 9);
      for (const w of [{}, { from: 3, stop: T }]) {
        const online = learnerGradient('online-lru', net, seq, B, w);
        assert.ok(online.some((v) => Math.abs(v) > 1e-6));
        assert.deepEqual(learnerGradient('eprop', net, seq, B, w), online);
        assert.deepEqual(learnerGradient('ostl', net, seq, B, w), online);
        assert.deepEqual(learnerGradient('snap1', net, seq, B, w), online);
      }
    });
  }
});
