/**
 * `onward train`: resolve the run config (task preset → --config file → flags → --set), train with a
 * progress bar, evaluate and checkpoint periodically into the run directory, print a summary.
 * `onward eval`: evaluate a saved model on a task.
 */
import { readFileSync, appendFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic, writeTextAtomic } from '../core/atomic-write.js';
import { ConfigError, FileFormatError } from '../core/errors.js';
import type { ModelTask } from '../model/format.js';
import type { ModelConfig } from '../model/network.js';
import { listOptions, overridesLayer, readRunConfig, resolveRunConfig, type RunConfig, type RunConfigInput } from '../train/config.js';
import { ProgressBar } from './progress.js';
import { Trainer, type Summary } from '../train/trainer.js';
import { resumeTrainer, saveCheckpoint } from '../train/files.js';
import { decodeMasksInto, decodeParamsInto, readModelFile } from '../model/io.js';
import { parse, type Values } from './args.js';

/** the named flags of `onward train`: each is a shortcut for one option of the run config's schemas */
export const trainFlags = {
  task: 'task.name', preset: 'task.preset', model: 'model.name', learner: 'learner.name', layers: 'model.layers', hidden: 'model.hidden',
  steps: 'train.steps', batch: 'train.batch', seed: 'train.seed', lr: 'optimizer.lr', device: 'device.name',
} as const;

const trainOptions = {
  ...Object.fromEntries(Object.keys(trainFlags).map((k) => [k, { type: 'string' }])) as Record<keyof typeof trainFlags, { type: 'string' }>,
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
  out: { type: 'string' },
  resume: { type: 'string' },
  quiet: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

/** `onward train --help`: the flags and every --set option, with type, default and documentation from the schemas */
export function trainHelp(): string {
  const options = listOptions();
  const doc = (key: string): string => options.find((o) => o.key === key)?.doc ?? '';
  const flags = Object.entries(trainFlags).map(([f, key]) => `  --${f.padEnd(10)} ${key.padEnd(16)} ${doc(key)}`);
  const sets = options.map((o) => {
    const type = o.choices ? o.choices.join('|') : o.type;
    return `  ${o.key.padEnd(26)} ${type.padEnd(18)} ${o.default !== undefined ? `(${JSON.stringify(o.default)}) ` : ''}${o.doc}`;
  });
  return ['usage: onward train [flags] [--config run.json] [--set section.key=value ...] [--out DIR] [--resume DIR] [--quiet] [--json]', '',
    'flags (shortcuts for options of the run config):', ...flags, '',
    'options (--set key=value; in a --config file as {"section": {"key": value}}; JSON Schema: onward schema):', ...sets,
    '  task.<setting>             integer            a setting of the task (onward list shows them)'].join('\n');
}

/** read a --config file as a layer of the run config (a flat file of an older version is read with a note) */
function configFileLayer(path: string, notes: string[]): RunConfigInput {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`cannot read config file '${path}': ${(e as Error).message}`);
  }
  return readRunConfig(json, `config file '${path}'`, notes);
}

/** flags → a config: the task preset and defaults, then the --config file, then the named flags, then --set */
export function resolveTrainConfig(values: Values, notes: string[] = []): RunConfig {
  const file = typeof values.config === 'string' ? configFileLayer(values.config, notes) : {};
  const named = overridesLayer(Object.fromEntries(Object.entries(trainFlags).map(([f, key]) => [key, values[f]])));
  return resolveRunConfig(file, named, overridesLayer(parseSets(values.set), notes));
}

function parseSets(sets: Values[string]): Record<string, string> {
  // no prototype: a key such as __proto__ is kept as a key (and refused as unknown), never taken as the object's prototype
  const out = Object.create(null) as Record<string, string>;
  for (const s of (Array.isArray(sets) ? sets : []) as string[]) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set expects key=value, got '${s}'`);
    const key = s.slice(0, eq);
    if (Object.hasOwn(out, key)) throw new ConfigError(`--set ${key} is given twice`);
    out[key] = s.slice(eq + 1);
  }
  return out;
}

function defaultRunDir(c: RunConfig): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return join('runs', `${stamp}-${c.task.name}-${c.model.name}-${c.learner.name}`);
}

export async function trainCommand(argv: string[]): Promise<void> {
  const { values } = parse('train', argv, trainOptions);
  if (values.help === true) {
    console.log(trainHelp());
    return;
  }
  const json = values.json === true, quiet = values.quiet === true || json;
  const notes: string[] = [];
  let trainer: Trainer;
  let outDir: string;
  if (typeof values.resume === 'string') {
    const ck = join(values.resume, 'checkpoint.json');
    if (!existsSync(ck)) throw new FileFormatError(`--resume ${values.resume}: no checkpoint.json in that folder`);
    const over: Record<string, unknown> = { ...parseSets(values.set) };
    if (values.steps !== undefined) over['train.steps'] = values.steps;
    trainer = resumeTrainer(ck, over, notes);
    outDir = typeof values.out === 'string' ? values.out : values.resume;
  } else {
    trainer = new Trainer(resolveTrainConfig(values, notes));
    outDir = typeof values.out === 'string' ? values.out : defaultRunDir(trainer.config);
  }
  for (const n of notes) console.error(`onward train: note: ${n}`);
  const c = trainer.config;
  const { steps } = c.train;
  mkdirSync(outDir, { recursive: true });
  writeTextAtomic(join(outDir, 'config.json'), JSON.stringify(c, null, 2) + '\n');
  const metricsPath = join(outDir, 'metrics.jsonl');
  const t0 = performance.now();
  const label = `${c.task.name}/${c.task.preset} ${c.model.name} ${c.learner.name}`;
  if (!quiet) {
    console.error(`onward train: ${label}, ${trainer.network.size} parameters, batch ${c.train.batch}, T ${trainer.task.seqLength}, ` +
      `${steps} steps, backend ${trainer.backend.name}/${trainer.backend.dtype} → ${outDir}`);
  }
  const bar = quiet ? null : new ProgressBar(steps, label);
  const metric = trainer.task.metric;
  let last = { loss: NaN, value: NaN };
  let statsLine = '';
  const evaluate = (): void => {
    last = trainer.evaluate();
    // the learner's own statistics over the training steps since the last evaluation (sparse-rtrl: activity, work)
    const record = { step: trainer.step, loss: last.loss, [metric]: last.value, seconds: (performance.now() - t0) / 1000, ...trainer.learner.stats?.() };
    appendFileSync(metricsPath, JSON.stringify(record) + '\n');
    const stats = Object.entries(record).slice(4);
    statsLine = stats.length ? ', ' + stats.map(([k, v]) => `${k} ${Number(v).toPrecision(3)}`).join(', ') : '';
    if (json) console.log(JSON.stringify({ eval: record }));
    saveCheckpoint(trainer, join(outDir, 'checkpoint.json'));
  };
  while (trainer.step < steps) {
    const r = trainer.trainStep();
    if (!Number.isFinite(r.loss)) {
      throw new ConfigError(`training diverged at step ${trainer.step}: the loss is ${r.loss}; lower the learning rate (--lr) or clip (--set clip=1); ` +
        `the last good checkpoint is ${join(outDir, 'checkpoint.json')}`);
    }
    bar?.update(trainer.step, { loss: r.loss, [metric]: r.value });
    if (trainer.lastAlignment) {
      // measured on this step's batch before its update
      const record = { step: trainer.step - 1, align: trainer.lastAlignment };
      appendFileSync(metricsPath, JSON.stringify(record) + '\n');
      if (json) console.log(JSON.stringify(record));
      trainer.lastAlignment = null;
    }
    if (c.eval.every > 0 && trainer.step % c.eval.every === 0 && trainer.step < steps) {
      evaluate();
      bar?.log(`  step ${trainer.step}: eval loss ${last.loss.toPrecision(4)}, ${metric} ${last.value.toPrecision(4)}${statsLine}`);
    }
  }
  bar?.done();
  evaluate();
  writeJsonAtomic(join(outDir, 'model.json'), trainer.modelFile());
  const summary: Summary = {
    task: c.task.name, model: c.model.name, learner: c.learner.name, metric, value: last.value, loss: last.loss,
    steps: trainer.step, seconds: Number(((performance.now() - t0) / 1000).toFixed(3)),
  };
  if (json) console.log(JSON.stringify({ summary }));
  else if (!values.quiet) {
    console.log(`${label}: ${metric} ${summary.value.toFixed(4)}, eval loss ${summary.loss.toFixed(4)} after ${summary.steps} steps ` +
      `in ${summary.seconds.toFixed(1)} s → ${join(outDir, 'model.json')}`);
  } else console.log(JSON.stringify({ summary }));
}

/**
 * `onward eval --model-file m.json`: the network built from the file's model config as it is, evaluated on the
 * task the file records (task, preset, settings). Older model files record no task: then `--task`, or the
 * run's config.json beside the file, names it. A config.json beside the file also gives the run's batch, seed
 * and evaluation size, so the number equals the run's last evaluation.
 */
export async function evalCommand(argv: string[]): Promise<void> {
  const { values } = parse('eval', argv, {
    'model-file': { type: 'string' }, task: { type: 'string' }, preset: { type: 'string' }, batch: { type: 'string' },
    seed: { type: 'string' }, set: { type: 'string', multiple: true }, json: { type: 'boolean' },
  });
  if (typeof values['model-file'] !== 'string') throw new ConfigError('onward eval needs --model-file DIR/model.json');
  const path = values['model-file'];
  const file = readModelFile(path);
  const notes: string[] = [];
  const besidePath = join(path, '..', 'config.json');
  let beside: RunConfigInput = {};
  if (existsSync(besidePath)) {
    try {
      beside = readRunConfig(JSON.parse(readFileSync(besidePath, 'utf8')), besidePath, notes);
    } catch (e) {
      throw new ConfigError(`${besidePath} (the run config beside the model): ${(e as Error).message}`);
    }
  }
  const recorded: Partial<ModelTask> = file.task ?? { name: beside.task?.name, preset: beside.task?.preset, settings: beside.task?.settings as Record<string, number> };
  const taskName = typeof values.task === 'string' ? values.task : recorded.name;
  if (!taskName) {
    throw new ConfigError(`${path} does not record the task it was trained on (a file of an older onward, or a stream's); name it: --task NAME [--preset ci|paper] [--set task.<setting>=N]`);
  }
  const sameTask = taskName === recorded.name;
  const config = resolveRunConfig(
    { task: { name: taskName, preset: (values.preset ?? (sameTask ? recorded.preset : undefined)) as 'ci' | 'paper' | undefined, settings: sameTask ? recorded.settings ?? {} : {} } },
    { train: { seed: beside.train?.seed, batch: beside.train?.batch }, eval: { batches: beside.eval?.batches } },
    { learner: { name: 'bptt' }, train: { steps: 0 }, device: { name: 'none' } },
    overridesLayer({ 'train.batch': values.batch, 'train.seed': values.seed }),
    overridesLayer(parseSets(values.set), notes),
  );
  for (const n of notes) console.error(`onward eval: note: ${n}`);
  // the network is the file's, as it is: its model config decides the shape, whatever the task preset suggests
  const trainer = new Trainer(config, { modelConfig: file.config as ModelConfig });
  decodeParamsInto(trainer.network.params, file.params, path);
  decodeMasksInto(trainer.network.masks, file.masks, path);
  const r = trainer.evaluate();
  const { name: task, preset } = config.task;
  const summary: Summary = { task, model: trainer.network.config.model, learner: 'none', metric: trainer.task.metric, value: r.value, loss: r.loss, steps: 0, seconds: 0 };
  if (values.json) console.log(JSON.stringify({ summary }));
  else console.log(`${path} on ${task}/${preset}: ${summary.metric} ${r.value.toFixed(4)}, loss ${r.loss.toFixed(4)}`);
}
