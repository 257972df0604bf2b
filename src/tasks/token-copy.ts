/**
 * `token-copy` — the copy task of the perturbation paper's code (García Fernández et al. 2024, "capacity"):
 * `length` random tokens from {1…symbols}, then `blanks` blank steps (token 0), then `length` marker steps
 * (token symbols + 1), all one-hot; the target is token 0 for the first length + blanks steps and then the
 * tokens in order, one-hot, with an mse loss over every step (as the authors compute it). The paper trains
 * and tests on one sequence generated once (memorisation capacity): sequences come from a fixed pool of
 * `pool` sequences drawn from the seed `poolSeed`, the same for training and evaluation (pool 1 = the paper).
 * Metric: bit accuracy, outputs thresholded at 0.5 against the one-hot targets (the paper counts the wrong
 * "error bits"). paper: 100 tokens, 10 blanks, 8 symbols (T = 210, 10 channels), 500 units, per-sequence
 * updates; ci: 10 tokens, 5 blanks (T = 25), 64 units.
 */
import { Rng } from '../core/rng.js';
import { resolveSettings, setting, taskSettings } from './settings.js';
import { steps, type Batch, type Preset, type Task, type TaskInfo } from './task.js';

const settingTable = taskSettings(
  {
    length: setting('tokens to copy (T = 2·length + blanks)'),
    blanks: setting('blank steps between the tokens and their recall', { min: 0 }),
    symbols: setting('distinct tokens (one-hot: symbols + 2 channels with blank and marker)'),
    pool: setting('sequences in the fixed pool training and evaluation draw from (1: the paper)'),
    poolSeed: setting('seed of the pool', { min: 0 }),
  },
  {
    ci: { length: 10, blanks: 5, symbols: 8, pool: 1, poolSeed: 1 },
    paper: { length: 100, blanks: 10, symbols: 8, pool: 1, poolSeed: 1 },
  },
);

export const tokenCopyTask: TaskInfo = {
  name: 'token-copy',
  description: 'reproduce a sequence of tokens after blanks, one fixed sequence to memorise, mse on one-hot outputs (perturbation paper)',
  settingTable,
  create(preset: Preset, overrides?: Record<string, number>): Task {
    const s = resolveSettings('token-copy', preset, settingTable, overrides);
    const { length, blanks, symbols, pool, poolSeed } = s;
    const T = 2 * length + blanks,
      C = symbols + 2,
      marker = symbols + 1;
    const poolRng = new Rng(poolSeed);
    const sequences = Array.from({ length: pool }, () => Array.from({ length }, () => 1 + poolRng.int(symbols)));
    return {
      name: 'token-copy',
      preset,
      settings: s,
      inputSize: C,
      outputSize: C,
      seqLength: T,
      loss: { kind: 'mse' },
      metric: 'bit_accuracy',
      batch(B: number, rng: Rng): Batch {
        const x = steps(T, B * C),
          target = steps(T, B * C),
          mask = steps(T, B);
        for (let b = 0; b < B; b++) {
          const tokens = sequences[pool === 1 ? 0 : rng.int(pool)]!;
          for (let t = 0; t < T; t++) {
            const input = t < length ? tokens[t]! : t < length + blanks ? 0 : marker;
            const out = t < length + blanks ? 0 : tokens[t - length - blanks]!;
            x[t]![b * C + input] = 1;
            target[t]![b * C + out] = 1;
            mask[t]![b] = 1;
          }
        }
        return { x, target, mask };
      },
    };
  },
};
