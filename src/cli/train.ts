/**
 * `onward train`: resolve the run config (task preset → --config file → flags → --set), train with a
 * progress line, evaluate and checkpoint periodically into the run folder, print a summary that names the
 * run folder and the model file. Ctrl-C (SIGINT) or SIGTERM stops after the current step, writes the
 * checkpoint and the model, and prints the command that resumes.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, DivergenceError, FileFormatError } from '../core/errors.js';
import { appendRecords, ensureDir, lockFolder, readJsonFile } from '../core/files.js';
import { continueMetrics } from '../train/metrics-file.js';
import { readModelFile } from '../model/io.js';
import { writeJsonAtomic } from '../core/atomic-write.js';
import { modelNames } from '../model/network.js';
import { learnerTable } from '../learners/index.js';
import { taskTable } from '../tasks/index.js';
import {
  listOptions,
  overridesLayer,
  readRunConfig,
  resolveRunConfig,
  type OptionDoc,
  type RunConfig,
  type RunConfigInput,
} from '../train/config.js';
import { Trainer, type Summary } from '../train/trainer.js';
import { resumeTrainer, saveCheckpoint } from '../train/files.js';
import { parse, type Values } from './args.js';
import { defineCommand, type OptionTable } from './command.js';
import { printEvent, printResult } from './json.js';
import { ProgressBar } from './progress.js';
import { setKeysHelp } from './set-keys.js';
import { taskSettingOverrides } from './task-settings.js';

const fromPreset = "the task preset's";

/** the named flags of `onward train`: each is a shortcut for one option of the run config's schemas */
export const trainFlags = {
  task: 'task.name',
  preset: 'task.preset',
  model: 'model.name',
  learner: 'learner.name',
  layers: 'model.layers',
  hidden: 'model.hidden',
  steps: 'train.steps',
  batch: 'train.batch',
  seed: 'train.seed',
  lr: 'optimizer.lr',
  device: 'device.name',
} as const;

/** an option of the run config's schemas, by key */
function option(key: string): OptionDoc {
  const o = listOptions().find((x) => x.key === key);
  if (!o) throw new Error(`onward train: the flag table names '${key}', which no schema declares`);
  return o;
}
/** an option's one line of documentation, its default and its choices, from its schema */
const doc = (key: string): string => option(key).doc;
const schemaDefault = (key: string): string => String(option(key).default);
const choices = (key: string): readonly string[] => option(key).choices ?? [];

export const trainOptions = {
  task: {
    type: 'string',
    value: 'NAME',
    help: doc('task.name'),
    defaultText: schemaDefault('task.name'),
    names: taskTable.map((t) => t.name),
  },
  model: { type: 'string', value: 'NAME', help: doc('model.name'), defaultText: fromPreset, names: modelNames },
  learner: { type: 'string', value: 'NAME', help: doc('learner.name'), defaultText: fromPreset, names: learnerTable.map((l) => l.name) },
  preset: {
    type: 'string',
    value: 'NAME',
    help: doc('task.preset'),
    defaultText: schemaDefault('task.preset'),
    choices: choices('task.preset'),
  },
  layers: { type: 'string', value: 'L', help: doc('model.layers'), defaultText: fromPreset },
  hidden: { type: 'string', value: 'N', help: doc('model.hidden'), defaultText: fromPreset },
  steps: { type: 'string', value: 'N', help: doc('train.steps'), defaultText: fromPreset },
  batch: { type: 'string', value: 'B', help: doc('train.batch'), defaultText: fromPreset },
  seed: { type: 'string', value: 'S', help: doc('train.seed'), defaultText: schemaDefault('train.seed') },
  lr: { type: 'string', value: 'X', help: doc('optimizer.lr'), defaultText: fromPreset },
  device: {
    type: 'string',
    value: 'NAME',
    help: doc('device.name'),
    defaultText: schemaDefault('device.name'),
    choices: choices('device.name'),
  },
  config: {
    type: 'string',
    value: 'FILE',
    help: 'a JSON file of any part of the run config, nested by section (JSON Schema: onward schema)',
  },
  set: {
    type: 'string',
    multiple: true,
    value: 'KEY=VALUE',
    help: 'any option of the run config as section.key (listed below) or task.<setting>',
  },
  out: { type: 'string', value: 'DIR', help: 'the run folder', defaultText: 'runs/<time>-<task>-<model>-<learner>' },
  resume: { type: 'string', value: 'DIR', help: 'continue the run in DIR from its checkpoint.json' },
  quiet: { type: 'boolean', help: 'no progress line; only the summary' },
  json: { type: 'boolean', help: 'JSON lines on stdout: eval/align events, then the result (docs/cli.md)' },
} as const satisfies OptionTable;

/** read a --config file as a layer of the run config (a flat file of an older version is read with a note) */
function configFileLayer(path: string, notes: string[]): RunConfigInput {
  const json = readJsonFile(path, 'config'); // bounded: a FIFO or /dev/zero is refused; parse errors typed
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError(`config file '${path}' must hold a JSON object (a run config, see onward schema), got ${JSON.stringify(json)}`);
  }
  return readRunConfig(json, `config file '${path}'`, notes);
}

/** flags → a config: the task preset and defaults, then the --config file, then the named flags, then --set */
export function resolveTrainConfig(values: Values, notes: string[] = []): RunConfig {
  const file = typeof values.config === 'string' ? configFileLayer(values.config, notes) : {};
  const named = overridesLayer(Object.fromEntries(Object.entries(trainFlags).map(([f, key]) => [key, values[f]])));
  const task = String(values.task ?? file.task?.name ?? 'copy');
  return resolveRunConfig(file, named, overridesLayer(parseSets(values.set, task), notes));
}

/** --set key=value pairs (own keys only: __proto__ stays a key, refused as unknown); task settings given by name become their codes */
export function parseSets(sets: Values[string], task: string): Record<string, string | number> {
  const out = Object.create(null) as Record<string, string | number>; // '__proto__' stays a key, to be refused as unknown
  for (const s of (Array.isArray(sets) ? sets : []) as string[]) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set expects key=value, got '${s}'`);
    const key = s.slice(0, eq);
    if (Object.hasOwn(out, key)) throw new ConfigError(`--set ${key} is given twice`);
    out[key] = s.slice(eq + 1);
  }
  return taskSettingOverrides(task, out);
}

function defaultRunDir(c: RunConfig): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return join('runs', `${stamp}-${c.task.name}-${c.model.name}-${c.learner.name}`);
}

/** What `train --json` prints last (and `train --quiet` prints as its one line). */
export interface TrainResult extends Summary {
  preset: string;
  /** the run folder: config.json, metrics.jsonl, checkpoint.json, model.json */
  runDir: string;
  modelFile: string;
  checkpoint: string;
  /** set when a signal stopped the run early: the signal, and the command that continues it */
  stopped?: { signal: string; resume: string };
}

/** stop requests by signal: the loop checks `signal` after every step */
function watchSignals(): { signal: NodeJS.Signals | null; dispose(): void } {
  const state = { signal: null as NodeJS.Signals | null, dispose: (): void => undefined };
  const on = (sig: NodeJS.Signals): void => {
    if (state.signal) process.exit(sig === 'SIGINT' ? 130 : 143); // a second signal: stop now
    state.signal = sig;
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  state.dispose = (): void => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  };
  return state;
}

async function trainRun(argv: string[]): Promise<void> {
  const { values } = parse('train', argv, trainOptions);
  const json = values.json === true,
    quiet = values.quiet === true || json;
  const notes: string[] = [];
  let trainer: Trainer;
  let outDir: string;
  if (typeof values.resume === 'string') {
    const ck = join(values.resume, 'checkpoint.json');
    if (!existsSync(ck)) throw new FileFormatError(`--resume ${values.resume}: no checkpoint.json in that folder`);
    const base = readModelFile(ck) as { checkpoint?: { train?: { task?: string | { name?: string } } } }; // bounded, typed errors
    const t = base.checkpoint?.train?.task;
    // every flag given goes to the checkpoint's check: the ones that may change are applied (and said so), the rest must agree
    const over: Record<string, unknown> = {};
    for (const f of Object.keys(trainFlags) as (keyof typeof trainFlags)[]) over[f] = values[f];
    Object.assign(over, parseSets(values.set, String((typeof t === 'object' ? t?.name : t) ?? '')));
    trainer = resumeTrainer(ck, over, notes);
    outDir = typeof values.out === 'string' ? values.out : values.resume;
  } else {
    trainer = new Trainer(resolveTrainConfig(values, notes));
    outDir = typeof values.out === 'string' ? values.out : defaultRunDir(trainer.config);
  }
  if (!quiet) for (const n of notes) console.error(`onward train: note: ${n}`);
  const c = trainer.config;
  const { steps } = c.train;
  ensureDir(outDir); // checked level by level before creating (a recursive mkdir spins on procfs)
  lockFolder(outDir, `run folder '${outDir}'`); // one run per folder at a time (released at exit)
  writeJsonAtomic(join(outDir, 'config.json'), c, 2);
  const metricsPath = join(outDir, 'metrics.jsonl'),
    checkpointPath = join(outDir, 'checkpoint.json'),
    modelPath = join(outDir, 'model.json');
  // after a resume: metrics cut back to the checkpoint's step, and seconds continue from the last record
  const t0 = performance.now() - 1000 * (typeof values.resume === 'string' ? continueMetrics(metricsPath, trainer.step) : 0);
  const label = `${c.task.name}/${c.task.preset} ${c.model.name} ${c.learner.name}`;
  if (!quiet) {
    console.error(
      `onward train: ${label}, ${trainer.network.size} parameters, batch ${c.train.batch}, T ${trainer.task.seqLength}, ` +
        `${steps} steps${trainer.step > 0 ? ` (from step ${trainer.step})` : ''}, backend ${trainer.backend.name}/${trainer.backend.dtype} → ${outDir}`,
    );
  }
  const bar = quiet ? null : new ProgressBar(steps, label, { startAt: trainer.step });
  const metric = trainer.task.metric;
  let last = { loss: NaN, value: NaN };
  let statsLine = '';
  const evaluate = (): void => {
    last = trainer.evaluate();
    // the learner's own statistics over the training steps since the last evaluation (sparse-rtrl: activity, work)
    const record = {
      step: trainer.step,
      loss: last.loss,
      [metric]: last.value,
      seconds: (performance.now() - t0) / 1000,
      ...trainer.learner.stats?.(),
    };
    appendRecords(metricsPath, JSON.stringify(record) + '\n');
    const stats = Object.entries(record).slice(4);
    statsLine = stats.length ? ', ' + stats.map(([k, v]) => `${k} ${Number(v).toPrecision(3)}`).join(', ') : '';
    if (json) printEvent('train', 'eval', record);
    saveCheckpoint(trainer, checkpointPath);
  };
  const signals = watchSignals();
  let yielded = performance.now();
  try {
    while (trainer.step < steps && !signals.signal) {
      let r;
      try {
        r = trainer.trainStep();
      } catch (e) {
        if (!(e instanceof DivergenceError)) throw e;
        const tail = existsSync(checkpointPath)
          ? `the last good checkpoint is ${checkpointPath}; continue from it with a lower learning rate than ${c.optimizer.lr}: onward train --resume ${outDir} --set optimizer.lr=...`
          : `no checkpoint was written before it; start again with a lower learning rate than --lr ${c.optimizer.lr}, or clip gradients (--set optimizer.clip=1)`;
        throw new DivergenceError(`${e.message.replace(/; resume from.*$/, '')}; ${tail}`, e.step, e.quantity);
      }
      bar?.update(trainer.step, { loss: r.loss, [metric]: r.value });
      if (trainer.lastAlignment) {
        // measured on this step's batch before its update
        const record = { step: trainer.step - 1, align: trainer.lastAlignment };
        appendRecords(metricsPath, JSON.stringify(record) + '\n');
        if (json) printEvent('train', 'align', record);
        trainer.lastAlignment = null;
      }
      if (c.eval.every > 0 && trainer.step % c.eval.every === 0 && trainer.step < steps) {
        evaluate();
        bar?.log(`  step ${trainer.step}: eval loss ${last.loss.toPrecision(4)}, ${metric} ${last.value.toPrecision(4)}${statsLine}`);
      }
      // the steps run synchronously: give signal handlers a turn now and then (every 50 ms)
      if (performance.now() - yielded > 50) {
        await new Promise<void>((done) => setImmediate(done));
        yielded = performance.now();
      }
    }
  } finally {
    signals.dispose();
  }
  bar?.done();
  if (signals.signal) {
    // stopped early: the files first (the final evaluation may take a while, and a second signal ends at once)
    saveCheckpoint(trainer, checkpointPath);
    writeJsonAtomic(modelPath, trainer.modelFile());
  }
  evaluate();
  writeJsonAtomic(modelPath, trainer.modelFile());
  const result: TrainResult = {
    task: c.task.name,
    preset: c.task.preset,
    model: c.model.name,
    learner: c.learner.name,
    metric,
    value: last.value,
    loss: last.loss,
    steps: trainer.step,
    seconds: Number(((performance.now() - t0) / 1000).toFixed(3)),
    runDir: outDir,
    modelFile: modelPath,
    checkpoint: checkpointPath,
  };
  if (signals.signal) {
    result.stopped = { signal: signals.signal, resume: `onward train --resume ${quoteArg(outDir)}` };
    console.error(
      `onward train: stopped by ${signals.signal} at step ${trainer.step} of ${steps}; checkpoint ${checkpointPath}, model ${modelPath}\n` +
        `  resume with: ${result.stopped.resume}`,
    );
    process.exitCode = signals.signal === 'SIGINT' ? 130 : 143;
  }
  if (json || values.quiet) printResult('train', result);
  else {
    console.log(
      `${label}: ${metric} ${result.value.toFixed(4)}, eval loss ${result.loss.toFixed(4)} after ${result.steps} steps ` +
        `in ${result.seconds.toFixed(1)} s → ${modelPath} (run folder ${outDir})`,
    );
  }
}

/** an argument as a shell reads it back */
function quoteArg(s: string): string {
  return /^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export const trainCommand = defineCommand({
  name: 'train',
  summary: 'train a network on a task with a learner; checkpoints, metrics and the model go to a run folder',
  usage: '[--task copy] [--model lru] [--learner online-lru] [--preset ci|paper] [options]',
  options: trainOptions,
  details: () =>
    `${setKeysHelp()}\n\nWith no flags: an LRU learns the copy task online (ci preset) in under a minute. --steps 0 writes the\n` +
    'initialised model. Ctrl-C writes the checkpoint and the model, and prints the command that resumes.',
  run: trainRun,
});
