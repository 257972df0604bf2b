/** Learning-rate schedules: plain functions of the update count (0 for the first update). */
import { ConfigError } from '../core/errors.js';

export type Schedule = (step: number) => number;

export function constant(lr: number): Schedule {
  checkRate('lr', lr);
  return () => lr;
}

/**
 * Linear warm-up from 0 to `peak` over `warmup` updates, then cosine decay to `min` at `total` updates
 * (and `min` after that) — the schedule of the online-LRU paper's sweeps.
 */
export function warmupCosine({ peak, warmup, total, min = 0 }: { peak: number; warmup: number; total: number; min?: number }): Schedule {
  checkRate('peak', peak);
  checkRate('min', min);
  if (!Number.isInteger(warmup) || warmup < 0 || !Number.isInteger(total) || total < 1 || warmup > total) {
    throw new ConfigError(`warmupCosine: need integers 0 ≤ warmup ≤ total, total ≥ 1; got warmup ${warmup}, total ${total}`);
  }
  return (step) => {
    if (step < warmup) return (peak * (step + 1)) / warmup;
    if (step >= total) return min;
    const progress = (step - warmup) / Math.max(1, total - warmup);
    return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * progress));
  };
}

function checkRate(what: string, v: number): void {
  if (!(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new ConfigError(`${what} must be a finite number ≥ 0, got ${v}`);
}
