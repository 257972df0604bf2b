/**
 * Divergence: a run whose loss, predictions or weights leave the finite numbers — or whose loss grows far past
 * anything an untrained network produces — has stopped learning and will only produce garbage from then on.
 * The drivers stop at the first such step with a DivergenceError that names the step and the quantity; the
 * episodic trainer's last good checkpoint stays on disk (the CLI says how to continue from it), and a stream
 * that diverged refuses to write a checkpoint it could not load again.
 *
 * Two tests, both cheap next to a step:
 *  - not finite: the loss, or any weight after an update (one pass over P numbers; the update itself is O(P));
 *  - exploded: the batch loss is more than FACTOR × max(reference, 1), where the reference is the first loss
 *    the run saw (an untrained or just-resumed network). With the learning rate far too high (--lr 1e9) the
 *    float32 weights saturate every unit and the mse settles near 1e16 — finite, but 1e16 times worse than
 *    predicting nothing; a learning run never comes within a million times of that.
 */
import { DivergenceError } from '../core/errors.js';

/** a loss this many times the first loss of the run (or of 1, whichever is larger) counts as diverged */
export const EXPLODED_FACTOR = 1e6;

/** index of the first non-finite number, or −1 */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return i;
  return -1;
}

/** how to continue, for the messages of the trainer (the CLI adds the checkpoint's folder) */
export const trainingHint =
  'resume from the last good checkpoint with a lower learning rate (--set lr=...) or gradient clipping (--set clip=1)';

export class DivergenceMonitor {
  private reference: number | null = null;

  /** `exploded`: also test the loss against the run's first loss (batches; a stream's single-sample losses vary too much) */
  constructor(
    readonly driver: string,
    readonly hint: string,
    readonly exploded = true,
  ) {}

  /** a step's loss; throws when it is not finite or has exploded past the reference */
  loss(step: number, loss: number, what = 'loss'): void {
    if (!Number.isFinite(loss)) throw this.error(step, what, `the ${what} is ${loss}`);
    if (!this.exploded) return;
    if (this.reference === null) {
      this.reference = loss;
      return;
    }
    const limit = EXPLODED_FACTOR * Math.max(Math.abs(this.reference), 1);
    if (Math.abs(loss) > limit) {
      throw this.error(
        step,
        what,
        `the ${what} is ${loss.toPrecision(4)}, more than ${EXPLODED_FACTOR.toExponential(0)} times the run's first ` +
          `${what} (${this.reference.toPrecision(4)})`,
      );
    }
  }

  /** the weights after an update (the parameter store: its names are looked up only for the message) */
  weights(step: number, params: NamedParams): void {
    const values = params.flat.data;
    const i = firstNonFinite(values);
    if (i >= 0) throw this.error(step, 'weights', `weight ${paramNameAt(params, i)} is ${values[i]}`);
  }

  /** predictions of a step (a stream's ŷ) */
  predictions(step: number, values: ArrayLike<number>): void {
    const i = firstNonFinite(values);
    if (i >= 0) throw this.error(step, 'prediction', `prediction element ${i} is ${values[i]}`);
  }

  /** forget the reference loss (a resumed run takes its first loss again) */
  reset(): void {
    this.reference = null;
  }

  private error(step: number, quantity: string, what: string): DivergenceError {
    return new DivergenceError(`${this.driver} diverged at step ${step}: ${what}; ${this.hint}`, step, quantity);
  }
}

/** what the weight check needs of a parameter store */
export interface NamedParams {
  flat: { data: ArrayLike<number> };
  names(): string[];
  entry(name: string): { offset: number; size: number };
}

/** "layers.0.weight_hh[12]" for a flat parameter index */
export function paramNameAt(params: NamedParams, index: number): string {
  for (const name of params.names()) {
    const e = params.entry(name);
    if (index >= e.offset && index < e.offset + e.size) return `${name}[${index - e.offset}]`;
  }
  return `#${index}`;
}
