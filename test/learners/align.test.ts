/** Gradient alignment during training (alignEvery): per-layer cosine and norm ratio against BPTT. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { applyOverrides, defaultConfig } from '../../src/train/config.js';
import { Trainer } from '../../src/train/trainer.js';

const tiny = (extra: Record<string, unknown>) =>
  applyOverrides(defaultConfig('cue-accumulation', 'ci'), {
    hidden: 5,
    batch: 3,
    steps: 4,
    evalEvery: 0,
    evalBatches: 1,
    backend: 'ts',
    dtype: 'float64',
    ...extra,
  });

test('an exact learner is aligned with BPTT in every layer; eprop on a recurrent stack is not, below the top', () => {
  const exact = new Trainer(tiny({ learner: 'rtrl', alignEvery: 1 }));
  exact.trainStep();
  const a = exact.lastAlignment!;
  assert.deepEqual(Object.keys(a), ['layers.0', 'layers.1', 'readout', 'all']);
  for (const [layer, { cosine, normRatio }] of Object.entries(a)) {
    assert.ok(Math.abs(cosine - 1) < 1e-9 && Math.abs(normRatio - 1) < 1e-9, `${layer}: ${cosine}, ${normRatio}`);
  }
  const eprop = new Trainer(tiny({ learner: 'eprop', alignEvery: 1 }));
  eprop.trainStep();
  const e = eprop.lastAlignment!;
  assert.ok(e['layers.0']!.cosine < 1 - 1e-6, `layers.0 cosine ${e['layers.0']!.cosine}`);
  assert.ok(Math.abs(e.readout!.cosine - 1) < 1e-9, 'the readout is exact');
});

test('measuring alignment does not change training', () => {
  const run = (alignEvery: number): number[] => {
    const t = new Trainer(tiny({ learner: 'eprop', alignEvery }));
    for (let i = 0; i < 3; i++) t.trainStep();
    return Array.from(t.network.params.flat.data);
  };
  assert.deepEqual(run(2), run(0));
});

test('onward train --set alignEvery=k writes per-layer alignment records into metrics.jsonl', () => {
  const out = mkdtempSync(join(tmpdir(), 'onward-align-'));
  execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/bin.ts',
      'train',
      '--task',
      'cue-accumulation',
      '--learner',
      'deep-eprop',
      '--steps',
      '4',
      '--hidden',
      '4',
      '--batch',
      '2',
      '--set',
      'alignEvery=2',
      '--set',
      'evalBatches=1',
      '--quiet',
      '--out',
      out,
    ],
    { stdio: 'pipe' },
  );
  const records = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step: number; align?: Record<string, { cosine: number }> });
  const align = records.filter((r) => r.align);
  assert.deepEqual(
    align.map((r) => r.step),
    [0, 2],
  );
  for (const r of align)
    for (const layer of ['layers.0', 'layers.1', 'readout', 'all']) assert.ok(Number.isFinite(r.align![layer]!.cosine), layer);
});

test('gradcheck lists per-layer cosine and norm ratio to BPTT for the trace learners on 2-layer leaky and GRU stacks', async () => {
  const { alignment: gradcheck } = await import('../../src/check/gradcheck.js');
  const learners = ['eprop', 'snap1', 'deep-eprop', 'deep-rtrl'];
  const rows = gradcheck({ models: ['leaky', 'gru', 'leaky:norec'], learners, T: 8 });
  for (const model of ['leaky', 'gru', 'leaky:norec']) {
    for (const learner of learners) {
      for (const layer of ['layers.0', 'layers.1', 'readout', 'all']) {
        const r = rows.find((x) => x.model === model && x.learner === learner && x.layer === layer);
        assert.ok(r, `${model} ${learner} ${layer}`);
        assert.ok(r.cosine >= -1 - 1e-12 && r.cosine <= 1 + 1e-12 && r.normRatio > 0);
      }
    }
  }
  const row = (model: string, learner: string, layer: string) =>
    rows.find((x) => x.model === model && x.learner === learner && x.layer === layer)!;
  // exact where theory says, approximate elsewhere
  assert.ok(row('leaky:norec', 'deep-eprop', 'all').relErr <= 1e-9);
  assert.ok(row('gru', 'deep-rtrl', 'all').relErr <= 1e-9);
  assert.ok(row('gru', 'deep-eprop', 'layers.0').relErr > 1e-4);
  assert.ok(row('leaky:norec', 'eprop', 'layers.0').relErr > 1e-4 && row('leaky:norec', 'eprop', 'layers.1').relErr <= 1e-9);
});

test('the trace learners run on LRU stacks; a refusal states its reason and names the alternatives', async () => {
  const { createLearner, learnerTable } = await import('../../src/learners/index.js');
  const { f64Network } = await import('../../src/check/oracle.js');
  const lru = f64Network({ model: 'lru', inputSize: 2, hidden: 4, layers: 1, outputSize: 2, loss: { kind: 'mse' } });
  const composed = learnerTable.filter((l) => l.recipe && l.models.includes('lru')).map((l) => l.name);
  for (const name of ['eprop', 'eprop-random', 'snap1', 'ostl', 'osttp', 'deep-eprop']) assert.ok(composed.includes(name), name);
  for (const name of composed) assert.ok(createLearner(name, lru, { batchSize: 1 }));
  // sparse-rtrl runs there too (its sparse layout keeps the LRU's diagonal own influence)
  assert.ok(composed.includes('sparse-rtrl'));
  const gru = f64Network({ model: 'gru', inputSize: 2, hidden: 4, layers: 1, outputSize: 2, loss: { kind: 'mse' } });
  assert.throws(
    () => createLearner('spatial', gru, { batchSize: 1 }),
    (e: Error) =>
      e.name === 'UnsupportedError' && /does not support model 'gru': .*no λ to freeze.*learners for 'gru'.*eprop/.test(e.message),
  );
});

test('gradcheck over several seeds: the largest relative error, the mean cosine and norm ratio of the single runs', async () => {
  const { alignment: gradcheck } = await import('../../src/check/gradcheck.js');
  const o = { models: ['leaky'], learners: ['eprop'], T: 5 };
  const a = gradcheck({ ...o, seed: 0 }),
    b = gradcheck({ ...o, seed: 10 }),
    both = gradcheck({ ...o, seeds: 2 });
  assert.equal(both.length, a.length);
  both.forEach((r, i) => {
    assert.equal(r.relErr, Math.max(a[i]!.relErr, b[i]!.relErr));
    assert.ok(Math.abs(r.cosine - (a[i]!.cosine + b[i]!.cosine) / 2) < 1e-15);
    assert.ok(Math.abs(r.normRatio - (a[i]!.normRatio + b[i]!.normRatio) / 2) < 1e-15);
  });
  assert.notEqual(
    a.find((r) => r.learner === 'eprop' && r.layer === 'layers.0')!.cosine,
    b.find((r) => r.learner === 'eprop' && r.layer === 'layers.0')!.cosine,
  );
});
