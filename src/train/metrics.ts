/**
 * Task metrics, computed the same way for every task from its loss kind: `ce` tasks score the fraction of
 * (masked) groups whose largest logit is the target class (accuracy, or bit accuracy for the copy task);
 * `mse` tasks score the mean squared error per masked output, or, for tasks whose metric is `nrmse`, its
 * root divided by the standard deviation of the targets: NRMSE = √(Σ(ŷ − y)²/N) / std(y) (1 ≈ predicting the mean),
 * or, for `bit_accuracy` (0/1 targets), the fraction of outputs on the target's side of 0.5.
 */
import type { LossSpec } from '../modules/loss.js';
import type { MetricName } from '../tasks/task.js';

export class MetricAccumulator {
  private sum = 0;
  private count = 0;
  private targetSum = 0;
  private targetSquares = 0;

  constructor(
    readonly loss: LossSpec,
    readonly outputSize: number,
    readonly metric?: MetricName,
  ) {}

  /** one step of B samples: outputs (B×outputSize), targets, mask (B) */
  add(B: number, output: ArrayLike<number>, target: ArrayLike<number>, mask: ArrayLike<number>): void {
    const o = this.outputSize;
    for (let b = 0; b < B; b++) {
      if (mask[b] === 0) continue;
      if (this.loss.kind === 'ce') {
        const C = this.loss.classes,
          groups = o / C;
        for (let g = 0; g < groups; g++) {
          let best = 0;
          for (let c = 1; c < C; c++) if (output[b * o + g * C + c]! > output[b * o + g * C + best]!) best = c;
          if (best === target[b * groups + g]) this.sum++;
          this.count++;
        }
      } else {
        for (let j = 0; j < o; j++) {
          const y = target[b * o + j]!;
          if (this.metric === 'bit_accuracy') {
            // regression onto 0/1 targets: an output is right when it lands on the target's side of 0.5
            if (output[b * o + j]! > 0.5 === y > 0.5) this.sum++;
            this.count++;
            continue;
          }
          this.sum += (output[b * o + j]! - y) ** 2;
          this.targetSum += y;
          this.targetSquares += y * y;
          this.count++;
        }
      }
    }
  }

  value(): number {
    if (this.count === 0) return NaN;
    if (this.metric !== 'nrmse' || this.loss.kind === 'ce') return this.sum / this.count;
    const mean = this.targetSum / this.count;
    const variance = Math.max(0, this.targetSquares / this.count - mean * mean);
    return Math.sqrt(this.sum / this.count / variance);
  }

  reset(): void {
    this.sum = 0;
    this.count = 0;
    this.targetSum = 0;
    this.targetSquares = 0;
  }
}
