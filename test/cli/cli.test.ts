/** The command line, run as a user runs it (from the TypeScript sources, so no build is needed). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TsBackend } from '../../src/backend/ts.js';
import { Network, type ModelConfig } from '../../src/model/network.js';
import { decodeParamsInto, readModelFile } from '../../src/model/io.js';
import { learnerGradient } from '../../src/check/oracle.js';
import { expectAllClose } from '../helpers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'onward-cli-'));

function onward(...args: string[]): { code: number; stdout: string; stderr: string } {
  // tsx is resolved from the project, not from the temporary working folder
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(root, 'src/cli/bin.ts'), ...args], {
    cwd: tmp,
    encoding: 'utf8',
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('train writes a run directory and a JSON summary', () => {
  const out = join(tmp, 'run');
  const r = onward('train', '--steps', '6', '--set', 'evalEvery=3', '--json', '--out', out, '--set', 'task.bits=2');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const summary = lines.at(-1).result;
  for (const k of ['task', 'model', 'learner', 'metric', 'value', 'loss', 'steps', 'seconds']) assert.ok(k in summary, k);
  assert.equal(summary.steps, 6);
  assert.equal(summary.metric, 'bit_accuracy');
  for (const f of ['config.json', 'metrics.jsonl', 'model.json', 'checkpoint.json']) assert.ok(existsSync(join(out, f)), f);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.task.settings.bits, 2);
  assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 2);
  // and resumes from its checkpoint
  const more = onward('train', '--resume', out, '--steps', '8', '--json');
  assert.equal(more.code, 0, more.stderr);
  assert.equal(JSON.parse(more.stdout.trim().split('\n').at(-1)!).result.steps, 8);
});

test('train --steps 0 writes the freshly initialised model; grad reproduces the library gradient by name', () => {
  const out = join(tmp, 'fresh');
  assert.equal(onward('train', '--steps', '0', '--quiet', '--out', out, '--model', 'lstm', '--task', 'adding').code, 0);
  const file = readModelFile(join(out, 'model.json'));
  const config = file.config as ModelConfig;
  assert.equal(config.model, 'lstm');
  const T = 4,
    B = 2;
  const seq = {
    x: Array.from({ length: T }, (_, t) => Array.from({ length: B }, (_, b) => [Math.sin(t + b), (t + b) % 2])),
    y: Array.from({ length: T }, (_, t) => Array.from({ length: B }, (_, b) => [0.1 * t - b])),
    mask: Array.from({ length: T }, (_, t) => Array.from({ length: B }, () => (t > 0 ? 1 : 0))),
  };
  const data = join(tmp, 'seq.json');
  writeFileSync(data, JSON.stringify(seq));
  const r = onward('grad', '--model-file', join(out, 'model.json'), '--data', data, '--learner', 'rtrl');
  assert.equal(r.code, 0, r.stderr);
  const g = JSON.parse(r.stdout);
  assert.ok(Number.isFinite(g.loss));
  const net = new Network(config, new TsBackend('float64'));
  decodeParamsInto(net.params, file.params, 'model.json');
  const flat = (a: number[][][]): Float64Array[] => a.map((s) => Float64Array.from(s.flat()));
  learnerGradient('bptt', net, { x: flat(seq.x), target: flat(seq.y), mask: seq.mask.map((m) => Float64Array.from(m)) }, B);
  assert.deepEqual(Object.keys(g.grads).sort(), net.params.names().sort());
  for (const name of net.params.names()) {
    assert.deepEqual(g.grads[name].shape, [...net.params.shape(name)]);
    expectAllClose(g.grads[name].data, net.grads.get(name), { rtol: 1e-9, atol: 1e-14 }, name);
  }
});

test('gradcheck --json: every claim of every learner row passes (exit 0), alignment rows beside them', () => {
  const r = onward('gradcheck', '--json', '--models', 'gru');
  assert.equal(r.code, 0, r.stderr);
  const { checks, alignment } = JSON.parse(r.stdout).result as {
    checks: { learner: string; model: string; pass: boolean; relErr: number }[];
    alignment: { learner: string; relErr: number }[];
  };
  assert.ok(checks.length > 0 && checks.every((c) => c.pass && c.model === 'gru'));
  for (const name of ['bptt', 'rtrl', 'deep-rtrl', 'sparse-rtrl', 'eprop', 'osttp'])
    assert.ok(
      checks.some((c) => c.learner === name),
      name,
    );
  assert.ok(
    alignment.some((row) => row.learner === 'tbptt' && row.relErr > 1e-3),
    'tbptt with a short window is biased',
  );
});

test('list --json names tasks, models and learners', () => {
  const r = onward('list', '--json');
  const j = JSON.parse(r.stdout).result;
  assert.ok(j.tasks.some((t: { name: string }) => t.name === 'copy'));
  assert.ok(j.models.some((t: { name: string }) => t.name === 'gru'));
  assert.ok(j.learners.some((t: { name: string }) => t.name === 'rtrl'));
  // each learner: models, recipe, aliases, claims, options with defaults, and a reason for every other model
  type Row = {
    name: string;
    models: string[];
    trace?: string;
    signal?: string;
    aliasOf?: string;
    aliases: string[];
    claims: { params: string; label: string; tolerance: number }[];
    options: { name: string; default?: unknown }[];
    refusals: Record<string, string>;
  };
  const row = (name: string): Row => (j.learners as Row[]).find((l) => l.name === name)!;
  assert.equal(row('ostl').aliasOf, 'eprop');
  assert.deepEqual(row('rtrl').aliases, ['deep-rtrl']);
  assert.equal(row('eprop').trace, 'diag');
  assert.equal(row('osttp').signal, 'target-projection');
  assert.ok(row('online-lru').claims.some((c) => c.params === 'top'));
  assert.ok(row('osttp').options.some((o) => o.name === 'targetTiming' && o.default === 'scored'));
  assert.ok(row('sparse-rtrl').models.includes('lru'));
  assert.match(row('wp').refusals.leaky!, /variance/);
  for (const l of j.learners as Row[])
    for (const [m, why] of Object.entries(l.refusals)) assert.ok(!l.models.includes(m) && why.length > 20, `${l.name} on ${m}`);
});

test('mistakes exit with code 2 and one line that names the problem', () => {
  let r = onward('train', '--task', 'cpy', '--steps', '1');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown task 'cpy'; known tasks: copy/);
  r = onward('train', '--bogus');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--bogus'/);
  const corrupt = join(tmp, 'corrupt.json');
  writeFileSync(corrupt, '{"format": "onward.mo');
  r = onward('grad', '--model-file', corrupt, '--data', corrupt);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /not valid JSON/);
  r = onward('frobnicate');
  assert.equal(r.code, 2);
});

test('grad on a GRU model file reproduces PyTorch nn.GRU gradients (fixture from scripts/torch-gru-fixture.py)', () => {
  const fixture = JSON.parse(readFileSync(join(root, 'test/fixtures/torch-gru.json'), 'utf8'));
  for (const c of fixture.cases) {
    const model = join(tmp, `${c.name}.model.json`),
      data = join(tmp, `${c.name}.seq.json`);
    writeFileSync(model, JSON.stringify({ format: 'onward.model', version: 1, library: 'test', config: c.config, params: c.params }));
    // the sequence file is nested T×B×…; the fixture stores each step flat and batch-major
    const B = fixture.B,
      nest = (step: number[], w: number): number[][] => Array.from({ length: B }, (_, b) => step.slice(b * w, (b + 1) * w));
    const w = c.config.loss.kind === 'ce' ? c.config.outputSize / c.config.loss.classes : c.config.outputSize;
    writeFileSync(
      data,
      JSON.stringify({
        x: c.x.map((s: number[]) => nest(s, c.config.inputSize)),
        y: c.target.map((s: number[]) => nest(s, w)),
        mask: c.mask,
      }),
    );
    const r = onward('grad', '--model-file', model, '--data', data, '--learner', 'bptt', '--dtype', 'float64', '--backend', 'ts');
    assert.equal(r.code, 0, r.stderr);
    const g = JSON.parse(r.stdout);
    assert.ok(Math.abs(g.loss - c.loss) <= 1e-12 * c.loss, `loss ${g.loss} vs ${c.loss}`);
    for (const [name, want] of Object.entries(c.grads) as [string, { data: number[] }][]) {
      expectAllClose(g.grads[name].data, want.data, { rtol: 1e-9, atol: 1e-13 }, `${c.name} ${name}`);
    }
  }
});

test('data --task listops writes samples in the sequence-file format with their token strings', () => {
  const r = onward('data', '--task', 'listops', '--n', '3', '--seed', '4');
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  assert.equal(d.raw.length, 3);
  assert.equal(d.x[0].length, 3);
  assert.equal(d.x[0][0].length, 17);
  for (let b = 0; b < 3; b++) {
    const tokens = d.raw[b].split(' ');
    assert.equal(tokens.at(-1), '<eos>');
    const valid = d.mask.filter((m: number[]) => m[b] === 1).length;
    assert.equal(valid, tokens.length, 'the mask covers exactly the tokens');
  }
  assert.deepEqual(JSON.parse(onward('data', '--task', 'listops', '--n', '3', '--seed', '4').stdout), d, 'seeded');
});
