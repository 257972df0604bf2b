/**
 * `onward train`: resolve the run config (task preset → --config file → flags → --set), train with a
 * progress line, evaluate and checkpoint periodically into the run folder, print a summary that names the
 * run folder and the model file. Ctrl-C (SIGINT) or SIGTERM stops after the current step, writes the
 * checkpoint and the model, and prints the command that resumes.
 */
import { readFileSync, appendFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, FileFormatError } from '../core/errors.js';
import { writeJsonAtomic, writeTextAtomic } from '../model/io.js';
import { modelNames } from '../model/network.js';
import { learnerTable } from '../learners/index.js';
import { taskTable } from '../tasks/index.js';
import { applyOverrides, defaultConfig, type TrainConfig } from '../train/config.js';
import { Trainer } from '../train/trainer.js';
import { resumeTrainer, saveCheckpoint } from '../train/files.js';
import { parse, type Values } from './args.js';
import { defineCommand, type OptionTable } from './command.js';
import { printEvent, printResult } from './json.js';
import { ProgressBar } from './progress.js';
import { setKeysHelp } from './set-keys.js';
import { taskSettingOverrides } from './task-settings.js';

const fromPreset = "the task preset's";

export const trainOptions = {
  task: { type: 'string', value: 'NAME', help: 'the task to learn (onward list)', defaultText: 'copy', names: taskTable.map((t) => t.name) },
  model: { type: 'string', value: 'NAME', help: 'the unit model of the network', defaultText: fromPreset, names: modelNames },
  learner: { type: 'string', value: 'NAME', help: 'the learning rule', defaultText: fromPreset, names: learnerTable.map((l) => l.name) },
  preset: { type: 'string', value: 'NAME', help: 'task sizes: ci (seconds) or paper (the paper\'s)', defaultText: 'ci', choices: ['ci', 'paper'] },
  layers: { type: 'string', value: 'L', help: 'recurrent layers', defaultText: fromPreset },
  hidden: { type: 'string', value: 'N', help: 'units per layer (lru: the model width)', defaultText: fromPreset },
  steps: { type: 'string', value: 'N', help: 'training batches (each a whole sequence); with --resume, the new total', defaultText: fromPreset },
  batch: { type: 'string', value: 'B', help: 'sequences per batch', defaultText: fromPreset },
  seed: { type: 'string', value: 'S', help: 'seed of the initialisation and the data', defaultText: '0' },
  lr: { type: 'string', value: 'X', help: 'learning rate', defaultText: fromPreset },
  device: { type: 'string', value: 'NAME', help: 'synapses on simulated hardware: none or pcm (phase-change memory)', defaultText: 'none', choices: ['none', 'pcm'] },
  config: { type: 'string', value: 'FILE', help: 'a JSON file of config keys (as in a run\'s config.json)' },
  set: { type: 'string', multiple: true, value: 'KEY=VALUE', help: 'any config key (listed below) or task.<setting>' },
  out: { type: 'string', value: 'DIR', help: 'the run folder', defaultText: 'runs/<time>-<task>-<model>-<learner>' },
  resume: { type: 'string', value: 'DIR', help: 'continue the run in DIR from its checkpoint.json' },
  quiet: { type: 'boolean', help: 'no progress line; only the summary' },
  json: { type: 'boolean', help: 'JSON lines on stdout: eval/align events, then the result (docs/cli.md)' },
} as const satisfies OptionTable;

/** flags → a config: task preset defaults, then the file, then the named flags, then --set */
export function resolveTrainConfig(values: Values): TrainConfig {
  let fileOverrides: Record<string, unknown> = {};
  if (typeof values.config === 'string') {
    try {
      fileOverrides = JSON.parse(readFileSync(values.config, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`cannot read config file '${values.config}': ${(e as Error).message}`);
    }
  }
  const task = String(values.task ?? fileOverrides.task ?? 'copy');
  const preset = String(values.preset ?? fileOverrides.preset ?? 'ci');
  let config = defaultConfig(task, preset as TrainConfig['preset']);
  config = applyOverrides(config, fileOverrides);
  const named: Record<string, unknown> = {};
  for (const k of ['task', 'preset', 'model', 'learner', 'layers', 'hidden', 'steps', 'batch', 'seed', 'lr', 'device'] as const) named[k] = values[k];
  config = applyOverrides(config, named);
  config = applyOverrides(config, parseSets(values.set, task));
  return config;
}

/** --set key=value pairs; task settings given by name (task.source=fashion-mnist) become their codes */
export function parseSets(sets: Values[string], task: string): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const s of (Array.isArray(sets) ? sets : []) as string[]) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set expects key=value, got '${s}'`);
    out[s.slice(0, eq)] = s.slice(eq + 1);
  }
  return taskSettingOverrides(task, out);
}

function defaultRunDir(c: TrainConfig): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  return join('runs', `${stamp}-${c.task}-${c.model}-${c.learner}`);
}

/** What `train --json` prints last (and `train --quiet` prints as its one line). */
export interface TrainResult {
  task: string;
  preset: string;
  model: string;
  learner: string;
  metric: string;
  value: number;
  loss: number;
  steps: number;
  seconds: number;
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
  const json = values.json === true, quiet = values.quiet === true || json;
  let trainer: Trainer;
  let outDir: string;
  if (typeof values.resume === 'string') {
    const ck = join(values.resume, 'checkpoint.json');
    if (!existsSync(ck)) throw new FileFormatError(`--resume ${values.resume}: no checkpoint.json in that folder`);
    const base = JSON.parse(readFileSync(ck, 'utf8')) as { checkpoint?: { train?: { task?: string } } };
    const over: Record<string, unknown> = { ...parseSets(values.set, String(base.checkpoint?.train?.task ?? '')) };
    if (values.steps !== undefined) over.steps = values.steps;
    trainer = resumeTrainer(ck, over);
    outDir = typeof values.out === 'string' ? values.out : values.resume;
  } else {
    trainer = new Trainer(resolveTrainConfig(values));
    outDir = typeof values.out === 'string' ? values.out : defaultRunDir(trainer.config);
  }
  const c = trainer.config;
  mkdirSync(outDir, { recursive: true });
  writeTextAtomic(join(outDir, 'config.json'), JSON.stringify(c, null, 2) + '\n');
  const metricsPath = join(outDir, 'metrics.jsonl'), checkpointPath = join(outDir, 'checkpoint.json'), modelPath = join(outDir, 'model.json');
  const t0 = performance.now();
  const label = `${c.task}/${c.preset} ${c.model} ${c.learner}`;
  if (!quiet) {
    console.error(`onward train: ${label}, ${trainer.network.size} parameters, batch ${c.batch}, T ${trainer.task.seqLength}, ` +
      `${c.steps} steps${trainer.step > 0 ? ` (from step ${trainer.step})` : ''}, backend ${trainer.backend.name}/${trainer.backend.dtype} → ${outDir}`);
  }
  const bar = quiet ? null : new ProgressBar(c.steps, label, { startAt: trainer.step });
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
    if (json) printEvent('train', 'eval', record);
    saveCheckpoint(trainer, checkpointPath);
  };
  const signals = watchSignals();
  let yielded = performance.now();
  try {
    while (trainer.step < c.steps && !signals.signal) {
      const r = trainer.trainStep();
      if (!Number.isFinite(r.loss)) {
        throw new ConfigError(`training diverged at step ${trainer.step}: the loss is ${r.loss}; lower the learning rate (--lr) or clip (--set clip=1); ` +
          `the last good checkpoint is ${checkpointPath}`);
      }
      bar?.update(trainer.step, { loss: r.loss, [metric]: r.value });
      if (trainer.lastAlignment) {
        // measured on this step's batch before its update
        const record = { step: trainer.step - 1, align: trainer.lastAlignment };
        appendFileSync(metricsPath, JSON.stringify(record) + '\n');
        if (json) printEvent('train', 'align', record);
        trainer.lastAlignment = null;
      }
      if (c.evalEvery > 0 && trainer.step % c.evalEvery === 0 && trainer.step < c.steps) {
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
    task: c.task, preset: c.preset, model: c.model, learner: c.learner, metric, value: last.value, loss: last.loss,
    steps: trainer.step, seconds: Number(((performance.now() - t0) / 1000).toFixed(3)), runDir: outDir, modelFile: modelPath, checkpoint: checkpointPath,
  };
  if (signals.signal) {
    result.stopped = { signal: signals.signal, resume: `onward train --resume ${quoteArg(outDir)}` };
    console.error(`onward train: stopped by ${signals.signal} at step ${trainer.step} of ${c.steps}; checkpoint ${checkpointPath}, model ${modelPath}\n` +
      `  resume with: ${result.stopped.resume}`);
    process.exitCode = signals.signal === 'SIGINT' ? 130 : 143;
  }
  if (json || values.quiet) printResult('train', result);
  else {
    console.log(`${label}: ${metric} ${result.value.toFixed(4)}, eval loss ${result.loss.toFixed(4)} after ${result.steps} steps ` +
      `in ${result.seconds.toFixed(1)} s → ${modelPath} (run folder ${outDir})`);
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
  details: () => `${setKeysHelp()}\n\nWith no flags: an LRU learns the copy task online (ci preset) in under a minute. --steps 0 writes the\n` +
    'initialised model. Ctrl-C writes the checkpoint and the model, and prints the command that resumes.',
  run: trainRun,
});
