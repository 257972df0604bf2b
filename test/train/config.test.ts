/**
 * The run configuration: nested sections owned by their parts, resolved in layers (defaults → preset row →
 * file → flags → --set), strict about keys (own properties only), documented from the schemas (--help, the
 * playground, `onward schema`), reading the flat configs of older versions once with a note; and models built
 * from their own config — `onward eval --model-file` on a model file alone, the playground loading any model
 * file (the two bugs of issue 15).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, UnknownNameError } from '../../src/core/errors.js';
import { taskTable } from '../../src/tasks/index.js';
import {
  applyOverrides,
  defaultConfig,
  listOptions,
  overridesLayer,
  readRunConfig,
  resolveRunConfig,
  runConfigJsonSchema,
  runConfigSchema,
} from '../../src/train/config.js';
import { presetFor, presetTable } from '../../src/train/presets.js';
import { Trainer } from '../../src/train/trainer.js';
import { resolveTrainConfig, trainFlags, trainOptions } from '../../src/cli/train.js';
import { setKeysHelp } from '../../src/cli/set-keys.js';
import { main } from '../../src/cli/main.js';
import { PlaygroundRun, catalogue } from '../../web/run.js';
import { PlaygroundStream } from '../../web/stream-run.js';

const fixtures = 'test/fixtures/main-2026-12';
const reference = JSON.parse(readFileSync(join(fixtures, 'reference.json'), 'utf8')) as Record<
  string,
  { model: { eval: { loss: number; value: number } } }
>;
const tmp = mkdtempSync(join(tmpdir(), 'onward-config-'));

/** run the command line in this process; returns its exit code and what it printed */
async function onward(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const log = console.log,
    error = console.error;
  let out = '',
    err = '';
  console.log = (...a: unknown[]) => void (out += a.join(' ') + '\n');
  console.error = (...a: unknown[]) => void (err += a.join(' ') + '\n');
  try {
    return { code: await main(args), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

/** the result of a command's --json output (its last line: the result envelope) */
const lastSummary = (out: string): { value: number; loss: number; task: string } => JSON.parse(out.trim().split('\n').at(-1)!).result;

describe('the nested run configuration', () => {
  test('defaults come from the sections and the task preset row; --set takes dotted keys', () => {
    const c = defaultConfig('mackey-glass', 'ci');
    assert.equal(c.learner.name, 'tanp');
    assert.equal(c.learner.decorrelationRate, 1e-3, 'the preset row names learner options, not the task');
    assert.equal(c.learner.window, 8, 'a section default');
    assert.equal(c.eval.every, 6, 'a tenth of the steps');
    const v = applyOverrides(
      c,
      overridesLayer({ 'learner.noise': '0.1', 'model.decorrelate': 'true', 'task.length': '40', 'train.steps': '5' }) as Record<
        string,
        unknown
      >,
    );
    assert.equal(v.learner.noise, 0.1);
    assert.equal(v.model.decorrelate, true);
    assert.equal(v.task.settings.length, 40);
    assert.equal(v.train.steps, 5);
    // the same through the command line's resolution
    const cli = resolveTrainConfig({ task: 'adding', hidden: '5', set: ['learner.noise=0.25', 'optimizer.name=sgd', 'eval.every=2'] });
    assert.deepEqual(
      [cli.task.name, cli.model.hidden, cli.learner.noise, cli.optimizer.name, cli.eval.every],
      ['adding', 5, 0.25, 'sgd', 2],
    );
  });

  test('keys are own properties only: toString, __proto__, constructor are typed errors, in --set and in files', () => {
    for (const key of ['toString', '__proto__', 'constructor', 'hasOwnProperty', 'learner.toString', 'model.__proto__', 'valueOf']) {
      assert.throws(() => resolveTrainConfig({ set: [`${key}=1`] }), ConfigError, key);
    }
    assert.throws(() => new Trainer(resolveTrainConfig({ task: 'adding', set: ['task.toString=1'] })), /unknown setting 'toString'/);
    const file = join(tmp, 'proto.json');
    for (const text of [
      '{"__proto__": {"x": 1}}',
      '{"learner": {"__proto__": 1}}',
      '{"constructor": {}}',
      '{"model": {"toString": 3}}',
      '{"train": {"steps": 5, "stepz": 1}}',
    ]) {
      writeFileSync(file, text);
      assert.throws(() => resolveTrainConfig({ config: file }), ConfigError, text);
    }
    assert.throws(() => resolveTrainConfig({ set: ['hiden=3'] }), /unknown config key 'hiden'/);
    assert.throws(() => resolveTrainConfig({ set: ['name=x'] }), /ambiguous.*learner\.name/);
    assert.throws(() => resolveTrainConfig({ set: ['learner.noise=loud'] }), /learner\.noise must be a number/);
    assert.throws(() => resolveTrainConfig({ set: ['learner.noise=-1'] }), /learner\.noise/);
    assert.throws(() => resolveTrainConfig({ task: 'nope' }), UnknownNameError);
  });

  test('a config file: nested, validated, and following the JSON Schema that onward schema writes', async () => {
    const schemaPath = join(tmp, 'run.schema.json');
    assert.equal((await onward('schema', '--out', schemaPath)).code, 0);
    const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
    assert.deepEqual(schema, JSON.parse(JSON.stringify(runConfigJsonSchema())));
    assert.deepEqual(Object.keys(schema.properties), ['$schema', 'task', 'model', 'learner', 'optimizer', 'device', 'train', 'eval']);
    assert.equal(schema.properties.learner.properties.noise.default, 1e-3);
    assert.equal(schema.properties.learner.additionalProperties, false);
    const file = join(tmp, 'run.json');
    writeFileSync(
      file,
      JSON.stringify({
        $schema: './run.schema.json',
        task: { name: 'adding', settings: { length: 12 } },
        learner: { name: 'eprop' },
        train: { steps: 3, batch: 2 },
      }),
    );
    const c = resolveTrainConfig({ config: file, set: ['train.steps=4'] });
    assert.deepEqual([c.task.name, c.task.settings.length, c.learner.name, c.train.steps, c.train.batch], ['adding', 12, 'eprop', 4, 2]);
    // the resolved config (a run's config.json) is itself a valid config file
    assert.deepEqual(resolveRunConfig(readRunConfig(JSON.parse(JSON.stringify(c)), 'config.json')), c);
  });

  test('every option of train --help and of the playground comes from the schemas', () => {
    const options = listOptions();
    const keys = options.map((o) => o.key);
    const shape = runConfigSchema.shape;
    for (const [section, schema] of Object.entries(shape)) {
      for (const k of Object.keys(schema.shape)) assert.ok(keys.includes(`${section}.${k}`), `${section}.${k} listed`);
    }
    assert.equal(
      keys.length,
      Object.values(shape).reduce((n, s) => n + Object.keys(s.shape).length, 0),
    );
    for (const o of options) assert.ok(o.doc.length > 10, `${o.key} has a line of documentation`);
    for (const key of Object.values(trainFlags)) assert.ok(keys.includes(key), `flag for ${key}`);
    const help = setKeysHelp();
    for (const o of options) assert.ok(help.includes(o.key) && help.includes(o.doc), o.key);
    for (const [flag, key] of Object.entries(trainFlags))
      assert.equal(trainOptions[flag as keyof typeof trainFlags].help, options.find((o) => o.key === key)!.doc, flag);
    assert.deepEqual(catalogue().options, options);
  });

  test('the presets table has a ci and a paper row for every task, each a valid partial run config', () => {
    assert.deepEqual(Object.keys(presetTable).sort(), taskTable.map((t) => t.name).sort());
    for (const t of taskTable) {
      for (const preset of ['ci', 'paper'] as const) {
        const c = resolveRunConfig({ task: { name: t.name, preset } });
        assert.equal(c.model.name, presetFor(t.name, preset).model!.name);
      }
    }
  });

  test('a flat config of an older version is read once, with a note saying what moved', () => {
    const flat = JSON.parse(readFileSync(join(fixtures, 'gru-tanp-decor', 'config.json'), 'utf8'));
    const notes: string[] = [];
    const c = resolveRunConfig(readRunConfig(flat, 'config.json', notes));
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /flat run config.*'decorLr' is 'learner\.decorrelationRate'.*'evalEvery' is 'eval\.every'/);
    assert.deepEqual(
      [c.learner.name, c.model.decorrelate, c.learner.decorrelationRate, c.learner.noise, c.eval.every, c.model.recurrent],
      ['tanp', true, 0.01, 0.01, 5, true],
    );
    assert.equal(
      resolveRunConfig(readRunConfig(JSON.parse(readFileSync(join(fixtures, 'rnn-recoff', 'config.json'), 'utf8')), 'c')).model.recurrent,
      false,
    );
    const pcm = resolveRunConfig(readRunConfig(JSON.parse(readFileSync(join(fixtures, 'gru-pcm-prune', 'config.json'), 'utf8')), 'c'));
    assert.deepEqual([pcm.device.name, pcm.device.levels, pcm.model.maskMethod, pcm.train.pruneEvery], ['pcm', 200, 'magnitude', 2]);
  });
});

describe('models built from their own config', () => {
  test('bug 1: the playground loads a model trained with recurrent set against its task default', () => {
    // trained with recurrent off on adding (default on): old code failed with "unexpected / missing: layers.0.weight_hh"
    for (const name of ['rnn-recoff/model.json', 'playground-rnn-recoff.json']) {
      const text = readFileSync(join(fixtures, name), 'utf8');
      const run = new PlaygroundRun({
        task: 'adding',
        preset: 'ci',
        overrides: { model: 'gru', hidden: 12, steps: 1 },
        modelText: text,
        modelName: name,
      });
      assert.equal(run.config.model.name, 'rnn');
      assert.equal(run.config.model.recurrent, false);
      assert.equal(run.trainer.network.config.recurrent, false);
      const stream = new PlaygroundStream({
        mode: 'stream',
        task: 'adding',
        preset: 'ci',
        overrides: { steps: 1 },
        modelText: text,
        modelName: name,
      });
      assert.equal(stream.stream.network.config.recurrent, false);
    }
    // and the other way round: recurrent on where the task's preset has it off (spikes)
    const on = new PlaygroundRun({ task: 'spikes', preset: 'ci', overrides: { 'model.recurrent': true, hidden: 4, layers: 1, steps: 0 } });
    const back = new PlaygroundRun({ task: 'spikes', preset: 'ci', overrides: { steps: 0 }, modelText: on.modelText() });
    assert.equal(back.config.model.recurrent, true, 'the config states the network it runs');
    assert.equal(back.trainer.network.masks.size, 0);
    // the playground download evaluates as the old code did by hand
    const run = new PlaygroundRun({
      task: 'adding',
      preset: 'ci',
      overrides: { batch: 2, steps: 0 },
      modelText: readFileSync(join(fixtures, 'playground-rnn-recoff.json'), 'utf8'),
    });
    assert.deepEqual(run.trainer.evaluate(), reference['playground-rnn-recoff']!.model.eval);
  });

  test('bug 2: onward eval --model-file on a decorrelated model with no config.json beside it', async () => {
    // a playground download of an older version: it records no task, so --task names it; the numbers are the old code's
    const old = join(tmp, 'old-playground-tanp.json');
    copyFileSync(join(fixtures, 'playground-gru-tanp-decor.json'), old);
    const r = await onward('eval', '--model-file', old, '--task', 'adding', '--batch', '2', '--json');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual((({ loss, value }) => ({ loss, value }))(lastSummary(r.out)), reference['playground-gru-tanp-decor']!.model.eval);
    const none = await onward('eval', '--model-file', old);
    assert.equal(none.code, 2);
    assert.match(none.err, /does not record the task.*--task NAME/);
    // an older CLI run's model.json with its config.json beside it evaluates as the run did
    const beside = await onward('eval', '--model-file', join(fixtures, 'gru-tanp-decor', 'model.json'), '--json');
    assert.equal(beside.code, 0, beside.err);
    assert.deepEqual((({ loss, value }) => ({ loss, value }))(lastSummary(beside.out)), reference['gru-tanp-decor']!.model.eval);
  });

  test('model files written now record their task: eval needs only the file (CLI run and playground; decorrelated; recurrent on and off)', async () => {
    const cases: [string, string[]][] = [
      [
        'cli-tanp-decor',
        [
          '--task',
          'adding',
          '--model',
          'gru',
          '--learner',
          'tanp',
          '--set',
          'model.decorrelate=true',
          '--set',
          'learner.decorrelationRate=0.01',
        ],
      ],
      ['cli-rnn-recoff', ['--task', 'delayed-xor', '--model', 'rnn', '--set', 'model.recurrent=false', '--set', 'task.delay=3']],
      ['cli-gru-recon', ['--task', 'adding', '--model', 'gru', '--set', 'task.length=10']],
    ];
    for (const [name, args] of cases) {
      const dir = join(tmp, name);
      const t = await onward(
        'train',
        ...args,
        '--hidden',
        '5',
        '--steps',
        '2',
        '--batch',
        '2',
        '--set',
        'eval.batches=1',
        '--quiet',
        '--out',
        dir,
      );
      assert.equal(t.code, 0, t.err);
      const alone = join(tmp, `${name}.json`);
      copyFileSync(join(dir, 'model.json'), alone); // no config.json beside it
      const file = JSON.parse(readFileSync(alone, 'utf8'));
      assert.deepEqual(Object.keys(file.task), ['name', 'preset', 'settings']);
      const r = await onward('eval', '--model-file', alone, '--json');
      assert.equal(r.code, 0, `${name}: ${r.err}`);
      assert.ok(Number.isFinite(lastSummary(r.out).loss));
      assert.equal(lastSummary(r.out).task, file.task.name);
      // beside its config.json it gives the run's last evaluation exactly
      const run = await onward('eval', '--model-file', join(dir, 'model.json'), '--json');
      const ck = Trainer.fromCheckpointFile(JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')), 'ck');
      assert.deepEqual((({ loss, value }) => ({ loss, value }))(lastSummary(run.out)), ck.evaluate());
    }
    for (const [name, overrides] of [
      ['pg-tanp', { model: 'gru', learner: 'tanp', decorrelate: true, hidden: 4, batch: 2, steps: 2 }],
      ['pg-recoff', { model: 'rnn', learner: 'rtrl', recurrent: 'off', hidden: 4, batch: 2, steps: 2 }],
    ] as const) {
      const run = new PlaygroundRun({ task: 'adding', preset: 'ci', overrides: { ...overrides, 'task.length': 9 } });
      while (!run.done) run.trainFor(100);
      const path = join(tmp, `${name}.json`);
      writeFileSync(path, run.modelText());
      const r = await onward('eval', '--model-file', path, '--batch', '2', '--json');
      assert.equal(r.code, 0, `${name}: ${r.err}`);
      const e = run.trainer.evaluate();
      assert.deepEqual(
        (({ loss, value }) => ({ loss, value }))(lastSummary(r.out)),
        { loss: e.loss, value: e.value },
        'the same task settings, preset and network',
      );
    }
  });

  test('a playground stream download records its task too', async () => {
    const s = new PlaygroundStream({
      mode: 'stream',
      task: 'adding',
      preset: 'ci',
      overrides: { model: 'gru', learner: 'rtrl', hidden: 4, steps: 2, 'task.length': 7 },
    });
    while (!s.done) s.trainFor(100);
    const path = join(tmp, 'stream-model.json');
    writeFileSync(path, s.modelText());
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')).task, { name: 'adding', preset: 'ci', settings: { length: 7 } });
    const r = await onward('eval', '--model-file', path, '--json');
    assert.equal(r.code, 0, r.err);
  });

  test('a checkpoint resumes into the network its file holds, whatever the preset now suggests', () => {
    const file = JSON.parse(readFileSync(join(fixtures, 'rnn-recoff', 'checkpoint.json'), 'utf8'));
    // a model flag that contradicts the file is refused, never ignored (issue 21)
    assert.throws(() => Trainer.fromCheckpointFile(file, 'ck', { 'model.hidden': 50 }), /contradicts the checkpoint/);
    const c = Trainer.fromCheckpointFile(file, 'ck');
    assert.equal(c.network.config.hidden, 6);
    assert.equal(c.config.model.hidden, 6, 'the config describes the network it runs');
  });
});
