/**
 * The oracle chain in float64: central finite differences check BPTT for every unit model (single layer and
 * stacks, mse and ce, with masks); BPTT checks RTRL to 1e-9 over whole sequences, over prefixes, and over
 * windows in the middle of a sequence; tbptt with k ≥ T is bptt.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig } from '../../src/model/network.js';
import type { LossSpec } from '../../src/modules/loss.js';
import { expectAllClose, expectChecksPass } from '../helpers.js';
import { f64Network, finiteDifferenceGradient, learnerGradient, oracleChecks, randomSequence } from '../../src/check/oracle.js';

const losses: { label: string; loss: LossSpec; outputSize: number }[] = [
  { label: 'mse', loss: { kind: 'mse' }, outputSize: 2 },
  { label: 'ce (2 groups of 3 classes)', loss: { kind: 'ce', classes: 3 }, outputSize: 6 },
];

const B = 2,
  T = 6;

// pool_st's backward is straight-through by design (not the derivative of the cumulative mean), so finite
// differences do not apply to it; every learner still uses the same convention and must agree with BPTT
const lruExtras = [
  { label: '', extra: {}, fd: true },
  { label: ', dropout 0.2', extra: { dropout: 0.2 }, fd: true },
  { label: ', pool_st', extra: { pooling: 'pool_st' as const }, fd: false },
];

for (const model of ['rnn', 'gru', 'lstm', 'lru']) {
  for (const layers of [1, 2]) {
    for (const { label, loss, outputSize } of losses)
      for (const { label: extraLabel, extra, fd } of model === 'lru' ? lruExtras : [lruExtras[0]!]) {
        describe(`${model}, ${layers} layer(s), ${label}${extraLabel}`, () => {
          const config: ModelConfig = {
            model,
            inputSize: 3,
            hidden: 4,
            layers,
            outputSize,
            loss,
            ...(model === 'lru' ? { stateSize: 3, rMin: 0.4, rMax: 0.95, ...extra } : {}),
          };

          if (fd)
            test('BPTT matches central finite differences', () => {
              const net = f64Network(config, 11);
              const seq = randomSequence(net, T, B, 5);
              const fd = finiteDifferenceGradient(net, seq, B);
              const g = learnerGradient('bptt', net, seq, B);
              expectAllClose(g, fd, { rtol: 1e-6, atol: 1e-8 }, 'bptt vs finite differences');
              assert.ok(
                g.some((v) => Math.abs(v) > 1e-3),
                'the gradient is not trivially zero',
              );
            });

          test('RTRL equals BPTT (≤ 1e-9) over the whole sequence and over every prefix', () => {
            const net = f64Network(config, 12);
            expectChecksPass(oracleChecks('rtrl', net, randomSequence(net, T, B, 6), B, { tolerance: 1e-9, stops: [1, 3, T] }), 'rtrl');
          });

          test('RTRL equals BPTT over a window in the middle of the sequence (credit reaches before the window)', () => {
            const net = f64Network(config, 13);
            const seq = randomSequence(net, T, B, 7, 1);
            const from = 3,
              stop = 5;
            expectChecksPass(oracleChecks('rtrl', net, seq, B, { tolerance: 1e-9, stops: [], windows: [[from, stop]] }), 'rtrl');
            // and truncation at the window start (tbptt) loses that credit: the negative control
            const tb = oracleChecks('tbptt', net, seq, B, {
              tolerance: 1e-3,
              stops: [],
              windows: [[from, stop]],
              options: { window: from },
            });
            assert.ok(tb[0]!.relErr > 1e-3, 'tbptt truncated at the window must differ');
          });

          test('tbptt with k ≥ T is bptt', () => {
            const net = f64Network(config, 14);
            const seq = randomSequence(net, T, B, 8);
            const bptt = learnerGradient('bptt', net, seq, B);
            for (const window of [T, T + 3]) {
              assert.deepEqual(learnerGradient('tbptt', net, seq, B, { options: { window } }), bptt);
            }
          });
        });
      }
  }
}
