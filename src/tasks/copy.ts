/**
 * `copy` — the copy task of the online-LRU paper (Zucchet et al. 2023, `dataloaders/copy.py`).
 * Steps 0…pattern−1 show `bits` random bits (Bernoulli ½) on channels 0…bits−1; then `pad` empty steps;
 * then a stop token on channel `bits`; then `pattern` empty steps during which the network must reproduce
 * the pattern. T = 2·pattern + pad + 1. Loss: a 2-way cross-entropy per bit, masked to the last `pattern`
 * steps; metric: bit accuracy there (chance is 0.5).
 * paper: bits 7, pattern 20, pad 7 (T = 48); ci: bits 4, pattern 10, pad 10 (T = 31) — long enough that
 * credit must cross ~20 steps, so the online-LRU paper's baselines (spatial, truncated1) fall behind.
 * Defaults: the paper's LRU stack trained online (ci: 2 layers, d_model 32, 32 complex states, ~5 s); paper: 4 × 128/64,
 * batch 50, 10,000 updates, cosine schedule without warm-up (as the authors' code), dropout 0.1, lr 1e-3 (Fig. 2).
 */
import type { Rng } from '../core/rng.js';
import { resolveSettings, setting, taskSettings } from './settings.js';
import { steps, type Batch, type Preset, type Task, type TaskInfo } from './task.js';

const settingTable = taskSettings(
  {
    bits: setting('bits per pattern step (bits + 1 input channels, 2·bits outputs)'),
    pattern: setting('steps of the pattern, and of its recall'),
    pad: setting('empty steps between the pattern and the stop token'),
  },
  {
    ci: { bits: 4, pattern: 10, pad: 10 },
    paper: { bits: 7, pattern: 20, pad: 7 },
  },
);

export const copyTask: TaskInfo = {
  name: 'copy',
  description: 'reproduce a pattern of random bits after a delay and a stop token (online-LRU paper settings)',
  settingTable,
  create(preset: Preset, overrides?: Record<string, number>): Task {
    const s = resolveSettings('copy', preset, settingTable, overrides);
    const { bits, pattern, pad } = s;
    const T = 2 * pattern + pad + 1;
    return {
      name: 'copy',
      preset,
      settings: s,
      inputSize: bits + 1,
      outputSize: 2 * bits,
      seqLength: T,
      loss: { kind: 'ce', classes: 2 },
      metric: 'bit_accuracy',
      batch(B: number, rng: Rng): Batch {
        const d = bits + 1;
        const x = steps(T, B * d),
          target = steps(T, B * bits),
          mask = steps(T, B);
        for (let b = 0; b < B; b++) {
          for (let t = 0; t < pattern; t++) {
            for (let k = 0; k < bits; k++) {
              const bit = rng.bernoulli(0.5) ? 1 : 0;
              x[t]![b * d + k] = bit;
              target[T - pattern + t]![b * bits + k] = bit;
            }
          }
          x[pattern + pad]![b * d + bits] = 1;
          for (let t = T - pattern; t < T; t++) mask[t]![b] = 1;
        }
        return { x, target, mask };
      },
    };
  },
};
