/**
 * PyTorch's nn.GRU + nn.Linear gradients (test/fixtures/torch-gru.json, written by
 * scripts/torch-gru-fixture.py with autograd in float64) are reproduced by the same weights here, with the
 * loss convention of docs/design.md §8, by BPTT and by RTRL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TsBackend } from '../../src/backend/ts.js';
import { Network, type ModelConfig } from '../../src/model/network.js';
import { expectAllClose } from '../helpers.js';
import { learnerGradient, sequenceLoss, type Sequence } from '../../src/check/oracle.js';

interface TorchCase {
  name: string;
  config: ModelConfig;
  params: Record<string, { shape: number[]; data: number[] }>;
  x: number[][];
  target: number[][];
  mask: number[][];
  loss: number;
  grads: Record<string, { shape: number[]; data: number[] }>;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/torch-gru.json', import.meta.url), 'utf8')) as {
  B: number;
  cases: TorchCase[];
};

for (const c of fixture.cases) {
  test(`PyTorch gradients are reproduced: ${c.name}`, () => {
    const net = new Network(c.config, new TsBackend('float64'));
    assert.deepEqual(net.params.names().sort(), Object.keys(c.params).sort(), 'the parameter names are PyTorch-compatible');
    for (const [name, p] of Object.entries(c.params)) net.params.set(name, p.data, p.shape);
    const seq: Sequence = {
      x: c.x.map((v) => Float64Array.from(v)),
      target: c.target.map((v) => Float64Array.from(v)),
      mask: c.mask.map((v) => Float64Array.from(v)),
    };
    const B = fixture.B;
    assert.ok(Math.abs(sequenceLoss(net, seq, B) - c.loss) <= 1e-12 * Math.abs(c.loss), 'loss');
    for (const learner of ['bptt', 'rtrl']) {
      learnerGradient(learner, net, seq, B);
      for (const [name, g] of Object.entries(c.grads)) {
        expectAllClose(net.grads.get(name), g.data, { rtol: 1e-9, atol: 1e-13 }, `${learner} ${name}`);
      }
    }
  });
}
