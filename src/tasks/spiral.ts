/**
 * `spiral` — the spiral-direction task of the sparse-RTRL paper's code (Subramoney 2023, `train_fwd_implicit`):
 * a 2-D point spirals inwards, x₁ = ±sin(τ + φ)/(1 + τ), x₂ = cos(τ + φ)/(1 + τ), on a grid of T points
 * τ ∈ [0, 2π] with a random phase φ ~ U(0, 2π); the class is the sign in x₁ (clockwise or anticlockwise),
 * balanced. The network answers at the last step only (2-way cross-entropy; the paper's sigmoid + BCE on one
 * logit is the same problem); metric: accuracy there (chance 0.5).
 * paper and ci: T = 17 (the paper's grid); the presets differ in the training defaults only.
 */
import type { Rng } from '../core/rng.js';
import { resolveSettings, setting, taskSettings } from './settings.js';
import { steps, type Batch, type Preset, type Task, type TaskInfo } from './task.js';

const settingTable = taskSettings(
  {
    length: setting('points on the spiral, the sequence length T', { min: 2 }),
  },
  {
    ci: { length: 17 },
    paper: { length: 17 },
  },
);

export const spiralTask: TaskInfo = {
  name: 'spiral',
  description: 'tell a clockwise from an anticlockwise spiral at its end (sparse-RTRL paper, EGRU)',
  settingTable,
  create(preset: Preset, overrides?: Record<string, number>): Task {
    const s = resolveSettings('spiral', preset, settingTable, overrides);
    const T = s.length;
    return {
      name: 'spiral',
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
          const clockwise = rng.bernoulli(0.5);
          const phase = rng.uniformIn(0, 2 * Math.PI);
          for (let t = 0; t < T; t++) {
            const tau = (2 * Math.PI * t) / (T - 1);
            x[t]![b * 2] = ((clockwise ? 1 : -1) * Math.sin(tau + phase)) / (1 + tau);
            x[t]![b * 2 + 1] = Math.cos(tau + phase) / (1 + tau);
          }
          target[T - 1]![b] = clockwise ? 1 : 0;
          mask[T - 1]![b] = 1;
        }
        return { x, target, mask };
      },
    };
  },
};
