/**
 * `onward train`: resolve the run config (task preset → --config file → flags → --set), train with a
 * progress bar, evaluate and checkpoint periodically into the run directory, print a summary.
 * `onward eval`: evaluate a saved model on a task.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, DivergenceError, FileFormatError } from '../core/errors.js';
import { appendRecords, ensureDir, lockFolder, readJsonFile } from '../core/files.js';
import { continueMetrics } from '../train/metrics-file.js';
import { applyOverrides, defaultConfig, type TrainConfig } from '../train/config.js';
import { ProgressBar } from './progress.js';
import { Trainer, type Summary } from '../train/trainer.js';
import { resumeTrainer, saveCheckpoint } from '../train/files.js';
import { decodeMasksInto, decodeParamsInto, readModelFile, writeJsonAtomic } from '../model/io.js';
import { parse, type Values } from './args.js';

const trainOptions = {
  task: { type: 'string' },
  model: { type: 'string' },
  learner: { type: 'string' },
  preset: { type: 'string' },
  layers: { type: 'string' },
  hidden: { type: 'string' },
  steps: { type: 'string' },
  batch: { type: 'string' },
  seed: { type: 'string' },
  lr: { type: 'string' },
  device: { type: 'string' },
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
  out: { type: 'string' },
  resume: { type: 'string' },
  quiet: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** flags → a config: task preset defaults, then the file, then the named flags, then --set */
export function resolveTrainConfig(values: Values): TrainConfig {
  let fileOverrides: Record<string, unknown> = {};
  if (typeof values.config === 'string') {
    const json = readJsonFile(values.config, 'config'); // bounded: a FIFO or /dev/zero is refused
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError(`config file '${values.config}' must hold a JSON object of config keys, got ${JSON.stringify(json)}`);
    fileOverrides = json as Record<string, unknown>;
  }
  const task = String(values.task ?? fileOverrides.task ?? 'copy');
  const preset = String(values.preset ?? fileOverrides.preset ?? 'ci');
  let config = defaultConfig(task, preset as TrainConfig['preset']);
  config = applyOverrides(config, fileOverrides);
  const named: Record<string, unknown> = {};
  for (const k of ['task', 'preset', 'model', 'learner', 'layers', 'hidden', 'steps', 'batch', 'seed', 'lr', 'device'] as const) named[k] = values[k];
  config = applyOverrides(config, named);
  config = applyOverrides(config, parseSets(values.set));
  return config;
}

function parseSets(sets: Values[string]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>; // '__proto__' stays a key, to be refused as unknown
  for (const s of (Array.isArray(sets) ? sets : []) as string[]) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set expects key=value, got '${s}'`);
    out[s.slice(0, eq)] = s.slice(eq + 1);
  }
  return out;
}

function defaultRunDir(c: TrainConfig): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return join('runs', `${stamp}-${c.task}-${c.model}-${c.learner}`);
}

export async function trainCommand(argv: string[]): Promise<void> {
  const { values } = parse('train', argv, trainOptions);
  const json = values.json === true, quiet = values.quiet === true || json;
  let trainer: Trainer;
  let outDir: string;
  if (typeof values.resume === 'string') {
    const ck = join(values.resume, 'checkpoint.json');
    if (!existsSync(ck)) throw new FileFormatError(`--resume ${values.resume}: no checkpoint.json in that folder`);
    // every flag given goes to the checkpoint's check: the ones that may change are applied (and said so), the rest must agree
    const over: Record<string, unknown> = {};
    for (const k of ['task', 'preset', 'model', 'learner', 'layers', 'hidden', 'steps', 'batch', 'seed', 'lr', 'device'] as const) over[k] = values[k];
    Object.assign(over, parseSets(values.set));
    trainer = resumeTrainer(ck, over);
    for (const note of trainer.resumeNotes) if (!quiet) console.error(`onward train: ${note}`);
    outDir = typeof values.out === 'string' ? values.out : values.resume;
  } else {
    trainer = new Trainer(resolveTrainConfig(values));
    outDir = typeof values.out === 'string' ? values.out : defaultRunDir(trainer.config);
  }
  const c = trainer.config;
  ensureDir(outDir); // checked level by level before creating (a recursive mkdir spins on procfs)
  lockFolder(outDir, `run folder '${outDir}'`); // one run per folder at a time (released at exit)
  writeJsonAtomic(join(outDir, 'config.json'), c, 2);
  const metricsPath = join(outDir, 'metrics.jsonl');
  // after a resume: metrics cut back to the checkpoint's step, and seconds continue from the last record
  const t0 = performance.now() - 1000 * (typeof values.resume === 'string' ? continueMetrics(metricsPath, trainer.step) : 0);
  const label = `${c.task}/${c.preset} ${c.model} ${c.learner}`;
  if (!quiet) {
    console.error(`onward train: ${label}, ${trainer.network.size} parameters, batch ${c.batch}, T ${trainer.task.seqLength}, ` +
      `${c.steps} steps, backend ${trainer.backend.name}/${trainer.backend.dtype} → ${outDir}`);
  }
  const bar = quiet ? null : new ProgressBar(c.steps, label);
  const metric = trainer.task.metric;
  let last = { loss: NaN, value: NaN };
  let statsLine = '';
  const evaluate = (): void => {
    last = trainer.evaluate();
    // the learner's own statistics over the training steps since the last evaluation (sparse-rtrl: activity, work)
    const record = { step: trainer.step, loss: last.loss, [metric]: last.value, seconds: (performance.now() - t0) / 1000, ...trainer.learner.stats?.() };
    appendRecords(metricsPath, JSON.stringify(record) + '\n');
    const stats = Object.entries(record).slice(4);
    statsLine = stats.length ? ', ' + stats.map(([k, v]) => `${k} ${Number(v).toPrecision(3)}`).join(', ') : '';
    if (json) console.log(JSON.stringify({ eval: record }));
    saveCheckpoint(trainer, join(outDir, 'checkpoint.json'));
  };
  while (trainer.step < c.steps) {
    let r;
    try {
      r = trainer.trainStep();
    } catch (e) {
      if (!(e instanceof DivergenceError)) throw e;
      const ck = join(outDir, 'checkpoint.json');
      const tail = existsSync(ck)
        ? `the last good checkpoint is ${ck}; continue from it with a lower learning rate than ${c.lr}: onward train --resume ${outDir} --set lr=...`
        : `no checkpoint was written before it; start again with a lower learning rate than --lr ${c.lr}, or clip gradients (--set clip=1)`;
      throw new DivergenceError(`${e.message.replace(/; resume from.*$/, '')}; ${tail}`, e.step, e.quantity);
    }
    bar?.update(trainer.step, { loss: r.loss, [metric]: r.value });
    if (trainer.lastAlignment) {
      // measured on this step's batch before its update
      const record = { step: trainer.step - 1, align: trainer.lastAlignment };
      appendRecords(metricsPath, JSON.stringify(record) + '\n');
      if (json) console.log(JSON.stringify(record));
      trainer.lastAlignment = null;
    }
    if (c.evalEvery > 0 && trainer.step % c.evalEvery === 0 && trainer.step < c.steps) {
      evaluate();
      bar?.log(`  step ${trainer.step}: eval loss ${last.loss.toPrecision(4)}, ${metric} ${last.value.toPrecision(4)}${statsLine}`);
    }
  }
  bar?.done();
  evaluate();
  writeJsonAtomic(join(outDir, 'model.json'), trainer.modelFile());
  const summary: Summary = {
    task: c.task, model: c.model, learner: c.learner, metric, value: last.value, loss: last.loss,
    steps: trainer.step, seconds: Number(((performance.now() - t0) / 1000).toFixed(3)),
  };
  if (json) console.log(JSON.stringify({ summary }));
  else if (!values.quiet) {
    console.log(`${label}: ${metric} ${summary.value.toFixed(4)}, eval loss ${summary.loss.toFixed(4)} after ${summary.steps} steps ` +
      `in ${summary.seconds.toFixed(1)} s → ${join(outDir, 'model.json')}`);
  } else console.log(JSON.stringify({ summary }));
}

export async function evalCommand(argv: string[]): Promise<void> {
  const { values } = parse('eval', argv, {
    'model-file': { type: 'string' }, task: { type: 'string' }, preset: { type: 'string' }, batch: { type: 'string' },
    seed: { type: 'string' }, set: { type: 'string', multiple: true }, json: { type: 'boolean' },
  });
  if (typeof values['model-file'] !== 'string') throw new ConfigError('onward eval needs --model-file DIR/model.json');
  const path = values['model-file'];
  const file = readModelFile(path);
  // the run's config.json beside the model names the task it was trained on
  const runConfig = join(path, '..', 'config.json');
  let base: Record<string, unknown> = {};
  if (existsSync(runConfig)) {
    const json = readJsonFile(runConfig, 'config', `the run config '${runConfig}' beside the model`);
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new FileFormatError(`the run config '${runConfig}' beside the model must hold a JSON object`);
    base = json as Record<string, unknown>;
  }
  const cfgModel = file.config as Record<string, unknown>;
  const task = String(values.task ?? base.task ?? 'copy');
  const preset = String(values.preset ?? base.preset ?? 'ci');
  let config = defaultConfig(task, preset as TrainConfig['preset']);
  const fromModel: Record<string, unknown> = { model: cfgModel.model, hidden: cfgModel.hidden, layers: cfgModel.layers };
  for (const k of ['stateSize', 'rMin', 'rMax', 'maxPhase', 'dropout', 'pooling', 'dampening', 'width', 'density', 'maskMethod']) fromModel[k] = cfgModel[k];
  if (cfgModel.recurrent === false) fromModel.recurrent = 'off';
  config = applyOverrides(config, { ...base, task, preset, ...fromModel, steps: 0, learner: 'bptt', device: 'none' });
  config = applyOverrides(config, { batch: values.batch, seed: values.seed, ...parseSets(values.set) });
  const trainer = new Trainer(config);
  decodeParamsInto(trainer.network.params, file.params, path);
  decodeMasksInto(trainer.network.masks, file.masks, path);
  const r = trainer.evaluate();
  const summary: Summary = { task, model: config.model, learner: 'none', metric: trainer.task.metric, value: r.value, loss: r.loss, steps: 0, seconds: 0 };
  if (values.json) console.log(JSON.stringify({ summary }));
  else console.log(`${path} on ${task}/${preset}: ${summary.metric} ${r.value.toFixed(4)}, loss ${r.loss.toFixed(4)}`);
}
