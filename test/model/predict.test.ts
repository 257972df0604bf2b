/** Inference without a learner (model/predict.ts) and the literal name types (core/names.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TsBackend } from '../../src/backend/ts.js';
import { learnerNames, modelNameList, taskNames } from '../../src/core/names.js';
import { Rng } from '../../src/core/rng.js';
import { createLearner, learnerTable } from '../../src/learners/index.js';
import { parseModelFile, type ModelFile } from '../../src/model/format.js';
import { modelNames, Network, type ModelConfig } from '../../src/model/network.js';
import { Model, modelFromFile } from '../../src/model/predict.js';
import { taskTable } from '../../src/tasks/index.js';
import { ShapeError } from '../../src/core/errors.js';
import { modelFileOf } from '../../src/train/checkpoint.js';

/** a network as the model file the trainer writes (no task) */
const fileOf = (net: Network): ModelFile => modelFileOf(net);

const configs: ModelConfig[] = [
  { model: 'gru', inputSize: 2, hidden: 5, layers: 2, outputSize: 3, loss: { kind: 'ce', classes: 3 } },
  {
    model: 'lru',
    inputSize: 2,
    hidden: 4,
    layers: 2,
    outputSize: 1,
    loss: { kind: 'mse' },
    stateSize: 3,
    rMin: 0.4,
    rMax: 0.9,
    maxPhase: 6.28,
    dropout: 0.1,
    pooling: 'pool_st',
  },
  { model: 'egru', inputSize: 2, hidden: 6, layers: 1, outputSize: 2, loss: { kind: 'mse' }, density: 0.5 },
];

test('predict = the outputs a learner computes on the same weights (no learner needed); stepper = predict step by step', () => {
  const rng = new Rng(3);
  for (const config of configs) {
    const net = new Network(config, new TsBackend('float64'), 4);
    const T = 6,
      B = 2;
    const x = Array.from({ length: T }, () => Array.from({ length: B }, () => [rng.normal(0, 1), rng.normal(0, 1)]));
    // the reference: bptt's forward pass with no target (evaluation mode: dropout off)
    const learner = createLearner('bptt', net, { batchSize: B });
    learner.startSequence();
    const ctx = (learner as unknown as { fwd?: { ctx: { training: boolean } } }).fwd?.ctx;
    if (ctx) ctx.training = false;
    const expected = x.map((step) => {
      learner.step(Float64Array.from(step.flat()), null, null);
      return Array.from(learner.output.data);
    });
    const model = modelFromFile(parseModelFile(JSON.stringify(fileOf(net)), 'm.json'));
    const y = model.predict(x);
    assert.deepEqual([y.length, y[0]!.length, y[0]![0]!.length], [T, B, config.outputSize]);
    if (config.dropout === undefined)
      assert.deepEqual(
        y.map((s) => s.flat()),
        expected,
        config.model,
      );
    const s = model.stepper(B);
    const stepped = x.map((step) => Array.from(s.step(step.flat())));
    assert.deepEqual(
      stepped,
      y.map((st) => st.flat()),
      `${config.model}: stepper`,
    );
    s.reset();
    assert.deepEqual(Array.from(s.step(x[0]!.flat())), y[0]!.flat(), 'reset starts from zero state');
    assert.deepEqual(model.predict(x), y, 'predict starts from zero state every call');
  }
});

test('predict refuses ragged or mis-sized input by name', () => {
  const model = Model.fromFile(fileOf(new Network(configs[0]!, new TsBackend('float64'))));
  assert.throws(
    () =>
      model.predict([
        [[1, 2]],
        [
          [1, 2],
          [3, 4],
        ],
      ]),
    (e: unknown) => e instanceof ShapeError && /step 1 has 2 samples/.test(e.message),
  );
  assert.throws(
    () => model.predict([[[1, 2, 3]]]),
    (e: unknown) => e instanceof ShapeError && /takes 2/.test(e.message),
  );
  assert.throws(() => model.stepper(0), ShapeError);
  assert.deepEqual(model.predict([]), []);
});

test("the literal name lists are the tables' names", () => {
  assert.deepEqual(
    [...learnerNames],
    learnerTable.map((l) => l.name),
  );
  assert.deepEqual(
    [...taskNames],
    taskTable.map((t) => t.name),
  );
  assert.deepEqual([...modelNameList], modelNames);
});
