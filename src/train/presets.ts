/**
 * The presets table: for every task and preset, the part of a run configuration that the preset chooses —
 * the model, learner, optimizer and training sizes that suit the task (`ci`: runs in seconds; `paper`: the
 * sizes of the paper it comes from). A run configuration starts from the sections' defaults, then the row of
 * its task and preset, then a config file, the flags and `--set`. Tasks themselves only declare their own
 * settings (sequence length, bits, …): learner options live here, with the learner's name beside them.
 */
import { ConfigError } from '../core/errors.js';
import type { Preset } from '../tasks/index.js';
import type { RunConfigInput } from './config.js';

type PresetRow = Record<Preset, RunConfigInput>;

const gruRtrl = (lr: number, paperSteps: number, paperLr = 1e-3): PresetRow => ({
  ci: { model: { name: 'gru', hidden: 12, layers: 1 }, learner: { name: 'rtrl' }, optimizer: { lr }, train: { batch: 16, steps: 400 } },
  paper: {
    model: { name: 'gru', hidden: 64, layers: 1 },
    learner: { name: 'bptt' },
    optimizer: { lr: paperLr },
    train: { batch: 32, steps: paperSteps },
  },
});

/** the perturbation paper's rnn settings (tanp with decorrelation rate λ) */
const rnnTanp = (
  ci: { hidden: number; batch: number; steps: number; lr: number },
  paper: { batch: number; steps: number; lr: number },
): PresetRow => ({
  ci: {
    model: { name: 'rnn', hidden: ci.hidden, layers: 1 },
    learner: { name: 'tanp', noise: 1e-3, decorrelationRate: 1e-3 },
    optimizer: { lr: ci.lr },
    train: { batch: ci.batch, steps: ci.steps },
  },
  paper: {
    model: { name: 'rnn', hidden: 500, layers: 1 },
    learner: { name: 'tanp', noise: 1e-3, decorrelationRate: 1e-4 },
    optimizer: { lr: paper.lr },
    train: { batch: paper.batch, steps: paper.steps },
  },
});

export const presetTable: Readonly<Record<string, PresetRow>> = {
  copy: {
    ci: {
      model: { name: 'lru', hidden: 32, stateSize: 32, layers: 2 },
      learner: { name: 'online-lru' },
      optimizer: { lr: 5e-3, schedule: 'cosine', warmup: 100 },
      train: { batch: 16, steps: 2000 },
    },
    paper: {
      model: { name: 'lru', hidden: 128, stateSize: 64, layers: 4, dropout: 0.1 },
      learner: { name: 'online-lru' },
      optimizer: { lr: 1e-3, schedule: 'cosine', warmup: 0 },
      train: { batch: 50, steps: 10_000 }, // no warm-up, as in the authors' code
    },
  },
  adding: gruRtrl(1e-2, 20_000),
  'delayed-xor': gruRtrl(2e-2, 10_000),
  listops: {
    ci: {
      model: { name: 'lru', hidden: 32, layers: 2, pooling: 'pool_st' },
      learner: { name: 'online-lru' },
      optimizer: { lr: 3e-3 },
      train: { batch: 16, steps: 300 },
    },
    paper: {
      model: { name: 'lru', hidden: 256, layers: 4, stateSize: 128, rMin: 0, rMax: 1, dropout: 0, pooling: 'pool_st' },
      learner: { name: 'online-lru' },
      optimizer: { lr: 1e-3 },
      train: { batch: 32, steps: 40 * (96_000 / 32) },
    },
  },
  'seq-image': {
    ci: {
      model: { name: 'lru', hidden: 32, layers: 2 },
      learner: { name: 'online-lru' },
      optimizer: { lr: 3e-3 },
      train: { batch: 16, steps: 300 },
    },
    paper: {
      model: { name: 'lru', hidden: 256, layers: 4 },
      learner: { name: 'online-lru' },
      optimizer: { lr: 1e-3 },
      train: { batch: 100, steps: 10_000 },
    },
  },
  spiral: {
    ci: {
      model: { name: 'egru', hidden: 16, layers: 1, dampening: 0.7, width: 1 },
      learner: { name: 'sparse-rtrl' },
      optimizer: { lr: 1e-2 },
      train: { batch: 32, steps: 300 },
    },
    paper: {
      model: { name: 'egru', hidden: 16, layers: 1, dampening: 0.7, width: 1 },
      learner: { name: 'sparse-rtrl' },
      optimizer: { lr: 3e-3 },
      train: { batch: 32, steps: 1700 },
    },
  },
  'mackey-glass': rnnTanp({ hidden: 64, batch: 8, steps: 60, lr: 3e-4 }, { batch: 1, steps: 500, lr: 1e-3 }),
  weather: rnnTanp({ hidden: 32, batch: 8, steps: 60, lr: 3e-4 }, { batch: 10, steps: 100, lr: 1e-4 }),
  'token-copy': rnnTanp({ hidden: 64, batch: 1, steps: 300, lr: 1e-3 }, { batch: 1, steps: 500, lr: 1e-3 }),
  'store-recall': {
    ci: {
      model: { name: 'gru', hidden: 12, layers: 1 },
      learner: { name: 'eprop' },
      optimizer: { lr: 2e-2 },
      train: { batch: 16, steps: 400 },
    },
    paper: {
      model: { name: 'gru', hidden: 64, layers: 2 },
      learner: { name: 'eprop' },
      optimizer: { lr: 2e-3 },
      train: { batch: 32, steps: 5000 },
    },
  },
  'cue-accumulation': {
    ci: {
      model: { name: 'leaky', hidden: 16, layers: 2 },
      learner: { name: 'eprop' },
      optimizer: { lr: 1e-2 },
      train: { batch: 16, steps: 300 },
    },
    paper: {
      model: { name: 'leaky', hidden: 100, layers: 2 },
      learner: { name: 'eprop' },
      optimizer: { lr: 5e-3 },
      train: { batch: 64, steps: 2000 },
    },
  },
  // osttp projects the label while the spikes arrive (the class is given at every step, scored in the readout window)
  spikes: {
    ci: {
      model: { name: 'lif', hidden: 32, layers: 2, dampening: 1, width: 1, recurrent: false },
      learner: { name: 'osttp', targetTiming: 'every-step' },
      optimizer: { lr: 1e-2 },
      train: { batch: 16, steps: 1000 },
    },
    paper: {
      model: { name: 'lif', hidden: 128, layers: 2, dampening: 1, width: 1, recurrent: false },
      learner: { name: 'osttp', targetTiming: 'every-step' },
      optimizer: { lr: 3e-3 },
      train: { batch: 32, steps: 2000 },
    },
  },
};

/** the preset row of a task (every task of the task table has one: test/train/config.test.ts) */
export function presetFor(task: string, preset: Preset): RunConfigInput {
  const row = Object.hasOwn(presetTable, task) ? presetTable[task]! : undefined;
  if (!row)
    throw new ConfigError(`task '${task}' has no row in the presets table (src/train/presets.ts); add its ci and paper presets there`);
  return row[preset];
}
