/**
 * `pool_st` — causal cumulative-mean pooling with a straight-through gradient (Zucchet et al. 2023,
 * seq_model.py): the forward pass outputs x̄_t = (1/t)·Σ_{s≤t} x_s, the backward pass treats the pooling
 * as the identity (stop_gradient(cummean(x) − x) + x), so the error of the prediction at t flows only into
 * x_t and a per-step loss gives a causal learning signal for sequence classification.
 *
 * It keeps a running sum across steps, so it is a recurrent module with no parameters whose derivatives
 * (by the straight-through convention) are those of the identity.
 */
import type { Backend, Buf } from '../backend/backend.js';
import type { ParamSpec } from '../core/params.js';
import type { ModuleCache, RecurrentCarry, RecurrentModule, RecurrentState, StepContext } from './module.js';

export class CumMeanPool implements RecurrentModule<ModuleCache> {
  readonly kind = 'pool_st';
  readonly recurrent = true as const;
  readonly inSize: number;
  readonly outSize: number;
  /** the running sum (B × size) and the step count (B) */
  readonly stateSize: number;

  constructor(readonly size: number) {
    this.inSize = size;
    this.outSize = size;
    this.stateSize = size + 1;
  }

  paramSpecs(): ParamSpec[] {
    return [];
  }
  init(): void {}
  bind(): void {}

  createCache(_be: Backend, B: number): ModuleCache {
    return { B };
  }

  createState(be: Backend, B: number): RecurrentState {
    return { B, s: be.alloc(B * this.stateSize), y: be.alloc(B * this.size) };
  }

  createCarry(be: Backend, B: number): RecurrentCarry {
    return { dS: be.alloc(B * this.stateSize), dY: be.alloc(B * this.size) };
  }

  forward(x: Buf, y: Buf, cache: ModuleCache, _ctx: StepContext, state: RecurrentState): void {
    const H = this.size,
      W = this.stateSize,
      s = state.s.data,
      xd = x.data,
      yd = y.data;
    for (let b = 0; b < cache.B; b++) {
      const count = (s[b * W + H] = s[b * W + H]! + 1);
      for (let j = 0; j < H; j++) {
        const sum = (s[b * W + j] = s[b * W + j]! + xd[b * H + j]!);
        yd[b * H + j] = sum / count;
      }
    }
    x.backend.copy(y, state.y);
  }

  backward(_cache: ModuleCache, dy: Buf, dx: Buf | null): void {
    if (dx) dy.backend.copy(dy, dx); // straight through
  }
}
