/**
 * `onward data --task NAME [--preset ci|paper] [--n N] [--seed S] [--set task.k=v] [--out f.json]`: generated samples
 * in the sequence-file format of `onward grad` ({x: T×N×d, y: T×N×w, mask: T×N}) plus the task's readable
 * form (`raw`, e.g. ListOps token strings), to inspect or reuse elsewhere.
 */
import { ConfigError } from '../core/errors.js';
import { writeTextFile } from '../core/files.js';
import { batchBytes, checkMemory } from '../core/limits.js';
import { Rng } from '../core/rng.js';
import { createTask, presets } from '../tasks/index.js';
import { parse } from './args.js';
import { defineCommand, type OptionTable } from './command.js';
import { taskSettingOverrides } from './task-settings.js';

const dataOptions = {
  task: { type: 'string', value: 'NAME', help: 'the task (onward list)' },
  preset: { type: 'string', value: 'NAME', help: 'task sizes', default: 'ci', choices: presets },
  n: { type: 'string', value: 'N', help: 'sequences', default: '4' },
  seed: { type: 'string', value: 'S', help: 'seed of the draw', default: '0' },
  set: { type: 'string', multiple: true, value: 'task.KEY=VALUE', help: "a task setting (a number, or a choice's name)" },
  out: { type: 'string', value: 'FILE', help: 'write the JSON here instead of stdout' },
} as const satisfies OptionTable;

async function dataRun(argv: string[]): Promise<void> {
  const { values } = parse('data', argv, dataOptions);
  if (typeof values.task !== 'string') throw new ConfigError('onward data needs --task NAME (see onward list)');
  const n = values.n === undefined ? 4 : Number(values.n);
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`--n must be a positive integer, got ${values.n}`);
  if (!Number.isInteger(seed) || seed < 0) throw new ConfigError(`--seed must be a non-negative integer, got ${values.seed}`);
  const overrides: Record<string, number> = {};
  for (const s of (Array.isArray(values.set) ? values.set : []) as string[]) {
    const m = /^task\.([A-Za-z]+)=(.+)$/.exec(s);
    if (!m) throw new ConfigError(`--set expects task.<setting>=<value>, got '${s}'`);
    const code = taskSettingOverrides(values.task, { [`task.${m[1]!}`]: m[2]! })[`task.${m[1]!}`];
    overrides[m[1]!] = Number(code);
  }
  const task = createTask(values.task, String(values.preset ?? 'ci'), overrides);
  // the samples as float64 and again as JSON text (~24 bytes a number): refused before drawing when too big
  checkMemory(
    4 * batchBytes(n, task.seqLength, task.inputSize, task.outputSize),
    `onward data --n ${n} of task ${task.name} (T ${task.seqLength})`,
  );
  const batch = task.batch(n, new Rng(seed));
  const d = task.inputSize,
    w = task.loss.kind === 'ce' ? task.outputSize / task.loss.classes : task.outputSize;
  const nest = (step: Float64Array, width: number): number[][] =>
    Array.from({ length: n }, (_, b) => Array.from(step.subarray(b * width, (b + 1) * width)));
  const file = {
    task: task.name,
    preset: task.preset,
    settings: task.settings,
    seed,
    x: batch.x.map((s) => nest(s, d)),
    y: batch.target.map((s) => nest(s, w)),
    mask: batch.mask.map((s) => Array.from(s)),
    ...(batch.raw ? { raw: batch.raw } : {}),
  };
  const text = JSON.stringify(file);
  if (typeof values.out === 'string') writeTextFile(values.out, text + '\n');
  else console.log(text);
}

export const dataCommand = defineCommand({
  name: 'data',
  summary: 'generated samples of a task in the sequence-file format, with their readable form',
  usage: '--task NAME [--preset ci|paper] [--n N] [--seed S] [--set task.k=v] [--out f.json]',
  options: dataOptions,
  run: dataRun,
});
