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
import { learnerTable } from '../src/learners/index.js';
import { taskTable } from '../src/tasks/index.js';
import { unitModels } from '../src/units/index.js';
import { UnsupportedError } from '../src/core/errors.js';
import { catalogue, PlaygroundRun, resolveConfig } from '../web/run.js';
import { PlaygroundStream } from '../web/stream-run.js';
import { browserSubstitutes } from '../web/browser-substitutes.js';
import { servePlayground } from '../src/cli/playground.js';
import * as browserFiles from '../src/tasks/seq-image-files.browser.js';
import * as nodeFiles from '../src/tasks/seq-image-files.js';

const root = join(import.meta.dirname, '..');

test('the catalogue lists every task, unit model and learner of the tables', () => {
  const c = catalogue();
  assert.deepEqual(c.tasks.map((t) => t.name), taskTable.map((t) => t.name));
  for (const name of [...Object.keys(unitModels), 'lru']) assert.ok(c.models.some((m) => m.name === name), name);
  assert.deepEqual(c.learners.map((l) => l.name), learnerTable.map((l) => l.name));
  assert.deepEqual(c.learners.map((l) => l.models), learnerTable.map((l) => [...l.models]));
  assert.ok(c.tasks.every((t) => t.defaults && typeof t.defaults.model === 'string'), 'every ci preset has defaults');
});

test('the form resolves like --set: task defaults, then the fields; bad values are refused by name', () => {
  const { config: c } = resolveConfig({ task: 'copy', preset: 'ci', overrides: { model: 'gru', learner: 'rtrl', hidden: '12', lr: '0.01', 'task.bits': '2' } });
  assert.equal(c.model.name, 'gru');
  assert.equal(c.model.hidden, 12);
  assert.equal(c.optimizer.lr, 0.01);
  assert.equal(c.task.settings.bits, 2);
  assert.throws(() => resolveConfig({ task: 'copy', preset: 'ci', overrides: { hidden: 'many' } }), /hidden must be a number/);
  assert.throws(() => resolveConfig({ task: 'copy', preset: 'ci', overrides: { colour: 'red' } }), /unknown config key 'colour'/);
});

for (const [task, model, learner] of [['copy', 'gru', 'rtrl'], ['adding', 'lru', 'online-lru']] as const) {
  test(`a run trains, reports and hands out a model that loads back (${task}, ${model}, ${learner})`, () => {
    const spec = { task, preset: 'ci' as const, overrides: { model, learner, hidden: 8, layers: 1, batch: 4, steps: 30, seed: 2 } };
    const run = new PlaygroundRun(spec);
    const first = run.progress(true);
    assert.equal(first.step, 0);
    assert.equal(first.loss, null, 'no training yet');
    assert.ok(first.eval && Number.isFinite(first.eval.loss));
    while (!run.done) run.trainFor(5);
    const last = run.progress(true);
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
    const loaded = new PlaygroundRun({ ...spec, overrides: { ...spec.overrides, hidden: 99 }, modelText: run.modelText(), modelName: 'm.json' });
    assert.equal(loaded.config.model.hidden, 8, 'the file decides the network shape');
    assert.equal(loaded.progress(true).eval!.loss, last.eval!.loss);
  });
}

test('stream mode: one unbroken stream of the task\'s sequences, batch 1; the online loss falls; the model file is the same format', () => {
  const spec = { mode: 'stream' as const, task: 'spiral', preset: 'ci' as const, overrides: { model: 'gru', learner: 'rtrl', hidden: 16, layers: 1, steps: 300, seed: 1 } };
  const s = new PlaygroundStream(spec);
  const T = s.task.seqLength;
  const window = (n: number): ReturnType<PlaygroundStream['progress']> => {
    for (let i = 0; i < n && !s.done; i++) assert.ok(s.trainFor(0) >= T, 'at least one whole sequence per slice');
    return s.progress(true);
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
  assert.ok(Number.isFinite(episodic.progress(true).eval!.loss), 'the stream\'s model file loads into an episodic run');
});

test('bptt reports the window it holds before each update, not the empty state after it', () => {
  const run = new PlaygroundRun({ task: 'copy', preset: 'ci', overrides: { model: 'gru', learner: 'bptt', hidden: 8, layers: 1, batch: 4, steps: 2 } });
  run.trainFor(1);
  assert.equal(run.trainer.learner.stateBytes(), 0, 'flushed');
  assert.ok(run.progress(false).stateBytes > 0);
  // tbptt flushes itself every k steps; in a stream, too
  const s = new PlaygroundStream({ mode: 'stream', task: 'copy', preset: 'ci', overrides: { model: 'gru', learner: 'tbptt', hidden: 8, layers: 1, steps: 2, window: 4, updateEvery: 100 } });
  s.trainFor(0);
  s.trainFor(0);
  assert.equal(s.stream.step % 4, 2, 'two steps into a window of 4 (copy ci: T = 13, two sequences)');
  assert.equal(s.progress(false).stateBytes, 2 * s.stream.learner.stateBytes(), 'the peak is a full window');
});

test('a model file that does not fit is refused by name', () => {
  assert.throws(() => new PlaygroundRun({ task: 'copy', preset: 'ci', overrides: {}, modelText: '{"format": "other"}', modelName: 'x.json' }), /'x.json' is not an onward model file/);
  const run = new PlaygroundRun({ task: 'copy', preset: 'ci', overrides: { model: 'gru', learner: 'rtrl', hidden: 4, layers: 1, steps: 1 } });
  assert.throws(() => new PlaygroundRun({ task: 'adding', preset: 'ci', overrides: {}, modelText: run.modelText(), modelName: 'copy.json' }), /parameters|shape|inputs/);
});

// ---- nothing on the browser path imports Node ----

const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** every module reachable from `entry` by relative imports (with the browser substitutions), and the bare imports seen */
function browserGraph(entry: string): { files: string[]; bare: Map<string, string> } {
  const seen = new Set<string>(), bare = new Map<string, string>();
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
    if (entry !== 'web/main.ts') assert.ok(files.includes('src/tasks/seq-image-files.browser.ts'), 'the seq-image files module was swapped');
  });
}

test('the worker reaches every learner, unit and task module, so new table rows reach the page', () => {
  const { files } = browserGraph('web/worker.ts');
  for (const f of ['src/learners/index.ts', 'src/units/index.ts', 'src/tasks/index.ts', 'src/backend/wasm.ts']) assert.ok(files.includes(f), f);
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

function get(url: string, path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolvePromise, reject) => {
    // a raw path, so that '..' reaches the server unnormalised
    const u = new URL(url);
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
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
  return spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(root, 'src/cli/bin.ts'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
}

test('onward playground serves the built page on 127.0.0.1 until stopped, and refuses bad ports by name', async () => {
  const bad = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(root, 'src/cli/bin.ts'), 'playground', '--port', 'http'], { cwd: root, encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--port must be an integer in 0–65535, got 'http'/);
  // a port that is taken
  const taken = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => taken.once('listening', r));
  const port = (taken.address() as { port: number }).port;
  const busy = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(root, 'src/cli/bin.ts'), 'playground', '--port', String(port)], { cwd: root, encoding: 'utf8' });
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
