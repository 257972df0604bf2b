/**
 * Files written by the code of main before the run configuration became nested (test/fixtures/main-2026-12,
 * made by make.ts there) still load: each checkpoint resumes and trains 10 more steps to exactly the losses,
 * evaluation and parameters the old code gave (reference.json), and a stream paused mid-window continues
 * with the same predictions.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, type RngState } from '../../src/core/rng.js';
import { resumeStream, resumeTrainer } from '../../src/train/files.js';

const dir = 'test/fixtures/main-2026-12';
const reference = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Record<
  string,
  {
    resumed?: { losses: number[]; eval: { loss: number; value: number }; params: string };
    model: { eval: { loss: number; value: number } };
  }
>;
const hash = (a: ArrayLike<number>): string =>
  createHash('sha256')
    .update(new Uint8Array(Float64Array.from(a).buffer))
    .digest('hex')
    .slice(0, 16);

describe('checkpoints written by main (2026-12) resume with identical results', () => {
  for (const name of ['gru-rtrl', 'gru-tanp-decor', 'lru-online', 'rnn-recoff', 'gru-pcm-prune']) {
    test(name, () => {
      const ref = reference[name]!;
      const t = resumeTrainer(join(dir, name, 'checkpoint.json'), { steps: 20 });
      assert.equal(t.step, 10);
      const losses: number[] = [];
      while (t.step < 20) losses.push(t.trainStep().loss);
      assert.deepEqual(losses, ref.resumed!.losses);
      assert.deepEqual(t.evaluate(), ref.resumed!.eval);
      // gru-pcm-prune trains with eprop on wasm (float32), whose trace gradient is now one fused kernel (issue 18)
      // that sums in another order: its losses and evaluation above are still identical, its last update's
      // float32 rounding is not, so its parameter hash is not compared; every other fixture is bit for bit
      if (name !== 'gru-pcm-prune') assert.equal(hash(t.network.params.flat.data), ref.resumed!.params);
    });
  }
  test('a stream checkpoint paused mid-window', () => {
    const s = resumeStream(join(dir, 'stream-checkpoint.json'));
    const rng = new Rng(0);
    rng.setState(JSON.parse(readFileSync(join(dir, 'stream-rng.json'), 'utf8')) as RngState);
    const preds: number[] = [];
    for (let i = 0; i < 10; i++) {
      const a = rng.uniform(),
        b = rng.uniform();
      preds.push(s.push([a, b], [a - b]).prediction[0]!);
    }
    const ref = reference.stream as unknown as { predictions: number[]; params: string; updates: number };
    assert.deepEqual(preds, ref.predictions);
    assert.equal(hash(s.network.params.flat.data), ref.params);
    assert.equal(s.updates, ref.updates);
  });
});
