/**
 * `delayed-xor` — two bits shown `delay` steps apart; when the go cue comes (the last step) the network
 * answers their XOR. Channel 0 carries a bit as ±1 at step 0 and at step 1 + delay, channel 1 the cue.
 * T = delay + 3. Loss: 2-way cross-entropy at the last step; metric: accuracy there (chance 0.5).
 * A memory task no linear readout of the last input can solve: the first bit must be held across the delay.
 * paper: delay 20; ci: delay 4.
 */
import type { Rng } from '../core/rng.js';
import { resolveSettings, setting, taskSettings } from './settings.js';
import { steps, type Batch, type Preset, type Task, type TaskInfo } from './task.js';

const settingTable = taskSettings(
  {
    delay: setting('steps between the two bits (T = delay + 3)'),
  },
  {
    ci: { delay: 4 },
    paper: { delay: 20 },
  },
);

export const delayedXorTask: TaskInfo = {
  name: 'delayed-xor',
  description: 'answer the XOR of two bits shown a delay apart when a cue arrives',
  settingTable,
  create(preset: Preset, overrides?: Record<string, number>): Task {
    const s = resolveSettings('delayed-xor', preset, settingTable, overrides);
    const T = s.delay + 3;
    return {
      name: 'delayed-xor',
      preset,
      settings: s,
      inputSize: 2,
      outputSize: 2,
      seqLength: T,
      loss: { kind: 'ce', classes: 2 },
      metric: 'accuracy',
      batch(B: number, rng: Rng): Batch {
        const x = steps(T, B * 2),
          target = steps(T, B),
          mask = steps(T, B);
        for (let b = 0; b < B; b++) {
          const a = rng.bernoulli(0.5) ? 1 : 0,
            c = rng.bernoulli(0.5) ? 1 : 0;
          x[0]![b * 2] = a ? 1 : -1;
          x[1 + s.delay]![b * 2] = c ? 1 : -1;
          x[T - 1]![b * 2 + 1] = 1;
          target[T - 1]![b] = a ^ c;
          mask[T - 1]![b] = 1;
        }
        return { x, target, mask };
      },
    };
  },
};
