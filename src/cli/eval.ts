/**
 * `onward eval --model-file DIR/model.json`: a saved model on its task. The network is built from the file's
 * model config as it is, the task is the one the file records (task, preset, settings); older model files
 * record no task: then --task, or the run's config.json beside the file, names it. A config.json beside the
 * file also gives the run's batch, seed and evaluation size, so the number equals the run's last evaluation. A file-backed task (seq-image from IDX files) is evaluated on its whole held-out split, in
 * order, every image once; a generated task on --batches batches of fresh sequences drawn with --seed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { readJsonFile } from '../core/files.js';
import { decodeMasksInto, decodeParamsInto, readModelFile } from '../model/io.js';
import { ForwardPass } from '../model/forward.js';
import { presets, type Batch, type Preset } from '../tasks/index.js';
import type { ModelTask } from '../model/format.js';
import type { ModelConfig } from '../model/network.js';
import { overridesLayer, readRunConfig, resolveRunConfig, type RunConfigInput } from '../train/config.js';
import { MetricAccumulator } from '../train/metrics.js';
import { Trainer } from '../train/trainer.js';
import { parse } from './args.js';
import { defineCommand, type OptionTable } from './command.js';
import { printResult } from './json.js';
import { StatusLine } from './progress.js';
import { parseSets } from './train.js';

const evalOptions = {
  'model-file': { type: 'string', value: 'FILE', help: "the model file (a run folder's model.json or checkpoint.json)" },
  task: { type: 'string', value: 'NAME', help: 'the task to evaluate on', defaultText: 'the one the model file records' },
  preset: { type: 'string', value: 'NAME', help: 'the task preset', defaultText: "the run's", choices: presets },
  batch: { type: 'string', value: 'B', help: 'sequences per forward pass', defaultText: "the run's" },
  batches: {
    type: 'string',
    value: 'N',
    help: 'generated tasks: batches of fresh sequences to score',
    defaultText: "the run's eval.batches",
  },
  seed: { type: 'string', value: 'S', help: 'generated tasks: the seed of the evaluation sequences', defaultText: "the run's" },
  set: { type: 'string', multiple: true, value: 'KEY=VALUE', help: 'config keys or task.<setting>, as for train' },
  json: { type: 'boolean', help: 'print the result envelope (docs/cli.md)' },
} as const satisfies OptionTable;

export interface EvalResult {
  modelFile: string;
  task: string;
  preset: string;
  model: string;
  metric: string;
  value: number;
  loss: number;
  /** sequences scored, and where they came from */
  sequences: number;
  data: 'held-out split' | 'generated';
}

/** loss (per sequence) and metric of the trainer's network over a task's whole held-out split, in order */
export function evaluateHeldOut(
  trainer: Trainer,
  onBatch?: (done: number, total: number) => void,
): { loss: number; value: number; sequences: number } {
  const split = trainer.task.heldOut;
  if (!split) throw new ConfigError(`task ${trainer.task.name} has no held-out split to read in order`);
  const B = trainer.config.train.batch,
    net = trainer.network;
  const fwd = new ForwardPass(net, B);
  fwd.ctx.training = false;
  const caches = net.modules.map((m) => m.createCache(trainer.backend, B));
  const acc = new MetricAccumulator(trainer.task.loss, trainer.task.outputSize, trainer.task.metric);
  let lossSum = 0;
  for (let start = 0; start < split.size; start += B) {
    const data: Batch = split.batch(start, B);
    fwd.resetStates();
    for (let t = 0; t < data.x.length; t++) {
      trainer.device?.read(false);
      fwd.load(data.x[t]!);
      const out = fwd.run(caches);
      // Loss.evaluate averages over the B rows; padding rows (mask 0) add nothing
      lossSum += B * net.loss.evaluate(B, out, data.target[t]!, data.mask[t]!, null);
      acc.add(B, out.data, data.target[t]!, data.score?.[t] ?? data.mask[t]!);
    }
    onBatch?.(Math.min(split.size, start + B), split.size);
  }
  trainer.device?.writeWeights();
  net.applyMasks();
  return { loss: lossSum / split.size, value: acc.value(), sequences: split.size };
}

async function evalRun(argv: string[]): Promise<void> {
  const { values } = parse('eval', argv, evalOptions);
  if (typeof values['model-file'] !== 'string') throw new ConfigError('onward eval needs --model-file DIR/model.json');
  const path = values['model-file'];
  const file = readModelFile(path);
  const notes: string[] = [];
  const besidePath = join(path, '..', 'config.json');
  let beside: RunConfigInput = {};
  if (existsSync(besidePath)) {
    const json = readJsonFile(besidePath, 'config', `the run config '${besidePath}' beside the model`); // bounded, typed errors
    try {
      beside = readRunConfig(json, besidePath, notes);
    } catch (e) {
      throw new ConfigError(`${besidePath} (the run config beside the model): ${(e as Error).message}`);
    }
  }
  const recorded: Partial<ModelTask> = file.task ?? {
    name: beside.task?.name,
    preset: beside.task?.preset,
    settings: beside.task?.settings as Record<string, number>,
  };
  const task = typeof values.task === 'string' ? values.task : recorded.name;
  if (!task) {
    throw new ConfigError(
      `${path} does not record the task it was trained on (a file of an older onward, or a stream's); name it: --task NAME [--preset ci|paper] [--set task.<setting>=N]`,
    );
  }
  const sameTask = task === recorded.name;
  const config = resolveRunConfig(
    {
      task: {
        name: task,
        preset: (values.preset ?? (sameTask ? recorded.preset : undefined)) as Preset | undefined,
        settings: sameTask ? (recorded.settings ?? {}) : {},
      },
    },
    { train: { seed: beside.train?.seed, batch: beside.train?.batch }, eval: { batches: beside.eval?.batches } },
    { learner: { name: 'bptt' }, train: { steps: 0 }, device: { name: 'none' } },
    overridesLayer({ 'train.batch': values.batch, 'train.seed': values.seed, 'eval.batches': values.batches }),
    overridesLayer(parseSets(values.set, task), notes),
  );
  for (const n of notes) console.error(`onward eval: note: ${n}`);
  // the network is the file's, as it is: its model config decides the shape, whatever the task preset suggests
  const trainer = new Trainer(config, { modelConfig: file.config as ModelConfig });
  decodeParamsInto(trainer.network.params, file.params, path);
  decodeMasksInto(trainer.network.masks, file.masks, path);
  const preset = config.task.preset;
  let r: { loss: number; value: number; sequences: number };
  let data: EvalResult['data'];
  if (trainer.task.heldOut) {
    const status = values.json ? null : new StatusLine('onward eval');
    r = evaluateHeldOut(trainer, (done, total) => status?.update(`${done}/${total} held-out sequences`));
    status?.done();
    data = 'held-out split';
  } else {
    r = { ...trainer.evaluate(), sequences: config.eval.batches * config.train.batch };
    data = 'generated';
  }
  const result: EvalResult = {
    modelFile: path,
    task,
    preset,
    model: trainer.network.config.model,
    metric: trainer.task.metric,
    value: r.value,
    loss: r.loss,
    sequences: r.sequences,
    data,
  };
  if (values.json) printResult('eval', result);
  else
    console.log(
      `${path} on ${task}/${preset}: ${result.metric} ${r.value.toFixed(4)}, loss ${r.loss.toFixed(4)} over ${r.sequences} ${data === 'generated' ? 'generated' : 'held-out'} sequences`,
    );
}

export const evalCommand = defineCommand({
  name: 'eval',
  summary: 'evaluate a saved model on its task (a file-backed task: on its whole held-out split)',
  usage: '--model-file DIR/model.json [--task NAME] [options]',
  options: evalOptions,
  run: evalRun,
});
