/**
 * When a run reports a chart point: every `pointEvery(steps)` training batches (stream: task sequences), so every
 * run draws about POINTS points whatever its speed — a fast learner's curve is not three straight segments and a
 * slow one does not flood the page — plus the start and the end. The worker and the Node tests share this
 * schedule, so the same configuration and seed give the same points in both.
 */
import type { Progress } from './protocol.js';
import type { Session } from './run.js';

export const POINTS = 100;

export function pointEvery(steps: number): number {
  return Math.max(1, Math.ceil(steps / POINTS));
}

/** the next step at which a point is due, after `step` */
export function nextPoint(step: number, every: number, steps: number): number {
  return Math.min(steps, (Math.floor(step / every) + 1) * every);
}

/** train for up to `ms` (stopping at the next point); returns the point's progress when one is due, else null */
export function advance(run: Session, ms: number, every: number): Progress | null {
  const due = nextPoint(run.step, every, run.steps);
  run.trainFor(ms, due);
  return run.step >= due || run.done ? run.progress() : null;
}

/** a whole run, point by point, as the worker makes it (for tests and scripts): the start, then every point */
export function runAll(run: Session): Progress[] {
  const every = pointEvery(run.steps);
  const out = [run.progress()];
  while (!run.done) {
    const p = advance(run, Infinity, every);
    if (p) out.push(p);
  }
  return out;
}
