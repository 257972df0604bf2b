/**
 * Checking one stream sample before anything is touched: the stream's recurrent state, traces and gradient
 * are only advanced by a sample that passed every check, so a rejected sample leaves the stream exactly as it
 * was (the caller may fix the sample and push again).
 *
 *   x       array-like of inputSize numbers, each finite in the backend's precision (1e308 is finite in
 *           float64 but Infinity in float32, and would poison a float32 network)
 *   target  null/undefined (predict only), or targetWidth numbers: class ids in [0, classes) for a
 *           cross-entropy model, finite numbers in the backend's precision otherwise
 *   mask    a number in [0, 1] (the weight of this sample's loss)
 *
 * Each problem is a typed error naming the sample (its step) and the element.
 */
import { ConfigError, NonFiniteError, ShapeError } from '../core/errors.js';
import type { LossSpec } from '../modules/loss.js';

/** the largest finite float32 */
const F32_MAX = 3.4028234663852886e38;

export interface SampleShape {
  inputSize: number;
  /** numbers per target: class ids per sample for ce (groups), outputs for mse */
  targetWidth: number;
  loss: LossSpec;
  dtype: 'float32' | 'float64';
}

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  if (v === null || typeof v !== 'object') return false;
  const n = (v as { length?: unknown }).length;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0;
}

/** "stream sample 12" — built only when a check fails, so a sample that passes allocates nothing */
const where = (step: number): string => `stream sample ${step}`;

function checkNumbers(values: ArrayLike<unknown>, max: number, step: number, field: 'x' | 'target', precision: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number') throw new ShapeError(`${where(step)}: ${field} element ${i} is ${describe(v)}, not a number`);
    if (!(Math.abs(v) <= max)) {
      throw new NonFiniteError(
        `${where(step)}: ${field} element ${i} is ${v}${Number.isFinite(v) ? `, beyond the largest ${precision} number (±${max.toExponential(4)})` : ''}; ` +
          "stream samples must be finite in the backend's precision",
      );
    }
  }
}

const describe = (v: unknown): string =>
  v === undefined
    ? 'undefined'
    : typeof v === 'string'
      ? JSON.stringify(v)
      : typeof v === 'object'
        ? v === null
          ? 'null'
          : 'an object'
        : String(v);

/** check one sample (`step` numbers it in messages); throws a typed error, never changes anything */
export function checkSample(shape: SampleShape, step: number, x: unknown, target: unknown, mask: unknown): void {
  const max = shape.dtype === 'float32' ? F32_MAX : Number.MAX_VALUE;
  if (!isArrayLike(x)) throw new ShapeError(`${where(step)}: x must be an array of ${shape.inputSize} numbers, got ${describe(x)}`);
  if (x.length !== shape.inputSize) throw new ShapeError(`${where(step)} has ${x.length} inputs, the model takes ${shape.inputSize}`);
  checkNumbers(x, max, step, 'x', shape.dtype);
  if (target !== null && target !== undefined) {
    if (!isArrayLike(target))
      throw new ShapeError(`${where(step)}: target must be null or an array of ${shape.targetWidth} numbers, got ${describe(target)}`);
    if (target.length !== shape.targetWidth)
      throw new ShapeError(`${where(step)} has ${target.length} target numbers, the model needs ${shape.targetWidth}`);
    if (shape.loss.kind === 'ce') {
      const C = shape.loss.classes;
      for (let i = 0; i < target.length; i++) {
        const v = target[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= C) {
          throw new ShapeError(`${where(step)}: target element ${i} is ${describe(v)}; a class id must be an integer in [0, ${C})`);
        }
      }
    } else checkNumbers(target, max, step, 'target', shape.dtype);
  }
  if (typeof mask !== 'number' || !(mask >= 0 && mask <= 1)) {
    throw new ConfigError(`${where(step)}: mask must be a number in [0, 1] (the weight of the sample's loss), got ${describe(mask)}`);
  }
}
