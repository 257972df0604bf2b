/** Parameter sparsity: synapse masks stored with the model, respected by every learner; the spiral task. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyOverrides, defaultConfig } from '../../src/train/config.js';
import { Trainer } from '../../src/train/trainer.js';
import { resumeTrainer, saveCheckpoint } from '../../src/train/files.js';
import { learnerTable } from '../../src/learners/index.js';
import { Rng } from '../../src/core/rng.js';
import { createTask } from '../../src/tasks/index.js';
import { ConfigError } from '../../src/core/errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'onward-sparsity-'));

function config(learner: string, extra: Record<string, unknown> = {}) {
  return applyOverrides(defaultConfig('spiral', 'ci'), {
    learner,
    hidden: 6,
    batch: 4,
    steps: 12,
    evalEvery: 0,
    evalBatches: 1,
    density: 0.3,
    ...extra,
  });
}

const maskedEntries = (t: Trainer): { zeros: number; total: number; kept: number[] } => {
  const mask = t.network.masks.get('layers.0.weight_hh')!.data,
    w = t.network.params.get('layers.0.weight_hh');
  let zeros = 0;
  const kept: number[] = [];
  for (let i = 0; i < w.length; i++) {
    if (mask[i] === 0) {
      assert.ok(w[i] === 0, `masked weight ${i} is ${w[i]}`);
      zeros++;
    } else kept.push(w[i]!);
  }
  return { zeros, total: w.length, kept };
};

for (const info of learnerTable.filter((l) => l.models.includes('egru'))) {
  test(`${info.name}: masked weights stay exactly zero through training, and the kept ones learn`, () => {
    const t = new Trainer(config(info.name));
    const before = maskedEntries(t);
    assert.ok(
      before.zeros > 0.5 * before.total && before.zeros < 0.9 * before.total,
      `about 70% masked, got ${before.zeros}/${before.total}`,
    );
    while (t.step < t.config.train.steps) t.trainStep();
    const after = maskedEntries(t);
    assert.equal(after.zeros, before.zeros);
    assert.notDeepEqual(after.kept, before.kept, 'the kept weights changed');
  });
}

test('masks are saved with the model and restored by a checkpoint; a file with the wrong masks is refused', () => {
  const a = new Trainer(config('bptt'));
  for (let i = 0; i < 3; i++) a.trainStep();
  const path = join(tmp, 'ck.json');
  saveCheckpoint(a, path);
  const file = a.checkpointFile();
  assert.ok(file.masks?.['layers.0.weight_hh'], 'the model file carries the masks');
  const b = resumeTrainer(path);
  assert.deepEqual(
    Array.from(b.network.masks.get('layers.0.weight_hh')!.data),
    Array.from(a.network.masks.get('layers.0.weight_hh')!.data),
  );
  for (let i = 0; i < 2; i++) {
    a.trainStep();
    b.trainStep();
  }
  assert.deepEqual(Array.from(b.network.params.flat.data), Array.from(a.network.params.flat.data));
  const c = new Trainer(config('bptt'));
  // a resume may not change the model: the flag is refused as contradicting the checkpoint (issue 21)
  assert.throws(
    () => resumeTrainer(path, { density: 1 }),
    (e: unknown) => e instanceof ConfigError && /contradicts the checkpoint/.test(e.message),
    'a dense model cannot take a sparse file',
  );
  void c;
});

test('magnitude pruning: dense at first, the target density by the end of the schedule, smallest weights first', () => {
  const t = new Trainer(config('bptt', { maskMethod: 'magnitude', density: 0.2, steps: 30, pruneEvery: 5, pruneUntil: 20 }));
  assert.equal(t.network.maskDensity(), 1);
  const densities: number[] = [];
  while (t.step < t.config.train.steps) {
    t.trainStep();
    densities.push(t.network.maskDensity());
  }
  assert.ok(
    densities.every((d, i) => i === 0 || d <= densities[i - 1]! + 1e-12),
    'density only falls',
  );
  assert.ok(Math.abs(densities.at(-1)! - 0.2) < 0.02, `final density ${densities.at(-1)}`);
  const { kept } = maskedEntries(t);
  assert.ok(kept.length > 0);
});

test('spiral: the class is the direction of rotation, balanced, answered at the last step', () => {
  const task = createTask('spiral', 'ci');
  const B = 400,
    batch = task.batch(B, new Rng(3)),
    T = task.seqLength;
  let ones = 0;
  for (let b = 0; b < B; b++) {
    // the sign of the angular velocity (x₁·dx₂ − x₂·dx₁) over the first steps tells the direction
    let cross = 0;
    for (let t = 0; t + 1 < T; t++) {
      const [x1, x2] = [batch.x[t]![2 * b]!, batch.x[t]![2 * b + 1]!],
        [y1, y2] = [batch.x[t + 1]![2 * b]!, batch.x[t + 1]![2 * b + 1]!];
      cross += x1 * y2 - x2 * y1;
    }
    const label = batch.target[T - 1]![b]!;
    assert.equal(label, cross < 0 ? 1 : 0);
    assert.equal(batch.mask[T - 1]![b], 1);
    assert.equal(batch.mask[0]![b], 0);
    ones += label;
  }
  assert.ok(ones > 150 && ones < 250, `balanced: ${ones}/${B}`);
});
