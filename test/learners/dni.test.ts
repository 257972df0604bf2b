/**
 * dni (learners/dni.ts): the synthetic gradient is used at truncation points and learns. With η = 0 it is
 * tbptt bit for bit (a claim of the table; here also over several sequences); with η > 0 its maps leave zero
 * and the gradient leaves tbptt's; trained on a fixed network, its bootstrapped gradient over whole sequences
 * is closer to BPTT's than tbptt's is (the credit beyond each window is predicted, not dropped); checkpoints
 * carry the maps and the remembered state.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelConfig, Network } from '../../src/model/network.js';
import { createLearner, type Learner } from '../../src/learners/index.js';
import type { DniLearner } from '../../src/learners/dni.js';
import { cosine, f64Network, randomSequence, relativeError, type Sequence } from '../../src/check/oracle.js';

const config: ModelConfig = { model: 'gru', inputSize: 3, hidden: 4, layers: 1, outputSize: 2, loss: { kind: 'mse' } };

function gradient(l: Learner, net: Network, seq: Sequence): number[] {
  l.startSequence();
  net.zeroGrads();
  for (let t = 0; t < seq.x.length; t++) l.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
  l.flush();
  return Array.from(net.grads.flat.data);
}

describe('dni', () => {
  test('η = 0 is tbptt over several sequences; η > 0 moves the maps off zero and the gradient off tbptt', () => {
    const B = 4,
      net = f64Network(config, 1);
    const seqs = [0, 1, 2].map((s) => randomSequence(net, 10, B, 10 + s, 1));
    const tb = createLearner('tbptt', net, { batchSize: B, window: 3 }),
      fixed = createLearner('dni', net, { batchSize: B, window: 3, syntheticLr: 0 }),
      learning = createLearner('dni', net, { batchSize: B, window: 3, syntheticLr: 0.5 }) as DniLearner;
    let moved = false;
    for (const seq of seqs) {
      const ref = gradient(tb, net, seq);
      assert.deepEqual(gradient(fixed, net, seq), ref);
      const g = gradient(learning, net, seq);
      if (g.some((v, k) => v !== ref[k])) moved = true;
    }
    assert.ok(
      learning.maps.some((m) => m.AS.data.some((v) => v !== 0)),
      'the synthetic maps were trained',
    );
    assert.ok(moved, 'the trained synthetic gradient reaches the update');
  });

  test('trained on a fixed network, its whole-sequence gradient is closer to BPTT than tbptt is', () => {
    const B = 8,
      T = 12,
      net = f64Network({ ...config, hidden: 6 }, 2);
    const dni = createLearner('dni', net, { batchSize: B, window: 3, syntheticLr: 0.2 }),
      tb = createLearner('tbptt', net, { batchSize: B, window: 3 }),
      bptt = createLearner('bptt', net, { batchSize: B });
    for (let s = 0; s < 300; s++) gradient(dni, net, randomSequence(net, T, B, 100 + s, 1)); // the network stays fixed
    let cD = 0,
      cT = 0,
      eD = 0,
      eT = 0;
    for (let s = 0; s < 10; s++) {
      const seq = randomSequence(net, T, B, 1000 + s, 1);
      const ref = gradient(bptt, net, seq),
        d = gradient(dni, net, seq),
        t = gradient(tb, net, seq);
      cD += cosine(d, ref) / 10;
      cT += cosine(t, ref) / 10;
      eD += relativeError(d, ref) / 10;
      eT += relativeError(t, ref) / 10;
    }
    // measured: relative error 0.087 against tbptt's 0.109, cosine 0.9956 against 0.9941
    assert.ok(
      eD < 0.9 * eT && cD > cT,
      `to BPTT: dni error ${eD.toFixed(4)} cosine ${cD.toFixed(4)}, tbptt ${eT.toFixed(4)} ${cT.toFixed(4)}`,
    );
  });

  test('checkpoints: the maps and the state at the last truncation resume exactly', () => {
    const B = 2,
      net = f64Network(config, 3);
    const seq = randomSequence(net, 12, B, 4, 1);
    const run = (resume: boolean): number[] => {
      net.zeroGrads();
      let l = createLearner('dni', net, { batchSize: B, window: 3, syntheticLr: 0.5 });
      gradient(l, net, randomSequence(net, 9, B, 5, 1)); // the maps learn on a first sequence
      l.startSequence();
      net.zeroGrads();
      for (let t = 0; t < 12; t++) {
        if (resume && t === 6) {
          const st = l.saveState();
          l = createLearner('dni', net, { batchSize: B, window: 3, syntheticLr: 0.5 });
          l.loadState(st);
        }
        l.step(seq.x[t]!, seq.target[t]!, seq.mask[t]!);
      }
      l.flush();
      return Array.from(net.grads.flat.data);
    };
    assert.deepEqual(run(true), run(false));
  });
});
