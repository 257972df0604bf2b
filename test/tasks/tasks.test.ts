/** Task generators: structure, targets recomputed independently from the inputs, seeded reproducibility. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { createTask, taskTable } from '../../src/tasks/index.js';
import { higherIsBetter } from '../../src/tasks/task.js';

test('copy: the target is the pattern, masked to the last `pattern` steps after the stop token', () => {
  for (const preset of ['ci', 'paper'] as const) {
    const task = createTask('copy', preset);
    const { bits, pattern, pad } = task.settings as { bits: number; pattern: number; pad: number };
    assert.equal(task.seqLength, 2 * pattern + pad + 1);
    if (preset === 'paper') assert.deepEqual([bits, pattern, pad, task.seqLength], [7, 20, 7, 48]);
    const B = 5,
      d = bits + 1,
      batch = task.batch(B, new Rng(3));
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < task.seqLength; t++) {
        const x = batch.x[t]!.subarray(b * d, (b + 1) * d);
        const isOut = t >= task.seqLength - pattern;
        assert.equal(batch.mask[t]![b], isOut ? 1 : 0);
        assert.equal(x[bits], t === pattern + pad ? 1 : 0, 'stop token');
        if (t >= pattern)
          assert.ok(
            x.subarray(0, bits).every((v) => v === 0),
            'silent after the pattern',
          );
        if (isOut) {
          const src = batch.x[t - (task.seqLength - pattern)]!;
          for (let k = 0; k < bits; k++) assert.equal(batch.target[t]![b * bits + k], src[b * d + k]);
        }
      }
    }
  }
});

test('adding: the target is the sum of the two marked numbers, one marker in each half', () => {
  const task = createTask('adding', 'ci');
  const T = task.seqLength,
    B = 7,
    batch = task.batch(B, new Rng(4));
  for (let b = 0; b < B; b++) {
    const marked = [...Array(T).keys()].filter((t) => batch.x[t]![b * 2 + 1] === 1);
    assert.equal(marked.length, 2);
    assert.ok(marked[0]! < T / 2 && marked[1]! >= Math.floor(T / 2));
    const sum = marked.reduce((s, t) => s + batch.x[t]![b * 2]!, 0);
    assert.equal(batch.target[T - 1]![b], sum);
    assert.deepEqual(
      [...Array(T).keys()].map((t) => batch.mask[t]![b]),
      [...Array(T).keys()].map((t) => (t === T - 1 ? 1 : 0)),
    );
  }
});

test('delayed-xor: the answer at the cue is the XOR of the two shown bits', () => {
  const task = createTask('delayed-xor', 'ci', { delay: 6 });
  const T = task.seqLength,
    B = 16,
    batch = task.batch(B, new Rng(5));
  const seen = new Set<number>();
  for (let b = 0; b < B; b++) {
    const shown = [...Array(T).keys()].filter((t) => batch.x[t]![b * 2] !== 0);
    assert.deepEqual(shown, [0, 7]);
    const bitsShown = shown.map((t) => (batch.x[t]![b * 2]! > 0 ? 1 : 0));
    assert.equal(batch.target[T - 1]![b], bitsShown[0]! ^ bitsShown[1]!);
    assert.equal(batch.x[T - 1]![b * 2 + 1], 1);
    seen.add(batch.target[T - 1]![b]!);
  }
  assert.equal(seen.size, 2, 'both answers occur');
});

test('every task is reproducible from its seed and differs across seeds', () => {
  for (const info of taskTable) {
    const task = info.create('ci');
    const a = task.batch(3, new Rng(9)),
      b = task.batch(3, new Rng(9)),
      c = task.batch(3, new Rng(10));
    assert.deepEqual(a, b, info.name);
    // token-copy with a pool of one sequence is the perturbation paper's memorisation task: the same by design
    if (task.settings.pool !== 1) assert.notDeepEqual(a, c, info.name);
  }
});

test('metric direction: accuracies grow, errors (mse, nrmse) fall — what bench bolds as best', () => {
  assert.equal(higherIsBetter('accuracy'), true);
  assert.equal(higherIsBetter('bit_accuracy'), true);
  assert.equal(higherIsBetter('mse'), false);
  assert.equal(higherIsBetter('nrmse'), false);
  for (const info of taskTable) {
    const task = info.create('ci');
    assert.equal(higherIsBetter(task.metric), task.metric.includes('accuracy'), `${info.name}: ${task.metric}`);
  }
});
