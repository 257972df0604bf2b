/**
 * Divergence, as the page reports it: a training loss or metric that is not finite, a loss that has grown to
 * 1000× what the first batch had (a learning rate far too large sends the weights off long before they overflow),
 * or an error the library raised because training left the finite numbers (its NON_FINITE / DIVERGED errors).
 * The run stops there and the page names the step.
 */
import type { Divergence } from './protocol.js';

export const GROWTH_LIMIT = 1000;

export class DivergenceWatch {
  private firstLoss: number | null = null;
  diverged: Divergence | null = null;

  /** one training batch's (or sequence's) loss and metric at `step`; returns whether the run has diverged */
  check(step: number, loss: number, value: number): boolean {
    if (this.diverged) return true;
    if (!Number.isFinite(loss)) this.diverged = { step, what: `the training loss became ${loss}` };
    else if (!Number.isNaN(value) && !Number.isFinite(value)) this.diverged = { step, what: `the metric became ${value}` };
    else if (this.firstLoss !== null && this.firstLoss > 0 && loss > GROWTH_LIMIT * this.firstLoss) {
      this.diverged = {
        step,
        what: `the training loss grew to ${loss.toPrecision(3)}, over ${GROWTH_LIMIT}× the first batch's ${this.firstLoss.toPrecision(3)}`,
      };
    }
    this.firstLoss ??= loss;
    return this.diverged !== null;
  }

  /** an error thrown by a training step: a divergence when the library says the numbers left the finite range */
  fromError(step: number, e: unknown): boolean {
    const code = (e as { code?: unknown } | null)?.code;
    if (code !== 'NON_FINITE' && code !== 'DIVERGED') return false;
    this.diverged = { step, what: (e as Error).message };
    return true;
  }
}
