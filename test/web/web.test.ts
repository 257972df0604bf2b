/**
 * The playground without a browser: its catalogue comes from the library's tables, its runs train and report,
 * model files go out and come back, the code it bundles reaches no Node built-in, and the static server serves
 * only its folder, only on 127.0.0.1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { learnerTable } from '../../src/learners/index.js';
import { taskTable } from '../../src/tasks/index.js';
import { unitModels } from '../../src/units/index.js';
import { UnsupportedError } from '../../src/core/errors.js';
import { catalogue, PlaygroundRun, resolveConfig } from '../../web/run.js';
import { PlaygroundStream } from '../../web/stream-run.js';
import { browserSubstitutes } from '../../web/browser-substitutes.js';
import { isolationHeaders, servePlayground } from '../../src/cli/playground.js';
import { ConfigError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { MetricAccumulator } from '../../src/train/metrics.js';
import { OnlineStream } from '../../src/train/stream.js';
import { learnerOptionsFor, modelConfigFor } from '../../src/train/trainer.js';
import { createTask } from '../../src/tasks/index.js';
import { describeError } from '../../web/errors.js';
import { pointEvery, runAll } from '../../web/schedule.js';
import { fromHash, toHash } from '../../web/url.js';
import * as browserFiles from '../../src/tasks/seq-image-files.browser.js';
import * as nodeFiles from '../../src/tasks/seq-image-files.js';

const root = join(import.meta.dirname, '../..');

test('the catalogue lists every task, unit model and learner of the tables', () => {
  const c = catalogue();
  assert.deepEqual(
    c.tasks.map((t) => t.name),
    taskTable.map((t) => t.name),
  );
  for (const name of [...Object.keys(unitModels), 'lru'])
    assert.ok(
      c.models.some((m) => m.name === name),
      name,
    );
  assert.deepEqual(
    c.learners.map((l) => l.name),
    learnerTable.map((l) => l.name),
  );
  assert.deepEqual(
    c.learners.map((l) => l.models),
    learnerTable.map((l) => [...l.models]),
  );
  assert.deepEqual(
    c.learners.map((l) => l.refusals),
    learnerTable.map((l) => ({ ...l.refusals })),
    "refusal reasons, for the page's tooltips",
  );
  assert.ok(
    c.tasks.every((t) => t.defaults && typeof t.defaults['model.name'] === 'string'),
    'every ci preset has defaults',
  );
});

test('the form resolves like --set: task defaults, then the fields; bad values are refused by name', () => {
  const { config: c } = resolveConfig({
    task: 'copy',
    preset: 'ci',
    overrides: { model: 'gru', learner: 'rtrl', hidden: '12', lr: '0.01', 'task.bits': '2' },
  });
  assert.equal(c.model.name, 'gru');
  assert.equal(c.model.hidden, 12);
  assert.equal(c.optimizer.lr, 0.01);
  assert.equal(c.task.settings.bits, 2);
  assert.throws(() => resolveConfig({ task: 'copy', preset: 'ci', overrides: { hidden: 'many' } }), /hidden must be a number/);
  assert.throws(() => resolveConfig({ task: 'copy', preset: 'ci', overrides: { colour: 'red' } }), /unknown config key 'colour'/);
});

for (const [task, model, learner] of [
  ['copy', 'gru', 'rtrl'],
  ['adding', 'lru', 'online-lru'],
] as const) {
  test(`a run trains, reports and hands out a model that loads back (${task}, ${model}, ${learner})`, () => {
    const spec = { task, preset: 'ci' as const, overrides: { model, learner, hidden: 8, layers: 1, batch: 4, steps: 30, seed: 2 } };
    const run = new PlaygroundRun(spec);
    const first = run.progress();
    assert.equal(first.step, 0);
    assert.equal(first.loss, null, 'no training yet');
    assert.ok(first.eval && Number.isFinite(first.eval.loss));
    while (!run.done) run.trainFor(5);
    const last = run.progress();
    assert.equal(last.step, 30);
    assert.ok(last.done);
    assert.ok(last.eval!.loss < first.eval!.loss, `eval loss ${first.eval!.loss} → ${last.eval!.loss}`);
    assert.ok(last.usPerStep! > 0 && last.stateBytes > 0);
    const T = run.trainer.task.seqLength;
    assert.equal(last.sequence.target.length, T);
    assert.equal(last.sequence.predicted.length, T);
    assert.equal(last.sequence.kind, run.trainer.task.loss.kind);
    if (last.sequence.kind === 'ce') assert.ok(last.sequence.confidence.every((p) => p >= 0 && p <= 1));
    // the model file: loaded into a fresh run on the same task, it evaluates identically
    const loaded = new PlaygroundRun({
      ...spec,
      overrides: { ...spec.overrides, hidden: 99 },
      modelText: run.modelText(),
      modelName: 'm.json',
    });
    assert.equal(loaded.config.model.hidden, 8, 'the file decides the network shape');
    assert.equal(loaded.progress().eval!.loss, last.eval!.loss);
  });
}

test("stream mode: one unbroken stream of the task's sequences, batch 1; the online loss falls; the model file is the same format", () => {
  const spec = {
    mode: 'stream' as const,
    task: 'spiral',
    preset: 'ci' as const,
    overrides: { model: 'gru', learner: 'rtrl', hidden: 16, layers: 1, steps: 300, seed: 1 },
  };
  const s = new PlaygroundStream(spec);
  const T = s.task.seqLength;
  const window = (n: number): ReturnType<PlaygroundStream['progress']> => {
    for (let i = 0; i < n && !s.done; i++) assert.ok(s.trainFor(0) >= T, 'at least one whole sequence per slice');
    return s.progress();
  };
  const first = window(30);
  assert.equal(first.step, 30);
  assert.equal(s.stream.step, 30 * T, 'every sample went through the stream');
  assert.ok(first.eval && first.loss === first.eval.loss, 'the online loss is the prequential one');
  assert.equal(first.sequence.target.length, T);
  const stateBytes = first.stateBytes;
  while (s.stream.step < 270 * T) window(30);
  const last = window(30);
  assert.ok(last.done && last.step === 300);
  assert.equal(last.stateBytes, stateBytes, 'constant memory');
  assert.ok(last.loss! < 0.6 * first.loss!, `online loss per sequence ${first.loss} → ${last.loss}`);
  // the stream never resets its state between sequences: its learner has seen one sequence of 300·T steps
  assert.equal(s.stream.updates, 300, 'updateEvery 0 means one update per task sequence length');
  const episodic = new PlaygroundRun({ ...spec, mode: 'episodes', modelText: s.modelText(), modelName: 'stream.json' });
  assert.ok(Number.isFinite(episodic.progress().eval!.loss), "the stream's model file loads into an episodic run");
});

test('bptt reports the window it holds before each update, not the empty state after it', () => {
  const run = new PlaygroundRun({
    task: 'copy',
    preset: 'ci',
    overrides: { model: 'gru', learner: 'bptt', hidden: 8, layers: 1, batch: 4, steps: 2 },
  });
  run.trainFor(1);
  assert.equal(run.trainer.learner.stateBytes(), 0, 'flushed');
  assert.ok(run.progress().stateBytes > 0);
  // tbptt flushes itself every k steps; in a stream, too
  const s = new PlaygroundStream({
    mode: 'stream',
    task: 'copy',
    preset: 'ci',
    overrides: { model: 'gru', learner: 'tbptt', hidden: 8, layers: 1, steps: 2, window: 4, updateEvery: 100 },
  });
  s.trainFor(0);
  s.trainFor(0);
  assert.equal(s.stream.step % 4, 2, 'two steps into a window of 4 (copy ci: T = 13, two sequences)');
  assert.equal(s.progress().stateBytes, 2 * s.stream.learner.stateBytes(), 'the peak is a full window');
});

test("stream mode scores with the task's own metric (the library's MetricAccumulator): mackey-glass reports NRMSE, not MSE", () => {
  const spec = {
    mode: 'stream' as const,
    task: 'mackey-glass',
    preset: 'ci' as const,
    overrides: { model: 'gru', learner: 'eprop', hidden: 8, layers: 1, steps: 6, seed: 4 },
  };
  const s = new PlaygroundStream(spec);
  assert.equal(s.info().metric, 'nrmse');
  assert.equal(s.info().reference, 1, 'NRMSE 1 is predicting the mean');
  while (!s.done) s.trainFor(Infinity);
  const page = s.progress();
  // the same stream, built directly from the library: the same predictions, scored by the library's accumulator
  const c = s.config,
    task = createTask(c.task.name, c.task.preset, c.task.settings),
    o = c.optimizer;
  const stream = new OnlineStream({
    model: modelConfigFor(c, task),
    learner: c.learner.name,
    optimizer: { name: o.name, lr: o.lr, clip: o.clip, weightDecay: o.weightDecay, momentum: o.momentum },
    updateEvery: task.seqLength,
    seed: c.train.seed,
    window: c.learner.window,
    learnerOptions: { ...learnerOptionsFor(c), batchSize: 1 },
    backend: c.train.backend,
    dtype: c.train.dtype,
  });
  const rng = new Rng(c.train.seed + 2),
    nrmse = new MetricAccumulator(task.loss, task.outputSize, 'nrmse'),
    mse = new MetricAccumulator(task.loss, task.outputSize);
  for (let i = 0; i < 6; i++) {
    const b = task.batch(1, rng);
    for (let t = 0; t < task.seqLength; t++) {
      const r = stream.push(b.x[t]!, b.target[t]!, b.mask[t]![0]!);
      nrmse.add(1, r.prediction, b.target[t]!, b.mask[t]!);
      mse.add(1, r.prediction, b.target[t]!, b.mask[t]!);
    }
  }
  assert.equal(page.value, nrmse.value());
  assert.notEqual(page.value, mse.value());
});

test('a run reports a fixed density of points: ~100 for any number of steps, the start and the end included', () => {
  assert.equal(pointEvery(40), 1);
  assert.equal(pointEvery(2000), 20);
  const points = runAll(
    new PlaygroundRun({
      task: 'adding',
      preset: 'ci',
      overrides: { model: 'gru', learner: 'eprop', hidden: 4, layers: 1, batch: 2, steps: 60, seed: 1 },
    }),
  );
  assert.deepEqual(
    points.map((p) => p.step),
    Array.from({ length: 61 }, (_, i) => i),
  );
  const long = runAll(
    new PlaygroundRun({
      task: 'adding',
      preset: 'ci',
      overrides: { model: 'gru', learner: 'eprop', hidden: 4, layers: 1, batch: 1, steps: 250, seed: 1 },
    }),
  );
  assert.deepEqual(
    long.map((p) => p.step),
    [...Array.from({ length: 84 }, (_, i) => 3 * i), 250],
    'every 3 batches, and the last',
  );
});

test('a diverging run stops at the step where it diverged and says so', () => {
  const run = new PlaygroundRun({ task: 'adding', preset: 'ci', overrides: { lr: 100, steps: 30, seed: 0 } });
  const points = runAll(run);
  const last = points.at(-1)!;
  assert.ok(last.done && last.diverged, 'stopped, diverged');
  assert.equal(last.diverged!.step, run.step, 'named at the step it stopped');
  assert.ok(run.step < 30);
  assert.match(last.diverged!.what, /training loss grew to .* over 1000× the first batch/);
  const s = new PlaygroundStream({ mode: 'stream', task: 'adding', preset: 'ci', overrides: { lr: 100, steps: 30, seed: 0 } });
  const sl = runAll(s).at(-1)!;
  assert.ok(sl.diverged && sl.diverged.step === s.step && s.step < 30, `stream diverged at ${sl.diverged?.step}`);
});

test('inside the network: hidden states per recurrent layer, a raster for spiking units, trace sizes, and alignment with BPTT', () => {
  // rtrl is exact: its gradient is BPTT's (cosine 1 in every layer, float32); e-prop drops the recurrent path
  const rtrl = new PlaygroundRun({
    task: 'adding',
    preset: 'ci',
    overrides: { model: 'gru', learner: 'rtrl', hidden: 6, layers: 2, batch: 2, steps: 2, seed: 3 },
  });
  const p = rtrl.progress();
  assert.deepEqual(
    p.alignment!.map((a) => a.layer),
    ['layers.0', 'layers.1', 'readout', 'all'],
  );
  for (const a of p.alignment!)
    assert.ok(a.cosine > 0.9999 && Math.abs(a.normRatio - 1) < 1e-3, `rtrl ${a.layer}: ${a.cosine}, ${a.normRatio}`);
  assert.deepEqual(
    p.inside.layers.map((l) => [l.name, l.units, l.values.length]),
    [
      ['layers.0', 6, rtrl.trainer.task.seqLength],
      ['layers.1', 6, rtrl.trainer.task.seqLength],
    ],
  );
  assert.equal(p.inside.spiking, false);
  assert.ok(p.inside.traces.length > 0 && p.inside.traces.every((t) => t.numbers > 0 && t.rms >= 0));
  const eprop = new PlaygroundRun({
    task: 'adding',
    preset: 'ci',
    overrides: { model: 'gru', learner: 'eprop', hidden: 6, layers: 1, batch: 2, steps: 2, seed: 3 },
  });
  const cos = eprop.progress().alignment!.find((a) => a.layer === 'layers.0')!.cosine;
  assert.ok(cos < 0.9999, `eprop is approximate: ${cos}`);
  assert.equal(
    new PlaygroundRun({ task: 'adding', preset: 'ci', overrides: { learner: 'bptt', steps: 1 } }).progress().alignment,
    null,
    'bptt is the reference',
  );
  // spiking units: outputs are spikes (0 or 1), drawn as a raster
  const lif = new PlaygroundStream({
    mode: 'stream',
    task: 'spikes',
    preset: 'ci',
    overrides: { model: 'lif', learner: 'eprop', hidden: 12, layers: 1, steps: 2, seed: 1 },
  });
  lif.trainFor(Infinity, 1);
  // the alignment leaves the stream's partial gradient as it was
  const grads = Float64Array.from(lif.stream.network.grads.flat.data);
  const q = lif.progress();
  assert.deepEqual(Float64Array.from(lif.stream.network.grads.flat.data), grads);
  assert.ok(q.inside.spiking);
  const values = q.inside.layers[0]!.values.flat();
  assert.ok(
    values.every((v) => v === 0 || v === 1),
    'spikes',
  );
  assert.ok(
    values.some((v) => v === 1),
    'some units spiked',
  );
  assert.ok(q.alignment?.every((a) => Number.isFinite(a.cosine)));
});

test('the URL holds the whole form and gives it back', () => {
  const state = {
    task: 'copy',
    preset: 'ci',
    mode: 'stream',
    model: 'gru',
    learner: 'rtrl',
    compare: 'eprop',
    fields: { hidden: '8', lr: '0.01', seed: '3' },
    extra: 'clip=1 task.bits=2',
  };
  const hash = toHash(state);
  assert.match(hash, /^#task=copy&/);
  assert.deepEqual(fromHash(hash), state);
  assert.equal(fromHash(''), null);
});

test('errors are shown by their type name and message, never by a minified class name', () => {
  assert.deepEqual(describeError(new ConfigError('steps must be ≥ 1')), { name: 'ConfigError', message: 'steps must be ≥ 1' });
  class n extends Error {
    readonly code = 'SHAPE';
  }
  assert.equal(describeError(new n('x')).name, 'ShapeError', 'read from the stable code');
  class q extends Error {}
  assert.equal(describeError(new q('x')).name, 'Error');
  assert.equal(describeError('text').message, 'text');
});

test('the catalogue offers only presets that can be built here, and marks spiking models', () => {
  const c = catalogue();
  for (const t of c.tasks) for (const p of t.presets) assert.doesNotThrow(() => createTask(t.name, p, {}), `${t.name} ${p}`);
  assert.deepEqual(c.tasks.find((t) => t.name === 'copy')!.presets, ['ci', 'paper']);
  assert.ok(c.models.find((m) => m.name === 'lif')!.spiking && !c.models.find((m) => m.name === 'gru')!.spiking);
});

test('a model file that does not fit is refused by name', () => {
  assert.throws(
    () => new PlaygroundRun({ task: 'copy', preset: 'ci', overrides: {}, modelText: '{"format": "other"}', modelName: 'x.json' }),
    /'x.json' is not an onward model file/,
  );
  const run = new PlaygroundRun({
    task: 'copy',
    preset: 'ci',
    overrides: { model: 'gru', learner: 'rtrl', hidden: 4, layers: 1, steps: 1 },
  });
  assert.throws(
    () => new PlaygroundRun({ task: 'adding', preset: 'ci', overrides: {}, modelText: run.modelText(), modelName: 'copy.json' }),
    /parameters|shape|inputs/,
  );
});

// ---- nothing on the browser path imports Node ----

const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** every module reachable from `entry` by relative imports (with the browser substitutions), and the bare imports seen */
function browserGraph(entry: string): { files: string[]; bare: Map<string, string> } {
  const seen = new Set<string>(),
    bare = new Map<string, string>();
  const visit = (file: string): void => {
    const rel = relative(root, file);
    const swapped = browserSubstitutes[rel];
    if (swapped) file = join(root, swapped);
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\('([^']+)'\)|new URL\('([^']+)'/g)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (m[0].includes('import type') || m[0].includes('export type')) continue;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else bare.set(spec, relative(root, file));
    }
  };
  visit(join(root, entry));
  return { files: [...seen].map((f) => relative(root, f)), bare };
}

for (const entry of ['src/index.ts', 'web/main.ts', 'web/worker.ts']) {
  test(`${entry} reaches no Node built-in (the browser bundle)`, () => {
    const { files, bare } = browserGraph(entry);
    const node = [...bare].filter(([spec]) => builtins.has(spec) || spec.startsWith('node:'));
    assert.deepEqual(node, [], `Node built-ins on the browser path: ${node.map(([s, f]) => `${s} (in ${f})`).join(', ')}`);
    assert.ok(files.length > (entry === 'web/main.ts' ? 2 : 30), `${files.length} modules walked`);
    if (entry !== 'web/main.ts')
      assert.ok(files.includes('src/tasks/seq-image-files.browser.ts'), 'the seq-image files module was swapped');
  });
}

test('the worker reaches every learner, unit and task module, so new table rows reach the page', () => {
  const { files } = browserGraph('web/worker.ts');
  for (const f of ['src/learners/index.ts', 'src/units/index.ts', 'src/tasks/index.ts', 'src/backend/wasm.ts'])
    assert.ok(files.includes(f), f);
});

test('package.json "browser" maps the same files (under dist/) as the playground build', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { browser: Record<string, string> };
  const asDist = (p: string): string => `./${p.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js')}`;
  assert.deepEqual(pkg.browser, Object.fromEntries(Object.entries(browserSubstitutes).map(([a, b]) => [asDist(a), asDist(b)])));
});

test('each browser stand-in exports what its Node module exports, and refuses file access by name', () => {
  assert.deepEqual(Object.keys(browserFiles).sort(), Object.keys(nodeFiles).sort());
  assert.equal(browserFiles.DEFAULT_DATA_DIR, nodeFiles.DEFAULT_DATA_DIR);
  assert.throws(() => browserFiles.loadSeqImageSet('train'), UnsupportedError);
  assert.throws(() => browserFiles.loadSeqImageSet('train'), /source=1/);
});

// ---- the static server ----

function get(
  url: string,
  path: string,
): Promise<{ status: number; type: string | undefined; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolvePromise, reject) => {
    // a raw path, so that '..' reaches the server unnormalised
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, type: res.headers['content-type'], body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the playground server serves its folder on 127.0.0.1 only, and nothing outside it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'onward-serve-'));
  mkdirSync(join(dir, 'site', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'site', 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(dir, 'site', 'assets', 'a.js'), 'export {}');
  writeFileSync(join(dir, 'secret.txt'), 'secret');
  const { server, url } = await servePlayground(join(dir, 'site'), 0);
  try {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const address = server.address();
    assert.ok(address && typeof address === 'object' && address.address === '127.0.0.1');
    const index = await get(url, '/');
    assert.equal(index.status, 200);
    // cross-origin isolated: COOP and COEP on every file, so the page may share memory with its workers
    for (const [k, v] of Object.entries(isolationHeaders)) assert.equal(index.headers[k.toLowerCase()], v, k);
    assert.match(index.type ?? '', /text\/html/);
    assert.match((await get(url, '/assets/a.js')).type ?? '', /text\/javascript/);
    for (const p of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/missing.js', '/assets']) {
      const r = await get(url, p);
      assert.equal(r.status, 404, p);
      assert.ok(!r.body.includes('secret'), p);
    }
  } finally {
    server.close();
  }
});

// ---- the command ----

function onward(args: string[]): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(root, 'src/cli/bin.ts'), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

test('onward playground serves the built page on 127.0.0.1 until stopped, and refuses bad ports by name', async () => {
  const bad = spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), join(root, 'src/cli/bin.ts'), 'playground', '--port', 'http'],
    { cwd: root, encoding: 'utf8' },
  );
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--port must be an integer in 0–65535, got 'http'/);
  // a port that is taken
  const taken = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => taken.once('listening', r));
  const port = (taken.address() as { port: number }).port;
  const busy = spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), join(root, 'src/cli/bin.ts'), 'playground', '--port', String(port)],
    { cwd: root, encoding: 'utf8' },
  );
  taken.close();
  assert.equal(busy.status, 2);
  assert.match(busy.stderr, new RegExp(`port ${port} is in use; choose another with --port N`));
  // serving: the page, then a clean exit on SIGTERM
  const child = onward(['playground', '--port', '0']);
  let out = '';
  const url = await new Promise<string>((resolvePromise, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (m) resolvePromise(m[0]);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
  const page = await get(url, '/');
  assert.equal(page.status, 200);
  assert.match(page.body, /onward playground/);
  const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(page.body);
  assert.ok(script, 'the page loads its bundle');
  assert.equal((await get(url, `/${script[1]}`)).status, 200);
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
