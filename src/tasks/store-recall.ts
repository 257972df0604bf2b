/**
 * `store-recall` — the store-and-recall task of e-prop (Bellec et al., Nature Comm. 2020, Supplementary
 * Fig. 1): a bit stream on channel 0 changes at random; a store cue (channel 1) marks the step whose bit
 * must be kept, and a later recall cue (channel 2) asks for it. The store cue comes at a random step of
 * the first half, the recall cue `minGap`…(the rest) steps later. Bits are ±1 at every step, so the
 * network must ignore the bits it was not asked to store and overwrite nothing at later steps.
 * Loss: 2-way cross-entropy at the recall step; metric: accuracy there (chance 0.5).
 * paper: T = 60, minGap 10; ci: T = 12, minGap 3.
 */
import type { Rng } from '../core/rng.js';
import { resolveSettings, setting, taskSettings } from './settings.js';
import { steps, type Batch, type Preset, type Task, type TaskInfo } from './task.js';

const settingTable = taskSettings(
  {
    length: setting('the sequence length T (at least 2·minGap + 2 is used)'),
    minGap: setting('fewest steps between the store cue and the recall cue'),
  },
  {
    ci: { length: 12, minGap: 3 },
    paper: { length: 60, minGap: 10 },
  },
);

export const storeRecallTask: TaskInfo = {
  name: 'store-recall',
  description: 'keep the bit shown at a store cue and report it at a later recall cue (e-prop, Bellec et al. 2020)',
  settingTable,
  create(preset: Preset, overrides?: Record<string, number>): Task {
    const s = resolveSettings('store-recall', preset, settingTable, overrides);
    const T = Math.max(s.length, 2 * s.minGap + 2);
    const half = Math.floor(T / 2);
    return {
      name: 'store-recall',
      preset,
      settings: { ...s, length: T },
      inputSize: 3,
      outputSize: 2,
      seqLength: T,
      loss: { kind: 'ce', classes: 2 },
      metric: 'accuracy',
      batch(B: number, rng: Rng): Batch {
        const x = steps(T, B * 3),
          target = steps(T, B),
          mask = steps(T, B);
        for (let b = 0; b < B; b++) {
          const bits = Array.from({ length: T }, () => (rng.bernoulli(0.5) ? 1 : 0));
          const store = rng.int(half);
          const recall = store + s.minGap + rng.int(T - store - s.minGap);
          for (let t = 0; t < T; t++) x[t]![b * 3] = bits[t]! ? 1 : -1;
          x[store]![b * 3 + 1] = 1;
          x[recall]![b * 3 + 2] = 1;
          target[recall]![b] = bits[store]!;
          mask[recall]![b] = 1;
        }
        return { x, target, mask };
      },
    };
  },
};
