/**
 * `adding` — the adding problem (Hochreiter & Schmidhuber 1997). Channel 0 carries a random number in
 * [0, 1) at every step; channel 1 marks two steps, one in each half of the sequence. At the last step the
 * network outputs the sum of the two marked numbers. Loss: mse at the last step only; metric: mse there
 * (predicting the mean, 1, scores 1/6 ≈ 0.167).
 * paper: T = 100; ci: T = 10.
 */
import type { Rng } from '../core/rng.js';
import { resolveSettings, setting, taskSettings } from './settings.js';
import { steps, type Batch, type Preset, type Task, type TaskInfo } from './task.js';

const settingTable = taskSettings(
  {
    length: setting('the sequence length T', { min: 2 }),
  },
  {
    ci: { length: 10 },
    paper: { length: 100 },
  },
);

export const addingTask: TaskInfo = {
  name: 'adding',
  description: 'output the sum of the two marked numbers of a sequence at its end (Hochreiter & Schmidhuber)',
  settingTable,
  create(preset: Preset, overrides?: Record<string, number>): Task {
    const s = resolveSettings('adding', preset, settingTable, overrides);
    const T = s.length;
    return {
      name: 'adding',
      preset,
      settings: s,
      inputSize: 2,
      outputSize: 1,
      seqLength: T,
      loss: { kind: 'mse' },
      metric: 'mse',
      batch(B: number, rng: Rng): Batch {
        const x = steps(T, B * 2),
          target = steps(T, B),
          mask = steps(T, B);
        const half = Math.floor(T / 2);
        for (let b = 0; b < B; b++) {
          for (let t = 0; t < T; t++) x[t]![b * 2] = rng.uniform();
          const first = rng.int(half),
            second = half + rng.int(T - half);
          x[first]![b * 2 + 1] = 1;
          x[second]![b * 2 + 1] = 1;
          target[T - 1]![b] = x[first]![b * 2]! + x[second]![b * 2]!;
          mask[T - 1]![b] = 1;
        }
        return { x, target, mask };
      },
    };
  },
};
