/**
 * `weather` — next-hour temperature from a synthetic multivariate hourly weather series, the seeded stand-in
 * for the perturbation paper's WTH data (NOAA hourly records, 9 inputs, target = dry-bulb temperature one
 * hour ahead; García Fernández et al. 2024). Per sequence, from a random day of the year and hour:
 *   T   = 12 − 10·cos(2π(doy − 15)/365) − 5·cos(2π(hour − 3)/24) + A     A: AR(1) synoptic anomaly (φ 0.98)
 *   dew point Td = T − spread, spread = max(0.3, 4 + 3·(diurnal phase) + S)   S: AR(1) (φ 0.95)
 *   wet bulb Tw = T − (T − Td)/3 (between dew point and dry bulb); RH from the spread (Magnus formula)
 *   station pressure: AR(1) anomaly pushed down by warm anomalies; altimeter = station + 0.3 inHg
 *   wind speed |AR(1)| + 1, direction a random walk; visibility falls as RH nears saturation
 * The 9 inputs (visibility, dry bulb °F, wet bulb °F, dew point °F, RH, wind speed, wind direction,
 * station pressure, altimeter — the order of the WTH columns) are min–max normalised with fixed ranges;
 * the target is the normalised dry bulb of the next hour; the first `warmup` hours carry no loss.
 * Loss mse; metric NRMSE. paper: 3360-hour sequences (the authors' batch-10 split of 33,600 h), 500 units;
 * ci: 240 hours, 32 units.
 */
import type { Rng } from '../core/rng.js';
import { resolveSettings, setting, taskSettings } from './settings.js';
import { steps, type Batch, type Preset, type Task, type TaskInfo } from './task.js';

const settingTable = taskSettings(
  {
    length: setting('hours per sequence, the sequence length T'),
    warmup: setting('first hours without a loss (the state settles)', { min: 0 }),
  },
  {
    ci: { length: 240, warmup: 24 },
    paper: { length: 3360, warmup: 24 },
  },
);

const fahrenheit = (c: number): number => c * 1.8 + 32;
/** fixed normalisation ranges of the 9 inputs */
const ranges: readonly [number, number][] = [
  [0, 10],
  [-20, 110],
  [-20, 100],
  [-40, 90],
  [0, 100],
  [0, 30],
  [0, 360],
  [29, 31],
  [29.3, 31.3],
];

/** `length + 1` hours of the 9 raw variables (the extra hour gives the last target) */
export function weatherSeries(length: number, rng: Rng): Float64Array[] {
  let doy = rng.uniform() * 365,
    hour = rng.int(24);
  let A = 3 * rng.normal(),
    S = rng.normal(),
    P = 3 * rng.normal(),
    wind = 3 * rng.normal(),
    dir = rng.uniform() * 360;
  const out: Float64Array[] = [];
  for (let t = 0; t <= length; t++) {
    A = 0.98 * A + 0.6 * rng.normal();
    S = 0.95 * S + 0.5 * rng.normal();
    P = 0.99 * P - 0.02 * A + 0.3 * rng.normal();
    wind = 0.9 * wind + 0.8 * rng.normal();
    dir = (dir + 15 * rng.normal() + 360) % 360;
    const diurnal = -Math.cos((2 * Math.PI * (hour - 3)) / 24);
    const T = 12 - 10 * Math.cos((2 * Math.PI * (doy - 15)) / 365) + 5 * diurnal + A;
    const spread = Math.max(0.3, 4 + 3 * diurnal + S);
    const Td = T - spread,
      Tw = T - spread / 3;
    const magnus = (c: number): number => Math.exp((17.625 * c) / (243.04 + c));
    const rh = (100 * magnus(Td)) / magnus(T);
    const visibility = Math.max(0.2, 10 * (1 - 0.9 / (1 + Math.exp(-(rh - 92) / 2))) + 0.3 * rng.normal());
    const station = 29.95 + P / 33.86;
    out.push(
      Float64Array.from([visibility, fahrenheit(T), fahrenheit(Tw), fahrenheit(Td), rh, Math.abs(wind) + 1, dir, station, station + 0.3]),
    );
    hour = (hour + 1) % 24;
    if (hour === 0) doy = (doy + 1) % 365;
  }
  for (const row of out) for (let k = 0; k < 9; k++) row[k] = (row[k]! - ranges[k]![0]) / (ranges[k]![1] - ranges[k]![0]);
  return out;
}

export const weatherTask: TaskInfo = {
  name: 'weather',
  description: 'next-hour temperature from a synthetic 9-variable hourly weather series (stand-in for the WTH data); metric NRMSE',
  settingTable,
  create(preset: Preset, overrides?: Record<string, number>): Task {
    const s = resolveSettings('weather', preset, settingTable, overrides);
    const { length: T, warmup } = s;
    return {
      name: 'weather',
      preset,
      settings: s,
      inputSize: 9,
      outputSize: 1,
      seqLength: T,
      loss: { kind: 'mse' },
      metric: 'nrmse',
      batch(B: number, rng: Rng): Batch {
        const x = steps(T, B * 9),
          target = steps(T, B),
          mask = steps(T, B);
        for (let b = 0; b < B; b++) {
          const series = weatherSeries(T, rng);
          for (let t = 0; t < T; t++) {
            x[t]!.set(series[t]!, b * 9);
            target[t]![b] = series[t + 1]![1]!;
            mask[t]![b] = t >= warmup ? 1 : 0;
          }
        }
        return { x, target, mask };
      },
    };
  },
};
