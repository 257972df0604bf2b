/**
 * One update step for every driver: a stream trains through the pcm device and with magnitude pruning, and
 * resumes bit for bit (also mid-window); on the same samples the stream and the episodic trainer apply the very
 * same updates (same parameters, device state and masks, bit for bit).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { ConfigError, FileFormatError } from '../../src/core/errors.js';
import { parseModelFile } from '../../src/model/format.js';
import { applyOverrides, defaultConfig } from '../../src/train/config.js';
import { OnlineStream, type StreamConfig } from '../../src/train/stream.js';
import { modelConfigFor, Trainer } from '../../src/train/trainer.js';

const model = { model: 'gru', inputSize: 2, hidden: 6, layers: 1, outputSize: 1, loss: { kind: 'mse' as const } };

function samples(seed: number, n: number): { x: number[]; target: number[] }[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const a = rng.uniform(),
      b = rng.uniform();
    return { x: [a, b], target: [a - b] };
  });
}

const roundTrip = (s: OnlineStream): OnlineStream =>
  OnlineStream.fromCheckpointFile(parseModelFile(JSON.stringify(s.checkpointFile()), 'ck'), 'ck');

const variants: Record<string, Partial<StreamConfig>> = {
  pcm: { device: { name: 'pcm' } },
  'magnitude pruning': { model: { ...model, density: 0.4, maskMethod: 'magnitude' }, pruneEvery: 2, pruneUntil: 8 },
  'pcm and pruning': {
    model: { ...model, density: 0.5, maskMethod: 'magnitude' },
    pruneEvery: 1,
    pruneUntil: 6,
    device: { name: 'pcm', levels: 50 },
  },
};

describe('a stream through the pcm device and with magnitude pruning', () => {
  for (const [name, extra] of Object.entries(variants)) {
    for (const learner of ['rtrl', 'eprop']) {
      test(`${name}, ${learner}: trains and resumes bit for bit from a mid-window checkpoint`, () => {
        const config: StreamConfig = { model, learner, optimizer: { name: 'adam', lr: 0.02, clip: 1 }, updateEvery: 3, seed: 5, ...extra };
        const a = new OnlineStream(config);
        const all = samples(2, 40);
        const start = Float64Array.from(a.network.params.flat.data);
        for (const s of all.slice(0, 17)) a.push(s.x, s.target); // 17: inside an update window
        const b = roundTrip(a);
        const pa: number[] = [],
          pb: number[] = [];
        for (const s of all.slice(17)) {
          pa.push(a.push(s.x, s.target).prediction[0]!);
          pb.push(b.push(s.x, s.target).prediction[0]!);
        }
        assert.deepEqual(pb, pa);
        assert.deepEqual(Array.from(b.network.params.flat.data), Array.from(a.network.params.flat.data));
        assert.notDeepEqual(Array.from(a.network.params.flat.data), Array.from(start), 'it learned');
        if (extra.device) assert.deepEqual(b.device!.saveState(), a.device!.saveState());
        for (const [k, m] of a.network.masks) {
          assert.deepEqual(Array.from(b.network.masks.get(k)!.data), Array.from(m.data));
          if (extra.pruneUntil) {
            const kept = Array.from(m.data).reduce((s, v) => s + v, 0) / m.length;
            assert.ok(Math.abs(kept - extra.model!.density!) < 0.05, `${k}: density ${kept}`);
          }
        }
      });
    }
  }

  test('pruning a stream needs pruneUntil; a device section is checked; a checkpoint without its device state is refused', () => {
    assert.throws(
      () =>
        new OnlineStream({
          model: { ...model, density: 0.5, maskMethod: 'magnitude' },
          learner: 'rtrl',
          optimizer: { name: 'sgd', lr: 0.1 },
          updateEvery: 1,
          seed: 0,
        }),
      (e: unknown) => e instanceof ConfigError && /pruneUntil/.test(e.message),
    );
    assert.throws(
      () =>
        new OnlineStream({
          model,
          learner: 'rtrl',
          optimizer: { name: 'sgd', lr: 0.1 },
          updateEvery: 1,
          seed: 0,
          device: { name: 'memristor' as 'pcm' },
        }),
      ConfigError,
    );
    assert.throws(
      () =>
        new OnlineStream({
          model,
          learner: 'rtrl',
          optimizer: { name: 'sgd', lr: 0.1 },
          updateEvery: 1,
          seed: 0,
          device: { name: 'pcm', levels: 0 },
        }),
      ConfigError,
    );
    const s = new OnlineStream({
      model,
      learner: 'rtrl',
      optimizer: { name: 'sgd', lr: 0.1 },
      updateEvery: 2,
      seed: 0,
      device: { name: 'pcm' },
    });
    const file = s.checkpointFile();
    delete file.checkpoint!.device;
    assert.throws(() => OnlineStream.fromCheckpointFile(parseModelFile(JSON.stringify(file), 'ck'), 'ck'), FileFormatError);
  });
});

describe('one update step: the trainer and the stream apply the same updates', () => {
  for (const [name, set] of Object.entries({
    plain: {},
    pcm: { 'device.name': 'pcm' },
    'magnitude pruning and pcm': { 'device.name': 'pcm', 'model.density': 0.5, 'model.maskMethod': 'magnitude', 'train.pruneEvery': 1 },
  })) {
    test(`${name}: one sequence of batch 1, an update every 4 steps`, () => {
      const config = applyOverrides(defaultConfig('adding', 'ci'), {
        'learner.name': 'rtrl',
        'model.hidden': 5,
        'train.batch': 1,
        'train.steps': 1,
        'train.updateEvery': 4,
        'task.length': 12,
        ...set,
      });
      const trainer = new Trainer(config);
      const stream = new OnlineStream({
        model: modelConfigFor(config, trainer.task),
        learner: 'rtrl',
        seed: config.train.seed,
        updateEvery: 4,
        optimizer: { name: config.optimizer.name, lr: config.optimizer.lr, clip: config.optimizer.clip },
        device: config.device,
        pruneEvery: config.train.pruneEvery,
        pruneUntil: Math.max(1, Math.floor((2 * trainer.totalUpdates()) / 3)),
      });
      // the trainer's first batch, drawn as it draws it
      const data = trainer.task.batch(1, new Rng(config.train.seed + 2));
      trainer.trainStep();
      for (let t = 0; t < data.x.length; t++) stream.push(data.x[t]!, data.target[t]!, data.mask[t]![0]!);
      assert.equal(stream.updates, 3);
      assert.deepEqual(Array.from(stream.network.params.flat.data), Array.from(trainer.network.params.flat.data));
      if (trainer.device) assert.deepEqual(stream.device!.saveState(), trainer.device.saveState());
      for (const [k, m] of trainer.network.masks) assert.deepEqual(Array.from(stream.network.masks.get(k)!.data), Array.from(m.data), k);
    });
  }
});
