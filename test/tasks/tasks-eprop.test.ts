/** The e-prop tasks: cue accumulation and store-and-recall, targets recomputed from the inputs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { createTask } from '../../src/tasks/index.js';

test('cue-accumulation: the answer is the side with more cues, asked at the recall steps only', () => {
  for (const preset of ['ci', 'paper'] as const) {
    const task = createTask('cue-accumulation', preset, preset === 'paper' ? {} : { cueRate: 100 });
    const s = task.settings as Record<string, number>;
    const g = s.group!,
      d = 4 * g,
      T = task.seqLength,
      period = s.cueSteps! + s.gapSteps!;
    assert.equal(T, s.cues! * period + s.delay! + s.recallSteps!);
    if (preset === 'paper') {
      assert.equal(T, 7 * 150 + 1000 + 150);
      continue;
    }
    const B = 9,
      batch = task.batch(B, new Rng(5));
    for (let b = 0; b < B; b++) {
      // with cueRate 100 every channel of the cued side is on for the whole cue
      let left = 0,
        right = 0;
      for (let c = 0; c < s.cues!; c++) {
        const x = batch.x[c * period]!.subarray(b * d, (b + 1) * d);
        const l = x.subarray(0, g).every((v) => v === 1),
          r = x.subarray(g, 2 * g).every((v) => v === 1);
        assert.ok(l !== r, 'exactly one side per cue');
        if (l) left++;
        else right++;
        for (let t = c * period + s.cueSteps!; t < (c + 1) * period; t++)
          assert.ok(
            batch.x[t]!.subarray(b * d, b * d + 2 * g).every((v) => v === 0),
            'silent gap',
          );
      }
      for (let t = 0; t < T; t++) {
        const recall = t >= T - s.recallSteps!;
        assert.equal(batch.mask[t]![b], recall ? 1 : 0);
        assert.ok(batch.x[t]!.subarray(b * d + 2 * g, b * d + 3 * g).every((v) => v === (recall ? 1 : 0)));
        if (recall) assert.equal(batch.target[t]![b], left > right ? 0 : 1);
      }
    }
    // both answers occur, and the stream is seeded
    const many = task.batch(64, new Rng(6));
    const answers = new Set(Array.from({ length: 64 }, (_, b) => many.target[T - 1]![b]));
    assert.equal(answers.size, 2);
    assert.deepEqual(task.batch(3, new Rng(7)).x, task.batch(3, new Rng(7)).x);
  }
});

test('cue-accumulation: an even cue count is made odd (no ties)', () => {
  assert.equal(createTask('cue-accumulation', 'ci', { cues: 4 }).settings.cues, 5);
});

test('store-recall: the target at the recall cue is the bit shown at the store cue', () => {
  for (const preset of ['ci', 'paper'] as const) {
    const task = createTask('store-recall', preset);
    const T = task.seqLength,
      B = 16,
      batch = task.batch(B, new Rng(8));
    const minGap = task.settings.minGap!;
    for (let b = 0; b < B; b++) {
      const store = [...Array(T).keys()].filter((t) => batch.x[t]![b * 3 + 1] === 1);
      const recall = [...Array(T).keys()].filter((t) => batch.x[t]![b * 3 + 2] === 1);
      assert.equal(store.length, 1);
      assert.equal(recall.length, 1);
      assert.ok(store[0]! < T / 2 && recall[0]! >= store[0]! + minGap && recall[0]! < T);
      for (let t = 0; t < T; t++) {
        assert.ok(Math.abs(batch.x[t]![b * 3]!) === 1);
        assert.equal(batch.mask[t]![b], t === recall[0] ? 1 : 0);
      }
      assert.equal(batch.target[recall[0]!]![b], batch.x[store[0]!]![b * 3]! > 0 ? 1 : 0);
    }
  }
});
