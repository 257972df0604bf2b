/**
 * `mackey-glass` — predict the Mackey-Glass series `horizon` steps ahead (the recipe of the perturbation
 * paper's code, García Fernández et al. 2024, adapted from mila-iqia summerschool2015 synthetic.py):
 *   dx/dt = 0.2·x(t−τ)/(1 + x(t−τ)¹⁰) − 0.1·x(t),  τ = 17, Euler with 10 sub-steps per sample (dt = 0.1),
 *   history 1.2 + 0.2·(U − 0.5), the first `washout` samples dropped, s = tanh(x − 1), series mean removed.
 * Every sequence is a fresh series (its own random history). Input s_t (1 channel), target s_{t+horizon};
 * the first `warmup` steps carry no loss (the state settles). Loss mse; metric NRMSE on held-out series.
 * The authors' code shifts the other way (target = the value 15 steps *before* the input, a delayed recall);
 * this task predicts forward, as the paper's text describes.
 * paper: T = 5000, horizon 15, one stream (batch 1), 500 hidden units; ci: T = 200, horizon 5, 64 units.
 */
import type { Rng } from '../core/rng.js';
import { resolveSettings, setting, taskSettings } from './settings.js';
import { steps, type Batch, type Preset, type Task, type TaskInfo } from './task.js';

const settingTable = taskSettings(
  {
    length: setting('the sequence length T'),
    horizon: setting('how many steps ahead the series is predicted'),
    warmup: setting('first steps without a loss (the state settles)', { min: 0 }),
    washout: setting('samples of the series dropped before the sequence starts', { min: 0 }),
    tau: setting('the delay τ of the Mackey-Glass equation'),
  },
  {
    ci: { length: 200, horizon: 5, warmup: 20, washout: 100, tau: 17 },
    paper: { length: 5000, horizon: 15, warmup: 20, washout: 100, tau: 17 },
  },
);

/** one Mackey-Glass series of `length` samples after `washout`, squashed and mean-removed */
export function mackeyGlassSeries(length: number, tau: number, washout: number, rng: Rng): Float64Array {
  const sub = 10,
    hist = tau * sub;
  const history = new Float64Array(hist);
  for (let i = 0; i < hist; i++) history[i] = 1.2 + 0.2 * (rng.uniform() - 0.5);
  let head = 0; // ring buffer: history[head] is x(t − τ)
  let x = 1.2;
  const out = new Float64Array(length);
  for (let t = 0; t < washout + length; t++) {
    for (let k = 0; k < sub; k++) {
      const xTau = history[head]!;
      history[head] = x;
      head = (head + 1) % hist;
      x = x + ((0.2 * xTau) / (1 + xTau ** 10) - 0.1 * x) / sub;
    }
    if (t >= washout) out[t - washout] = Math.tanh(x - 1);
  }
  let mean = 0;
  for (const v of out) mean += v;
  mean /= length;
  for (let i = 0; i < length; i++) out[i] = out[i]! - mean;
  return out;
}

export const mackeyGlassTask: TaskInfo = {
  name: 'mackey-glass',
  description: 'predict the chaotic Mackey-Glass series (τ = 17) a few steps ahead; metric NRMSE (perturbation paper)',
  settingTable,
  create(preset: Preset, overrides?: Record<string, number>): Task {
    const s = resolveSettings('mackey-glass', preset, settingTable, overrides);
    const { length: T, horizon, warmup, washout, tau } = s;
    return {
      name: 'mackey-glass',
      preset,
      settings: s,
      inputSize: 1,
      outputSize: 1,
      seqLength: T,
      loss: { kind: 'mse' },
      metric: 'nrmse',
      batch(B: number, rng: Rng): Batch {
        const x = steps(T, B),
          target = steps(T, B),
          mask = steps(T, B);
        for (let b = 0; b < B; b++) {
          const series = mackeyGlassSeries(T + horizon, tau, washout, rng);
          for (let t = 0; t < T; t++) {
            x[t]![b] = series[t]!;
            target[t]![b] = series[t + horizon]!;
            mask[t]![b] = t >= warmup ? 1 : 0;
          }
        }
        return { x, target, mask };
      },
    };
  },
};
