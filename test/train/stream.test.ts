/**
 * The streaming API: predict-then-learn one sample at a time from any (async) iterable, constant memory,
 * checkpoints that resume bit for bit (also in the middle of an update window), for every learner in the table.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { learnerTable } from '../../src/learners/index.js';
import { ConfigError, FileFormatError, ShapeError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { OnlineStream, type StreamConfig, type StreamSample } from '../../src/train/stream.js';
import { parseModelFile } from '../../src/model/format.js';
import { resumeStream, saveStreamCheckpoint } from '../../src/train/files.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streamExample, liveSignal, nextValue } from '../../examples/stream.js';
import { expectFinite } from '../helpers.js';
import type { WasmBackend } from '../../src/backend/wasm.js';

function config(learner: string, model: string, extra: Partial<StreamConfig> = {}): StreamConfig {
  return {
    model: { model, inputSize: 2, hidden: 6, layers: 1, outputSize: 3, loss: { kind: 'ce', classes: 3 } },
    learner,
    optimizer: { name: 'adam', lr: 0.01, clip: 1 },
    updateEvery: 3,
    seed: 4,
    window: 4,
    ...extra,
  };
}

/** a deterministic stream of samples: two random inputs, the class is which of them is larger (or a tie band) */
function* samples(seed: number, n: number): Generator<StreamSample> {
  const rng = new Rng(seed);
  for (let i = 0; i < n; i++) {
    const a = rng.uniform(),
      b = rng.uniform();
    yield { x: [a, b], target: [a - b > 0.2 ? 0 : b - a > 0.2 ? 1 : 2], mask: i % 5 === 4 ? 0 : 1 };
  }
}

function roundTrip(s: OnlineStream): OnlineStream {
  // through JSON text, as a file or a download would carry it
  return OnlineStream.fromCheckpointFile(parseModelFile(JSON.stringify(s.checkpointFile()), 'test checkpoint'), 'test checkpoint');
}

for (const info of learnerTable) {
  const model = info.models.includes('gru') ? 'gru' : info.models[0]!;
  describe(`stream with learner ${info.name} on ${model}`, () => {
    test('finite predictions; a checkpoint resumes bit for bit', async () => {
      const a = new OnlineStream(config(info.name, model));
      const all = [...samples(1, 20)];
      for await (const r of a.run(all.slice(0, 9))) expectFinite(r.prediction, 'prediction'); // 9 = an update boundary (k = 3)
      const b = roundTrip(a);
      assert.equal(b.step, 9);
      const pa: number[] = [],
        pb: number[] = [];
      for (const s of all.slice(9)) {
        pa.push(a.push(s.x, s.target, s.mask).prediction[0]!);
        pb.push(b.push(s.x, s.target, s.mask).prediction[0]!);
      }
      assert.deepEqual(pb, pa);
      assert.deepEqual(Array.from(b.network.params.flat.data), Array.from(a.network.params.flat.data));
      assert.equal(b.updates, a.updates);
    });
  });
}

test('a checkpoint in the middle of an update window carries the accumulated gradient (rtrl)', () => {
  const a = new OnlineStream(config('rtrl', 'gru', { updateEvery: 4 }));
  const all = [...samples(2, 14)];
  for (const s of all.slice(0, 6)) a.push(s.x, s.target, s.mask); // 6 = 4 + 2: two steps into a window
  assert.ok(
    a.network.grads.flat.data.some((v) => v !== 0),
    'a partial window has gradient',
  );
  const b = roundTrip(a);
  for (const s of all.slice(6)) {
    a.push(s.x, s.target, s.mask);
    b.push(s.x, s.target, s.mask);
  }
  assert.deepEqual(Array.from(b.network.params.flat.data), Array.from(a.network.params.flat.data));
  assert.deepEqual(Array.from(b.optState.buffers.nu!.data), Array.from(a.optState.buffers.nu!.data));
});

test('pause and resume through a file on disk, mid-stream', async () => {
  const a = new OnlineStream(config('online-lru', 'lru', { updateEvery: 2 }));
  const source = [...samples(8, 40)];
  for await (const r of a.run(source, { steps: 15 })) void r; // pause: stop consuming (one sample into a window)
  const path = join(mkdtempSync(join(tmpdir(), 'onward-stream-')), 'stream.json');
  saveStreamCheckpoint(a, path);
  const b = resumeStream(path);
  assert.equal(b.step, 15);
  const rest = source.slice(15);
  const pa: number[] = [],
    pb: number[] = [];
  for await (const r of a.run(rest)) pa.push(r.prediction[0]!);
  for await (const r of b.run(rest)) pb.push(r.prediction[0]!);
  assert.deepEqual(pb, pa);
  assert.equal(b.step, 40);
});

test('bptt stores its window, so it refuses a checkpoint inside one, naming the fix', () => {
  const s = new OnlineStream(config('bptt', 'gru', { updateEvery: 4 }));
  for (const x of samples(3, 2)) s.push(x.x, x.target);
  assert.throws(() => s.checkpointFile(), /update boundary/);
  for (const x of samples(4, 2)) s.push(x.x, x.target);
  assert.doesNotThrow(() => s.checkpointFile());
});

test('test-then-train: the prediction at a step is made before learning from its target', () => {
  const learning = new OnlineStream(config('rtrl', 'gru', { updateEvery: 1, optimizer: { name: 'sgd', lr: 0.5 } }));
  const frozen = new OnlineStream(config('rtrl', 'gru', { updateEvery: 1, optimizer: { name: 'sgd', lr: 0.5 } }));
  const [s1, s2] = [...samples(5, 2)];
  const p1 = Array.from(learning.push(s1!.x, s1!.target).prediction);
  assert.deepEqual(Array.from(frozen.push(s1!.x, null).prediction), p1, 'same prediction: learning comes after');
  const q = Array.from(learning.push(s2!.x, s2!.target).prediction);
  assert.notDeepEqual(Array.from(frozen.push(s2!.x, null).prediction), q, 'the update changed the next prediction');
});

test('a sample with no target or mask 0 adds no gradient; updates come every k samples', () => {
  const s = new OnlineStream(config('rtrl', 'gru', { updateEvery: 2 }));
  const before = Array.from(s.network.params.flat.data);
  const r1 = { ...s.push([0.3, 0.1], null) }; // a copy: the report object is refreshed by the next step
  const r2 = { ...s.push([0.2, 0.9], [1], 0) };
  assert.equal(r1.loss, 0);
  assert.equal(r2.loss, 0);
  assert.deepEqual([r1.updated, r2.updated], [false, true]);
  assert.deepEqual(Array.from(s.network.params.flat.data), before, 'a zero gradient moves nothing (adam with zero moments)');
  s.push([0.2, 0.9], [1]);
  assert.equal(s.updates, 1);
  assert.ok(
    s.network.grads.flat.data.some((v) => v !== 0),
    "the pending window holds this sample's gradient",
  );
});

test('run() walks async iterables and stops after `steps` samples or when its signal aborts', async () => {
  const s = new OnlineStream(config('online-lru', 'lru'));
  async function* source(): AsyncGenerator<StreamSample> {
    for (const x of samples(6, 1000)) yield x;
  }
  let n = 0;
  for await (const r of s.run(source(), { steps: 7 })) n = r.step;
  assert.equal(n, 7);
  for await (const r of s.run(source())) n = r.step; // no limit: the whole source
  assert.equal(n, 1007);
  const ac = new AbortController();
  ac.abort();
  let last = 0;
  for await (const r of s.run(source(), { signal: ac.signal })) last = r.step;
  assert.equal(last, 0, 'an aborted signal stops before the first sample');
  const ac2 = new AbortController();
  for await (const r of s.run(source(), { signal: ac2.signal })) if (r.step === 1010) ac2.abort();
  assert.equal(s.step, 1010);
});

test('the learner state does not grow with the stream', () => {
  for (const learner of ['rtrl', 'online-lru', 'tbptt']) {
    const s = new OnlineStream(config(learner, learner === 'online-lru' ? 'lru' : 'gru', { updateEvery: 1 }));
    const it = samples(7, 2000);
    const sizes: number[] = [];
    let i = 0;
    for (const x of it) {
      s.push(x.x, x.target, x.mask);
      if (++i % 500 === 0) sizes.push(s.stateBytes());
    }
    assert.ok(
      sizes.every((b) => b === sizes[0]),
      `${learner}: ${sizes.join(', ')} bytes`,
    );
  }
});

test('no learner allocates backend memory as the stream goes on (wasm; after the first update windows)', () => {
  for (const info of learnerTable) {
    const model = info.models.includes('gru') ? 'gru' : info.models[0]!;
    const s = new OnlineStream(config(info.name, model, { updateEvery: 3 }));
    const be = s.backend as WasmBackend;
    const it = samples(9, 600);
    let i = 0;
    let warm = 0;
    for (const x of it) {
      s.push(x.x, x.target, x.mask);
      if (++i === 60) warm = be.bytesInUse();
    }
    assert.equal(be.bytesInUse(), warm, `${info.name}: ${warm} → ${be.bytesInUse()} bytes of wasm memory in use`);
  }
});

test('a step allocates no report: the same object is refreshed', () => {
  const s = new OnlineStream(config('rtrl', 'gru'));
  const a = s.push([0.1, 0.2], [1]),
    b = s.push([0.3, 0.4], [0]);
  assert.equal(a, b);
  assert.equal(b.step, 2);
});

test('bad samples and configs are refused by name', () => {
  assert.throws(() => new OnlineStream(config('rtrl', 'gru', { updateEvery: 0 })), ConfigError);
  assert.throws(() => new OnlineStream(config('rtrl', 'gru', { seed: -1 })), ConfigError);
  assert.throws(() => new OnlineStream(config('online-lru', 'gru')), /does not support model 'gru'/);
  const s = new OnlineStream(config('rtrl', 'gru'));
  assert.throws(() => s.push([1, 2, 3], [0]), ShapeError);
  assert.throws(() => OnlineStream.fromCheckpointFile(s.modelFile(), 'plain.json'), FileFormatError);
  const ck = s.checkpointFile();
  ck.checkpoint!.stream.pending = 5;
  assert.throws(() => OnlineStream.fromCheckpointFile(ck, 'bad.json'), /pending 5 must be below updateEvery 3/);
});

test('the README streaming example learns to predict the live signal better than persistence', async () => {
  const r = await streamExample(6000, 1000);
  assert.equal(r.steps, 6000);
  assert.ok(r.last < 0.5 * r.first, `MSE ${r.first} → ${r.last}`);
  assert.ok(r.last < r.persistence, `MSE ${r.last} vs persistence ${r.persistence}`);
});

test('the live signal pairs each value with the next one', async () => {
  const values: number[] = [];
  const pairs: StreamSample[] = [];
  async function* tap(): AsyncGenerator<number> {
    for await (const v of liveSignal(3)) {
      values.push(v);
      yield v;
      if (values.length === 4) return;
    }
  }
  for await (const p of nextValue(tap())) pairs.push(p);
  assert.equal(pairs.length, 3);
  for (const [i, p] of pairs.entries()) assert.deepEqual([p.x[0], p.target![0]], [values[i], values[i + 1]]);
});
