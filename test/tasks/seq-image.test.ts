/**
 * The IDX reader/writer and the seq-image task. Every fixture is written by the test itself into a temp dir;
 * the real Debian Fashion-MNIST files are read only if they happen to be installed.
 */
import { presetFor } from '../../src/train/presets.js';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync as mkdtempSyncRaw, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConfigError, FileAccessError, FileFormatError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { decodeIdx, encodeIdx, readIdx, readIdxImageSet, writeIdx } from '../../src/data/idx.js';
import { createTask, taskTable } from '../../src/tasks/index.js';
import { settingCode } from '../../src/tasks/choices.js';
import { MetricAccumulator } from '../../src/train/metrics.js';
import { DEFAULT_DATA_DIR } from '../../src/tasks/seq-image.js';

const tempDirs: string[] = [];
function mkdtempSync(prefix: string): string {
  const d = mkdtempSyncRaw(prefix);
  tempDirs.push(d);
  return d;
}
after(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

const N = 5,
  S = 4,
  P = S * S;
const pixelOf = (n: number, p: number): number => (n * 37 + p * 11 + 3) % 256;
const labels = [0, 2, 1, 2, 0];

function fixtureImages(n = N, side = S): Uint8Array {
  const px = new Uint8Array(n * side * side);
  for (let i = 0; i < n; i++) for (let p = 0; p < side * side; p++) px[i * side * side + p] = pixelOf(i, p);
  return px;
}

/** a temp data folder: train split 5 images 4×4 (images gzipped, labels plain), t10k split 3 images (plain, gzipped) */
function makeDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'onward-idx-'));
  writeIdx(join(dir, 'train-images-idx3-ubyte.gz'), { dims: [N, S, S], data: fixtureImages() });
  writeIdx(join(dir, 'train-labels-idx1-ubyte'), { dims: [N], data: Uint8Array.from(labels) });
  writeIdx(join(dir, 't10k-images-idx3-ubyte'), { dims: [3, S, S], data: fixtureImages(3).map((v) => 255 - v) });
  writeIdx(join(dir, 't10k-labels-idx1-ubyte.gz'), { dims: [3], data: Uint8Array.from([1, 1, 1]) });
  return dir;
}

function withData<R>(dir: string | undefined, fn: () => R): R {
  const old = process.env.ONWARD_DATA;
  if (dir === undefined) delete process.env.ONWARD_DATA;
  else process.env.ONWARD_DATA = dir;
  try {
    return fn();
  } finally {
    if (old === undefined) delete process.env.ONWARD_DATA;
    else process.env.ONWARD_DATA = old;
  }
}

function throwsWith(
  fn: () => unknown,
  cls: typeof FileFormatError | typeof ConfigError | typeof FileAccessError,
  ...parts: (string | RegExp)[]
): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    for (const p of parts) {
      if (typeof p === 'string') assert.ok(e.message.includes(p), `message lacks '${p}': ${e.message}`);
      else assert.match(e.message, p);
    }
    return true;
  });
}

test('idx: the writer produces the exact header and bytes; the reader gives them back, gzip and plain', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onward-idx-'));
  const px = fixtureImages();
  const plain = join(dir, 'img'),
    gz = join(dir, 'img.gz');
  writeIdx(plain, { dims: [N, S, S], data: px });
  writeIdx(gz, { dims: [N, S, S], data: px });
  const bytes = readFileSync(plain);
  assert.deepEqual([...bytes.subarray(0, 16)], [0, 0, 0x08, 3, 0, 0, 0, 5, 0, 0, 0, 4, 0, 0, 0, 4]);
  assert.equal(bytes.length, 16 + N * P);
  assert.deepEqual([...bytes.subarray(16)], [...px]);
  assert.deepEqual(gunzipSync(readFileSync(gz)), bytes);
  for (const f of [plain, gz]) {
    const a = readIdx(f);
    assert.deepEqual(a.dims, [N, S, S]);
    assert.ok(a.data instanceof Uint8Array);
    assert.deepEqual([...a.data], [...px]);
  }
  // labels: the idx1 header
  writeIdx(join(dir, 'lab'), { dims: [N], data: Uint8Array.from(labels) });
  assert.deepEqual([...readFileSync(join(dir, 'lab'))], [0, 0, 0x08, 1, 0, 0, 0, 5, ...labels]);
});

test('idx: the multi-byte types round-trip big-endian', () => {
  const f32 = Float32Array.from([1.5, -2, 3.25, 0]);
  const e = encodeIdx({ dims: [2, 2], data: f32 });
  assert.deepEqual([...e.subarray(0, 4)], [0, 0, 0x0d, 2]);
  assert.deepEqual([...e.subarray(12, 16)], [0x3f, 0xc0, 0, 0], '1.5 as big-endian float32');
  assert.deepEqual(decodeIdx(e).data, f32);
  const i16 = Int16Array.from([-1, 258, 7]);
  const e16 = encodeIdx({ dims: [3], data: i16 });
  assert.deepEqual([...e16.subarray(8)], [0xff, 0xff, 0x01, 0x02, 0x00, 0x07]);
  assert.deepEqual(decodeIdx(e16).data, i16);
  for (const data of [Int8Array.from([-3, 4]), Int32Array.from([-70000, 5]), Float64Array.from([Math.PI, -1e300])]) {
    assert.deepEqual(decodeIdx(encodeIdx({ dims: [2], data })).data, data);
  }
});

test('idx: corrupt files give a FileFormatError naming the file and the problem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onward-idx-'));
  const good = encodeIdx({ dims: [N, S, S], data: fixtureImages() });
  const write = (name: string, bytes: Uint8Array): string => {
    const f = join(dir, name);
    writeFileSync(f, bytes);
    return f;
  };
  const truncated = write('truncated-idx3-ubyte', good.subarray(0, good.length - 1));
  throwsWith(() => readIdx(truncated), FileFormatError, truncated, 'truncated file', `${good.length - 1} bytes`, `needs ${good.length}`);
  const header = write('header-idx3-ubyte', good.subarray(0, 10));
  throwsWith(() => readIdx(header), FileFormatError, header, 'truncated file');
  const tiny = write('tiny', good.subarray(0, 2));
  throwsWith(() => readIdx(tiny), FileFormatError, tiny, 'truncated file');
  const trailing = write('trailing-idx3-ubyte', Uint8Array.from([...good, 0, 0]));
  throwsWith(() => readIdx(trailing), FileFormatError, trailing, '2 trailing bytes');
  const magic = Uint8Array.from(good);
  magic[0] = 0x50;
  const wrongMagic = write('magic-idx3-ubyte', magic);
  throwsWith(() => readIdx(wrongMagic), FileFormatError, wrongMagic, 'wrong magic number 0x50 0x00 0x08 0x03');
  const typed = Uint8Array.from(good);
  typed[2] = 0x07;
  const wrongType = write('type-idx3-ubyte', typed);
  throwsWith(() => readIdx(wrongType), FileFormatError, wrongType, 'unsupported data type 0x07', '0x08 (uint8)');
  const badGz = write('cut-idx3-ubyte.gz', gzipSync(good).subarray(0, 30));
  throwsWith(() => readIdx(badGz), FileFormatError, badGz, 'gzip');
  const notGz = write('notgz-idx3-ubyte.gz', good);
  throwsWith(() => readIdx(notGz), FileFormatError, notGz, 'not gzip-compressed');
  const truncatedInsideGz = write('short-idx3-ubyte.gz', gzipSync(good.subarray(0, 40)));
  throwsWith(() => readIdx(truncatedInsideGz), FileFormatError, truncatedInsideGz, 'truncated file');
  const missing = join(dir, 'nope-idx3-ubyte');
  throwsWith(() => readIdx(missing), FileAccessError, missing, 'cannot read');

  // an images file and a labels file that do not belong together
  const images = join(dir, 'a-images-idx3-ubyte.gz'),
    fewLabels = join(dir, 'a-labels-idx1-ubyte');
  writeIdx(images, { dims: [N, S, S], data: fixtureImages() });
  writeIdx(fewLabels, { dims: [N - 1], data: Uint8Array.from(labels.slice(1)) });
  throwsWith(() => readIdxImageSet(images, fewLabels), FileFormatError, 'count mismatch', images, fewLabels, '5 images', '4 labels');
  writeIdx(join(dir, 'lab'), { dims: [N], data: Uint8Array.from(labels) });
  const floatLabels = join(dir, 'f-labels-idx1-ubyte');
  writeIdx(floatLabels, { dims: [N], data: new Float32Array(N) });
  throwsWith(() => readIdxImageSet(images, floatLabels), FileFormatError, floatLabels, 'unsigned bytes');
  const flat = join(dir, 'flat-images-idx3-ubyte');
  writeIdx(flat, { dims: [N, P], data: fixtureImages() });
  throwsWith(() => readIdxImageSet(flat, join(dir, 'lab')), FileFormatError, flat, '3 dimensions');
});

test('seq-image from IDX: x at step t is pixel t (raster order) / 255 of an image drawn with the rng; the label at every step', () => {
  const dir = makeDataDir();
  const task = withData(dir, () => createTask('seq-image', 'ci', { source: 2, size: S, classes: 3 }));
  assert.deepEqual([task.inputSize, task.outputSize, task.seqLength, task.metric], [1, 3, P, 'accuracy']);
  assert.deepEqual(task.loss, { kind: 'ce', classes: 3 });
  const B = 12,
    batch = task.batch(B, new Rng(21));
  const draw = new Rng(21),
    seen = new Set<number>();
  assert.equal(batch.x.length, P);
  for (let b = 0; b < B; b++) {
    const k = draw.int(N);
    seen.add(k);
    for (let t = 0; t < P; t++) {
      assert.equal(batch.x[t]![b], pixelOf(k, t) / 255, `b ${b} t ${t}`);
      assert.equal(batch.target[t]![b], labels[k]);
      assert.equal(batch.mask[t]![b], 1);
    }
  }
  assert.ok(seen.size >= 3, 'several images drawn');
  assert.deepEqual(task.batch(4, new Rng(5)), task.batch(4, new Rng(5)));

  // split 2 reads the t10k files
  const test10k = withData(dir, () => createTask('seq-image', 'ci', { source: 2, size: S, classes: 3, split: 2 }));
  const tb = test10k.batch(6, new Rng(2)),
    d2 = new Rng(2);
  for (let b = 0; b < 6; b++) {
    const k = d2.int(3);
    for (let t = 0; t < P; t++) assert.equal(tb.x[t]![b], (255 - pixelOf(k, t)) / 255);
    assert.equal(tb.target[0]![b], 1);
  }
  // evaluation draws from the other split: training on train evaluates on t10k, and the other way round
  const eb = task.evalBatch!(6, new Rng(2)),
    e2 = new Rng(2);
  for (let b = 0; b < 6; b++) {
    const k = e2.int(3);
    for (let t = 0; t < P; t++) assert.equal(eb.x[t]![b], (255 - pixelOf(k, t)) / 255);
  }
  const back = test10k.evalBatch!(2, new Rng(4)),
    e3 = new Rng(4);
  for (let b = 0; b < 2; b++) assert.equal(back.target[0]![b], labels[e3.int(N)]);
  assert.equal(createTask('seq-image', 'ci').evalBatch, undefined, 'synthetic images: evaluation draws from the generator');
});

test('seq-image from IDX: settings that do not match the files are ConfigErrors that say the fix', () => {
  const dir = makeDataDir();
  withData(dir, () => {
    throwsWith(() => createTask('seq-image', 'ci', { source: 2, classes: 3 }), ConfigError, '4×4 images', 'size is 8', 'set size=4');
    throwsWith(() => createTask('seq-image', 'ci', { source: 2, size: S, classes: 2 }), ConfigError, 'labels go up to 2', 'set classes=3');
    throwsWith(() => createTask('seq-image', 'ci', { source: 3 }), ConfigError, 'source must be an integer from 1 to 2');
    throwsWith(() => createTask('seq-image', 'ci', { split: 3 }), ConfigError, 'split must be an integer from 1 to 2');
  });
});

test('seq-image paper preset: 28×28 Fashion-MNIST-shaped IDX, T = 784, 10 classes, online-LRU defaults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onward-idx-'));
  writeIdx(join(dir, 'train-images-idx3-ubyte.gz'), { dims: [3, 28, 28], data: fixtureImages(3, 28) });
  writeIdx(join(dir, 'train-labels-idx1-ubyte.gz'), { dims: [3], data: Uint8Array.from([9, 0, 4]) });
  writeIdx(join(dir, 't10k-images-idx3-ubyte.gz'), { dims: [2, 28, 28], data: fixtureImages(2, 28) });
  writeIdx(join(dir, 't10k-labels-idx1-ubyte.gz'), { dims: [2], data: Uint8Array.from([1, 2]) });
  const task = withData(dir, () => createTask('seq-image', 'paper'));
  assert.deepEqual([task.seqLength, task.outputSize, task.inputSize], [784, 10, 1]);
  assert.deepEqual(presetFor('seq-image', 'paper'), {
    model: { name: 'lru', hidden: 256, layers: 4 },
    learner: { name: 'online-lru' },
    optimizer: { lr: 1e-3 },
    train: { batch: 100, steps: 10_000 },
  });
  const batch = task.batch(2, new Rng(0));
  assert.equal(batch.x.length, 784);
  assert.ok(batch.target[783]!.every((v) => [9, 0, 4].includes(v)));
});

test('seq-image permuted: one fixed seeded permutation of the pixel order, the same for every batch', () => {
  const dir = makeDataDir();
  const base = { source: 2, size: S, classes: 3 };
  const [plain, perm7] = withData(
    dir,
    () => [createTask('seq-image', 'ci', base), createTask('seq-image', 'ci', { ...base, permute: 7 })] as const,
  );
  const order = new Rng(7).permutation(P);
  assert.ok(
    order.some((v, i) => v !== i),
    'not the identity',
  );
  for (const seed of [1, 2, 3]) {
    const a = plain.batch(5, new Rng(seed)),
      p = perm7.batch(5, new Rng(seed));
    assert.deepEqual(p.target, a.target);
    assert.deepEqual(p.mask, a.mask);
    for (let t = 0; t < P; t++) assert.deepEqual(p.x[t], a.x[order[t]!], `seed ${seed} step ${t}`);
  }
  const other = withData(dir, () => createTask('seq-image', 'ci', { ...base, permute: 8 }));
  assert.notDeepEqual(other.batch(5, new Rng(1)).x, perm7.batch(5, new Rng(1)).x, 'another permute seed, another order');
  // the synthetic images are permuted the same way
  const s = createTask('seq-image', 'ci'),
    sp = createTask('seq-image', 'ci', { permute: 7 });
  const order64 = new Rng(7).permutation(64),
    sa = s.batch(3, new Rng(4)),
    spb = sp.batch(3, new Rng(4));
  for (let t = 0; t < 64; t++) assert.deepEqual(spb.x[t], sa.x[order64[t]!]);
});

test('seq-image synthetic (ci): 8×8 bars, reproducible by seed, classes balanced, orientation recoverable from the whole image', () => {
  const task = createTask('seq-image', 'ci');
  assert.deepEqual(task.settings, {
    source: 1,
    size: 8,
    classes: 4,
    noise: 20,
    permute: 0,
    split: 1,
    order: 1,
    pixels: 1,
    readout: 0,
    score: 1,
  });
  assert.deepEqual([task.seqLength, task.inputSize, task.outputSize], [64, 1, 4]);
  assert.deepEqual(presetFor('seq-image', 'ci'), {
    model: { name: 'lru', hidden: 32, layers: 2 },
    learner: { name: 'online-lru' },
    optimizer: { lr: 3e-3 },
    train: { batch: 16, steps: 300 },
  });
  assert.deepEqual(task.batch(8, new Rng(11)), task.batch(8, new Rng(11)));
  assert.notDeepEqual(task.batch(8, new Rng(11)).x, task.batch(8, new Rng(12)).x);
  const B = 800,
    batch = task.batch(B, new Rng(1)),
    counts = [0, 0, 0, 0];
  for (let b = 0; b < B; b++) {
    const c = batch.target[0]![b]!;
    counts[c]!++;
    for (let t = 0; t < 64; t++) {
      assert.equal(batch.target[t]![b], c);
      assert.equal(batch.mask[t]![b], 1);
      const v = batch.x[t]![b]!;
      assert.ok(v >= 0 && v <= 1, `pixel ${v} in [0, 1]`);
    }
  }
  for (const c of counts) assert.ok(c > 150 && c < 250, `balanced classes: ${counts.join(', ')}`);

  // with little noise, the principal axis of the intensity (above a small threshold) gives the class (θ = π·c/classes)
  for (const classes of [4, 6]) {
    const clean = createTask('seq-image', 'ci', { noise: 1, classes, size: 12 });
    const n = 200,
      cb = clean.batch(n, new Rng(3));
    let right = 0;
    for (let b = 0; b < n; b++) {
      let m = 0,
        mx = 0,
        my = 0,
        sxx = 0,
        syy = 0,
        sxy = 0;
      for (let t = 0; t < 144; t++) {
        const w = Math.max(0, cb.x[t]![b]! - 0.05),
          x = t % 12,
          y = Math.floor(t / 12);
        m += w;
        mx += w * x;
        my += w * y;
        sxx += w * x * x;
        syy += w * y * y;
        sxy += w * x * y;
      }
      mx /= m;
      my /= m;
      const cxx = sxx / m - mx * mx,
        cyy = syy / m - my * my,
        cxy = sxy / m - mx * my;
      const theta = (0.5 * Math.atan2(2 * cxy, cxx - cyy) + Math.PI) % Math.PI;
      const guess = Math.round(theta / (Math.PI / classes)) % classes;
      if (guess === cb.target[0]![b]) right++;
    }
    assert.ok(right / n > 0.95, `${classes} classes: orientation recovered for ${right}/${n}`);
  }
});

test('seq-image: a missing data folder or file is a ConfigError that names it and how to get the data', () => {
  const missingDir = join(tmpdir(), 'onward-no-such-folder-' + process.pid);
  throwsWith(
    () => withData(missingDir, () => createTask('seq-image', 'paper')),
    ConfigError,
    missingDir,
    'does not exist',
    'ONWARD_DATA',
    'apt-get install dataset-fashion-mnist',
  );
  const empty = mkdtempSync(join(tmpdir(), 'onward-idx-'));
  throwsWith(
    () => withData(empty, () => createTask('seq-image', 'paper')),
    ConfigError,
    join(empty, 'train-images-idx3-ubyte.gz'),
    'missing',
    'ONWARD_DATA',
    'apt-get install dataset-fashion-mnist',
  );
  const half = mkdtempSync(join(tmpdir(), 'onward-idx-'));
  writeIdx(join(half, 'train-images-idx3-ubyte'), { dims: [N, S, S], data: fixtureImages() });
  throwsWith(
    () => withData(half, () => createTask('seq-image', 'ci', { source: 2, size: S })),
    ConfigError,
    join(half, 'train-labels-idx1-ubyte.gz'),
    'missing',
  );
  if (!existsSync(DEFAULT_DATA_DIR)) {
    throwsWith(
      () => withData(undefined, () => createTask('seq-image', 'paper')),
      ConfigError,
      DEFAULT_DATA_DIR,
      'apt-get install dataset-fashion-mnist',
    );
  }
});

test('seq-image: the real Debian Fashion-MNIST labels, when installed', {
  skip: !existsSync(join(DEFAULT_DATA_DIR, 't10k-labels-idx1-ubyte.gz')) && 'dataset-fashion-mnist not installed',
}, () => {
  const a = readIdx(join(DEFAULT_DATA_DIR, 't10k-labels-idx1-ubyte.gz'));
  assert.deepEqual(a.dims, [10000]);
  assert.ok(a.data.every((v) => v >= 0 && v < 10));
});

test('seq-image scores accuracy at the last step by default (score=last); score=all counts every step with a target', () => {
  const last = createTask('seq-image', 'ci').batch(3, new Rng(1));
  const T = last.x.length;
  for (let t = 0; t < T; t++)
    for (let b = 0; b < 3; b++) {
      assert.equal(last.mask[t]![b], 1, 'the loss is still taken at every step');
      assert.equal(last.score![t]![b], t === T - 1 ? 1 : 0);
    }
  const all = createTask('seq-image', 'ci', { score: 2 }).batch(3, new Rng(1));
  assert.deepEqual(all.score, all.mask);
  const tail = createTask('seq-image', 'ci', { readout: 3 }).batch(2, new Rng(1));
  assert.deepEqual(
    tail.score!.map((s) => s[0]),
    tail.x.map((_, t) => (t === T - 1 ? 1 : 0)),
  );
  // the metric counts only the scored step: a network right only at the end scores 1
  const acc = new MetricAccumulator({ kind: 'ce', classes: 4 }, 4, 'accuracy');
  for (let t = 0; t < T; t++) {
    const out = new Float64Array(3 * 4);
    for (let b = 0; b < 3; b++) out[b * 4 + (t === T - 1 ? last.target[t]![b]! : (last.target[t]![b]! + 1) % 4)] = 1;
    acc.add(3, out, last.target[t]!, last.score![t]!);
  }
  assert.equal(acc.value(), 1);
});

test('seq-image order=rows: one image row per step (T = size); named choices equal their codes', () => {
  const rows = createTask('seq-image', 'ci', { order: 2 });
  assert.deepEqual([rows.seqLength, rows.inputSize], [8, 8]);
  const px = createTask('seq-image', 'ci', { pixels: 8 });
  assert.deepEqual(rows.batch(2, new Rng(3)), px.batch(2, new Rng(3)), 'order=rows is pixels=size');
  assert.throws(() => createTask('seq-image', 'ci', { order: 2, pixels: 2 }), /order=rows/);
  const info = taskTable.find((t) => t.name === 'seq-image')!;
  assert.equal(settingCode(info, 'source', 'fashion-mnist'), 2);
  assert.equal(settingCode(info, 'order', 'rows'), 2);
  assert.equal(settingCode(info, 'score', 'all'), 2);
  assert.equal(settingCode(info, 'size', '28'), '28', 'numbers pass through');
  assert.throws(
    () => settingCode(info, 'source', 'mnist-ish'),
    (e: unknown) => e instanceof ConfigError && /choices: synthetic \(1\), fashion-mnist \(2\)/.test(e.message),
  );
});

test('seq-image from IDX: the held-out split read in order, every image once, padding past the end', () => {
  const dir = makeDataDir();
  const task = withData(dir, () => createTask('seq-image', 'ci', { source: 2, size: S, classes: 3 }));
  const split = task.heldOut!;
  assert.equal(split.size, 3, 'the t10k split of the fixture');
  const b = split.batch(2, 2); // images 2 and (padding)
  for (let t = 0; t < P; t++) assert.equal(b.x[t]![0], (255 - pixelOf(2, t)) / 255);
  assert.deepEqual([b.mask[P - 1]![1], b.score![P - 1]![1], b.x[0]![1]], [0, 0, 0], 'padding has no target and no score');
  assert.equal(createTask('seq-image', 'ci').heldOut, undefined, 'synthetic images have no split');
});
