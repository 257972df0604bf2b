/**
 * Per-step losses, masked, with the convention of docs/design.md §8:  L = (1/B) Σ_b Σ_t mask_{t,b} ℓ_{t,b}, with
 * ℓ = ½‖ŷ − y‖² for `mse` and ℓ = −Σ_groups log softmax(ŷ_group)[y_group] for `ce`.
 *
 * `ce` splits the output into groups of `classes` logits with one class id per group (the copy task has 7
 * bits, each a 2-way classification: 7 groups of 2). Targets per step are B×outSize numbers for `mse` and
 * B×groups class ids for `ce`.
 */
import type { Buf } from '../backend/backend.js';
import { ConfigError, NonFiniteError, ShapeError, show } from '../core/errors.js';

export type LossSpec = { kind: 'mse' } | { kind: 'ce'; classes: number };

export class Loss {
  readonly groups: number;
  /** numbers per sample in a target */
  readonly targetWidth: number;

  constructor(
    readonly spec: LossSpec,
    readonly outSize: number,
  ) {
    if (spec.kind === 'ce') {
      if (!Number.isInteger(spec.classes) || spec.classes < 2 || outSize % spec.classes !== 0) {
        throw new ConfigError(`loss ce: classes must be an integer ≥ 2 dividing the output size ${outSize}, got ${show(spec.classes)}`);
      }
      this.groups = outSize / spec.classes;
      this.targetWidth = this.groups;
    } else if (spec.kind === 'mse') {
      this.groups = 1;
      this.targetWidth = outSize;
    } else {
      throw new ConfigError(`unknown loss ${show((spec as { kind: unknown }).kind)}; known losses: mse, ce`);
    }
  }

  /**
   * Loss of B samples at one step: returns (1/B)·Σ_b mask_b·ℓ_b and, when dOut is given, writes
   * ∂L/∂ŷ = (1/B)·mask_b·∂ℓ/∂ŷ into it (zero for masked-out samples).
   */
  evaluate(B: number, out: Buf, target: ArrayLike<number>, mask: ArrayLike<number> | null, dOut: Buf | null): number {
    const o = this.outSize;
    if (target.length !== B * this.targetWidth) {
      throw new ShapeError(
        `loss ${this.spec.kind}: target has ${target.length} numbers, expected B×${this.targetWidth} = ${B * this.targetWidth}`,
      );
    }
    if (mask && mask.length !== B) throw new ShapeError(`loss: mask has ${mask.length} numbers, expected B = ${B}`);
    const y = out.data,
      d = dOut?.data;
    let total = 0;
    for (let b = 0; b < B; b++) {
      const w = mask ? mask[b]! : 1;
      const scale = w / B;
      if (this.spec.kind === 'mse') {
        for (let j = 0; j < o; j++) {
          const t = target[b * o + j]!;
          if (w !== 0 && !Number.isFinite(t)) throw new NonFiniteError(`target (sample ${b}, output ${j}) is ${t}`);
          const e = w === 0 ? 0 : y[b * o + j]! - t;
          total += 0.5 * scale * e * e;
          if (d) d[b * o + j] = scale * e;
        }
      } else {
        const C = this.spec.classes;
        for (let g = 0; g < this.groups; g++) {
          const base = b * o + g * C;
          const cls = target[b * this.groups + g]!;
          if (w === 0) {
            if (d) for (let c = 0; c < C; c++) d[base + c] = 0;
            continue;
          }
          if (!Number.isInteger(cls) || cls < 0 || cls >= C)
            throw new ShapeError(`ce target (sample ${b}, group ${g}) is ${cls}; class ids are integers 0..${C - 1}`);
          let mx = -Infinity;
          for (let c = 0; c < C; c++) mx = Math.max(mx, y[base + c]!);
          let z = 0;
          for (let c = 0; c < C; c++) z += Math.exp(y[base + c]! - mx);
          const logZ = mx + Math.log(z);
          total += scale * (logZ - y[base + cls]!);
          if (d) for (let c = 0; c < C; c++) d[base + c] = scale * (Math.exp(y[base + c]! - logZ) - (c === cls ? 1 : 0));
        }
      }
    }
    return total;
  }

  /**
   * Each sample's masked loss mask_b·ℓ_b (without the 1/B) into `into` (B numbers), for rules that compare
   * the losses of two forward passes sample by sample. Writes instead of returning, so a step that
   * calls it allocates nothing.
   */
  sampleLosses(B: number, out: Buf, target: ArrayLike<number>, mask: ArrayLike<number> | null, into: Float64Array): void {
    const o = this.outSize,
      y = out.data;
    for (let b = 0; b < B; b++) {
      const w = mask ? mask[b]! : 1;
      let l = 0;
      if (w !== 0 && this.spec.kind === 'mse') {
        for (let j = 0; j < o; j++) l += 0.5 * (y[b * o + j]! - target[b * o + j]!) ** 2;
      } else if (w !== 0 && this.spec.kind === 'ce') {
        const C = this.spec.classes;
        for (let g = 0; g < this.groups; g++) {
          const base = b * o + g * C;
          let mx = -Infinity;
          for (let c = 0; c < C; c++) mx = Math.max(mx, y[base + c]!);
          let z = 0;
          for (let c = 0; c < C; c++) z += Math.exp(y[base + c]! - mx);
          l += mx + Math.log(z) - y[base + target[b * this.groups + g]!]!;
        }
      }
      into[b] = w * l;
    }
  }
}
