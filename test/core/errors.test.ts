/** Bad input gets a clear, typed error that names the problem; nothing is silently clamped; no checkpoint is lost. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, FileFormatError, NonFiniteError, ShapeError, UnknownNameError, UnsupportedError } from '../../src/core/errors.js';
import { TsBackend } from '../../src/backend/ts.js';
import { Network } from '../../src/model/network.js';
import { checkSupport, createLearner, learnerInfo } from '../../src/learners/index.js';
import { createTask } from '../../src/tasks/index.js';
import { applyOverrides, defaultConfig } from '../../src/train/config.js';
import { Trainer } from '../../src/train/trainer.js';
import { decodeParamsInto, readModelFile, writeJsonAtomic } from '../../src/model/io.js';

const config = { model: 'gru', inputSize: 3, hidden: 4, layers: 1, outputSize: 2, loss: { kind: 'mse' } } as const;
const tmp = mkdtempSync(join(tmpdir(), 'onward-errors-'));

test('a wrong input width is a ShapeError naming both widths', () => {
  const learner = createLearner('rtrl', new Network(config, new TsBackend()), { batchSize: 2 });
  learner.startSequence();
  assert.throws(() => learner.step(new Float64Array(5), new Float64Array(4), null), ShapeError);
  assert.throws(
    () => learner.step(new Float64Array(5), new Float64Array(4), null),
    /input has 5 numbers, expected batch 2 × input width 3 = 6/,
  );
  assert.throws(() => learner.step(new Float64Array(6), new Float64Array(3), null), /target has 3 numbers, expected B×2 = 4/);
});

test('NaN or Infinity in data is a NonFiniteError naming the sample and feature', () => {
  const learner = createLearner('bptt', new Network(config, new TsBackend()), { batchSize: 2 });
  learner.startSequence();
  const x = new Float64Array(6);
  x[4] = NaN;
  assert.throws(() => learner.step(x, new Float64Array(4), null), NonFiniteError);
  assert.throws(() => learner.step(x, new Float64Array(4), null), /input \(sample 1, feature 1\) is NaN/);
  const y = new Float64Array(4);
  y[1] = Infinity;
  assert.throws(() => learner.step(new Float64Array(6), y, null), /target \(sample 0, output 1\) is Infinity/);
});

test('NaN weights in a model file are refused by name', () => {
  const net = new Network(config, new TsBackend());
  const params: Record<string, unknown> = {};
  for (const name of net.params.names()) params[name] = { shape: [...net.params.shape(name)], data: Array.from(net.params.get(name)) };
  (params['layers.0.weight_hh'] as { data: unknown[] }).data[7] = 'NaN';
  assert.throws(() => decodeParamsInto(net.params, params, 'm.json'), NonFiniteError);
  assert.throws(() => decodeParamsInto(net.params, params, 'm.json'), /parameter 'layers.0.weight_hh' element 7 is NaN/);
});

test('corrupt, foreign or mismatched model files are FileFormatErrors', () => {
  const net = new Network(config, new TsBackend());
  const bad = join(tmp, 'truncated.json');
  writeFileSync(bad, '{"format": "onward.model", "version": 1, "conf');
  assert.throws(() => readModelFile(bad), FileFormatError);
  assert.throws(() => readModelFile(bad), /not valid JSON.*truncated or corrupt/);
  const foreign = join(tmp, 'foreign.json');
  writeFileSync(foreign, JSON.stringify({ hello: 1 }));
  assert.throws(() => readModelFile(foreign), /not an onward model file/);
  assert.throws(() => readModelFile(join(tmp, 'missing.json')), /cannot read model file/);
  assert.throws(
    () => decodeParamsInto(net.params, { 'layers.0.weight_ih': { shape: [12, 3], data: new Array(36).fill(0) } }, 'm.json'),
    /do not match the model config; missing: layers.0.weight_hh/,
  );
  const params: Record<string, unknown> = {};
  for (const name of net.params.names()) params[name] = { shape: [...net.params.shape(name)], data: Array.from(net.params.get(name)) };
  params['readout.bias'] = { shape: [3], data: [0, 0, 0] };
  assert.throws(() => decodeParamsInto(net.params, params, 'm.json'), /'readout.bias' has shape \[3\], the model needs \[2\]/);
});

test('unknown task, model, learner and preset names list the known ones', () => {
  assert.throws(() => createTask('cpy'), UnknownNameError);
  assert.throws(() => createTask('cpy'), /unknown task 'cpy'; known tasks: copy, adding, delayed-xor/);
  assert.throws(
    () => new Network({ ...config, model: 'transformer' }, new TsBackend()),
    /unknown model 'transformer'; known models: rnn, gru, lstm/,
  );
  assert.throws(() => learnerInfo('eprop2'), /unknown learner 'eprop2'/);
  assert.throws(() => createTask('copy', 'huge'), ConfigError);
  assert.throws(() => new Trainer(applyOverrides(defaultConfig(), { learner: 'nope' })), UnknownNameError);
  assert.throws(() => applyOverrides(defaultConfig(), { hiden: 3 }), /unknown config key 'hiden'/);
  assert.throws(() => applyOverrides(defaultConfig(), { lr: 'fast' }), /lr must be a number/);
  assert.throws(() => createTask('copy', 'ci', { bitz: 3 }), /unknown setting 'bitz'/);
});

test('an unsupported learner × model pair is an UnsupportedError that says what is supported', () => {
  const info = { ...learnerInfo('rtrl'), name: 'rtrl-gru-only', models: ['gru'] };
  assert.throws(() => checkSupport(info, 'lstm'), UnsupportedError);
  assert.throws(
    () => checkSupport(info, 'lstm'),
    /learner 'rtrl-gru-only' does not support model 'lstm': 'lstm' is not among the models it supports; it supports: gru; learners for 'lstm': bptt, tbptt, bptt-detached, rtrl, deep-rtrl/,
  );
});

test('writing a checkpoint never loses the last good one', () => {
  const path = join(tmp, 'checkpoint.json');
  writeJsonAtomic(path, { good: true });
  const unwritable = {
    get bad(): never {
      throw new Error('cannot serialise');
    },
  };
  assert.throws(() => writeJsonAtomic(path, unwritable), /cannot serialise/);
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { good: true });
  assert.deepEqual(
    readdirSync(tmp).filter((f) => f.includes('.tmp-')),
    [],
    'no temporary file left behind',
  );
});
