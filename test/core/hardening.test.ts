/**
 * The bad-input and fault catalogue (issue 21), table-driven: each row is an input a new user or an attacker
 * might give — a device or FIFO as a file, a small file declaring a huge model, prototype keys as option
 * names, poisoned stream samples, damaged checkpoints, unwritable outputs — and the typed error it must end in.
 * A row fails when the call succeeds, throws a different class, or its message misses the expected words.
 * Behaviours that are not a single call (state untouched after a rejected sample, divergence, resume,
 * metrics, bench records, locks, evaluation and the device) follow the tables.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import {
  ConfigError,
  DivergenceError,
  FileAccessError,
  FileFormatError,
  LimitError,
  LockError,
  NonFiniteError,
  OnwardError,
  ShapeError,
  UnknownNameError,
} from '../../src/core/errors.js';
import { appendRecords, ensureDir, lockFolder, writeTextAtomic, writeTextFile } from '../../src/core/files.js';
import { defaultLimits, getLimits, parseBytes, setLimits, setMaxMemory, parameterBound } from '../../src/core/limits.js';
import { readModelFile, writeJsonAtomic } from '../../src/model/io.js';
import { decodeMasksInto, decodeParamsInto } from '../../src/model/format.js';
import { Network, type ModelConfig } from '../../src/model/network.js';
import { TsBackend } from '../../src/backend/ts.js';
import { WasmBackend } from '../../src/backend/wasm.js';
import { readIdx, encodeIdx } from '../../src/data/idx.js';
import { readSequenceFile } from '../../src/check/sequence-file.js';
import { readResults, appendResults, lockResults, type BenchRecord } from '../../src/bench/records.js';
import { Trainer } from '../../src/train/trainer.js';
import { OnlineStream, type StreamConfig } from '../../src/train/stream.js';
import { resumeStream, resumeTrainer, saveCheckpoint, saveStreamCheckpoint } from '../../src/train/files.js';
import { applyOverrides, defaultConfig, type RunConfig } from '../../src/train/config.js';
import { resolveTrainConfig } from '../../src/cli/train.js';
import { reportUncaught, takeLimitFlags } from '../../src/cli/guard.js';
import { createTask } from '../../src/tasks/index.js';
import { continueMetrics } from '../../src/train/metrics-file.js';
import { alignment } from '../../src/check/gradcheck.js';
import { planBench } from '../../src/bench/plan.js';
import { allocationCheck } from '../../src/perf/measure.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'onward-harden-'));
const p = (name: string): string => join(dir, name);

type ErrorClass = new (...args: never[]) => OnwardError;
interface Row {
  name: string;
  run: () => unknown;
  error: ErrorClass;
  /** words the message must contain */
  says?: string[];
}

/** run every row; report every failing row at once */
let catalogueRows = 0;
async function runTable(rows: Row[]): Promise<void> {
  catalogueRows += rows.length;
  const failures: string[] = [];
  for (const row of rows) {
    try {
      await row.run();
      failures.push(`${row.name}: no error (expected ${row.error.name})`);
    } catch (e) {
      if (!(e instanceof row.error))
        failures.push(`${row.name}: expected ${row.error.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
      else
        for (const w of row.says ?? [])
          if (!(e as Error).message.includes(w)) failures.push(`${row.name}: message lacks '${w}': ${(e as Error).message}`);
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${rows.length} rows failed:\n${failures.join('\n')}`);
}

// ---------------------------------------------------------------- fixtures
const tinyConfig = (over: Record<string, unknown> = {}): RunConfig =>
  applyOverrides(defaultConfig('copy'), {
    model: 'gru',
    hidden: 4,
    layers: 1,
    batch: 2,
    steps: 4,
    learner: 'bptt',
    backend: 'ts',
    dtype: 'float64',
    evalEvery: 2,
    evalBatches: 1,
    'task.bits': 2,
    'task.pattern': 2,
    'task.pad': 1,
    ...over,
  });
const trainer = new Trainer(tinyConfig());
trainer.trainStep();
const checkpoint = JSON.parse(JSON.stringify(trainer.checkpointFile())) as Record<string, any>;
const pcmTrainer = new Trainer(tinyConfig({ device: 'pcm' }));
pcmTrainer.trainStep();
const pcmCheckpoint = JSON.parse(JSON.stringify(pcmTrainer.checkpointFile())) as Record<string, any>;
const modelFile = JSON.parse(JSON.stringify(trainer.modelFile())) as Record<string, any>;
const streamConfig: StreamConfig = {
  model: { model: 'gru', inputSize: 2, hidden: 3, layers: 1, outputSize: 1, loss: { kind: 'mse' } },
  learner: 'rtrl',
  optimizer: { name: 'adam', lr: 0.01 },
  updateEvery: 2,
  seed: 1,
  backend: 'ts',
  dtype: 'float64',
};
const stream = new OnlineStream(streamConfig);
stream.push([0.1, 0.2], [0.3]);
const streamCheckpoint = JSON.parse(JSON.stringify(stream.checkpointFile())) as Record<string, any>;

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
/** a copy of `base` with `path` (dotted; a parameter name in it between slashes: 'params/layers.0.weight_ih/') set to `value` (undefined: deleted) */
function mutate(base: Record<string, any>, path: string, value: unknown): Record<string, any> {
  const out = clone(base);
  const keys = path.split('/').flatMap((part, i) => (i % 2 === 1 ? [part] : part.split('.').filter(Boolean)));
  let o: any = out;
  for (const k of keys.slice(0, -1)) o = o[k];
  const last = keys.at(-1)!;
  if (value === undefined) delete o[last];
  else Object.defineProperty(o, last, { value, enumerable: true, writable: true, configurable: true });
  return out;
}
let fileCount = 0;
function file(text: string | Uint8Array, name = `f${fileCount++}.json`): string {
  writeFileSync(p(name), text);
  return p(name);
}
const json = (v: unknown): string => file(JSON.stringify(v));

// special files every reader must refuse without reading them
const fifo = p('fifo');
spawnSync('mkfifo', [fifo]);
symlinkSync('/dev/zero', p('zero-link'));
mkdirSync(p('a-folder'));
const specials: [string, string, ErrorClass, string][] = [
  ['/dev/zero', '/dev/zero', FileAccessError, 'character device'],
  ['a FIFO', fifo, FileAccessError, 'FIFO'],
  ['a link to /dev/zero', p('zero-link'), FileAccessError, 'character device'],
  ['a folder', p('a-folder'), FileAccessError, 'folder'],
  ['a missing file', p('missing.json'), FileAccessError, 'no such file'],
  ['/dev/urandom', '/dev/urandom', FileAccessError, 'character device'],
];

const seqLoss = new Network(streamConfig.model, new TsBackend('float64')).loss;
const readers: [string, (path: string) => unknown][] = [
  ['readModelFile', (f) => readModelFile(f)],
  ['resumeTrainer', (f) => resumeTrainer(f)],
  ['resumeStream', (f) => resumeStream(f)],
  ['readSequenceFile', (f) => readSequenceFile(f, 2, seqLoss)],
  ['readIdx', (f) => readIdx(f)],
  ['readResults', (f) => readResults(f)],
  ['--config', (f) => resolveTrainConfig({ config: f })],
];

test('every reader refuses devices, FIFOs, links to devices, folders and missing files, without reading them', async () => {
  const rows: Row[] = [];
  for (const [reader, read] of readers) {
    for (const [what, path, error, says] of specials) {
      if (reader === 'readResults' && what === 'a missing file') continue; // no results yet is an empty list
      rows.push({ name: `${reader}(${what})`, run: () => read(path), error, says: [says] });
    }
  }
  assert.ok(rows.length >= 40);
  await runTable(rows);
});

test('every reader refuses a file over its size limit before reading it, naming the limit and how to raise it', async () => {
  const big = file('{"x": "' + 'a'.repeat(5000) + '"}\n', 'big.json');
  const saved = getLimits();
  setLimits({ fileBytes: { model: 1000, config: 1000, sequence: 1000, idx: 1000, results: 1000 } });
  try {
    await runTable(
      readers.map(([reader, read]) => ({
        name: `${reader}(5 kB over a 1000-byte limit)`,
        run: () => read(big),
        error: LimitError,
        says: ['limit', 'setLimits'],
      })),
    );
  } finally {
    setLimits(saved);
  }
  // procfs reports size 0 and can be longer than it says: read through a descriptor, bounded
  setLimits({ fileBytes: { model: 64 } });
  try {
    assert.throws(() => readModelFile('/proc/self/maps'), LimitError);
  } finally {
    setLimits(saved);
  }
});

test('bad JSON text in every JSON reader is a typed error naming the file', async () => {
  const texts: [string, string][] = [
    ['empty', ''],
    ['null', 'null'],
    ['an array', '[]'],
    ['a string', '"x"'],
    ['a number', '3'],
    ['truncated', '{"format": "onward.mo'],
    ['a bare word', 'undefined'],
    ['binary', '\u0000\u0001\u0002'],
    ['an object of nothing', '{}'],
    ['true', 'true'],
  ];
  const rows: Row[] = [];
  for (const [reader, read] of readers) {
    if (reader === 'readIdx' || reader === 'readResults') continue;
    for (const [what, text] of texts) {
      if (reader === '--config' && what === 'an object of nothing') continue; // an empty config is valid
      rows.push({ name: `${reader}(${what})`, run: () => read(file(text)), error: reader === '--config' ? ConfigError : FileFormatError });
    }
  }
  // a config file that does not hold an object: both classes are typed; what matters is which
  for (const r of rows) if (r.name.startsWith('--config(') && !/null|array|string|number|true/.test(r.name)) r.error = FileFormatError;
  await runTable(rows);
});

test('model files: a small file declaring a huge model, and every damaged field, are typed errors before anything is built', async () => {
  const cfg = (k: string, v: unknown): Row => ({
    name: `config.${k} = ${JSON.stringify(v)}`,
    run: () => {
      const f = readModelFile(json(mutate(modelFile, `config.${k}`, v)));
      new Network(f.config as ModelConfig, new TsBackend('float64'));
    },
    error: OnwardError,
  });
  const rows: Row[] = [];
  for (const v of [5000, 1e6, 1e9]) rows.push({ ...cfg('hidden', v), error: FileFormatError, says: [`hidden ${v}`, 'params hold'] });
  for (const v of [1000, 1e6, 1e9]) rows.push({ ...cfg('layers', v), error: FileFormatError, says: [`layers ${v}`] });
  for (const [k, vs] of [
    ['hidden', [0, -1, 1.5, '4', null, true, [], {}]],
    ['layers', [0, -3, 2.5, '1', null]],
    ['inputSize', [0, -1, 1e9, 'x', null]],
    ['outputSize', [0, 1.5, 1e12, null]],
    ['model', ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'nope', 3, null]],
    ['loss', [null, 'mse', { kind: 'nope' }, { kind: 'ce', classes: 3 }, { kind: 'ce' }]],
    ['density', [0, 2, -1, 'x']],
    ['recurrent', ['no', 1]],
    ['decorrelate', ['yes']],
  ] as const) {
    for (const v of vs) rows.push(cfg(k, v));
  }
  const env = (path: string, v: unknown): Row => ({
    name: `${path} = ${JSON.stringify(v)}`,
    run: () => readModelFile(json(mutate(modelFile, path, v))),
    error: FileFormatError,
  });
  for (const v of [undefined, 'onward', 2, null]) rows.push(env('format', v));
  for (const v of [undefined, 2, '1', null, 0, { toString: 1 }]) rows.push(env('version', v));
  // objects whose toString or valueOf is not a function (from a damaged file) must not break the messages
  const poison = { toString: 1, valueOf: 1 };
  for (const k of ['model', 'hidden', 'density', 'maskMethod', 'pooling', 'loss.kind', 'loss.classes', 'layers']) rows.push(cfg(k, poison));
  for (const v of [undefined, null, 'x', 3]) rows.push(env('config', v));
  for (const v of [undefined, null, 'x', [], 3]) rows.push(env('params', v));
  // the parameters themselves, checked when they are loaded into the network they belong to
  const load = (path: string, v: unknown): Row => ({
    name: `${path} = ${JSON.stringify(v)?.slice(0, 40)}`,
    run: () => {
      const f = readModelFile(json(mutate(modelFile, path, v)));
      resumeFromModel(f);
    },
    error: OnwardError,
  });
  const first = Object.keys(modelFile.params)[0]!;
  for (const v of [
    null,
    'x',
    3,
    [],
    {},
    { shape: [2] },
    { shape: [-1], data: [] },
    { shape: 'x', data: [] },
    { shape: [1], data: ['x'] },
    { shape: [1], data: ['NaN'] },
    { shape: [1], data: ['Infinity'] },
    { shape: [1], dtype: 'f64', base64: '!!!' },
    { shape: [1], dtype: 'f16', base64: 'AAAA' },
    { shape: [2], dtype: 'f64', base64: 'AAAAAAAAAAA=' },
  ])
    rows.push(load(`params/${first}/`, v));
  rows.push(load(`params/${first}/`, undefined));
  rows.push(load('params.extra', { shape: [1], data: [0] }));
  await runTable(rows);
});

/** build the network a model file describes and load its parameters (what eval, grad and loadModel do) */
function resumeFromModel(f: ReturnType<typeof readModelFile>): void {
  const net = new Network(f.config as ModelConfig, new TsBackend('float64'));
  decodeParamsInto(net.params, f.params, 'test');
  decodeMasksInto(net.masks, f.masks, 'test');
}

test('trainer checkpoints: every field range-checked, unknown keys refused, corrupt state named as corruption', async () => {
  const ck = (path: string, v: unknown, error: ErrorClass = FileFormatError, says?: string[], base = checkpoint): Row => ({
    name: `checkpoint.${path} = ${JSON.stringify(v)?.slice(0, 40)}`,
    run: () => resumeTrainer(json(mutate(base, `checkpoint.${path}`, v))),
    error,
    says,
  });
  const rows: Row[] = [
    ...[null, 1, 'x', [], true].map((v) => ck('train', v, FileFormatError, ['checkpoint'])),
    ck('train.bogus', 1, FileFormatError, ['bogus']),
    ck('train.toString', 1, FileFormatError, ['toString']),
    ck('train.constructor', 1, FileFormatError, ['constructor']),
    ck('train.task', 'nope', FileFormatError, ['unknown task']),
    ck('train.task', 3, FileFormatError),
    ck('train.model.hidden', 5000, FileFormatError, ['damaged']),
    ck('train.model.layers', 1e6, OnwardError),
    ck('train.hidden', -1, FileFormatError),
    ck('train.eval.batches', 1e6, LimitError, ['eval.batches', 'setLimits']),
    ck('train.evalBatches', 0, FileFormatError),
    ck('train.batch', 1e12, LimitError),
    ck('train.lr', 'fast', FileFormatError),
    ...['optimizer', 'model', 'backend', 'device', 'lr', 'task'].map((k) => ck(`train.${k}`, { toString: 1, valueOf: 1 }, FileFormatError)),
    ck('optimizer.count', { toString: 1 }, FileFormatError),
    ck('train.taskSettings', { bits: 1e6 }, OnwardError),
    // a setting the task does not declare is refused with the rest of the checkpoint's run config (task settings are in its schema)
    ck('train.taskSettings', { constructor: 3 }, FileFormatError, ['constructor']),
    ck('train.task.settings', JSON.parse('{"__proto__": 3}'), FileFormatError, ['__proto__']),
    ...[1e300, -1, 1.5, '3', null, undefined, 2 ** 60].map((v) => ck('step', v, FileFormatError, ['step'])),
    ck('bogus', {}, FileFormatError, ['bogus']),
    ck('optimizer', null, FileFormatError, ['optimizer']),
    ck('optimizer', undefined, FileFormatError, ['optimizer']),
    ck('optimizer.count', -1, FileFormatError, ['count']),
    ck('optimizer.count', 1e300, FileFormatError, ['count']),
    ck('optimizer.buffers', null, FileFormatError),
    ck('optimizer.buffers.mu', { shape: [1], data: ['NaN'] }, FileFormatError),
    ck('learner', null, FileFormatError, ['learner']),
    ck('learner.states', 'x', FileFormatError, ['learner']),
    ck('learner.rng', [0, 0, 0, 0], ConfigError),
    ck('learner.rng', 'x', ConfigError),
    ck('dataRng', null, ConfigError),
    ck('dataRng', [1, 2, 3], ConfigError),
    ck('device', { arrays: {} }, FileFormatError, ['device']),
    ck('device', undefined, FileFormatError, ['device'], pcmCheckpoint),
    ck('device', null, FileFormatError, ['device'], pcmCheckpoint),
    ck('device.arrays', undefined, FileFormatError, ['arrays'], pcmCheckpoint),
    ck('device.arrays', [], FileFormatError, ['arrays'], pcmCheckpoint),
    ck('device.rng', undefined, ConfigError, undefined, pcmCheckpoint),
  ];
  // corrupt optimizer moments are corruption, not divergence
  const n = trainer.network.size;
  rows.push(ck('optimizer.buffers.mu', { shape: [n], data: Array.from({ length: n }, () => 'NaN') }, FileFormatError, ['corrupt']));
  rows.push(ck('optimizer.buffers.nu', { shape: [n], data: Array.from({ length: n }, () => 'Infinity') }, FileFormatError, ['corrupt']));
  // a pcm array without its arrays
  const arrayName = Object.keys(pcmCheckpoint.checkpoint.device.arrays)[0]!;
  for (const k of ['Gp', 'tp', 'nu', 'chi', 'clock', 'updates'])
    rows.push(ck(`device.arrays/${arrayName}/${k}`, undefined, FileFormatError, [k], pcmCheckpoint));
  rows.push(ck(`device.arrays/${arrayName}/`, null, FileFormatError, [arrayName], pcmCheckpoint));
  rows.push(ck(`device.arrays/${arrayName}/clock`, -5, FileFormatError, ['clock'], pcmCheckpoint));
  rows.push(ck(`device.arrays/${arrayName}/Gp`, ['x'], FileFormatError, ['Gp'], pcmCheckpoint));
  // the file's model must be the run's model
  rows.push({
    name: 'config.hidden = 5 (the run says 4)',
    run: () => resumeTrainer(json(mutate(checkpoint, 'config.hidden', 5))),
    error: FileFormatError,
  });
  await runTable(rows);
});

test('stream checkpoints: damaged fields are typed errors', async () => {
  const ck = (path: string, v: unknown, error: ErrorClass = OnwardError): Row => ({
    name: `stream checkpoint.${path} = ${JSON.stringify(v)?.slice(0, 40)}`,
    run: () => resumeStream(json(mutate(streamCheckpoint, `checkpoint.${path}`, v))),
    error,
  });
  await runTable([
    ck('stream', null, FileFormatError),
    ck('stream', 3, ConfigError),
    ck('stream.config', null, ConfigError),
    ck('stream.config.model', null, ConfigError),
    ck('stream.config.model.hidden', 1e6),
    ck('stream.config.bogus', 1, ConfigError),
    ck('stream.config.optimizer', 'adam', ConfigError),
    ck('stream.config.learner', 'toString', UnknownNameError),
    ck('stream.step', -1, FileFormatError),
    ck('stream.step', 1.5, FileFormatError),
    ck('stream.step', 1e300, FileFormatError),
    ck('stream.updates', 2 ** 60, FileFormatError),
    ck('stream.pending', 7, FileFormatError),
    ck('stream.updates', 'x', FileFormatError),
    ck('grads', null, FileFormatError),
    ck('grads', { shape: [1], data: [0] }, FileFormatError),
    ck('optimizer', null, FileFormatError),
    ck('learner', null, FileFormatError),
    ck('stream.config.updateEvery', 0, ConfigError),
    ck('stream.config.learner', { toString: 1 }, ConfigError),
    ck('stream.config.optimizer.lr', { valueOf: 1 }, ConfigError),
    ck('stream.config.optimizer.name', { toString: 1 }, UnknownNameError),
    ck('stream.step', { toString: 1 }, FileFormatError),
    ck('stream.config.learnerOptions', 'x', ConfigError),
  ]);
});

test('option keys are looked up as own properties only; declared sizes are checked against the memory limit', async () => {
  const set =
    (...sets: string[]): Row['run'] =>
    () =>
      new Trainer(resolveTrainConfig({ set: sets }));
  const rows: Row[] = [];
  for (const key of [
    'toString',
    'constructor',
    '__proto__',
    'hasOwnProperty',
    'valueOf',
    'isPrototypeOf',
    '__defineGetter__',
    'propertyIsEnumerable',
  ]) {
    rows.push({ name: `--set ${key}=1`, run: set(`${key}=1`), error: ConfigError, says: [`'${key}'`] });
    rows.push({ name: `--set task.${key}=3`, run: set(`task.${key}=3`), error: ConfigError, says: [`'${key}'`] });
    rows.push({ name: `--set model=${key}`, run: set(`model=${key}`), error: UnknownNameError });
    rows.push({ name: `--set learner=${key}`, run: set(`learner=${key}`), error: UnknownNameError });
    rows.push({ name: `--task ${key}`, run: () => resolveTrainConfig({ task: key }), error: UnknownNameError });
    rows.push({ name: `config file {"${key}": 1}`, run: () => resolveTrainConfig({ config: file(`{"${key}": 1}`) }), error: ConfigError });
  }
  rows.push({
    name: 'config file {"taskSettings": {"constructor": 3}}',
    run: () => new Trainer(resolveTrainConfig({ config: file('{"taskSettings": {"constructor": 3}}') })),
    error: ConfigError,
  });
  for (const [flag, v] of [
    ['layers', '1e6'],
    ['hidden', '1e6'],
    ['hidden', '100000'],
    ['batch', '1e9'],
    ['layers', '100000'],
  ] as const) {
    rows.push({
      name: `--${flag} ${v}`,
      run: () => new Trainer(resolveTrainConfig({ [flag]: v })),
      error: LimitError,
      says: ['--max-memory'],
    });
  }
  for (const [k, v] of [
    ['bits', 1e6],
    ['pattern', 1e8],
    ['pad', 1e9],
  ] as const) {
    rows.push({ name: `--set task.${k}=${v}`, run: set(`task.${k}=${v}`), error: LimitError, says: [`${k} ${v}`, '--max-memory'] });
  }
  rows.push({ name: 'bench --seeds 1e9', run: () => planBench({ suite: 'ci', seeds: 1e9 }), error: LimitError, says: ['seeds'] });
  rows.push({ name: '--set evalBatches=1e6', run: set('evalBatches=1e6'), error: LimitError, says: ['eval.batches'] });
  for (const [task, k, v] of [
    ['adding', 'length', 1e9],
    ['delayed-xor', 'delay', 1e9],
    ['listops', 'length', 1e9],
    ['spiral', 'length', 1e9],
  ] as const) {
    rows.push({ name: `task ${task}.${k} = ${v}`, run: () => createTask(task, 'ci', { [k]: v }), error: OnwardError });
  }
  for (const v of ['x', 'NaN', 'Infinity', '', '1e999']) rows.push({ name: `--set lr=${v}`, run: set(`lr=${v}`), error: ConfigError });
  for (const v of ['=1', 'nokey', '']) rows.push({ name: `--set '${v}'`, run: set(v), error: ConfigError });
  await runTable(rows);
});

test("stream samples: anything not finite in the backend's precision, a mask outside [0, 1], or a malformed sample is refused", async () => {
  const f32 = new OnlineStream({ ...streamConfig, backend: 'ts', dtype: 'float32' });
  const f64 = new OnlineStream(streamConfig);
  const ce = new OnlineStream({ ...streamConfig, model: { ...streamConfig.model, outputSize: 3, loss: { kind: 'ce', classes: 3 } } });
  const rows: Row[] = [];
  const push =
    (s: OnlineStream, ...args: unknown[]): Row['run'] =>
    () =>
      (s.push as (...a: unknown[]) => unknown)(...args);
  for (const [name, s] of [
    ['f32', f32],
    ['f64', f64],
  ] as const) {
    for (const x of [null, undefined, 3, 'ab', {}, [1], [1, 2, 3], [1, 'x'], [1, null], [NaN, 0], [Infinity, 0], [0, -Infinity]]) {
      rows.push({ name: `${name} push(${JSON.stringify(x)})`, run: push(s, x, [0]), error: OnwardError });
    }
    for (const t of [[NaN], [Infinity], [1, 2], ['x'], 3, {}])
      rows.push({ name: `${name} push(x, ${JSON.stringify(t)})`, run: push(s, [0, 0], t), error: OnwardError });
    for (const m of [NaN, Infinity, -Infinity, -1, 2, 1.0001, '1', null, {}]) {
      rows.push({ name: `${name} push(x, y, mask ${String(m)})`, run: push(s, [0, 0], [0], m), error: ConfigError, says: ['mask'] });
    }
  }
  rows.push({ name: 'f32 push([1e308, 0])', run: push(f32, [1e308, 0], [0]), error: NonFiniteError, says: ['float32'] });
  rows.push({ name: 'f32 push([3.5e38, 0])', run: push(f32, [3.5e38, 0], [0]), error: NonFiniteError });
  rows.push({ name: 'f32 target 1e39', run: push(f32, [0, 0], [1e39]), error: NonFiniteError });
  for (const t of [[3], [-1], [0.5], [NaN], ['0']])
    rows.push({ name: `ce target ${JSON.stringify(t)}`, run: push(ce, [0, 0], t), error: ShapeError, says: ['class id'] });
  const run =
    (samples: unknown[]): Row['run'] =>
    async () => {
      for await (const _ of f64.run(samples as never)) {
        /* consume */
      }
    };
  for (const s of [[null], [3], ['x'], [{}], [{ x: null }], [{ x: [0, 0], target: [NaN] }], [{ x: [0, 0], mask: -1 }]]) {
    rows.push({ name: `run(${JSON.stringify(s)})`, run: run(s), error: OnwardError });
  }
  for (const c of [
    null,
    3,
    {},
    { model: null },
    { ...streamConfig, model: null },
    { ...streamConfig, bogus: 1 },
    { ...streamConfig, optimizer: null },
    { ...streamConfig, learner: 'toString' },
    { ...streamConfig, updateEvery: 0 },
    { ...streamConfig, model: { ...streamConfig.model, hidden: 1e7 } },
  ]) {
    rows.push({
      name: `new OnlineStream(${JSON.stringify(c)?.slice(0, 60)})`,
      run: () => new OnlineStream(c as StreamConfig),
      error: OnwardError,
    });
  }
  // 1e308 is finite in float64: accepted there
  f64.push([1e-300, 0], [0]);
  await runTable(rows);
});

test('writes: unwritable targets, full devices and procfs are typed errors naming the file, and never hang', async () => {
  const rows: Row[] = [
    {
      name: 'writeJsonAtomic(/dev/null/x/m.json)',
      run: () => writeJsonAtomic('/dev/null/x/m.json', {}),
      error: FileAccessError,
      says: ['/dev/null'],
    },
    { name: 'writeJsonAtomic(BigInt)', run: () => writeJsonAtomic(p('big.json'), { n: 1n }), error: ConfigError },
    { name: 'writeTextFile(/dev/full)', run: () => writeTextFile('/dev/full', 'x'), error: FileAccessError, says: ['no space'] },
    { name: 'appendRecords(/dev/full)', run: () => appendRecords('/dev/full', 'x\n'), error: FileAccessError, says: ['no space'] },
    { name: 'ensureDir(/proc/x)', run: () => ensureDir('/proc/x'), error: FileAccessError, says: ['/proc/x'] },
    { name: 'ensureDir(/proc/self/x/y)', run: () => ensureDir('/proc/self/x/y'), error: FileAccessError },
    { name: 'ensureDir(/dev/null/x)', run: () => ensureDir('/dev/null/x'), error: FileAccessError },
    { name: 'ensureDir(a file/x)', run: () => ensureDir(join(file('x'), 'sub')), error: FileAccessError, says: ['not a folder'] },
    { name: 'writeTextAtomic into a folder path', run: () => writeTextAtomic(p('a-folder'), 'x'), error: FileAccessError },
    { name: 'saveCheckpoint(/dev/null/x)', run: () => saveCheckpoint(trainer, '/dev/null/x/checkpoint.json'), error: FileAccessError },
    { name: 'saveStreamCheckpoint(/proc/x)', run: () => saveStreamCheckpoint(stream, '/proc/x/checkpoint.json'), error: FileAccessError },
    {
      name: 'appendResults(/dev/full)',
      run: () => appendResults('/dev/full', [{ kind: 'n/a', suite: 's', task: 't', model: 'm', learner: 'l', reason: 'r' }]),
      error: FileAccessError,
    },
  ];
  await runTable(rows);
  assert.equal(existsSync('/proc/x'), false);
});

test('limits: the one limits object and --max-memory refuse nonsense', async () => {
  const saved = getLimits();
  const rows: Row[] = [
    ...[
      null,
      3,
      { bogus: 1 },
      { maxMemory: 0 },
      { maxMemory: -1 },
      { maxMemory: 'x' },
      { maxMemory: NaN },
      { fileBytes: null },
      { fileBytes: { nope: 1 } },
      { fileBytes: { model: -1 } },
      { fileBytes: { model: 2 ** 30 } },
      { inflatedBytes: 0 },
      { maxEvalBatches: Infinity },
      { toString: 1 },
      { fileBytes: { toString: 1 } },
    ].map((v): Row => ({ name: `setLimits(${JSON.stringify(v)})`, run: () => setLimits(v as never), error: ConfigError })),
    ...['', 'x', '-1G', '4Q', '1e999', '0', 'G'].map(
      (v): Row => ({ name: `--max-memory '${v}'`, run: () => parseBytes(v, '--max-memory'), error: ConfigError }),
    ),
    { name: '--max-memory without a size', run: () => takeLimitFlags(['train', '--max-memory']), error: ConfigError },
  ];
  try {
    await runTable(rows);
    assert.deepEqual(getLimits(), saved, 'a refused change changes nothing');
    assert.equal(parseBytes('8G', 'x'), 8 * 2 ** 30);
    assert.equal(parseBytes('512MiB', 'x'), 512 * 2 ** 20);
    assert.deepEqual(takeLimitFlags(['train', '--max-memory', '16G', '--steps', '3']), ['train', '--steps', '3']);
    assert.equal(getLimits().maxMemory, 16 * 2 ** 30);
    assert.ok(
      getLimits().fileBytes.model > defaultLimits.fileBytes.model && getLimits().inflatedBytes >= 16 * 2 ** 30,
      '--max-memory raises the file limits too (text files up to what one string holds)',
    );
    setMaxMemory('64M');
    assert.throws(() => new Trainer(resolveTrainConfig({ hidden: '1024' })), LimitError);
  } finally {
    setLimits(defaultLimits);
  }
});

test('allocation failures are LimitErrors: a WebAssembly memory that cannot grow, a typed array too long', () => {
  assert.throws(
    () => new WasmBackend().alloc(1.2e9),
    (e: unknown) => e instanceof LimitError && /wasm backend: cannot grow its memory|needs .* but the limit is/.test(e.message),
  );
  assert.throws(() => new TsBackend('float64').alloc(2 ** 32 - 1), LimitError);
});

test('gradcheck reports every requested pair: an unsupported one as refused', () => {
  const rows = alignment({ models: ['gru'], learners: ['online-lru', 'rtrl'], layers: 1, hidden: 2, T: 3 });
  const refused = rows.filter((r) => r.refused);
  assert.equal(refused.length, 1);
  assert.equal(refused[0]!.learner, 'online-lru');
  assert.match(refused[0]!.refused!, /does not support gru/);
  assert.ok(rows.some((r) => r.learner === 'rtrl' && !r.refused));
});

test("the memory estimate is an upper bound on every model's parameters, and every task preset fits the default limit", () => {
  const be = new TsBackend('float64');
  for (const model of ['rnn', 'gru', 'lstm', 'egru', 'leaky', 'snu', 'lif', 'lru']) {
    for (const [I, H, L, O] of [
      [3, 5, 1, 2],
      [7, 4, 3, 9],
      [20, 2, 2, 3],
    ] as const) {
      const c = { model, inputSize: I, hidden: H, layers: L, outputSize: O, loss: { kind: 'mse' as const } };
      assert.ok(new Network(c, be).size <= parameterBound(c), `${model} ${I} ${H} ${L} ${O}`);
    }
  }
  for (const t of [
    'copy',
    'adding',
    'delayed-xor',
    'listops',
    'spiral',
    'mackey-glass',
    'token-copy',
    'store-recall',
    'cue-accumulation',
    'spikes',
  ]) {
    for (const preset of ['ci', 'paper'] as const) createTask(t, preset); // would throw LimitError
  }
});

test('a stream sample rejected for its target, mask or input leaves the stream exactly as it was', () => {
  const s = new OnlineStream(streamConfig);
  s.push([0.1, 0.2], [0.3]);
  const before = JSON.stringify(s.checkpointFile());
  for (const [x, t, m] of [
    [[0.5, 0.5], [NaN], 1],
    [[0.5, 0.5], [1, 2], 1],
    [[0.5, 0.5], [0.1], -1],
    [[0.5, 0.5], [0.1], NaN],
    [[NaN, 0], [0.1], 1],
    [[0.5], [0.1], 1],
  ] as const) {
    assert.throws(() => s.push(x as never, t as never, m as number), OnwardError);
    assert.equal(JSON.stringify(s.checkpointFile()), before, `after rejecting ${JSON.stringify([x, t, m])}`);
  }
  // and the same stream continues exactly as one that never saw them
  const twin = OnlineStream.fromCheckpointFile(JSON.parse(before), 'twin');
  assert.deepEqual(Array.from(s.push([0.4, 0.1], [0.2]).prediction), Array.from(twin.push([0.4, 0.1], [0.2]).prediction));
});

test('checking samples and watching for divergence allocate nothing per sample', async () => {
  const s = new OnlineStream({ ...streamConfig, updateEvery: 1 });
  const x = Float64Array.of(0.1, -0.2),
    y = Float64Array.of(0.05);
  const report = await allocationCheck(() => {
    s.push(x, y, 1);
  }, 100_000);
  assert.equal(report.gcCount, 0, `${report.gcCount} garbage collections over 100,000 samples`);
  assert.ok(report.heapGrowthBytes < 2 * 2 ** 20, `heap grew by ${report.heapGrowthBytes} bytes over 100,000 samples`);
});

test('a stream whose learning rate is far too high stops with a DivergenceError naming the step, and writes no checkpoint', () => {
  const s = new OnlineStream({ ...streamConfig, optimizer: { name: 'sgd', lr: 1e300 }, updateEvery: 1 });
  let err: unknown = null;
  for (let i = 0; i < 200 && !err; i++) {
    try {
      s.push([1, -1], [5]);
    } catch (e) {
      err = e;
    }
  }
  assert.ok(err instanceof DivergenceError, String(err));
  assert.match(err.message, /diverged at step \d+/);
  assert.ok(['loss', 'prediction', 'weights'].includes(err.quantity));
  assert.throws(() => s.push([0, 0], [0]), DivergenceError, 'a diverged stream takes no more samples');
  assert.throws(() => s.checkpointFile(), DivergenceError, 'and writes no checkpoint it could not load');
  assert.throws(() => saveStreamCheckpoint(s, p('diverged.json')), DivergenceError);
  assert.equal(existsSync(p('diverged.json')), false);
});

test('the trainer stops at a non-finite or exploded loss with a DivergenceError naming the step and the quantity', () => {
  const t = new Trainer(
    applyOverrides(defaultConfig('adding'), {
      hidden: 4,
      batch: 2,
      backend: 'ts',
      dtype: 'float64',
      learner: 'bptt',
      lr: 1e9,
      optimizer: 'sgd',
      clip: 0,
    }),
  );
  assert.throws(
    () => {
      for (let i = 0; i < 50; i++) t.trainStep();
    },
    (e: unknown) => e instanceof DivergenceError && /at step \d+/.test(e.message) && /loss|weights/.test(e.quantity),
  );
});

test('evaluation never touches the device or the training generators: with --device pcm, evalEvery does not change the trained weights', () => {
  const train = (evalEvery: number): number[] => {
    const t = new Trainer(tinyConfig({ device: 'pcm', steps: 6, pcmReadNoise: 1 }));
    for (let i = 0; i < 6; i++) {
      t.trainStep();
      if (evalEvery && t.step % evalEvery === 0) t.evaluate();
    }
    return Array.from(t.network.params.flat.data);
  };
  assert.deepEqual(train(1), train(0));
});

test('a resumed trainer refuses flags that contradict its checkpoint and applies (and reports) the ones that may change', () => {
  const path = p('resume-ck.json');
  saveCheckpoint(trainer, path);
  for (const [k, v] of [
    ['task', 'adding'],
    ['hidden', 64],
    ['layers', 2],
    ['model', 'lstm'],
    ['learner', 'rtrl'],
    ['batch', 3],
    ['seed', 9],
    ['task.bits', 3],
    ['device', 'pcm'],
  ] as const) {
    assert.throws(
      () => resumeTrainer(path, { [k]: v }),
      (e: unknown) => e instanceof ConfigError && e.message.includes('contradicts the checkpoint') && e.message.includes(k),
      `${k}`,
    );
  }
  const same = resumeTrainer(path, { task: 'copy', hidden: 4, model: 'gru' }); // agreeing flags are fine
  assert.deepEqual(same.resumeNotes, []);
  const changed = resumeTrainer(path, { steps: 10, lr: 0.5 });
  assert.equal(changed.config.train.steps, 10);
  assert.equal(changed.config.optimizer.lr, 0.5);
  assert.equal(changed.resumeNotes.length, 2);
  assert.match(changed.resumeNotes.join('\n'), /lr changed from .* to 0\.5/);
});

test('metrics after a resume: cut back to the checkpoint step (no repeats) and seconds continue', () => {
  const m = p('metrics.jsonl');
  writeFileSync(
    m,
    [
      '{"step":2,"loss":1,"seconds":3.5}',
      '{"step":3,"align":{}}',
      '{"step":4,"loss":0.5,"seconds":7}',
      '{"step":4,"align":{}}',
      '{"step":6,"loss":0.4,"seconds":9}',
      '{"step":7,"lo',
    ].join('\n'),
  );
  assert.equal(continueMetrics(m, 4), 7);
  const steps = readFileSync(m, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).step);
  assert.deepEqual(steps, [2, 3, 4]);
  assert.equal(continueMetrics(p('no-metrics.jsonl'), 4), 0);
});

test('bench results: a torn last record is dropped with a note and cut from the file; other damage is refused; one writer per folder', () => {
  const folder = p('bench-out');
  mkdirSync(folder);
  const results = join(folder, 'results.jsonl');
  const rec: BenchRecord = { kind: 'n/a', suite: 's', task: 't', model: 'm', learner: 'l', reason: 'r' };
  appendResults(results, [rec]);
  writeFileSync(results, readFileSync(results, 'utf8') + '{"kind":"eval","sui');
  const notes: string[] = [];
  assert.deepEqual(
    readResults(results, (n) => notes.push(n)),
    [rec],
  );
  assert.equal(notes.length, 1);
  assert.match(notes[0]!, /incomplete last line/);
  assert.equal(readFileSync(results, 'utf8'), JSON.stringify(rec) + '\n', 'the torn bytes are cut, the whole records kept');
  appendResults(results, [rec]);
  assert.equal(readResults(results).length, 2, 'appends after a recovery line up');
  writeFileSync(results, 'garbage\n' + JSON.stringify(rec) + '\n');
  assert.throws(
    () => readResults(results),
    (e: unknown) => e instanceof FileFormatError && e.message.includes(':1:'),
  );
  // a lock held by a live process refuses a second writer; a stale one (dead process) is taken over
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)']);
  try {
    writeFileSync(join(folder, '.onward.lock'), `${child.pid}\n`);
    assert.throws(
      () => lockResults(results),
      (e: unknown) => e instanceof LockError && e.message.includes(String(child.pid)),
    );
  } finally {
    child.kill();
  }
  writeFileSync(join(folder, '.onward.lock'), '999999999\n');
  const release = lockResults(results);
  assert.equal(readFileSync(join(folder, '.onward.lock'), 'utf8').trim(), String(process.pid));
  release();
  assert.equal(existsSync(join(folder, '.onward.lock')), false);
  const again = lockFolder(folder);
  again();
});

test('atomic writes: a failed write leaves the old file whole; stale temporary files of killed writers are removed', () => {
  const target = p('model.json');
  writeJsonAtomic(target, { a: 1 });
  assert.throws(() => writeJsonAtomic(target, { n: 1n }), ConfigError);
  assert.deepEqual(JSON.parse(readFileSync(target, 'utf8')), { a: 1 });
  const stale = `${target}.tmp-999999999-1`,
    live = `${target}.tmp-${process.pid}-1`;
  writeFileSync(stale, 'half');
  writeFileSync(live, 'mine');
  writeJsonAtomic(target, { a: 2 });
  assert.equal(existsSync(stale), false);
  assert.equal(existsSync(live), true, "a live writer's temporary file is left alone");
  rmSync(live);
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.startsWith('model.json.tmp')),
    [],
  );
  // a 0-byte model file (the old in-place write killed) is a typed error, not a crash
  assert.throws(() => readModelFile(file('', 'empty-model.json')), FileFormatError);
});

test('IDX: a small gzip that inflates to gigabytes is refused after inflating no more than its header declares', () => {
  const header = encodeIdx({ dims: [2, 2], data: new Uint8Array(4) });
  // 8 bytes of header + 4 of data, then 128 MiB of zeros: a gzip of about 130 kB
  const zeros = Buffer.alloc(64 << 20);
  const parts = [Buffer.from(header), zeros, zeros];
  const bomb = file(gzipSync(Buffer.concat(parts), { level: 9 }), 'bomb-idx2-ubyte.gz');
  parts.length = 0;
  const before = process.memoryUsage().arrayBuffers;
  assert.throws(
    () => readIdx(bomb),
    (e: unknown) => e instanceof FileFormatError && e.message.includes('trailing'),
  );
  assert.ok(process.memoryUsage().arrayBuffers - before < 32 << 20, 'inflated far less than the whole file');
  // a header declaring more than the inflation limit is refused before inflating the data
  const huge = Buffer.from(encodeIdx({ dims: [1], data: new Uint8Array(1) }));
  huge[3] = 3;
  const hdr = Buffer.alloc(16);
  hdr.set([0, 0, 8, 3]);
  hdr.writeUInt32BE(60000, 4);
  hdr.writeUInt32BE(60000, 8);
  hdr.writeUInt32BE(60000, 12);
  assert.throws(() => readIdx(file(gzipSync(hdr), 'huge-idx3-ubyte.gz')), LimitError);
});

test('the top-level guard turns anything untyped into one line with "please report" and a non-zero exit code', () => {
  const lines: string[] = [];
  const original = console.error;
  console.error = (m: string) => lines.push(m);
  try {
    assert.equal(reportUncaught(new TypeError('x is not a function\n    at somewhere')), 70);
    assert.equal(reportUncaught(new ConfigError('bad')), 2);
    assert.equal(reportUncaught('a string'), 70);
  } finally {
    console.error = original;
  }
  assert.equal(lines[0]!.split('\n').length, 1);
  assert.match(lines[0]!, /internal error: TypeError: x is not a function — .*please report/);
  assert.doesNotMatch(lines[0]!, /somewhere/);
  assert.match(lines[1]!, /^onward: bad \(ConfigError\)$/);
});

// ---------------------------------------------------------------- the command line, as a user runs it
function onward(cwd: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(root, 'src/cli/bin.ts'), ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('CLI: --lr 1e9 stops with a DivergenceError naming the step, keeps the last good checkpoint and says how to continue', () => {
  const out = p('div-run');
  const first = onward(
    dir,
    'train',
    '--task',
    'adding',
    '--steps',
    '4',
    '--set',
    'evalEvery=2',
    '--set',
    'evalBatches=1',
    '--out',
    out,
    '--quiet',
  );
  assert.equal(first.code, 0, first.stderr);
  const good = readFileSync(join(out, 'checkpoint.json'), 'utf8');
  const contradicts = onward(dir, 'train', '--resume', out, '--task', 'copy', '--hidden', '64', '--quiet');
  assert.equal(contradicts.code, 2, contradicts.stderr);
  assert.match(contradicts.stderr, /--resume: task "copy" contradicts the checkpoint/);
  const r = onward(dir, 'train', '--resume', out, '--steps', '40', '--set', 'lr=1e9', '--quiet');
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /diverged at step \d+: the loss is .*\(DivergenceError\)/);
  assert.match(r.stderr, /onward train --resume .* --set (optimizer\.)?lr=/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.equal(readFileSync(join(out, 'checkpoint.json'), 'utf8'), good, 'the last good checkpoint is kept');
  assert.equal(existsSync(join(out, 'model.json')), true);
  const fresh = onward(dir, 'train', '--task', 'adding', '--lr', '1e9', '--steps', '20', '--out', p('div-fresh'), '--quiet');
  assert.equal(fresh.code, 2);
  assert.match(fresh.stderr, /diverged at step/);
  assert.doesNotMatch(fresh.stdout, /mse/, 'no summary is printed for a diverged run');
});

/** the same, asynchronously: independent cases run side by side */
function onwardAsync(cwd: string, ...args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(root, 'src/cli/bin.ts'), ...args], {
      cwd,
      timeout: 120_000,
    });
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    c.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

test('CLI: devices, FIFOs, procfs and full disks end in one typed line, never a hang or a stack', async () => {
  // the readers, writers and checks themselves are tested in-process above; these are the paths through the command line
  const run = p('bad-config-run');
  mkdirSync(run);
  writeFileSync(join(run, 'model.json'), JSON.stringify(modelFile));
  writeFileSync(join(run, 'config.json'), '{"task": "copy", ');
  const cases = [
    ['eval', '--model-file', join(run, 'model.json')],
    ['eval', '--model-file', fifo],
    ['train', '--steps', '1', '--out', '/proc/x'],
    ['data', '--task', 'copy', '--n', '100000000'],
    ['train', '--set', '__proto__=1'],
    ['train', '--max-memory', '100K', '--steps', '1'],
  ];
  const results = await Promise.all(cases.map((args) => onwardAsync(dir, ...args)));
  results.forEach((r, i) => {
    const args = cases[i]!.join(' ');
    assert.equal(r.code, 2, `${args}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${args}: ${r.stderr}`);
    assert.match(r.stderr, /\((FileAccessError|LimitError|ConfigError|FileFormatError)\)$/m, args);
  });
});

test('the catalogue has a few hundred rows', (t) => {
  t.diagnostic(`${catalogueRows} catalogue rows`);
  assert.ok(catalogueRows >= 300, `${catalogueRows} rows`);
});
